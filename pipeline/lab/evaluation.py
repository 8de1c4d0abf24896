"""The threshold lab: verify a labelled set, compare with the labels, sweep the cut-offs.

``evaluate`` runs ``run_batch`` over the set (reads come from the read cache, so a
re-evaluation under a new config does no OCR), joins each decision with its
``expected.json`` and computes:

- the confusion matrix of decisions (expected x predicted) and the headline rates;
- per-check accuracy (label status vs the pipeline's; a per-product check counts with
  its worst non-skipped status, as labels give one status per check name);
- per-reason precision and recall;
- a sweep of the two cut-offs, recomputing every decision from the stored checks with
  ``pipeline.decide.decide`` (no re-verification).

Definitions (also written into the report):

- *false-approve rate*: claims approved whose label is not approve / claims whose label is
  not approve.
- *genuine auto-approved*: claims approved whose label is approve / claims labelled approve.
- *reject precision*: claims rejected whose label is reject / claims rejected.
- *automation rate*: claims decided without a reviewer (approve or reject) / all claims.
- *approve cut-off* ``a``: ``[decision].approve_min_score``: a claim without reasons is
  approved when its score (the weakest check's) is at least ``a``.
- *reject cut-off* ``r`` (0..1): a claim with a reject-severity reason is rejected only
  when the check raising it scored at most ``100 r`` (strong evidence of a mismatch: a
  failing check's score is how close the best candidate came); otherwise it goes to a
  reviewer. ``r = 1`` is the shipped policy (every reject-severity reason rejects).

>>> decision_metrics([("approve", "approve"), ("reject", "approve")])["false_approve_rate"]
1.0
"""
from __future__ import annotations

import json
import os
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from ..config import Config, load_config
from ..decide import DecisionPolicy, decide, verdict_of
from ..decision import Check
from .report import write_report

__all__ = [
    "LabRow", "evaluate", "load_rows", "decision_metrics", "check_metrics", "reason_metrics", "sweep",
    "redecide", "DECISIONS", "DEFINITIONS", "aggregate_checks", "metrics_for", "genuine_rejected",
    "not_genuine_outcomes", "genuine_checks_by_form", "form_of",
]

DECISIONS = ("approve", "review", "reject")
_RANK = {"fail": 0, "uncertain": 1, "pass": 2}

DEFINITIONS = {
    "false_approve_rate": "approved claims whose label is not approve / claims whose label is not approve",
    "genuine_auto_approved": "approved claims labelled approve / claims labelled approve",
    "reject_precision": "rejected claims labelled reject / rejected claims",
    "reject_recall": "rejected claims labelled reject / claims labelled reject",
    "false_reject_rate": "rejected claims labelled approve / claims labelled approve (every genuine claim counts: "
                         "same-template invoices, logo-only shops, hard phone photos ...)",
    "genuine_rejected": "claims labelled approve that the pipeline rejected, counted per reject-severity reason "
                        "code it gave (a claim with two such codes counts under both) and per scenario",
    "not_genuine_outcomes": "claims not labelled approve, per scenario: the share rejected, sent to review and "
                            "approved (a wrong shop, date or serial should be mostly rejected, not only reviewed)",
    "genuine_checks_by_form": "claims labelled approve, per document form (pdf, scan, photo, hard_photo, receipt, "
                              "hard_receipt): per check the share the pipeline passed of those the label passes",
    "automation_rate": "claims decided without a reviewer (approve or reject) / all claims",
    "approve_cutoff": "[decision].approve_min_score: a claim with no reason is approved when its score "
                      "(the weakest check's, 0..1) is at least this",
    "reject_cutoff": "a claim with a reject-severity reason is rejected only when the check raising that reason "
                     "scored at most 100 x this (how close the best candidate came); otherwise a reviewer "
                     "decides. 1.0 is the shipped policy: every reject-severity reason rejects",
}


