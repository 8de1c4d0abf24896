"""Benchmark match_retailer on the SROIE receipts (real Malaysian shop receipts).

Genuine: each receipt's own labelled company against its own transcription.
Wrong: another receipt's company, for every pair whose names are not similar (the rule
make_claims.py uses for its wrong-retailer claims); pairs of similar names (two branches
of one chain, the same company labelled twice) are counted apart, where only "must not
pass" applies. ``--noise`` adds simulated OCR damage to the transcriptions; ``--ocr CACHE_DIR`` reads
the receipt images with the pipeline's own reader instead (Tesseract; pages cached as JSON).
A wrong name fails only where the receipt names another seller read with confidence (issue #16),
else it is uncertain; ``--known`` lets the matcher know every receipt's company, as a claim store
that has seen them would.

    .venv/bin/python bench/bench_retailer.py [SROIE_DIR] [--noise 0.03] [--seed 7]
    .venv/bin/python bench/bench_retailer.py --ocr /tmp/sroie-ocr
"""
from __future__ import annotations

import argparse
import difflib
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

from rapidfuzz import fuzz

from pipeline.matching.retailer import load_retailers, match_retailer, strip_legal_form
from pipeline.records import Line, Page, Word

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "shared" / "realworld" / "sroie"
_CONFUSE = {"0": "O", "O": "0", "1": "I", "I": "1", "l": "1", "5": "S", "S": "5", "8": "B", "B": "8",
            "2": "Z", "Z": "2", "6": "G", "G": "6", "D": "0", "E": "F", "H": "N", "M": "N", "C": "G"}


def sroie_page(csv_path: Path, number: int = 1, noise: float = 0.0, rng: random.Random | None = None) -> Page:
    """A Page from a SROIE box file: one Line per row, one Word per whitespace token, each
    word's box a proportional slice of the row's quadrilateral."""
    lines = []
    max_x = max_y = 1
    for row in csv_path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = row.split(",", 8)
        if len(parts) < 9:
            continue
        try:
            xs = [int(v) for v in parts[0:8:2]]
            ys = [int(v) for v in parts[1:8:2]]
        except ValueError:
            continue
        text = parts[8]
        if noise and rng is not None:
            text = add_noise(text, noise, rng)
        tokens = text.split()
        if not tokens:
            continue
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
        max_x, max_y = max(max_x, x1), max(max_y, y1)
        total = sum(len(t) for t in tokens) + len(tokens) - 1
        words, pos = [], 0
        for t in tokens:
            a = x0 + (x1 - x0) * pos // max(total, 1)
            pos += len(t)
            b = x0 + (x1 - x0) * pos // max(total, 1)
            pos += 1
            words.append(Word(t, 90.0, (a, y0, max(b, a + 1), y1)))
        lines.append(Line(tuple(words)))
    return Page(number, max_x + 20, max_y + 20, "ocr", tuple(lines))


def ocr_page(img: Path, cache: Path) -> Page:
    """The receipt image as the pipeline reads it (Tesseract, English), cached as JSON."""
    cached = cache / f"{img.stem}.json"
    if cached.exists():
        return Page.from_dict(json.loads(cached.read_text()))
    from pipeline.read import read_document

    page = read_document(img, languages=["eng"]).pages[0]
    cache.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(page.to_dict()))
    return page


