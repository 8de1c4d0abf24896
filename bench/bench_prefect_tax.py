#!/usr/bin/env python3
"""The quick paths' fixed cost: `claimcheck batch` and `claimcheck evaluate` with no Prefect server
configured (the default now: the same code without Prefect) against `--no-prefect` (the baseline)
and `--prefect` (the flow with Prefect's embedded server: what the default did before), in one run.

Sets: ``--batch-n`` (40) claims and ``--eval-n`` (500) labelled claims, copies of the uploadable
sample_invoices/ folders under their own claim_ids (documents repeat, so after the warm-up every
read comes from the read cache: the runs measure what is not OCR). Each command runs as its own
process with a fresh --out (and, for batch, a fresh CLAIMCHECK_STORE), PREFECT_API_URL unset and
PREFECT_HOME a folder of this run (no profile names a server; the embedded server's database is
made by the warm-up). Modes take turns for ``--rounds`` rounds; medians are printed.

    .venv/bin/python bench/bench_prefect_tax.py --rounds 3
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLI = Path(sys.executable).parent / "claimcheck"
MODES = {"no-prefect": ["--no-prefect"], "default": [], "prefect": ["--prefect"]}


def make_set(root: Path, n: int, samples: Path) -> Path:
    folders = []
    for p in sorted(samples.glob("*/claim.json")):
        try:
            json.loads(p.read_text())
            if (p.parent / "expected.json").is_file():
                folders.append(p.parent)
        except ValueError:
            continue
    root.mkdir(parents=True)
    for i in range(n):
        src = folders[i % len(folders)]
        dst = root / f"{i:04d}-{src.name}"
        shutil.copytree(src, dst)
        claim = json.loads((dst / "claim.json").read_text())
        claim["claim_id"] = f"T{i:04d}-{claim.get('claim_id')}"
        (dst / "claim.json").write_text(json.dumps(claim))
    return root


def timed(args: list[str], env: dict) -> float:
    started = time.perf_counter()
    proc = subprocess.run([str(CLI), *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=3600)
    took = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return took


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batch-n", type=int, default=40)
    ap.add_argument("--eval-n", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--work", type=Path)
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-tax-"))
    if work.exists():
        shutil.rmtree(work)
    batch_set = make_set(work / "batch-set", args.batch_n, REPO / "sample_invoices")
    eval_set = make_set(work / "eval-set", args.eval_n, REPO / "sample_invoices")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update({"PREFECT_HOME": str(work / "prefect-home"), "OMP_THREAD_LIMIT": "1"})
    n = 0

    def batch(mode: str) -> float:
        nonlocal n
        n += 1
        return timed(["batch", str(batch_set), "--out", str(work / f"b{n}.jsonl"), "--workers", str(args.workers),
                      *MODES[mode]], {**env, "CLAIMCHECK_STORE": str(work / f"store{n}.sqlite3")})

    def evaluate(mode: str) -> float:
        nonlocal n
        n += 1
        return timed(["evaluate", str(eval_set), "--out", str(work / f"lab{n}"), "--workers", str(args.workers),
                      *MODES[mode]], env)

    print(f"load average {os.getloadavg()[0]:.1f}; warming up (reads cached, Prefect's database made)",
          file=sys.stderr)
    warm = {"batch": batch("prefect"), "evaluate": evaluate("no-prefect")}
    times: dict[str, dict[str, list[float]]] = {"batch": {m: [] for m in MODES}, "evaluate": {m: [] for m in MODES}}
    for r in range(args.rounds):
        for mode in MODES:
            times["batch"][mode].append(batch(mode))
            print(f"round {r + 1} batch {mode}: {times['batch'][mode][-1]:.1f} s", file=sys.stderr)
        for mode in ("no-prefect", "default"):
            times["evaluate"][mode].append(evaluate(mode))
            print(f"round {r + 1} evaluate {mode}: {times['evaluate'][mode][-1]:.1f} s", file=sys.stderr)
        if r == 0:
            times["evaluate"]["prefect"].append(evaluate("prefect"))
            print(f"round 1 evaluate prefect: {times['evaluate']['prefect'][-1]:.1f} s", file=sys.stderr)
    med = {what: {m: round(statistics.median(v), 2) for m, v in modes.items() if v} for what, modes in times.items()}
    summary = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load": round(os.getloadavg()[0], 1),
               "batch_n": args.batch_n, "eval_n": args.eval_n, "workers": args.workers, "rounds": args.rounds,
               "warm_up_s": {k: round(v, 1) for k, v in warm.items()}, "median_s": med,
               "batch_fixed_cost_s": {"default": round(med["batch"]["default"] - med["batch"]["no-prefect"], 2),
                                      "prefect": round(med["batch"]["prefect"] - med["batch"]["no-prefect"], 2)},
               "evaluate_default_s": med["evaluate"]["default"]}
    for what in ("batch", "evaluate"):
        print(f"{what}: " + ", ".join(f"{m} {s} s" for m, s in med[what].items()), file=sys.stderr)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