@dataclass(frozen=True)
class LabRow:
    """One claim: its decision (a batch result line) and its label, if any."""

    claim_path: str
    result: dict
    expected: dict
    claim: dict

    @property
    def claim_id(self) -> str:
        return str(self.result.get("claim_id"))

    @property
    def kind(self) -> str:
        if self.expected.get("kind"):
            return self.expected["kind"]
        return "promotion" if self.claim.get("promotion_id") else "documents"

    @property
    def scenario(self) -> str:
        return self.expected.get("scenario") or "(unlabelled scenario)"

    @property
    def labelled(self) -> bool:
        return self.expected.get("decision") in DECISIONS

    @property
    def checks(self) -> dict[str, str]:
        """Status per check name (``aggregate_checks`` of the result)."""
        return aggregate_checks(self.result)

    @cached_property
    def grounds(self) -> _Grounds:
        """The result's checks as ``decide`` takes them (built once: every sweep of the row shares them)."""
        return _grounds(self.result)


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def load_rows(root: str | Path, results: str | Path) -> list[LabRow]:
    """Join a batch's JSON lines with each claim's expected.json and claim.json (by claim_path)."""
    root, rows = Path(root), []
    base = root if root.is_dir() else root.parent
    for line in Path(results).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            result = json.loads(line)
        except ValueError:
            continue  # a torn last line of an interrupted batch
        rel = result.get("claim_path") or ""
        folder = (base / rel).parent
        rows.append(LabRow(rel, result, _read_json(folder / "expected.json"), _read_json(folder / "claim.json")))
    rows.sort(key=lambda r: r.claim_path)
    return rows


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def decision_metrics(pairs) -> dict:
    """Headline rates from (expected, predicted) decision pairs."""
    pairs = [(e, p) for e, p in pairs if e in DECISIONS]
    conf = {e: {p: 0 for p in DECISIONS} for e in DECISIONS}
    for e, p in pairs:
        conf[e][p if p in DECISIONS else "review"] += 1
    exp = {e: sum(conf[e].values()) for e in DECISIONS}
    pred = {p: sum(conf[e][p] for e in DECISIONS) for p in DECISIONS}
    n = len(pairs)
    not_approve = exp["review"] + exp["reject"]
    wrong_approvals = conf["review"]["approve"] + conf["reject"]["approve"]
    return {
        "n": n,
        "confusion": conf,
        "expected": exp,
        "predicted": pred,
        "agreement": _rate(sum(conf[d][d] for d in DECISIONS), n),
        "automation_rate": _rate(pred["approve"] + pred["reject"], n),
        "false_approve_rate": _rate(wrong_approvals, not_approve),
        "false_approves": wrong_approvals,
        "genuine_auto_approved": _rate(conf["approve"]["approve"], exp["approve"]),
        "approve_precision": _rate(conf["approve"]["approve"], pred["approve"]),
        "reject_precision": _rate(conf["reject"]["reject"], pred["reject"]),
        "reject_recall": _rate(conf["reject"]["reject"], exp["reject"]),
        "false_reject_rate": _rate(conf["approve"]["reject"], exp["approve"]),
        "false_rejects": conf["approve"]["reject"] + conf["review"]["reject"],
    }


def aggregate_checks(result: dict) -> dict[str, str]:
    """Status per check name: the worst non-skipped one over products, else 'skipped'."""
    out: dict[str, str] = {}
    for c in result.get("checks", []):
        name, status = c.get("name"), c.get("status")
        if status == "skipped":
            out.setdefault(name, "skipped")
            continue
        current = out.get(name)
        if current in (None, "skipped") or _RANK.get(status, 0) < _RANK.get(current, 0):
            out[name] = status
    return out


def check_metrics(rows: list[LabRow]) -> dict:
    table: dict = defaultdict(lambda: {"n": 0, "agree": 0, "confusion": defaultdict(Counter)})
    for row in rows:
        got = aggregate_checks(row.result)
        for name, want in (row.expected.get("checks") or {}).items():
            t = table[name]
            status = got.get(name, "missing")
            t["n"] += 1
            t["agree"] += status == want
            t["confusion"][want][status] += 1
    return {name: {"n": t["n"], "agree": t["agree"], "accuracy": _rate(t["agree"], t["n"]),
                   "confusion": {k: dict(v) for k, v in t["confusion"].items()}}
            for name, t in sorted(table.items())}


