"""Labelled sample claims and the threshold lab (issue #5).

- ``generate(out, n, seed, kinds)``: a deterministic set of realistic claims with
  ground truth (``expected.json``) covering genuine claims and every failure the checks
  exist for.
- ``evaluate(dir, config_path, out_dir, workers)``: verify a labelled set, compare with the
  labels, sweep the approve / reject cut-offs; writes report.html, PNGs, metrics.json,
  claims.csv.
- ``diff_runs(a, b)``: which claims changed decision between two runs, and which checks moved.
- ``render_metrics``, ``render_diff``, ``render_generated``: text for the terminal.

Imports are lazy so ``claimcheck`` pays for matplotlib/reportlab only when the lab runs.

>>> from pipeline.lab import SCENARIOS
>>> "wrong_date" in SCENARIOS
True
"""
from __future__ import annotations

__all__ = ["generate", "generated_set", "evaluate", "diff_runs", "render_metrics", "render_diff", "render_generated",
           "SCENARIOS", "KINDS"]


def __getattr__(name: str):
    if name in ("generate", "generated_set"):
        from . import generator
        return getattr(generator, name)
    if name == "evaluate":
        from .evaluation import evaluate
        return evaluate
    if name == "diff_runs":
        from .rundiff import diff_runs
        return diff_runs
    if name in ("render_metrics", "render_diff", "render_generated"):
        from . import text
        return getattr(text, name)
    if name in ("SCENARIOS", "KINDS"):
        from . import scenarios
        return getattr(scenarios, name)
    raise AttributeError(f"module 'pipeline.lab' has no attribute {name!r}")
