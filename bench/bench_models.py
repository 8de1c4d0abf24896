#!/usr/bin/env python3
"""match_model on the committed sample claims: the sibling-weighing matcher vs the token-only one.

For every claim folder under SET (default: sample_invoices/), every claimed model is matched
against every invoice of the claim, as ``product_on_invoice`` does, as read by the pipeline
(through the read cache: a cold cache means OCR first, which is not timed). The baseline is the
matcher of ``--baseline-rev`` (default: the last commit before the catalogue, the token-only
matcher), loaded from git into this same process, so both run on the same reads, machine and
load. Prints ms per claimed model for both, the ratio, and where their statuses differ.

    OMP_THREAD_LIMIT=1 .venv/bin/python bench/bench_models.py [SET] [--repeat 5] [--baseline-rev REV]

Measured 2026-11-30 on this 2-core machine (other engineers' jobs running, load 9), the committed
sample claims (85 claimed models, 85 invoice reads), first pass + 5 repeats:

| matcher | first pass | repeats (ms per claimed model) |
| --- | --- | --- |
| baseline (02e0430, token-only) | 14.32 | 13.87 |
| catalogue + siblings | 18.67 (1.30x) | 9.98 (0.72x) |

Across runs that day the first pass ranged 1.06-1.57x (the machine's load moves it), repeats
0.64-0.85x. One status differs: 0026 (product not on the invoice) fail -> uncertain, a line of
its receipt was read too poorly to prove the product absent.
"""
from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BASELINE_REV = "02e0430"
"""main before issue #15: match_model aligned the claim alone (no catalogue, no siblings)."""


def baseline_module(rev: str):
    """pipeline/matching/models.py as of ``rev``, imported as a module of the current package."""
    source = subprocess.run(["git", "show", f"{rev}:pipeline/matching/models.py"], cwd=REPO, check=True,
                            capture_output=True, text=True).stdout
    spec = importlib.util.spec_from_loader("pipeline.matching._models_baseline", loader=None)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "pipeline.matching"
    sys.modules[spec.name] = module
    exec(compile(source, f"{rev}:pipeline/matching/models.py", "exec"), module.__dict__)
    return module


def sample_reads(root: Path) -> list[tuple[str, str, list]]:
    """(claim folder, claimed model, pages of each readable invoice) for every claimed model."""
    from pipeline.claim import load_claim
    from pipeline.config import default_config
    from pipeline.errors import ClaimcheckError
    from pipeline.verify import default_reader

    config = default_config()
    reader = default_reader(config)
    out = []
    for folder in sorted(p for p in root.iterdir() if (p / "claim.json").is_file()):
        try:
            claim, base = load_claim(folder)
        except ClaimcheckError:
            continue
        docs = []
        for name in claim.documents.invoices:
            try:
                docs.append(reader(base / name, name, languages=config.languages_for(claim.country),
                                   config=config, barcodes=False).pages)
            except ClaimcheckError:
                continue
        for product in claim.product_list:
            if product.model and docs:
                out.append((folder.name, product.model, docs))
    return out


def clear_memos(module) -> None:
    """Empty a matcher module's memo caches (functools caches and plan dicts)."""
    for value in vars(module).values():
        if hasattr(value, "cache_clear"):
            value.cache_clear()
        elif isinstance(value, dict) and value and value is not vars(module):
            if all(isinstance(k, tuple) for k in value):
                value.clear()


def timed(match, items, repeat: int, **kw) -> tuple[float, list[str]]:
    statuses = []
    start = time.perf_counter()
    for _ in range(repeat):
        statuses = [max((match(model, pages, **kw).status for pages in docs),
                        key={"fail": 0, "uncertain": 1, "pass": 2}.get) for _, model, docs in items]
    return (time.perf_counter() - start) / repeat / max(len(items), 1) * 1000, statuses


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("set", nargs="?", type=Path, default=REPO / "sample_invoices")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--baseline-rev", default=BASELINE_REV)
    args = ap.parse_args()
    from pipeline.config import default_config
    from pipeline.matching import models
    from pipeline.matching.models import match_model

    th = default_config().matching.get("model")
    base = baseline_module(args.baseline_rev)
    base_th = {k: v for k, v in th.items() if k in base.match_model.__code__.co_varnames}
    items = sample_reads(args.set)
    invoices = sum(len(d) for _, _, d in items)
    # one untimed pass each: catalogue, vocabulary and module state loaded before the clock starts
    timed(base.match_model, items[:3], 1, **base_th)
    timed(match_model, items[:3], 1, **th)
    # first pass with every memo emptied (a worker's first claims), then repeats (a batch naming the
    # same models again); interleaved, so a change in the machine's load hits both alike
    clear_memos(base)
    base_cold, base_st = timed(base.match_model, items, 1, **base_th)
    clear_memos(models)
    new_cold, new_st = timed(match_model, items, 1, **th)
    base_ms = new_ms = 0.0
    for _ in range(args.repeat):
        base_ms += timed(base.match_model, items, 1, **base_th)[0] / args.repeat
        new_ms += timed(match_model, items, 1, **th)[0] / args.repeat
    print(f"{len(items)} claimed models, {invoices} invoice reads, first pass + {args.repeat} repeats")
    print("                                      first pass    repeats (ms per claimed model)")
    print(f"baseline ({args.baseline_rev}, token-only):     {base_cold:7.2f}     {base_ms:7.2f}")
    print(f"catalogue + siblings (this tree):      {new_cold:7.2f}     {new_ms:7.2f}")
    print(f"ratio:                                 {new_cold / base_cold:6.2f}x     {new_ms / base_ms:6.2f}x")
    for (folder, model, _), a, b in zip(items, base_st, new_st):
        if a != b:
            print(f"  {folder}: {model!r} {a} -> {b}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