def reason_metrics(rows: list[LabRow]) -> dict:
    counts: dict = defaultdict(Counter)
    for row in rows:
        if "reasons" not in row.expected:
            continue
        want = set(row.expected.get("reasons") or [])
        got = {r.get("code") for r in row.result.get("reasons", [])}
        for code in want & got:
            counts[code]["tp"] += 1
        for code in got - want:
            counts[code]["fp"] += 1
        for code in want - got:
            counts[code]["fn"] += 1
    return {code: {"tp": c["tp"], "fp": c["fp"], "fn": c["fn"],
                   "precision": _rate(c["tp"], c["tp"] + c["fp"]), "recall": _rate(c["tp"], c["tp"] + c["fn"])}
            for code, c in sorted(counts.items())}


# ------------------------------------------------------------------------------------------ sweep


def _checks_of(result: dict) -> list[Check]:
    return [Check(name=c["name"], product=c.get("product"), status=c["status"], score=int(c.get("score") or 0),
                  expected=c.get("expected"), found=c.get("found"), reason=c.get("reason"))
            for c in result.get("checks", [])]


@dataclass
class _Grounds:
    """One stored result's checks and extra reason codes, built once: a sweep then asks the pipeline's
    own ``decide`` at every cut-off (a ``DecisionPolicy``) without building the checks again. The
    reasons and score ``decide`` gives depend only on the policy's reason codes and uncertain cap, so
    they are taken once per (codes, cap) and only the verdict (``verdict_of``) is asked per cut-off."""

    claim_id: str
    checks: tuple[Check, ...]
    extra: tuple[str, ...]
    """Reason codes outside the checks (the claim's error)."""
    _made: tuple | None = None
    """(policy reasons, uncertain cap, reasons, score) of the last full ``decide``."""

    def at(self, policy: DecisionPolicy) -> str:
        made = self._made
        if made is None or made[0] is not policy.reasons or made[1] != policy.uncertain_score_cap:
            d = decide(self.claim_id, list(self.checks), policy, extra_reasons=list(self.extra))
            self._made = (policy.reasons, policy.uncertain_score_cap, d.reasons, d.score)
            return d.decision
        return verdict_of(policy, made[2], made[3], self.checks, self.extra)


def _grounds(result: dict) -> _Grounds:
    error = result.get("error")
    extra = (error["code"],) if isinstance(error, dict) and error.get("code") else ()
    return _Grounds(str(result.get("claim_id")), tuple(_checks_of(result)), extra)


def redecide(result: dict, config: Config, *, approve_min_score: float | None = None,
             reject_cutoff: float = 1.0, policy: DecisionPolicy | None = None) -> str:
    """The decision ``decide`` gives the stored checks under other cut-offs (no re-verification)."""
    changes = {"reject_max_score": reject_cutoff}
    if approve_min_score is not None:
        changes["approve_min_score"] = approve_min_score
    return _grounds(result).at(DecisionPolicy.of(policy or config, **changes))


def sweep(rows: list[LabRow], config: Config, *, approve_grid=None, reject_grid=None) -> dict:
    """Decision rates as each cut-off moves (the other held at the config's value)."""
    approve_grid = approve_grid or [round(i / 100, 2) for i in range(0, 101)]
    reject_grid = reject_grid or [round(i / 20, 2) for i in range(0, 21)]
    labelled = [r for r in rows if r.labelled]
    base_a = config.decision.approve_min_score

    def point(threshold: float, decisions: list[str]) -> dict:
        m = decision_metrics([(r.expected["decision"], d) for r, d in zip(labelled, decisions)])
        keys = ("automation_rate", "false_approve_rate", "genuine_auto_approved", "reject_precision",
                "false_reject_rate", "agreement")
        return {"threshold": threshold, **{k: m[k] for k in keys}}

    base = DecisionPolicy.of(config)
    grounds = [r.grounds for r in labelled]

    def at(policy: DecisionPolicy) -> list[str]:
        return [g.at(policy) for g in grounds]

    approve = [point(a, at(DecisionPolicy.of(base, approve_min_score=a))) for a in approve_grid]
    reject = [point(cut, at(DecisionPolicy.of(base, reject_max_score=cut))) for cut in reject_grid]
    chosen = point(base_a, at(base))
    return {"approve": approve, "reject": reject,
            "chosen": {"approve_cutoff": base_a, "reject_cutoff": 1.0, **chosen}}


