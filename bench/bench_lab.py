#!/usr/bin/env python3
"""The threshold lab on a generated set: decision quality and run time, cold and warm.

Generates N labelled claims (pipeline.lab.generate; skipped when OUT/claims already holds
that set), then evaluates twice: cold (an empty read cache: every document is read) and
warm (the same cache: the baseline the cold run is compared with, and what a re-evaluation
under a new threshold config costs). Prints the false-approve rate (goal <= 0.5%), the share
of genuine claims auto-approved (goal >= 85%), reject precision, automation, and run times.

    .venv/bin/python bench/bench_lab.py --n 500 --seed 7 --kinds documents --workers 2 --out /tmp/lab500
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path


def _pct(v) -> str:
    return "-" if v is None else f"{100 * v:.2f}%"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--kinds", default="documents", choices=["all", "documents", "promotion"])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("out/bench-lab"))
    ap.add_argument("--warm-only", action="store_true", help="keep the read cache: skip the cold run")
    args = ap.parse_args()

    from pipeline.lab import evaluate, generated_set, render_metrics

    started = time.perf_counter()
    claims = generated_set(args.out, args.n, args.seed, args.kinds, progress=True)
    print(f"claims ready in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    cache = args.out / "read-cache"
    os.environ["CLAIMCHECK_CACHE_DIR"] = str(cache)
    runs = {}
    if not args.warm_only:
        shutil.rmtree(cache, ignore_errors=True)
        runs["cold"] = evaluate(claims, out_dir=args.out / "report-cold", workers=args.workers)
    runs["warm"] = evaluate(claims, out_dir=args.out / "report-warm", workers=args.workers)

    metrics = runs["warm"]
    print(render_metrics(metrics))
    print()
    for name, m in runs.items():
        print(f"{name:5} run: {m['run']['seconds']:8.1f} s  {m['run']['ms_per_claim']:7.1f} ms/claim wall-clock "
              f"({m['run']['workers']} workers)")
    if "cold" in runs:
        print(f"warm / cold time: {runs['warm']['run']['seconds'] / runs['cold']['run']['seconds']:.3f} "
              "(the baseline: a re-evaluation reads nothing again)")
    o = metrics["overall"]
    print(f"false-approve rate {_pct(o['false_approve_rate'])} ({o['false_approves']}) [goal <= 0.5%], "
          f"genuine auto-approved {_pct(o['genuine_auto_approved'])} [goal >= 85%], "
          f"reject precision {_pct(o['reject_precision'])}, automation {_pct(o['automation_rate'])}")
    print(f"report: {args.out / 'report-warm' / 'report.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
