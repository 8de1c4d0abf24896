"""Reusing a lab run (``pipeline.lab.reuse``): an identical run restores the decisions and the claim
store of the first, and anything a decision depends on, changed, verifies the whole set again, with
the decisions a cold run gives. Real claims, real engines (reads cached after the first run)."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from pipeline.batch import claim_jobs
from pipeline.config import load_config
from pipeline.lab.evaluation import evaluate
from pipeline.lab.reuse import RunCache, run_key

from .test_verify_store import _claim  # the Komplett sample under the AMD/MSI cashback promotion

REPO = Path(__file__).resolve().parents[1]
FIRST_SERIAL = "602-7C35-010B1912000123"


@pytest.fixture
def lab_set(tmp_path) -> Path:
    """Three claims in path order: A, then B claiming A's serial (a duplicate only because A came
    first), then C."""
    root = tmp_path / "set"
    _claim(root / "a", "R-A", "a@example.no", serial=FIRST_SERIAL)
    _claim(root / "b", "R-B", "b@example.no", serial=FIRST_SERIAL)
    _claim(root / "c", "R-C", "c@example.no", serial="602-7C35-010B1912000777")
    return root


def _decisions(out: Path) -> dict[str, dict]:
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    for d in lines:
        d.pop("timing_ms", None)
    return {d["claim_path"]: d for d in lines}


def _stored(out: Path) -> list[tuple]:
    with sqlite3.connect(out / "claims.sqlite3") as db:
        claims = db.execute("SELECT claim_id, promotion_id, released FROM claims ORDER BY seq").fetchall()
        serials = db.execute("SELECT claim_id, serial FROM claim_serials ORDER BY claim_id, serial").fetchall()
        decisions = db.execute("SELECT claim_id, decision FROM decisions ORDER BY id").fetchall()
    return [claims, serials, decisions]


def _run(root: Path, out: Path, **kwargs) -> dict:
    return evaluate(root, out_dir=out, workers=1, progress=False, **kwargs)


def test_an_identical_run_is_restored_and_any_change_verifies_again(lab_set, tmp_path):
    cold = _run(lab_set, tmp_path / "cold", reuse=False)
    assert "reused" not in cold["run"]
    first = _run(lab_set, tmp_path / "first")  # nothing kept yet: verified, then kept
    assert "reused" not in first["run"]
    again = _run(lab_set, tmp_path / "again")
    assert again["run"]["reused"]["key"]
    want = _decisions(tmp_path / "cold")
    assert want["b/claim.json"]["decision"] != "approve"  # B is A's duplicate: it depends on A
    assert "SERIAL_ALREADY_CLAIMED" in {r["code"] for r in want["b/claim.json"]["reasons"]}
    assert _decisions(tmp_path / "first") == _decisions(tmp_path / "again") == want
    assert _stored(tmp_path / "again") == _stored(tmp_path / "cold")  # the run's own store, as it was left
    assert {k: v for k, v in again.items() if k != "run"} == {k: v for k, v in first.items() if k != "run"}

    # one claim's bytes: A claims another serial; B, decided after A, is no longer a duplicate
    data = json.loads((lab_set / "a" / "claim.json").read_text())
    data["products"][0]["serial"] = "602-7C35-010B1912000555"
    (lab_set / "a" / "claim.json").write_text(json.dumps(data))
    changed = _run(lab_set, tmp_path / "changed")
    assert "reused" not in changed["run"]
    _run(lab_set, tmp_path / "recold", reuse=False)
    assert _decisions(tmp_path / "changed") == _decisions(tmp_path / "recold")
    b = _decisions(tmp_path / "changed")["b/claim.json"]
    assert "SERIAL_ALREADY_CLAIMED" not in {r["code"] for r in b["reasons"]}
    assert _run(lab_set, tmp_path / "changed-again")["run"]["reused"]  # the new bytes' run is kept in turn

    # one threshold: verified again, decisions as a cold run's under it
    strict = tmp_path / "strict.toml"
    strict.write_text("[decision]\napprove_min_score = 0.99\n")
    tight = _run(lab_set, tmp_path / "strict", config_path=strict)
    assert "reused" not in tight["run"]
    _run(lab_set, tmp_path / "strict-cold", config_path=strict, reuse=False)
    assert _decisions(tmp_path / "strict") == _decisions(tmp_path / "strict-cold")
    assert tight["config"]["hash"] != first["config"]["hash"]


def test_the_key_moves_with_every_input(lab_set, tmp_path, monkeypatch):
    config = load_config()
    jobs = claim_jobs(lab_set)
    base = run_key(lab_set, jobs, config)
    assert run_key(lab_set, claim_jobs(lab_set), load_config()) == base  # stable

    # a document's bytes (not only claim.json)
    photo = lab_set / "c" / "sticker.png"
    kept = photo.read_bytes()
    photo.write_bytes(kept + b"\0")
    assert run_key(lab_set, jobs, config) != base
    photo.write_bytes(kept)
    # the label is not an input of any decision
    (lab_set / "c" / "expected.json").write_text('{"decision": "reject"}')
    assert run_key(lab_set, jobs, config) == base
    # the order the claims are taken in, and by how many workers
    assert run_key(lab_set, list(reversed(jobs)), config) != base
    assert run_key(lab_set, jobs, config, workers=2) != base
    # one threshold anywhere in the config
    strict = tmp_path / "strict.toml"
    strict.write_text("[matching.model]\npass_score = 91\n")
    assert run_key(lab_set, jobs, load_config(strict)) != base
    # the promotions' terms, by content
    terms = tmp_path / "terms"
    shutil.copytree(REPO / "pipeline" / "data" / "promotions", terms)
    monkeypatch.setenv("CLAIMCHECK_PROMOTIONS_DIR", str(terms))
    with_terms = run_key(lab_set, jobs, config)
    some = sorted(terms.glob("*.toml"))[0]
    some.write_text(some.read_text() + "\n# one more line\n")
    assert run_key(lab_set, jobs, config) != with_terms
    monkeypatch.delenv("CLAIMCHECK_PROMOTIONS_DIR")
    # one line of a knowledge file (restored after)
    retailers = REPO / "pipeline" / "data" / "retailers.toml"
    text = retailers.read_text()
    try:
        retailers.write_text(text + "\n# one more line\n")
        assert run_key(lab_set, jobs, config) != base
    finally:
        retailers.write_text(text)
    assert run_key(lab_set, jobs, config) == base


def test_a_damaged_or_machine_made_run_is_never_served(lab_set, tmp_path):
    _run(lab_set, tmp_path / "first")
    cache = RunCache(Path(os.environ["CLAIMCHECK_CACHE_DIR"]) / "runs")
    key = run_key(lab_set, claim_jobs(lab_set), load_config(), workers=1)
    entry = cache._entry(key)
    assert (entry / "meta.json").is_file()
    results = entry / "results.jsonl"
    results.write_text(results.read_text().replace('"approve"', '"reject"'))  # tampered: checksum fails
    out = tmp_path / "after"
    assert cache.get(key, out / "results.jsonl", out / "claims.sqlite3") is None
    assert not (out / "results.jsonl").exists() and not entry.exists()
    assert "reused" not in _run(lab_set, tmp_path / "remade")["run"]
    assert _run(lab_set, tmp_path / "served")["run"]["reused"]

    # a run whose decisions carry a reason that may be the machine's (a timeout under load) is not kept
    lines = (tmp_path / "remade" / "results.jsonl").read_text().splitlines()
    d = json.loads(lines[0])
    d["reasons"].append({"code": "OCR_TIMEOUT", "severity": "review", "message": ""})
    timed_out = tmp_path / "timed-out.jsonl"
    timed_out.write_text("\n".join([json.dumps(d), *lines[1:]]) + "\n")
    summary = {"processed": 3, "decisions": {}, "seconds": 1.0}
    assert not cache.put("0" * 64, timed_out, None, summary)
    assert cache.get("0" * 64, tmp_path / "x.jsonl", None) is None


def test_the_sweep_asks_decide_once_and_gives_its_verdict_at_every_cut_off():
    """The sweep takes reasons and score from one ``decide`` per row and asks only the verdict per
    cut-off: the same decision ``decide`` gives from scratch at every point, whatever the row."""
    from pipeline.decide import DecisionPolicy, decide
    from pipeline.lab.evaluation import _grounds

    def check(name, status, score, reason=None):
        return {"name": name, "product": None, "status": status, "score": score, "expected": "x", "found": "y",
                **({"reason": reason} if reason else {})}

    results = [
        {"claim_id": "ok", "checks": [check("retailer", "pass", 93), check("purchase_date", "pass", 100)]},
        {"claim_id": "weak", "checks": [check("retailer", "uncertain", 85, "RETAILER_NOT_FOUND")]},
        {"claim_id": "near", "checks": [check("product_on_invoice", "fail", 49, "PRODUCT_MISMATCH"),
                                        check("retailer", "pass", 97)]},
        {"claim_id": "far", "checks": [check("purchase_date", "fail", 0, "DATE_MISMATCH")]},
        {"claim_id": "broken", "checks": [check("invoice_readable", "fail", 0, "DOCUMENT_UNREADABLE")],
         "error": {"code": "DOCUMENT_UNREADABLE"}},
    ]
    base = DecisionPolicy.of(load_config())
    policies = [DecisionPolicy.of(base, approve_min_score=a / 20) for a in range(21)]
    policies += [DecisionPolicy.of(base, reject_max_score=r / 20) for r in range(21)]
    policies.append(DecisionPolicy.of(base, uncertain_score_cap=0.3, approve_min_score=0.2))  # a full decide again
    for result in results:
        grounds = _grounds(result)
        for policy in policies:
            fresh = decide(grounds.claim_id, list(grounds.checks), policy, extra_reasons=list(grounds.extra))
            assert grounds.at(policy) == fresh.decision, (result["claim_id"], policy)


def test_plots_are_drawn_once_per_figures_and_a_damaged_one_is_drawn_again(tmp_path, monkeypatch):
    from pipeline.lab import report
    from pipeline.lab.evaluation import LabRow, metrics_for

    def row(claim_id, decision, label):
        checks = [{"name": "retailer", "product": None, "status": "pass" if decision == "approve" else "fail",
                   "score": 95 if decision == "approve" else 10, "expected": "x", "found": "y",
                   **({} if decision == "approve" else {"reason": "RETAILER_MISMATCH"})}]
        result = {"claim_id": claim_id, "decision": decision, "checks": checks, "reasons": [], "claim_path": claim_id}
        return LabRow(claim_id, result, {"decision": label, "checks": {"retailer": "pass"}}, {})

    rows = [row("a", "approve", "approve"), row("b", "reject", "reject"), row("c", "reject", "approve")]
    config = load_config()
    metrics = {**metrics_for(rows, config), "config": {"approve_cutoff": config.decision.approve_min_score}}
    cache = tmp_path / "cache"
    (tmp_path / "one").mkdir()
    first = report.cached_plots(metrics, tmp_path / "one", cache)
    drawn = {name: (tmp_path / "one" / name).read_bytes() for name in first.values()}
    assert drawn and all(drawn.values())

    def no_drawing(*_a, **_k):
        raise AssertionError("drawn again")

    monkeypatch.setattr(report, "plot_all", no_drawing)
    (tmp_path / "two").mkdir()
    assert report.cached_plots({**metrics, "run": {"seconds": 9.9}}, tmp_path / "two", cache) == first
    assert {name: (tmp_path / "two" / name).read_bytes() for name in first.values()} == drawn
    monkeypatch.undo()

    # other figures: drawn; a damaged PNG in the cache: drawn again, never copied
    other = {**metrics_for(rows[:2], config), "config": metrics["config"]}
    assert report._plots_key(report.plot_inputs(other)) != report._plots_key(report.plot_inputs(metrics))
    entry = cache / "plots" / report._plots_key(report.plot_inputs(metrics))
    damaged = entry / first["confusion"]
    damaged.write_bytes(damaged.read_bytes()[:100])
    (tmp_path / "three").mkdir()
    report.cached_plots(metrics, tmp_path / "three", cache)
    assert (tmp_path / "three" / first["confusion"]).read_bytes() == drawn[first["confusion"]]