# ------------------------------------------------------------------------------------------ evaluate


def _group(rows: list[LabRow], key) -> dict[str, list[LabRow]]:
    out: dict[str, list[LabRow]] = defaultdict(list)
    for r in rows:
        out[key(r)].append(r)
    return dict(sorted(out.items()))


def form_of(row: LabRow) -> str:
    """The document form family of a row's invoice (pdf, scan, photo, hard_photo, receipt, hard_receipt)."""
    from .forms import form_family

    inv = (row.expected.get("truth") or {}).get("invoice") or {}
    return inv.get("family") or form_family(inv.get("form")) or "(unknown)"


def _reject_codes(result: dict) -> list[str]:
    reasons = result.get("reasons") or []
    codes = [r.get("code") for r in reasons if r.get("severity") == "reject" and r.get("code")]
    return codes or [r.get("code") for r in reasons if r.get("code")] or ["(no reason)"]


def genuine_rejected(rows: list[LabRow]) -> dict:
    """Genuine claims (label approve) the pipeline rejected: the worst outcome, counted per reason code
    and per scenario, with the claims themselves."""
    genuine = [r for r in rows if r.labelled and r.expected["decision"] == "approve"]
    rejected = [r for r in genuine if r.result.get("decision") == "reject"]
    by_reason: Counter = Counter()
    for r in rejected:
        by_reason.update(set(_reject_codes(r.result)))
    return {"n": len(rejected), "genuine": len(genuine), "rate": _rate(len(rejected), len(genuine)),
            "by_reason": dict(by_reason.most_common()),
            "by_scenario": dict(Counter(r.scenario for r in rejected).most_common()),
            "by_form": dict(Counter(form_of(r) for r in rejected).most_common()),
            "claims": [{"claim_path": r.claim_path, "scenario": r.scenario, "form": form_of(r),
                        "reasons": _reject_codes(r.result)} for r in rejected]}


def not_genuine_outcomes(rows: list[LabRow]) -> dict:
    """Per scenario of claims not labelled approve: how many the pipeline rejected, sent to review,
    approved (and the shares), plus the totals over them."""
    wrong = [r for r in rows if r.labelled and r.expected["decision"] != "approve"]

    def split(subset: list[LabRow]) -> dict:
        got = Counter(r.result.get("decision") if r.result.get("decision") in DECISIONS else "review" for r in subset)
        n = len(subset)
        return {"n": n, "label": dict(Counter(r.expected["decision"] for r in subset)),
                "rejected": got["reject"], "review": got["review"], "approved": got["approve"],
                "rejected_share": _rate(got["reject"], n), "review_share": _rate(got["review"], n),
                "approved_share": _rate(got["approve"], n)}

    out = {name: split(subset) for name, subset in _group(wrong, lambda r: r.scenario).items()}
    return {"scenarios": out, "all": split(wrong),
            "labelled_reject": split([r for r in wrong if r.expected["decision"] == "reject"])}


def genuine_checks_by_form(rows: list[LabRow]) -> dict:
    """Per document form, for claims labelled approve: how many were auto-approved, and per check the
    statuses the pipeline gave where the label says pass (its pass rate)."""
    out = {}
    genuine = [r for r in rows if r.labelled and r.expected["decision"] == "approve"]
    for form, subset in _group(genuine, form_of).items():
        checks: dict = defaultdict(Counter)
        for r in subset:
            got = aggregate_checks(r.result)
            for name, want in (r.expected.get("checks") or {}).items():
                if want == "pass":
                    checks[name][got.get(name, "missing")] += 1
        approved = sum(r.result.get("decision") == "approve" for r in subset)
        rejected = sum(r.result.get("decision") == "reject" for r in subset)
        out[form] = {"genuine": len(subset), "auto_approved": approved, "share": _rate(approved, len(subset)),
                     "rejected": rejected,
                     "checks": {name: {"n": sum(c.values()), "pass": c["pass"],
                                       "rate": _rate(c["pass"], sum(c.values())), "statuses": dict(c)}
                                for name, c in sorted(checks.items())}}
    return out


