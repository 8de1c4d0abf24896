"""Write the lab's outputs: ``metrics.json``, ``claims.csv``, PNG plots and ``report.html``.

Plots use matplotlib's Agg backend (no display); the page is one jinja2 template with
the plots beside the tables they summarise.

>>> # write_report(metrics, rows, Path("out/lab"))
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

__all__ = ["write_report", "write_claims_csv", "plot_all", "plot_inputs", "cached_plots"]

_COLORS = {"all": "#1f77b4", "documents": "#2ca02c", "promotion": "#d62728"}


def write_claims_csv(rows, path: Path) -> Path:
    """One line per claim (``LabRow``s of ``pipeline.lab.evaluation``, which imports this module, never
    the reverse): label, decision, reasons, and the labelled checks that disagree."""
    fields = ["claim_id", "claim_path", "kind", "scenario", "expected_decision", "decision", "agree", "score",
              "expected_reasons", "reasons", "check_disagreements", "invoice_form", "invoice_level", "sticker_form",
              "timing_ms"]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        for r in rows:
            got = r.checks
            wrong = [f"{name}:{want}->{got.get(name, 'missing')}"
                     for name, want in (r.expected.get("checks") or {}).items() if got.get(name) != want]
            truth = r.expected.get("truth") or {}
            inv = truth.get("invoice") or {}
            sticker = (truth.get("stickers") or [{}])[0]
            writer.writerow({
                "claim_id": r.claim_id, "claim_path": r.claim_path, "kind": r.kind, "scenario": r.scenario,
                "expected_decision": r.expected.get("decision", ""), "decision": r.result.get("decision"),
                "agree": "" if not r.labelled else int(r.result.get("decision") == r.expected["decision"]),
                "score": r.result.get("score"),
                "expected_reasons": " ".join(r.expected.get("reasons") or []),
                "reasons": " ".join(x.get("code", "") for x in r.result.get("reasons", [])),
                "check_disagreements": " ".join(wrong), "invoice_form": inv.get("form", ""),
                "invoice_level": inv.get("level") or "", "sticker_form": sticker.get("form", ""),
                "timing_ms": r.result.get("timing_ms", ""),
            })
    return path


def _pct(v) -> str:
    return "–" if v is None else f"{100 * v:.1f}%"


def _frame_tradeoff(ax, metrics: dict) -> None:
    """Automation (0..1) against false approvals, the 0.5% goal drawn, x wide enough to see it."""
    worst = max((p["false_approve_rate"] or 0 for sw in metrics["sweep"].values()
                 for key in ("approve", "reject") for p in sw[key]), default=0)
    ax.set_xlim(-0.001, max(0.02, worst * 1.1))
    ax.set_ylim(0, 1.02)
    ax.axvline(0.005, color="grey", lw=0.8, ls=":")
    ax.text(0.005, 0.03, " goal 0.5%", fontsize=8, color="grey", transform=ax.get_xaxis_transform())


def plot_inputs(metrics: dict) -> dict:
    """The figures the plots draw, and only those (``plot_all`` is given nothing else): what a kept
    set of plots is keyed by."""
    return {"overall": {"confusion": metrics["overall"]["confusion"]}, "sweep": metrics["sweep"],
            "config": {"approve_cutoff": metrics["config"]["approve_cutoff"]}, "checks": metrics["checks"],
            "by_scenario": metrics["by_scenario"]}


def _plots_key(inputs: dict) -> str:
    from importlib.metadata import version

    digest = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode())
    digest.update(Path(__file__).read_bytes())  # this module draws them
    digest.update(version("matplotlib").encode())
    return digest.hexdigest()


def cached_plots(metrics: dict, out: Path, cache: Path | None) -> dict[str, str]:
    """``plot_all``'s PNGs in ``out``, drawn once per set of figures: with a ``cache`` folder, the
    PNGs drawn before for the same figures (same ``plot_inputs``, this module's code, matplotlib's
    version) are copied instead of drawn again (matplotlib's import and drawing cost seconds). An
    entry is a folder renamed into place, with each PNG's SHA-256: a damaged one is drawn again."""
    inputs = plot_inputs(metrics)
    if cache is None:
        return plot_all(inputs, out)
    entry = cache / "plots" / _plots_key(inputs)
    try:
        files = json.loads((entry / "files.json").read_text(encoding="utf-8"))
        blobs = {name: (entry / name).read_bytes() for name in files["sha256"]}
        if any(hashlib.sha256(b).hexdigest() != files["sha256"][n] for n, b in blobs.items()):
            raise ValueError("a PNG does not match its checksum")
        for name, blob in blobs.items():
            (out / name).write_bytes(blob)
        return files["files"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    drawn = plot_all(inputs, out)
    tmp = None
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=entry.parent, prefix=".tmp-"))
        sums = {}
        for name in drawn.values():
            blob = (out / name).read_bytes()
            (tmp / name).write_bytes(blob)
            sums[name] = hashlib.sha256(blob).hexdigest()
        (tmp / "files.json").write_text(json.dumps({"files": drawn, "sha256": sums}), encoding="utf-8")
        shutil.rmtree(entry, ignore_errors=True)
        os.replace(tmp, entry)
    except OSError:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return drawn


