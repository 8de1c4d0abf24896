"""Benchmark the OCR engines: Tesseract alone, PP-OCR alone, and the cascade (Tesseract, then PP-OCR
for documents whose first reading left a claimed field unproven), through the whole pipeline.

Input: folders of labelled claim folders (each with an ``expected.json`` naming check outcomes), e.g.
the real SROIE receipts turned into claims by ``make_claims.py`` (genuine, wrong date, wrong retailer)
and a generated lab set (``claimcheck samples generate ... --kinds documents --hard-share 0.5``).

Each engine setup verifies the claims with its own fresh read cache (cold), the setups taking turns
claim by claim in one run (a shared machine's load changes within minutes). Printed per set and engine:

- found rate per field: of the claims labelled ``pass`` for the check (purchase_date, retailer,
  product_on_invoice, serial_number, chk_code), the share the pipeline passed;
- false pass: of the claims labelled ``fail`` for it (a wrong date, shop, model...), the share passed;
- genuine rejected: claims labelled approve (or whose labelled checks all pass) that were rejected;
- total: with ``--keys DIR`` (SROIE's ``key/NNN.json``), the share whose extracted invoice total is the
  labelled one (the cascade's extracted values come from its first reading, Tesseract's);
- ms per page read by each engine (the reads themselves), and cold seconds per claim of the whole
  pipeline, with the cascade's ratio to Tesseract alone; also over the genuine claims only (each
  timed alone: a set's claims on one document share its reads, the first claim in name order pays).

    nice -n 10 .venv/bin/python bench/bench_engines.py --set sroie=/tmp/sroie-claims \\
        --keys /path/to/sroie/key --set lab=/tmp/lab --limit 300 --out /tmp/bench-engines.json
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from decimal import Decimal, InvalidOperation
from pathlib import Path

from pipeline.cache import CachedReader, ReadCache
from pipeline.config import Config, load_config
from pipeline.read import read_document
from pipeline.verify import verify_claim

FIELDS = ("purchase_date", "retailer", "product_on_invoice", "serial_number", "chk_code")
ENGINES = ("tesseract", "ppocr", "cascade", "cascade-page", "cascade-regions")
"""cascade-page: the cascade whose second engine reads whole pages (``[ppocr].regions`` off: every
detected line recognised, rapidocr's detector sizing); cascade-regions: region reading on (only the
lines Tesseract read badly or missed recognised, detection sized by the text's height)."""
_WORST = {"fail": 0, "uncertain": 1, "skipped": 2, "pass": 3}


class TimedRead:
    """The real read_document, timed per engine and page."""

    def __init__(self):
        self.seconds: Counter = Counter()
        self.pages: Counter = Counter()

    def __call__(self, *args, config, **kwargs):
        started = time.perf_counter()
        doc = read_document(*args, config=config, **kwargs)
        self.seconds[config.ocr.engine] += time.perf_counter() - started
        self.pages[config.ocr.engine] += sum(1 for p in doc.pages if p.source == "ocr")
        return doc


def engine_setup(base: Config, engine: str) -> Config:
    """tesseract: Tesseract alone; ppocr: PP-OCR reads everything (no cascade); cascade: the default;
    cascade-page / cascade-regions: the cascade with whole-page / region second readings."""
    if engine == "cascade":
        return base
    if engine == "cascade-page":
        return base.model_copy(update={"ppocr": base.ppocr.model_copy(update={"regions": False, "det_text_px": 0})})
    if engine == "cascade-regions":
        return base.model_copy(update={"ppocr": base.ppocr.model_copy(update={"regions": True})})
    alone = base.cascade.model_copy(update={"engines": ["tesseract"]})
    return base.model_copy(update={"cascade": alone, "ocr": base.ocr.model_copy(update={"engine": engine})})


def claim_folders(root: Path, limit: int | None) -> list[Path]:
    folders = sorted(p.parent for p in root.glob("*/expected.json"))
    return folders[:limit] if limit else folders


def _money(value) -> Decimal | None:
    try:
        return Decimal(str(value).replace(",", "")).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return None


def _labelled_total(folder: Path, keys: Path | None) -> Decimal | None:
    if keys is None:
        return None
    number = folder.name.split("-")[1] if folder.name.count("-") >= 2 else None
    key = keys / f"{number}.json"
    return _money(json.loads(key.read_text()).get("total")) if number and key.exists() else None


def _genuine(expected: dict) -> bool:
    if "decision" in expected:
        return expected["decision"] == "approve"
    return all(v == "pass" for v in expected.get("checks", {}).values())


def _tally(counts: dict, expected: dict, decision, folder: Path, keys: Path | None) -> None:
    # a per-product check's label is the claim's: any product failing fails it, all passing pass it
    statuses: dict = {}
    for c in decision.checks:
        if statuses.get(c.name) is None or _WORST[c.status] < _WORST[statuses[c.name]]:
            statuses[c.name] = c.status
    for field, label in expected.get("checks", {}).items():
        if field not in FIELDS or field not in statuses:
            continue
        if label == "pass":
            counts[field]["genuine"] += 1
            counts[field]["found"] += statuses[field] == "pass"
        elif label == "fail":
            counts[field]["wrong"] += 1
            counts[field]["wrong_passed"] += statuses[field] == "pass"
    if _genuine(expected):
        counts["claims"]["genuine"] += 1
        counts["claims"]["genuine_rejected"] += decision.decision == "reject"
        if decision.decision == "reject":
            counts["genuine_rejected_for"].update(r.code for r in decision.reasons)
        counts["claims"]["genuine_approved"] += decision.decision == "approve"
    else:
        counts["claims"]["other"] += 1
        counts["claims"]["other_approved"] += decision.decision == "approve"
    total = _labelled_total(folder, keys)
    if total is not None and folder.name.endswith("-genuine"):
        extracted = (decision.to_dict().get("extracted") or {}).values()
        read = {_money(e.get("total")) for e in extracted if isinstance(e, dict) and e.get("total") is not None}
        counts["total"]["genuine"] += 1
        counts["total"]["found"] += total in read


def _cpu() -> float:
    """CPU seconds of this process and its finished children (Tesseract runs as a child): on a shared
    machine the wall clock measures the neighbours' load too, CPU time only the work."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def run_set(folders: list[Path], config: Config, engines: list[str], keys: Path | None, workdir: Path) -> dict:
    """Verify every claim cold with each engine setup (its own fresh read cache), the setups taking
    turns claim by claim, so that a change in the machine's load falls on all of them alike."""
    state = {}
    for engine in engines:
        timed = TimedRead()
        state[engine] = {"timed": timed, "reader": CachedReader(ReadCache(workdir / f"cache-{engine}"), timed),
                         "config": engine_setup(config, engine), "counts": defaultdict(Counter),
                         "seconds": 0.0, "genuine_seconds": 0.0, "cpu": 0.0, "genuine_cpu": 0.0}
    for folder in folders:
        expected = json.loads((folder / "expected.json").read_text())
        for engine in engines:
            st = state[engine]
            started, cpu = time.perf_counter(), _cpu()
            decision = verify_claim(folder, st["config"], reader=st["reader"], store=None)
            took, cpu = time.perf_counter() - started, _cpu() - cpu
            st["seconds"] += took
            st["genuine_seconds"] += took if _genuine(expected) else 0.0
            st["cpu"] += cpu
            st["genuine_cpu"] += cpu if _genuine(expected) else 0.0
            _tally(st["counts"], expected, decision, folder, keys)
    return {engine: {"counts": {k: dict(v) for k, v in st["counts"].items()}, "seconds": st["seconds"],
                     "claims": len(folders), "genuine_seconds": st["genuine_seconds"],
                     "cpu": st["cpu"], "genuine_cpu": st["genuine_cpu"],
                     "read_seconds": dict(st["timed"].seconds), "pages": dict(st["timed"].pages)}
            for engine, st in state.items()}


def _rate(a: int, b: int) -> str:
    return f"{a / b:.3f} ({a}/{b})" if b else "-"


def report(name: str, results: dict) -> list[str]:
    engines = [e for e in ENGINES if e in results]
    lines = [f"## {name}", "", "| | " + " | ".join(engines) + " |", "|---|" + "---|" * len(engines)]
    fields = [f for f in FIELDS if any(results[e]["counts"].get(f, {}).get("genuine") for e in engines)]
    for field in fields:
        lines.append(f"| {field} found | " + " | ".join(
            _rate(results[e]["counts"][field].get("found", 0), results[e]["counts"][field].get("genuine", 0))
            for e in engines) + " |")
    for field in FIELDS:
        if any(results[e]["counts"].get(field, {}).get("wrong") for e in engines):
            lines.append(f"| {field} wrong passed | " + " | ".join(
                _rate(results[e]["counts"][field].get("wrong_passed", 0), results[e]["counts"][field].get("wrong", 0))
                for e in engines) + " |")
    if any(results[e]["counts"].get("total") for e in engines):
        lines.append("| total found | " + " | ".join(
            _rate(results[e]["counts"]["total"]["found"], results[e]["counts"]["total"]["genuine"])
            for e in engines) + " |")
    claims = {e: results[e]["counts"].get("claims", {}) for e in engines}
    lines.append("| genuine approved | " + " | ".join(
        _rate(claims[e].get("genuine_approved", 0), claims[e].get("genuine", 0)) for e in engines) + " |")
    lines.append("| genuine rejected | " + " | ".join(
        _rate(claims[e].get("genuine_rejected", 0), claims[e].get("genuine", 0)) for e in engines) + " |")
    lines.append("| genuine rejected for | " + " | ".join(
        ", ".join(f"{code} {n}" for code, n in sorted(results[e]["counts"].get("genuine_rejected_for", {}).items()))
        or "-" for e in engines) + " |")
    lines.append("| other claims approved | " + " | ".join(
        _rate(claims[e].get("other_approved", 0), claims[e].get("other", 0)) for e in engines) + " |")
    per_page = []
    for e in engines:
        parts = [f"{eng} {1000 * s / results[e]['pages'][eng]:.0f}"
                 for eng, s in sorted(results[e]["read_seconds"].items()) if results[e]["pages"].get(eng)]
        per_page.append(", ".join(parts) or "-")
    lines.append("| ms per page read (engine) | " + " | ".join(per_page) + " |")
    lines.append("| pages read (engine) | " + " | ".join(
        ", ".join(f"{eng} {n}" for eng, n in sorted(results[e]["pages"].items())) for e in engines) + " |")
    cold = {e: results[e]["seconds"] / max(1, results[e]["claims"]) for e in engines}
    lines.append("| cold s per claim (whole pipeline) | " + " | ".join(f"{cold[e]:.2f}" for e in engines) + " |")
    lines.append("| cold cost vs tesseract | " + " | ".join(f"{cold[e] / cold['tesseract']:.2f}x" for e in engines)
                 + " |")
    cpu = {e: results[e]["cpu"] / max(1, results[e]["claims"]) for e in engines}
    lines.append("| cold CPU s per claim (whole pipeline) | " + " | ".join(
        f"{cpu[e]:.2f} ({cpu[e] / cpu['tesseract']:.2f}x)" for e in engines) + " |")
    genuine = {e: results[e]["genuine_seconds"] / max(1, claims[e].get("genuine", 0)) for e in engines}
    if claims["tesseract"].get("genuine"):
        lines.append("| cold s per genuine claim | " + " | ".join(f"{genuine[e]:.2f}" for e in engines) + " |")
        lines.append("| cold cost per genuine claim vs tesseract | " + " | ".join(
            f"{genuine[e] / genuine['tesseract']:.2f}x" for e in engines) + " |")
        gcpu = {e: results[e]["genuine_cpu"] / max(1, claims[e].get("genuine", 0)) for e in engines}
        lines.append("| cold CPU s per genuine claim | " + " | ".join(
            f"{gcpu[e]:.2f} ({gcpu[e] / gcpu['tesseract']:.2f}x)" for e in engines) + " |")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", action="append", required=True, metavar="NAME=DIR",
                        help="a folder of labelled claim folders (repeatable)")
    parser.add_argument("--keys", type=Path, help="SROIE key/ folder: labelled totals of <set>-NNN-genuine claims")
    parser.add_argument("--limit", type=int, help="at most this many claims per set (in name order)")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--out", type=Path, help="also write the raw counts as JSON")
    args = parser.parse_args(argv)
    engines = args.engines.split(",")
    config = load_config()
    out: dict = {}
    lines = [f"bench_engines.py {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
             f"load average {os.getloadavg()[0]:.1f} at start, {os.cpu_count()} cores", ""]
    with tempfile.TemporaryDirectory(prefix="bench-engines-") as tmp:
        for spec in args.set:
            name, _, path = spec.partition("=")
            folders = claim_folders(Path(path), args.limit)
            work = Path(tmp) / name
            work.mkdir()
            results = run_set(folders, config, engines, args.keys, work)
            for engine in engines:
                print(f"{name} {engine}: {results[engine]['seconds']:.0f} s for {len(folders)} claims",
                      file=sys.stderr, flush=True)
            out[name] = results
            if args.out:  # the raw counts first: a report that fails loses no run
                args.out.write_text(json.dumps(out, indent=1))
            if "tesseract" in results:
                lines += report(f"{name}: {len(folders)} claims from {path}", results) + [""]
    print("\n".join(lines))
    if args.out:
        args.out.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