def _form(row: LabRow) -> str:
    inv = (row.expected.get("truth") or {}).get("invoice") or {}
    form = inv.get("form")
    if not form:
        return "(unknown)"
    return f"{form}/{inv['level']}" if inv.get("level") else form


def metrics_for(rows: list[LabRow], config: Config) -> dict:
    """Every figure of the report, from joined rows (no verification)."""
    labelled = [r for r in rows if r.labelled]

    def dm(subset):
        return decision_metrics([(r.expected["decision"], r.result.get("decision")) for r in subset])

    by_scenario = {}
    for name, subset in _group(labelled, lambda r: r.scenario).items():
        got = Counter(r.result.get("decision") for r in subset)
        expected = Counter(r.expected["decision"] for r in subset)
        by_scenario[name] = {"n": len(subset), "kind": subset[0].kind, "expected": dict(expected),
                             "decisions": {d: got.get(d, 0) for d in DECISIONS},
                             "agreement": _rate(sum(r.result.get("decision") == r.expected["decision"]
                                                    for r in subset), len(subset))}
    by_form = {}
    for name, subset in _group([r for r in labelled if r.expected["decision"] == "approve"], _form).items():
        approved = sum(r.result.get("decision") == "approve" for r in subset)
        by_form[name] = {"genuine": len(subset), "auto_approved": approved,
                         "share": _rate(approved, len(subset))}
    rewarded = [r for r in labelled if r.expected.get("reward")]

    def same_reward(r: LabRow) -> bool:
        got = r.result.get("reward") or {}
        return all(got.get(k) == v for k, v in r.expected["reward"].items())

    reward_misses = [{"claim_path": r.claim_path, "expected": r.expected["reward"], "got": r.result.get("reward")}
                     for r in rewarded if not same_reward(r)]
    timings = [r.result.get("timing_ms") for r in rows if isinstance(r.result.get("timing_ms"), (int, float))]
    disagreements = [
        {"claim_id": r.claim_id, "claim_path": r.claim_path, "scenario": r.scenario, "kind": r.kind,
         "expected": r.expected["decision"], "decision": r.result.get("decision"),
         "score": r.result.get("score"),
         "expected_reasons": r.expected.get("reasons", []),
         "reasons": [x.get("code") for x in r.result.get("reasons", [])]}
        for r in labelled if r.result.get("decision") != r.expected["decision"]]
    return {
        "claims": len(rows),
        "labelled": len(labelled),
        "overall": dm(labelled),
        "by_kind": {k: dm(v) for k, v in _group(labelled, lambda r: r.kind).items()},
        "by_scenario": by_scenario,
        "genuine_by_invoice_form": by_form,
        "genuine_rejected": genuine_rejected(rows),
        "not_genuine_outcomes": not_genuine_outcomes(rows),
        "genuine_checks_by_form": genuine_checks_by_form(rows),
        "checks": check_metrics(rows),
        "reasons": reason_metrics(rows),
        "rewards": {"labelled": len(rewarded), "agree": len(rewarded) - len(reward_misses),
                    "disagreements": reward_misses},
        "sweep": {kind: sweep(subset, config) for kind, subset in
                  {"all": labelled, **_group(labelled, lambda r: r.kind)}.items()},
        "verify_ms": {"mean": round(sum(timings) / len(timings), 1) if timings else None,
                      "max": max(timings) if timings else None},
        "disagreements": disagreements,
        "definitions": DEFINITIONS,
    }


_STORE_ENV = "CLAIMCHECK_STORE"