def _sweep_figure(plt, metrics: dict, path: Path, which: str, rates: tuple, *, cutoff: float,
                  cutoff_label_x: float | None, marker_size: int, xlabel: str, legend_at: str, title: str) -> None:
    """One cut-off sweep (``which``: 'approve' or 'reject'): automation and ``rates`` ((key, line style,
    label) ...) against the cut-off, and automation against false approvals, per kind of claim."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=110)
    for kind, sw in metrics["sweep"].items():
        pts = sw[which]
        xs = [p["threshold"] for p in pts]
        color = _COLORS.get(kind, "grey")
        ax1.plot(xs, [p["automation_rate"] or 0 for p in pts], color=color, label=f"automation ({kind})")
        for key, style, label in rates:
            ax1.plot(xs, [p[key] or 0 for p in pts], color=color, ls=style, label=f"{label} ({kind})")
        ax2.plot([p["false_approve_rate"] or 0 for p in pts], [p["automation_rate"] or 0 for p in pts], color=color,
                 marker=".", ms=marker_size, label=kind)
        chosen = sw["chosen"]
        ax2.plot([chosen["false_approve_rate"] or 0], [chosen["automation_rate"] or 0], marker="*", ms=14,
                 color=color, mec="black")
    ax1.axvline(cutoff, color="black", lw=0.8)
    ax1.text(cutoff if cutoff_label_x is None else cutoff_label_x, 1.02,
             f" config {cutoff:.2f}" if cutoff_label_x is None else f"config {cutoff:.1f}", fontsize=8)
    ax1.set_xlabel(xlabel)
    if which == "approve":
        ax1.set_ylabel("rate")
    ax1.set_ylim(0, 1.08)
    ax1.legend(fontsize=6.5, loc=legend_at)
    ax1.set_title(title)
    _frame_tradeoff(ax2, metrics)
    ax2.set_xlabel("false-approve rate")
    ax2.set_ylabel("automation rate")
    ax2.set_title("Automation vs false approvals (* = config)")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_all(metrics: dict, out: Path) -> dict[str, str]:
    """The report's PNGs, from ``plot_inputs(metrics)`` (or the metrics); returns {name: file name}."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files: dict[str, str] = {}
    decisions = ("approve", "review", "reject")

    # confusion matrix
    conf = metrics["overall"]["confusion"]
    fig, ax = plt.subplots(figsize=(4.6, 3.8), dpi=110)
    grid = [[conf[e][p] for p in decisions] for e in decisions]
    ax.imshow(grid, cmap="Blues")
    for i in range(3):
        for j in range(3):
            ax.text(j, i, str(grid[i][j]), ha="center", va="center",
                    color="white" if grid[i][j] > max(map(max, grid)) / 2 else "black")
    ax.set_xticks(range(3), decisions)
    ax.set_yticks(range(3), decisions)
    ax.set_xlabel("pipeline decision")
    ax.set_ylabel("label")
    ax.set_title("Decisions (all labelled claims)")
    fig.tight_layout()
    fig.savefig(out / "confusion.png")
    plt.close(fig)
    files["confusion"] = "confusion.png"

    # cut-off sweeps: rates vs threshold, and automation vs false-approve
    _sweep_figure(plt, metrics, out / "sweep_approve.png", "approve",
                  (("false_approve_rate", "--", "false-approve"),
                   ("genuine_auto_approved", ":", "genuine auto-approved")),
                  cutoff=metrics["config"]["approve_cutoff"], cutoff_label_x=None, marker_size=3,
                  xlabel="approve cut-off (approve_min_score)", legend_at="lower left", title="Approve cut-off sweep")
    files["sweep_approve"] = "sweep_approve.png"
    _sweep_figure(plt, metrics, out / "sweep_reject.png", "reject",
                  (("reject_precision", "--", "reject precision"), ("false_reject_rate", ":", "false-reject")),
                  cutoff=1.0, cutoff_label_x=0.8, marker_size=4,
                  xlabel="reject cut-off (max score of the check raising a reject reason)", legend_at="lower right",
                  title="Reject cut-off sweep")
    files["sweep_reject"] = "sweep_reject.png"

    # per-check accuracy
    checks = metrics["checks"]
    if checks:
        names = list(checks)
        fig, ax = plt.subplots(figsize=(8, 0.32 * len(names) + 1.2), dpi=110)
        ax.barh(names, [checks[n]["accuracy"] or 0 for n in names], color="#4c72b0")
        for i, n in enumerate(names):
            ax.text((checks[n]["accuracy"] or 0) + 0.005, i, f"{checks[n]['agree']}/{checks[n]['n']}",
                    va="center", fontsize=7)
        ax.set_xlim(0, 1.12)
        ax.invert_yaxis()
        ax.set_xlabel("agreement with the label")
        ax.set_title("Per-check accuracy")
        fig.tight_layout()
        fig.savefig(out / "checks.png")
        plt.close(fig)
        files["checks"] = "checks.png"

    # per-scenario outcome
    scen = metrics["by_scenario"]
    if scen:
        names = list(scen)
        fig, ax = plt.subplots(figsize=(8, 0.3 * len(names) + 1.2), dpi=110)
        left = [0] * len(names)
        for d, color in zip(decisions, ("#2ca02c", "#ff7f0e", "#d62728")):
            vals = [scen[n]["decisions"][d] / scen[n]["n"] for n in names]
            ax.barh(names, vals, left=left, color=color, label=d)
            left = [a + b for a, b in zip(left, vals)]
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xlabel("share of the scenario's claims")
        ax.legend(fontsize=8, ncol=3, loc="lower right")
        ax.set_title("Pipeline decisions per scenario")
        fig.tight_layout()
        fig.savefig(out / "scenarios.png")
        plt.close(fig)
        files["scenarios"] = "scenarios.png"
    return files


