"""Date extraction on the SROIE ground-truth transcriptions (no OCR involved).

Run from the repository root::

    .venv/bin/python bench/bench_dates.py [--sroie /work/shared/realworld/sroie] [--text DIR]

Each ``box/NNN.csv`` holds every text line of a receipt (8 ints of a quadrilateral,
then the text); ``key/NNN.json`` has the labelled ``date`` as printed. The lines are
turned into ``Page``/``Line``/``Word`` records (word boxes cut from the line box in
proportion to character positions) and ``find_dates`` runs on them, day-first as
Malaysian receipts are. Prints:

- found: receipts whose labelled date is among the dates found;
- spurious: receipts with any found date other than the labelled one, each listed
  with the extra dates (inspect them: a card expiry or a bill closed after midnight
  is a real second date, an amount or a phone number read as a date is a bug).

``--text DIR`` reads ``DIR/NNN.txt`` (one line of text per line, e.g. Tesseract's
output for ``img/NNN.jpg``) instead of the ground-truth lines, to see the same
numbers on real OCR.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.extract.dates import find_dates, find_dates_in_text  # noqa: E402
from pipeline.records import Line, Page, Word  # noqa: E402


def read_receipt(csv_path: Path) -> Page:
    """The receipt's lines as a Page, words boxed by their share of the line's characters."""
    lines = []
    for raw in csv_path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = raw.split(",", 8)
        if len(parts) < 9 or not parts[8].strip():
            continue
        xs, ys = [int(v) for v in parts[0:8:2]], [int(v) for v in parts[1:8:2]]
        x0, y0, x1, y1 = min(xs), min(ys), max(xs), max(ys)
        text = parts[8].strip()
        per_char = (x1 - x0) / max(len(text), 1)
        words, pos = [], 0
        for token in text.split(" "):
            if token:
                wx0 = x0 + round(pos * per_char)
                wx1 = x0 + round((pos + len(token)) * per_char)
                words.append(Word(token, 100.0, (wx0, y0, wx1, y1)))
            pos += len(token) + 1
        if words:
            lines.append(Line(tuple(words)))
    return Page(1, 1000, 2000, "ocr", tuple(lines))


def read_text(txt_path: Path) -> Page:
    """OCR output as a Page (no geometry: every word gets an empty box)."""
    lines = []
    for raw in txt_path.read_text(encoding="utf-8", errors="replace").splitlines():
        words = tuple(Word(token, 100.0, (0, 0, 0, 0)) for token in raw.split())
        if words:
            lines.append(Line(words))
    return Page(1, 1000, 2000, "ocr", tuple(lines))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sroie", type=Path, default=Path("/work/shared/realworld/sroie"))
    parser.add_argument("--text", type=Path, help="read DIR/NNN.txt (OCR output) instead of box/NNN.csv")
    args = parser.parse_args()

    keys = sorted((args.sroie / "key").glob("*.json"))
    found = spurious = unlabelled = 0
    missed: list[str] = []
    for key_path in keys:
        label = json.loads(key_path.read_text()).get("date", "")
        truth = find_dates_in_text(label, day_first=True)
        if len(truth) != 1:
            unlabelled += 1
            print(f"{key_path.stem}: cannot read the label {label!r}")
            continue
        want = truth[0].date
        if args.text:
            txt = args.text / f"{key_path.stem}.txt"
            if not txt.exists():
                unlabelled += 1
                continue
            page = read_text(txt)
        else:
            page = read_receipt(args.sroie / "box" / f"{key_path.stem}.csv")
        dates = find_dates([page], day_first=True)
        if any(d.date == want for d in dates):
            found += 1
        else:
            missed.append(f"{key_path.stem}: label {label!r} not found; found {[d.raw for d in dates]}")
        others = [d for d in dates if d.date != want]
        if others:
            spurious += 1
            print(f"{key_path.stem}: label {want} also found " + ", ".join(
                f"{d.raw!r}={d.date}{' (repaired)' if d.repaired else ''}" for d in others))
    for line in missed:
        print(line)
    n = len(keys) - unlabelled
    print(f"receipts: {len(keys)} (skipped: unreadable label or no text: {unlabelled})")
    print(f"labelled date found: {found}/{n}")
    print(f"receipts with a date other than the label: {spurious}/{n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
