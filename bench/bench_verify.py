#!/usr/bin/env python3
"""Per-check accuracy of `claimcheck batch` on claims built from ../shared/realworld.

Builds the claims with the shared make_claims.py (all SROIE receipts and the
invoice2data invoices), runs `claimcheck batch` over them, and prints per check:
the pass rate of genuine fields (label 'pass'; goal >= 0.97) and of wrong fields
(label 'fail'; goal <= 0.005), with uncertain/fail splits, and ms per claim; then
the decisions per kind of claim (genuine: never rejected; wrong date / wrong
retailer: never approved, mostly rejected rather than sent to review).

    .venv/bin/python bench/bench_verify.py [--workers 2] [--limit N] [--keep DIR]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REALWORLD = REPO.parent / "shared" / "realworld"


def build(out: Path, limit: int) -> None:
    make = [sys.executable, str(REALWORLD / "make_claims.py")]
    sroie = make + ["sroie", str(REALWORLD / "sroie"), str(out / "sroie")]
    if limit:
        sroie += ["--limit", str(limit)]
    subprocess.run(sroie, check=True)
    subprocess.run(make + ["invoice2data", str(REALWORLD / "invoice2data"), str(out / "i2d")], check=True)


def score(results: Path, claims: Path) -> dict:
    table: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    decisions: dict = defaultdict(lambda: defaultdict(int))
    misses = []
    for line in results.read_text().splitlines():
        r = json.loads(line)
        kind = r["claim_id"].rsplit("-", 2)[-2:]
        kind = "-".join(kind) if kind[0] == "wrong" else "genuine"
        decisions[kind][r["decision"]] += 1
        expected = json.loads((claims / Path(r["claim_path"]).parent / "expected.json").read_text())
        got = {c["name"]: c["status"] for c in r["checks"] if c["product"] is None}
        for name, want in expected.get("checks", {}).items():
            status = got.get(name, "missing")
            table[name][want][status] += 1
            if (want == "pass") != (status == "pass"):
                found = next((c.get("found") for c in r["checks"] if c["name"] == name), None)
                misses.append((r["claim_id"], name, want, status, found))
    return {"table": table, "decisions": decisions, "misses": misses}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="SROIE receipts to use (0 = all)")
    ap.add_argument("--keep", type=Path, help="write claims and results here instead of a temp dir")
    ap.add_argument("--show-misses", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        claims = work / "claims"
        if not claims.exists():
            build(claims, args.limit)
        results = work / "results.jsonl"
        n = sum(1 for _ in claims.rglob("claim.json"))
        started = time.perf_counter()
        subprocess.run([str(REPO / ".venv/bin/claimcheck"), "batch", str(claims), "--out", str(results),
                        "--workers", str(args.workers), "--force"], check=True)
        seconds = time.perf_counter() - started
        s = score(results, claims)
    print(f"\n{n} claims from ../shared/realworld, {args.workers} workers: {seconds:.1f} s, "
          f"{1000 * seconds / n:.0f} ms per claim (wall, incl. start-up)")
    print(f"{'check':16} {'label':6} {'n':>5} {'pass':>7} {'uncertain':>10} {'fail':>7}   goal")
    for name, by_label in sorted(s["table"].items()):
        for want in ("pass", "fail"):
            counts = by_label.get(want)
            if not counts:
                continue
            total = sum(counts.values())
            rate = {k: counts.get(k, 0) / total for k in ("pass", "uncertain", "fail")}
            goal = "pass >= 0.97" if want == "pass" else "pass <= 0.005"
            ok = rate["pass"] >= 0.97 if want == "pass" else rate["pass"] <= 0.005
            print(f"{name:16} {want:6} {total:5} {rate['pass']:7.3f} {rate['uncertain']:10.3f} {rate['fail']:7.3f}"
                  f"   {goal} {'ok' if ok else 'MISSED'}")
    # A genuine claim must never be rejected; a wrong one never approved, and mostly rejected (issue #16).
    print(f"\n{'claims':16} {'n':>5} {'approve':>8} {'review':>8} {'reject':>8}   goal")
    for kind, counts in sorted(s["decisions"].items()):
        total = sum(counts.values())
        if kind == "genuine":
            goal, ok = "reject 0", counts["reject"] == 0
        else:
            goal = "approve <= 0.002, reject > review"
            ok = counts["approve"] <= 0.002 * total and counts["reject"] > counts["review"]
        print(f"{kind:16} {total:5} {counts['approve']:8} {counts['review']:8} {counts['reject']:8}   "
              f"{goal} {'ok' if ok else 'MISSED'}")
    if args.show_misses:
        for m in s["misses"]:
            print("miss:", *m)
    return 0


if __name__ == "__main__":
    sys.exit(main())
