"""Keep what the engines read from each sample claim, and the decision made from it, for the golden
decision tests (tests/test_golden.py) that run the decision path without OCR.

For every claim folder below SAMPLES (default sample_invoices/): verify it with the real engines
(through the read cache when it is on), recording every read, with no claim store (the duplicate
and limit checks depend on which claims ran before: they are tested elsewhere), and write

    OUT/<claim folder>/reads.json      the readings (pipeline.stored_reads format)
    OUT/<claim folder>/decision.json   decision, reason codes and each check's status

and ``OUT/in-order-with-store.json``: every claim decided from its stored readings in path order
against one fresh claim store (duplicates, claim limits and known shops depend on the claims
before: this pins them too).

Run again after a change to reading (OCR settings, engines, preprocessing): the readings change.
After a change to a decision rule, only decision.json changes (``--decisions-only`` re-decides from
the stored readings) and the diff shows what the change did.

    .venv/bin/python scripts/store_reads.py                    # sample_invoices/ -> tests/golden/
    .venv/bin/python scripts/store_reads.py --decisions-only
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from pipeline.config import default_config
from pipeline.db import open_store
from pipeline.stored_reads import RecordingReader, StoredReader
from pipeline.verify import default_reader, store_options, verify_claim

REPO = Path(__file__).resolve().parents[1]


def summary(decision: dict) -> dict:
    """What the golden test compares: the decision, its reason codes, every check's status."""
    return {"decision": decision["decision"],
            "reasons": sorted(r["code"] for r in decision["reasons"]),
            "checks": sorted(f"{c['name']}[{c.get('product')}]={c['status']}" for c in decision["checks"])}


def decide_in_order(samples: Path, golden: Path, store_path: Path) -> dict:
    """Each claim below ``samples`` decided from its stored readings, in path order, against one claim
    store (a fresh SQLite file at ``store_path``): {claim folder: summary}."""
    config = default_config()
    out = {}
    with open_store(store_path, **store_options(config)) as store:
        for claim_json in sorted(samples.rglob("claim.json")):
            folder = claim_json.parent
            name = str(folder.relative_to(samples))
            reader = StoredReader.load(golden / name / "reads.json")
            out[name] = summary(verify_claim(folder, config, reader=reader, store=store).to_dict())
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("samples", nargs="?", type=Path, default=REPO / "sample_invoices")
    ap.add_argument("--out", type=Path, default=REPO / "tests" / "golden")
    ap.add_argument("--decisions-only", action="store_true", help="re-decide from the stored readings")
    args = ap.parse_args(argv)
    config = default_config()
    for claim_json in sorted(args.samples.rglob("claim.json")):
        folder = claim_json.parent
        out = args.out / folder.relative_to(args.samples)
        if args.decisions_only:
            reader = StoredReader.load(out / "reads.json")
        else:
            reader = RecordingReader(default_reader(config))
        decision = verify_claim(folder, config, reader=reader, store=False).to_dict()
        out.mkdir(parents=True, exist_ok=True)
        if not args.decisions_only:
            (out / "reads.json").write_text(json.dumps(reader.to_json(), ensure_ascii=False, separators=(",", ":")),
                                            encoding="utf-8")
        (out / "decision.json").write_text(json.dumps(summary(decision), indent=1, ensure_ascii=False) + "\n",
                                           encoding="utf-8")
        print(f"{folder.name}: {decision['decision']} {[r['code'] for r in decision['reasons']]}", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        in_order = decide_in_order(args.samples, args.out, Path(tmp) / "claims.sqlite3")
    (args.out / "in-order-with-store.json").write_text(json.dumps(in_order, indent=1, ensure_ascii=False) + "\n",
                                                       encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