_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>claimcheck lab: {{ m.set }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; max-width: 1150px; color: #222; }
table { border-collapse: collapse; margin: 0.6em 0 1.4em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f2f2f2; }
.bad { color: #b00; font-weight: bold; } .good { color: #070; font-weight: bold; }
dt { font-weight: bold; margin-top: 0.4em; } dd { margin-left: 1.5em; }
code { background: #f4f4f4; padding: 0 3px; }
</style></head><body>
<h1>claimcheck threshold lab</h1>
<p>Set <code>{{ m.set }}</code>: {{ m.claims }} claims, {{ m.labelled }} with a labelled decision.
Config <code>{{ m.config.source }}</code> (<code>{{ m.config.hash[:19] }}…</code>): approve cut-off
{{ m.config.approve_cutoff }}, reject cut-off {{ m.config.reject_cutoff }}.
{% if m.run.seconds is defined %}Verified {{ m.run.verified }} claims in {{ m.run.seconds }} s
({{ m.run.ms_per_claim }} ms per claim wall-clock with {{ m.run.workers }} workers){% if m.run.reused %}:
the decisions of an identical run of {{ m.run.reused.made_at }} ({{ m.run.reused.seconds }} s), restored
(same claims' bytes, config, knowledge, terms, code and day; <code>--no-reuse</code> verifies again)
{%- endif %}.{% endif %}
Files: <a href="metrics.json">metrics.json</a>, <a href="claims.csv">claims.csv</a>,
<a href="{{ results_name }}">{{ results_name }}</a>.</p>

<h2>Headline</h2>
<table><tr><th>subset</th><th>claims</th><th>agreement</th><th>automation</th><th>false-approve rate</th>
<th>genuine auto-approved</th><th>reject precision</th><th>reject recall</th><th>false-reject rate</th></tr>
{% for name, d in headline %}<tr><td>{{ name }}</td><td>{{ d.n }}</td><td>{{ pct(d.agreement) }}</td>
<td>{{ pct(d.automation_rate) }}</td>
<td class="{{ 'good' if d.false_approve_rate is not none and d.false_approve_rate <= 0.005 else 'bad' }}">
{{ pct(d.false_approve_rate) }} ({{ d.false_approves }})</td>
<td class="{{ 'good' if d.genuine_auto_approved is not none and d.genuine_auto_approved >= 0.85 else 'bad' }}">
{{ pct(d.genuine_auto_approved) }}</td><td>{{ pct(d.reject_precision) }}</td><td>{{ pct(d.reject_recall) }}</td>
<td>{{ pct(d.false_reject_rate) }}</td></tr>{% endfor %}
</table>
<p>Goals: false-approve rate &le; 0.5%, genuine auto-approved &ge; 85%, genuine claims rejected &le; 0.5%.</p>

<h2>Genuine claims rejected</h2>
{% set g = m.genuine_rejected %}
<p>A genuine customer rejected for our misreading is the worst outcome: <b class="{{ 'good' if g.n == 0 else 'bad' }}">
{{ g.n }} of {{ g.genuine }} genuine claims ({{ pct(g.rate) }})</b> were rejected. Every claim labelled approve
counts (same-template invoices of one shop, logo-only shops, hard phone photos ...).</p>
{% if g.n %}<table><tr><th>reason code</th><th>genuine claims rejected</th></tr>
{% for code, n in g.by_reason.items() %}<tr><td>{{ code }}</td><td>{{ n }}</td></tr>{% endfor %}</table>
<table><tr><th>scenario</th><th>rejected</th></tr>
{% for name, n in g.by_scenario.items() %}<tr><td>{{ name }}</td><td>{{ n }}</td></tr>{% endfor %}</table>
<table><tr><th>claim</th><th>scenario</th><th>form</th><th>reasons</th></tr>
{% for c in g.claims %}<tr><td>{{ c.claim_path }}</td><td>{{ c.scenario }}</td><td>{{ c.form }}</td>
<td>{{ c.reasons | join(' ') }}</td></tr>{% endfor %}</table>{% endif %}

<h2>Claims that are not genuine: rejected or sent to review</h2>
{% set ng = m.not_genuine_outcomes %}
<p>Of {{ ng.all.n }} claims not labelled approve, {{ pct(ng.all.rejected_share) }} were rejected,
{{ pct(ng.all.review_share) }} sent to a reviewer and {{ pct(ng.all.approved_share) }} approved
(of the {{ ng.labelled_reject.n }} labelled reject: {{ pct(ng.labelled_reject.rejected_share) }} rejected,
{{ pct(ng.labelled_reject.review_share) }} reviewed).</p>
<table><tr><th>scenario</th><th>claims</th><th>label</th><th>rejected</th><th>review</th><th>approved</th></tr>
{% for name, o in ng.scenarios.items() %}<tr><td>{{ name }}</td><td>{{ o.n }}</td>
<td>{{ o.label | dictsort | map('join', ': ') | join(', ') }}</td>
<td>{{ o.rejected }} ({{ pct(o.rejected_share) }})</td><td>{{ o.review }} ({{ pct(o.review_share) }})</td>
<td class="{{ 'bad' if o.approved else '' }}">{{ o.approved }} ({{ pct(o.approved_share) }})</td></tr>{% endfor %}
</table>

<h2>Confusion matrix</h2>
<img src="{{ files.confusion }}" alt="confusion matrix">
{% for name, d in headline %}<h3>{{ name }}</h3>
<table><tr><th>label \\ decision</th>{% for p in decisions %}<th>{{ p }}</th>{% endfor %}<th>total</th></tr>
{% for e in decisions %}<tr><td>{{ e }}</td>{% for p in decisions %}<td>{{ d.confusion[e][p] }}</td>{% endfor %}
<td>{{ d.expected[e] }}</td></tr>{% endfor %}</table>{% endfor %}

<h2>Threshold sweep</h2>
<dl>{% for k, v in m.definitions.items() %}<dt>{{ k }}</dt><dd>{{ v }}</dd>{% endfor %}</dl>
<p>Decisions are recomputed from the stored checks with <code>pipeline.decide.decide</code>: no document is
read again. The star marks the config's point. Moving the reject cut-off only turns rejections into reviews,
so it never changes the false-approve rate: its cost is automation, its gain reject precision.</p>
<img src="{{ files.sweep_approve }}" alt="approve sweep" width="1100">
<img src="{{ files.sweep_reject }}" alt="reject sweep" width="1100">
<table><tr><th>approve cut-off</th><th>automation</th><th>false-approve</th><th>genuine auto-approved</th>
<th>reject precision</th></tr>
{% for p in approve_rows %}<tr><td>{{ '%.2f' % p.threshold }}
{{- ' (config)' if p.threshold == m.config.approve_cutoff }}</td>
<td>{{ pct(p.automation_rate) }}</td><td>{{ pct(p.false_approve_rate) }}</td>
<td>{{ pct(p.genuine_auto_approved) }}</td><td>{{ pct(p.reject_precision) }}</td></tr>{% endfor %}</table>
<table><tr><th>reject cut-off</th><th>automation</th><th>reject precision</th><th>false-reject</th></tr>
{% for p in reject_rows %}<tr><td>{{ '%.2f' % p.threshold }}</td><td>{{ pct(p.automation_rate) }}</td>
<td>{{ pct(p.reject_precision) }}</td><td>{{ pct(p.false_reject_rate) }}</td></tr>{% endfor %}</table>

<h2>Per scenario</h2>
<img src="{{ files.scenarios }}" alt="scenarios">
<table><tr><th>scenario</th><th>kind</th><th>claims</th><th>label</th><th>approve</th><th>review</th><th>reject</th>
<th>agreement</th></tr>
{% for name, s in m.by_scenario.items() %}<tr><td>{{ name }}</td><td>{{ s.kind }}</td><td>{{ s.n }}</td>
<td>{{ s.expected | dictsort | map('join', ': ') | join(', ') }}</td>
{% for d in decisions %}<td>{{ s.decisions[d] }}</td>{% endfor %}<td>{{ pct(s.agreement) }}</td></tr>{% endfor %}
</table>
<h3>Genuine claims by document form: auto-approved, rejected, and each check's pass rate</h3>
{% set gf = m.genuine_checks_by_form %}
{% set names = gf.values() | map(attribute='checks') | map('list') | sum(start=[]) | unique | sort %}
<table><tr><th>check / form</th>{% for form in gf %}<th>{{ form }}</th>{% endfor %}</tr>
<tr><td>genuine claims</td>{% for form, f in gf.items() %}<td>{{ f.genuine }}</td>{% endfor %}</tr>
<tr><td>auto-approved</td>{% for form, f in gf.items() %}<td>{{ pct(f.share) }}</td>{% endfor %}</tr>
<tr><td>rejected</td>{% for form, f in gf.items() %}<td class="{{ 'bad' if f.rejected else '' }}">{{ f.rejected }}</td>
{% endfor %}</tr>
{% for name in names %}<tr><td>{{ name }} passed</td>{% for form, f in gf.items() %}
{% set c = f.checks.get(name) %}<td title="{{ c.statuses if c else '' }}">{{ pct(c.rate) if c else '' }}</td>
{% endfor %}</tr>{% endfor %}</table>
<h3>Genuine claims auto-approved, by invoice form and photo level</h3>
<table><tr><th>form / photo level</th><th>genuine</th><th>auto-approved</th><th>share</th></tr>
{% for name, f in m.genuine_by_invoice_form.items() %}<tr><td>{{ name }}</td><td>{{ f.genuine }}</td>
<td>{{ f.auto_approved }}</td><td>{{ pct(f.share) }}</td></tr>{% endfor %}</table>

<h2>Per check</h2>
<p>A per-product check counts with its worst non-skipped status (labels give one status per check name).</p>
{% if files.checks %}<img src="{{ files.checks }}" alt="checks">{% endif %}
<table><tr><th>check</th><th>labelled</th><th>agree</th><th>accuracy</th><th>label &rarr; pipeline</th></tr>
{% for name, c in m.checks.items() %}<tr><td>{{ name }}</td><td>{{ c.n }}</td><td>{{ c.agree }}</td>
<td>{{ pct(c.accuracy) }}</td><td style="text-align:left">{% for want, got in c.confusion.items() %}
{{ want }} &rarr; {{ got | dictsort | map('join', ': ') | join(', ') }}<br>{% endfor %}</td></tr>{% endfor %}
</table>

<h2>Per reason</h2>
<table><tr><th>code</th><th>true pos.</th><th>false pos.</th><th>false neg.</th><th>precision</th><th>recall</th></tr>
{% for code, r in m.reasons.items() %}<tr><td>{{ code }}</td><td>{{ r.tp }}</td><td>{{ r.fp }}</td><td>{{ r.fn }}</td>
<td>{{ pct(r.precision) }}</td><td>{{ pct(r.recall) }}</td></tr>{% endfor %}</table>

<h2>Rewards</h2>
<p>{{ m.rewards.agree }} of {{ m.rewards.labelled }} labelled rewards (the terms' authoritative NOK table)
agree in amount, currency and bundle.</p>
{% if m.rewards.disagreements %}<table><tr><th>claim</th><th>label</th><th>pipeline</th></tr>
{% for d in m.rewards.disagreements %}<tr><td>{{ d.claim_path }}</td><td>{{ d.expected }}</td><td>{{ d.got }}</td></tr>
{% endfor %}</table>{% endif %}

<h2>Claims decided differently from their label ({{ m.disagreements | length }})</h2>
<table><tr><th>claim</th><th>scenario</th><th>label</th><th>decision</th><th>score</th><th>label reasons</th>
<th>pipeline reasons</th></tr>
{% for d in m.disagreements %}<tr><td>{{ d.claim_path }}</td><td>{{ d.scenario }}</td><td>{{ d.expected }}</td>
<td>{{ d.decision }}</td><td>{{ d.score }}</td><td>{{ d.expected_reasons | join(' ') }}</td>
<td>{{ d.reasons | join(' ') }}</td></tr>{% endfor %}</table>
</body></html>
"""


def write_report(metrics: dict, rows, out: Path, *, plot_cache: Path | None = None) -> Path:
    """metrics.json, claims.csv, the PNGs and report.html in ``out``; returns the report's path.
    ``plot_cache``: a folder where PNGs drawn for the same figures are kept (``cached_plots``)."""
    import jinja2

    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    write_claims_csv(rows, out / "claims.csv")
    files = cached_plots(metrics, out, plot_cache)
    headline = [("all", metrics["overall"]), *metrics["by_kind"].items()]
    sweep_all = metrics["sweep"].get("all", {"approve": [], "reject": []})
    approve_rows = [p for p in sweep_all["approve"]
                    if round(p["threshold"] * 100) % 10 == 0 or p["threshold"] == metrics["config"]["approve_cutoff"]]
    env = jinja2.Environment(autoescape=True, undefined=jinja2.ChainableUndefined)
    html = env.from_string(_TEMPLATE).render(
        m=metrics, files=files, headline=headline, pct=_pct, decisions=("approve", "review", "reject"),
        approve_rows=approve_rows, reject_rows=sweep_all["reject"][::2],
        results_name=Path(metrics["run"].get("results", "results.jsonl")).name)
    path = out / "report.html"
    path.write_text(html, encoding="utf-8")
    return path
