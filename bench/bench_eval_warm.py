#!/usr/bin/env python3
"""`claimcheck evaluate` warm: the same labelled set evaluated again (issue #14: <= 5 s for 500 claims),
against the code before this change and against ``--no-reuse``, in one run.

Warm means the read cache already holds every document's readings. The set is either a folder given
with ``--set``, a generated one (``--generate N --seed S``: ``claimcheck samples generate``) or
(default) ``--copies N`` copies of the labelled ``sample_invoices/`` claims under claim_ids of their
own (documents repeat, so filling the cache reads only the 73 samples; as ``bench_prefect_tax.py``).

1. warm-up (not timed against anything): ``evaluate`` once with this code, which fills the read cache
   and keeps the run;
2. ``--rounds`` rounds, each command its own process with a fresh ``--out``, no Prefect server
   (PREFECT_* unset), ``--no-prefect``, the modes taking turns:
   - ``before``: the code of ``--base`` (default: the merge-base with main), exported with
     ``git archive`` and run with the same interpreter and the same read cache: what evaluating
     again cost until now;
   - ``reuse``: this code (an identical run's decisions and claim store restored, plots kept);
   - ``no-reuse``: this code with ``--no-reuse`` (every claim decided again);
3. medians, the ratio before / reuse, and whether the three modes' decisions are the same, claim
   for claim (``timing_ms`` aside).

    .venv/bin/python bench/bench_eval_warm.py --copies 500 --rounds 3
    .venv/bin/python bench/bench_eval_warm.py --generate 100 --seed 22 --rounds 2
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from bench_prefect_tax import make_set  # noqa: E402


def _base_tree(base: str, work: Path) -> Path:
    tree = work / f"base-{base[:10]}"
    if not tree.exists():
        tree.mkdir(parents=True)
        archive = subprocess.run(["git", "archive", base, "pipeline", "flows"], cwd=REPO, check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def _evaluate(args: list[str], env: dict, *, base: Path | None) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, the command and its workers) of one ``evaluate``."""
    cmd = [sys.executable, "-c", "from pipeline.cli import app; app()", "evaluate", *args, "--no-prefect"]
    env = dict(env)
    if base is not None:
        env["PYTHONPATH"] = str(base)  # before the editable install's finder on sys.path
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    # -c puts the working folder first on sys.path: the base's tree for the code before
    proc = subprocess.run(cmd, env=env, cwd=base or REPO, capture_output=True, text=True, timeout=7200)
    took = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"evaluate {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    if base is None and "--no-reuse" not in args and "decisions reused" not in proc.stdout:
        print("  (no identical run kept: verified)", file=sys.stderr)
    return took, (after.ru_utime - cpu.ru_utime) + (after.ru_stime - cpu.ru_stime)


def _decisions(out: Path) -> dict[str, dict]:
    found = {}
    for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        d.pop("timing_ms", None)
        found[d["claim_path"]] = d
    return found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    what = ap.add_mutually_exclusive_group()
    what.add_argument("--set", type=Path, help="a labelled set to evaluate")
    what.add_argument("--generate", type=int, metavar="N", help="generate N claims (with --seed)")
    what.add_argument("--copies", type=int, default=500, metavar="N", help="N copies of sample_invoices (default)")
    ap.add_argument("--seed", type=int, default=22)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--base", help="the commit to compare with (default: merge-base HEAD main)")
    ap.add_argument("--work", type=Path, help="work folder (kept between runs: the set and the read cache)")
    args = ap.parse_args()

    work = args.work or Path(tempfile.gettempdir()) / "bench-eval-warm"
    work.mkdir(parents=True, exist_ok=True)
    if args.set:
        claims = args.set
    elif args.generate:
        claims = work / f"gen-{args.generate}-{args.seed}"
        if not claims.exists():
            subprocess.run([sys.executable, "-c", "from pipeline.cli import app; app()", "samples", "generate",
                            str(claims), "--n", str(args.generate), "--seed", str(args.seed)], check=True, cwd=REPO)
    else:
        claims = work / f"copies-{args.copies}"
        if not claims.exists():
            make_set(claims, args.copies, REPO / "sample_invoices")
    base = args.base or subprocess.run(["git", "merge-base", "HEAD", "main"], cwd=REPO, check=True,
                                       capture_output=True, text=True).stdout.strip()
    base_tree = _base_tree(base, work)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.setdefault("CLAIMCHECK_CACHE_DIR", str(work / "read-cache"))
    env.update({"OMP_THREAD_LIMIT": "1", "PREFECT_HOME": str(work / "prefect-home")})
    n = len(list(claims.rglob("claim.json")))
    print(f"{n} claims in {claims}; read cache {env['CLAIMCHECK_CACHE_DIR']}; base {base[:10]}; "
          f"load average {os.getloadavg()[0]:.1f}", file=sys.stderr)

    common = [str(claims), "--workers", str(args.workers)]
    fill, _ = _evaluate([*common, "--out", str(work / "fill")], env, base=None)
    print(f"warm-up (reads cached, run kept): {fill:.1f} s", file=sys.stderr)
    modes = {"before": ([], base_tree), "reuse": ([], None), "no-reuse": (["--no-reuse"], None)}
    times: dict[str, list[float]] = {m: [] for m in modes}
    cpus: dict[str, list[float]] = {m: [] for m in modes}
    for r in range(args.rounds):
        for mode, (extra, tree) in modes.items():
            out = work / f"{mode}-{r}"
            shutil.rmtree(out, ignore_errors=True)
            wall, cpu = _evaluate([*common, "--out", str(out), *extra], env, base=tree)
            times[mode].append(wall)
            cpus[mode].append(cpu)
            print(f"round {r + 1} {mode}: {wall:.2f} s wall, {cpu:.2f} s CPU (load {os.getloadavg()[0]:.1f})",
                  file=sys.stderr)
    med = {m: round(statistics.median(v), 2) for m, v in times.items()}
    med_cpu = {m: round(statistics.median(v), 2) for m, v in cpus.items()}
    last = args.rounds - 1
    got = {m: _decisions(work / f"{m}-{last}") for m in modes}
    same = sum(got["before"][k] == got["reuse"].get(k) == got["no-reuse"].get(k) for k in got["before"])
    summary = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load": round(os.getloadavg()[0], 1),
               "claims": n, "set": str(claims), "workers": args.workers, "rounds": args.rounds, "base": base[:10],
               "warm_up_s": round(fill, 1), "median_s": med, "median_cpu_s": med_cpu,
               "before_over_reuse": round(med["before"] / med["reuse"], 1),
               "no_reuse_over_reuse": round(med["no-reuse"] / med["reuse"], 1),
               "decisions_equal": f"{same}/{len(got['before'])}"}
    print(f"evaluate warm, {n} claims, median of {args.rounds}: before {med['before']} s, reuse {med['reuse']} s "
          f"({summary['before_over_reuse']}x), no-reuse {med['no-reuse']} s (CPU {med_cpu['before']} / "
          f"{med_cpu['reuse']} / {med_cpu['no-reuse']} s); decisions equal in all three: "
          f"{summary['decisions_equal']} [goal <= 5 s]", file=sys.stderr)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