def add_noise(text: str, rate: float, rng: random.Random) -> str:
    """Simulated OCR damage: look-alike substitutions, dropped characters, lost or extra spaces."""
    out = []
    for ch in text:
        r = rng.random()
        if r >= rate:
            out.append(ch)
        elif ch == " ":
            continue  # two words run together
        elif r < rate * 0.5 and ch in _CONFUSE:
            out.append(_CONFUSE[ch])
        elif r < rate * 0.7:
            continue  # dropped
        elif r < rate * 0.85:
            out.append(ch + " ")  # a word split
        else:
            out.append(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"))
    return "".join(out)


def similar(a: str, b: str) -> float:
    """How well a occurs inside b, 0..1 (make_claims.py's rule for picking wrong retailers)."""
    a, b = a.upper(), b.upper()
    if not a or not b:
        return 0.0
    if a in b:
        return 1.0
    m = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return sum(block.size for block in m.get_matching_blocks()) / len(a)


def histogram(scores: list[int]) -> str:
    bands = [(0, 50), (50, 70), (70, 75), (75, 80), (80, 85), (85, 90), (90, 95), (95, 101)]
    return "  ".join(f"{a}-{b - 1}:{sum(a <= s < b for s in scores)}" for a, b in bands)


def rates(counter: Counter) -> str:
    n = sum(counter.values()) or 1
    return "  ".join(f"{k} {counter[k]:5d} ({100 * counter[k] / n:5.1f}%)" for k in ("pass", "uncertain", "fail"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sroie", nargs="?", type=Path, default=DEFAULT_DIR)
    ap.add_argument("--noise", type=float, default=0.0, help="per-character OCR damage rate, e.g. 0.03")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--ocr", type=Path, metavar="CACHE_DIR",
                    help="OCR the receipt images with the pipeline's reader (cached here)")
    ap.add_argument("--show", type=int, default=10, help="list this many failures of each kind")
    ap.add_argument("--known", action="store_true",
                    help="pass every receipt's company as a known shop (a claim store that has seen them all)")
    args = ap.parse_args()
    if not (args.sroie / "key").is_dir():
        print(f"no SROIE data under {args.sroie}", file=sys.stderr)
        return 2
    rng = random.Random(args.seed)
    load_retailers()
    docs = []
    for key in sorted((args.sroie / "key").glob("*.json")):
        box = args.sroie / "box" / f"{key.stem}.csv"
        company = json.loads(key.read_text()).get("company", "").strip()
        if not box.exists() or not company:
            continue
        raw = "\n".join(r.split(",", 8)[-1] for r in box.read_text(errors="replace").splitlines())
        if args.ocr:
            page = ocr_page(args.sroie / "img" / f"{key.stem}.jpg", args.ocr)
        else:
            page = sroie_page(box, noise=args.noise, rng=rng)
        docs.append((key.stem, company, page, raw))

    t0 = time.perf_counter()
    genuine, genuine_labelled, bad_genuine = Counter(), Counter(), []
    scores: dict[str, list[int]] = {"genuine": [], "wrong": [], "similar": []}
    for stem, company, page, raw in docs:
        m = match_retailer(company, [page])
        genuine[m.status] += 1
        scores["genuine"].append(m.score)
        if similar(company, raw) >= 0.9:  # the label is what the page says (make_claims' filter)
            genuine_labelled[m.status] += 1
        if m.status != "pass":
            bad_genuine.append((stem, company, m.status, m.score, m.found))
    wrong, near, same, bad_wrong, bad_near = Counter(), Counter(), Counter(), [], []
    shops = sorted({c for _, c, _, _ in docs})
    for stem, company, page, raw in docs:
        for other in shops:
            if other == company:
                continue
            m = match_retailer(other, [page], known_shops=shops if args.known else ())
            if fuzz.ratio(strip_legal_form(other), strip_legal_form(company)) >= 90:
                same[m.status] += 1  # one company written two ways ("MR. D.I.Y." / "MR.D.I.Y"; a typo)
            elif similar(other, raw) < 0.5 and similar(company, other) < 0.5:
                wrong[m.status] += 1
                scores["wrong"].append(m.score)
                if m.status != "fail":
                    bad_wrong.append((stem, company, other, m.status, m.score, m.found))
            else:
                near[m.status] += 1
                scores["similar"].append(m.score)
                if m.status == "pass":
                    bad_near.append((stem, company, other, m.status, m.score, m.found))
    took = time.perf_counter() - t0

    source = f"OCR ({args.ocr})" if args.ocr else f"transcriptions, noise {args.noise}"
    print(f"SROIE receipts: {len(docs)}   {source}   ({took:.1f} s)")
    print(f"genuine (all)                   {rates(genuine)}")
    print(f"genuine (label on the page)     {rates(genuine_labelled)}")
    print(f"wrong, names not similar        {rates(wrong)}")
    print(f"wrong, similar names            {rates(near)}")
    print(f"same company spelled otherwise  {rates(same)}")
    for kind, values in scores.items():
        print(f"  scores {kind:8} {histogram(values)}")
    for stem, company, status, score, found in bad_genuine[: args.show]:
        print(f"  genuine {status:9} {score:3d} {stem} {company!r} found {found!r}")
    for stem, company, other, status, score, found in (bad_near + bad_wrong)[: args.show]:
        print(f"  wrong {status:9} {score:3d} {stem} {company!r} claimed {other!r} found {found!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
