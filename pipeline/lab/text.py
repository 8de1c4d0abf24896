"""Plain-text views of the lab's results, for the terminal (stdout) and for logs.

>>> print(render_diff([]))
no claim changed decision
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

__all__ = ["render_metrics", "render_diff", "render_generated"]


def _pct(v) -> str:
    return "    -" if v is None else f"{100 * v:5.1f}%"


def render_metrics(metrics: dict) -> str:
    """Headline rates per subset, decisions per scenario, the weakest checks and where the report is."""
    lines = [f"set {metrics['set']}: {metrics['claims']} claims, {metrics['labelled']} labelled; "
             f"config {metrics['config']['source']} (approve cut-off {metrics['config']['approve_cutoff']})"]
    run = metrics.get("run", {})
    if "seconds" in run:
        lines.append(f"verified {run['verified']} claims in {run['seconds']} s "
                     f"({run['ms_per_claim']} ms/claim wall-clock, {run['workers']} workers)")
        if run.get("reused"):
            lines.append(f"  decisions reused from an identical run of {run['reused']['made_at']} "
                         f"({run['reused']['seconds']} s); --no-reuse verifies again")
    lines.append("")
    lines.append(f"{'subset':10} {'claims':>6} {'agree':>6} {'autom.':>6} {'false-appr.':>13} "
                 f"{'genuine-appr.':>13} {'rej.prec.':>9} {'rej.recall':>10}")
    for name, d in [("all", metrics["overall"]), *metrics["by_kind"].items()]:
        lines.append(f"{name:10} {d['n']:6d} {_pct(d['agreement'])} {_pct(d['automation_rate'])} "
                     f"{_pct(d['false_approve_rate'])} ({d['false_approves']:2d}) "
                     f"{_pct(d['genuine_auto_approved']):>13} "
                     f"{_pct(d['reject_precision']):>9} {_pct(d['reject_recall']):>10}")
    lines.append("goals: false-approve <= 0.5%, genuine auto-approved >= 85%, genuine rejected <= 0.5%")
    g = metrics.get("genuine_rejected")
    if g:
        lines.append(f"genuine claims rejected: {g['n']}/{g['genuine']} ({_pct(g['rate']).strip()})"
                     + (": " + ", ".join(f"{code} {n}" for code, n in g["by_reason"].items()) if g["n"] else "")
                     + (" | by scenario: " + ", ".join(f"{k} {n}" for k, n in g["by_scenario"].items())
                        if g["n"] else ""))
    ng = (metrics.get("not_genuine_outcomes") or {}).get("all")
    if ng and ng["n"]:
        lines.append(f"claims not genuine: {ng['n']}, rejected {_pct(ng['rejected_share']).strip()}, "
                     f"review {_pct(ng['review_share']).strip()}, approved {_pct(ng['approved_share']).strip()}")
    forms = metrics.get("genuine_checks_by_form") or {}
    if forms:
        lines.append("genuine claims by document form (auto-approved, rejected; weakest check passes):")
        for form, f in forms.items():
            weak = sorted((c["rate"] if c["rate"] is not None else 1, name) for name, c in f["checks"].items())[:3]
            lines.append(f"  {form:13} {f['genuine']:4d}  approved {_pct(f['share'])}  rejected {f['rejected']:3d}  "
                         + ", ".join(f"{name} {_pct(rate).strip()}" for rate, name in weak))
    lines.append("")
    lines.append(f"{'scenario':26} {'n':>4} {'label':>8}  approve review reject  agree")
    # (a scenario whose label is reject should be mostly rejected, not only sent to review)
    for name, s in metrics["by_scenario"].items():
        label = "/".join(sorted(s["expected"]))
        dec = s["decisions"]
        lines.append(f"{name:26} {s['n']:4d} {label:>8}  {dec['approve']:7d} {dec['review']:6d} {dec['reject']:6d} "
                     f"{_pct(s['agreement'])}")
    weak = sorted(((c["accuracy"] or 0, name, c) for name, c in metrics["checks"].items()))[:5]
    if weak:
        lines.append("")
        lines.append("checks agreeing least with their labels: " + ", ".join(
            f"{name} {c['agree']}/{c['n']}" for _, name, c in weak))
    rewards = metrics.get("rewards") or {}
    if rewards.get("labelled"):
        lines.append(f"rewards agreeing with their labels: {rewards['agree']}/{rewards['labelled']}")
    points = [p for p in metrics["sweep"].get("all", {}).get("approve", [])
              if p["false_approve_rate"] is not None and p["false_approve_rate"] <= 0.005]
    if points:
        top = max(p["automation_rate"] or 0 for p in points)
        span = [p["threshold"] for p in points if (p["automation_rate"] or 0) == top]
        best = next(p for p in points if p["threshold"] == span[0])
        lines.append(f"most automation with false-approve <= 0.5%: approve cut-off {span[0]:.2f}..{span[-1]:.2f} "
                     f"-> automation {_pct(top).strip()}, genuine auto-approved "
                     f"{_pct(best['genuine_auto_approved']).strip()}")
    return "\n".join(lines)


def render_diff(rows: list[dict]) -> str:
    """One block per claim that changed: decisions, reasons added/removed, the checks that moved."""
    if not rows:
        return "no claim changed decision"
    moves = Counter((r.get("decision_a"), r.get("decision_b")) for r in rows)
    out = [f"{len(rows)} claims changed: " + ", ".join(f"{a}->{b} {n}" for (a, b), n in sorted(
        moves.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1]))))]
    for r in rows:
        out.append("")
        if r.get("only_in"):
            out.append(f"{r['claim']}: only in run {r['only_in'].upper()} "
                       f"({r.get('decision_a') or r.get('decision_b')})")
            continue
        out.append(f"{r['claim']} ({r['claim_id']}): {r['decision_a']} -> {r['decision_b']}  "
                   f"score {r.get('score_a')} -> {r.get('score_b')}")
        if r["reasons_added"]:
            out.append(f"  reasons added:   {' '.join(r['reasons_added'])}")
        if r["reasons_removed"]:
            out.append(f"  reasons removed: {' '.join(r['reasons_removed'])}")
        for c in r["checks"]:
            product = "" if c["product"] is None else f"[{c['product']}]"
            found = f"  found {c['found_a']!r} -> {c['found_b']!r}" if c["found_a"] != c["found_b"] else ""
            out.append(f"  {c['name']}{product}: {c['status_a']} {c['score_a']} -> {c['status_b']} {c['score_b']}"
                       f"{found}")
        if not r["checks"] and r.get("config_a") != r.get("config_b"):
            out.append("  no check changed: the policy (config) did")
    return "\n".join(out)


def render_generated(folders: list[Path]) -> str:
    """What ``generate`` wrote: claims per scenario and label, and the size on disk."""
    import json

    scen: Counter = Counter()
    labels: Counter = Counter()
    size = 0
    for folder in folders:
        exp = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
        scen[exp.get("scenario")] += 1
        labels[exp.get("decision")] += 1
        size += sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
    root = folders[0].parent if folders else Path(".")
    out = [f"{len(folders)} claims in {root} ({size / 1e6:.1f} MB): "
           + ", ".join(f"{k} {v}" for k, v in sorted(labels.items()))]
    out += [f"  {name:26} {n}" for name, n in sorted(scen.items())]
    return "\n".join(out)
