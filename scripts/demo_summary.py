#!/usr/bin/env python3
"""Print each sample claim's decision beside its label (expected.json), and the agreement."""
from __future__ import annotations

import json
import sys
from pathlib import Path


def main(results: Path, samples: Path) -> int:
    rows = [json.loads(line) for line in results.read_text().splitlines() if line.strip()]
    agree = total = checks_ok = checks_total = 0
    print(f"{'claim':42} {'decision':9} {'expected':9} {'score':>5}  reasons")
    for r in sorted(rows, key=lambda r: r["claim_path"]):
        exp_path = samples / Path(r["claim_path"]).parent / "expected.json"
        expected = json.loads(exp_path.read_text()) if exp_path.exists() else {}
        want = expected.get("decision")
        mark = ""
        if want:
            total += 1
            agree += want == r["decision"]
            mark = "" if want == r["decision"] else "  <-- differs"
        status = {}
        for c in r["checks"]:
            status.setdefault(c["name"], c["status"])
        for name, want_status in expected.get("checks", {}).items():
            checks_total += 1
            checks_ok += status.get(name) == want_status
        codes = ",".join(x["code"] for x in r["reasons"]) or "-"
        name = Path(r["claim_path"]).parent.name
        print(f"{name:42} {r['decision']:9} {want or '-':9} {r['score']:5.2f}  {codes}{mark}")
    print(f"\ndecisions agreeing with the label: {agree}/{total}; labelled checks agreeing: {checks_ok}/{checks_total}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