def _run_with_fresh_store(root: Path, results: Path, store: Path, **kwargs):
    """run_batch with a claim store of its own, emptied first: duplicates and claim limits are then
    judged against this set alone, in its order, the same on every re-evaluation."""
    from ..batch import run_batch

    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{store}{suffix}").unlink(missing_ok=True)
    before = os.environ.get(_STORE_ENV)
    os.environ[_STORE_ENV] = str(store)  # worker processes inherit it
    try:
        return run_batch(root, results, force=True, **kwargs)
    finally:
        if before is None:
            os.environ.pop(_STORE_ENV, None)
        else:
            os.environ[_STORE_ENV] = before


def _verify_set(root: Path, out: Path, config: Config, config_path, workers: int | None, progress: bool,
                reuse: bool) -> dict:
    """Verify the set into ``out/results.jsonl`` against a fresh ``out/claims.sqlite3``, or restore an
    identical run's decisions and store (``pipeline.lab.reuse``); the run's figures for metrics.json."""
    from ..batch import claim_jobs, locked_out
    from ..cache import default_cache_dir
    from .reuse import RunCache, reusable, run_key

    results, store = out / "results.jsonl", out / "claims.sqlite3"
    started = time.perf_counter()
    cache = key = None
    if reuse and reusable(config):
        cache = RunCache(Path(config.cache.dir or default_cache_dir()) / "runs")
        key = run_key(root, claim_jobs(root), config, max(1, workers or os.cpu_count() or 1))
        with locked_out(results):
            kept = cache.get(key, results, store)
        if kept is not None:
            seconds = time.perf_counter() - started
            return {"seconds": round(seconds, 2), "verified": kept.processed,
                    "ms_per_claim": round(1000 * seconds / kept.processed, 1) if kept.processed else 0.0,
                    "reused": {"key": key[:16], "made_at": kept.made_at, "seconds": kept.seconds}}
    summary = _run_with_fresh_store(root, results, store, workers=workers, config_path=config_path,
                                    progress=progress)
    run = {"seconds": round(time.perf_counter() - started, 2), "verified": summary.processed,
           "ms_per_claim": round(summary.ms_per_claim, 1)}
    if cache is not None and not summary.workers_stopped and summary.processed == summary.total:
        cache.put(key, results, store if config.store.enabled else None, summary.to_dict())
    return run


def evaluate(dir: str | Path, config_path: str | Path | None = None, out_dir: str | Path | None = None,
             workers: int | None = None, *, results: str | Path | None = None, progress: bool = True,
             reuse: bool = True) -> dict:
    """Verify every claim below ``dir`` (unless ``results`` names a batch's JSON lines already made),
    compare with the labels and write ``report.html``, PNG plots, ``metrics.json``, ``claims.csv`` and
    ``results.jsonl`` to ``out_dir`` (default ``out/lab``). Returns the metrics.

    Claims are verified in path order against a claim store of the run's own
    (``OUT_DIR/claims.sqlite3``, emptied first) unless the config names a ``[store].url``. A run
    identical in every input to one kept in the read cache restores that run's decisions and store
    instead (``pipeline.lab.reuse``; ``metrics["run"]["reused"]`` says so); ``reuse=False`` verifies
    again.
    """
    root = Path(dir)
    out = Path(out_dir) if out_dir else Path("out") / "lab"
    out.mkdir(parents=True, exist_ok=True)
    config = load_config(config_path)
    run = {"workers": workers or os.cpu_count() or 1}
    if results is None:
        results = out / "results.jsonl"
        run.update(_verify_set(root, out, config, config_path, workers, progress, reuse))
    run["results"] = str(results)
    rows = load_rows(root, results)
    metrics = {
        "set": str(root),
        "config": {"source": config.source, "hash": config.hash,
                   "approve_cutoff": config.decision.approve_min_score, "reject_cutoff": 1.0},
        "run": run,
        **metrics_for(rows, config),
    }
    plot_cache = None
    if config.cache.enabled:
        from ..cache import default_cache_dir

        plot_cache = Path(config.cache.dir or default_cache_dir())
    write_report(metrics, rows, out, plot_cache=plot_cache)
    return metrics
