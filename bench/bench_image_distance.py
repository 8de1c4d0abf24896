#!/usr/bin/env python3
"""How far apart (pHash bits, ``pipeline.imagehash``) are copies of one document, and how far
are other documents of the same template? Where the boundary of "looks alike" goes.

Documents:
- generated: the lab's invoice layouts (``pipeline.lab.invoice``) for a few shops of a few
  countries, each template filled four times (another number, date and buyer), as a clean
  render (a PNG export), a flatbed scan (the lab's ``scan``) and a phone photo (``photograph``);
- real: the SROIE receipts in ../shared/realworld/sroie (100 scans, several receipts of the same
  shops: the same template) and the invoice2data PNG scans.

Copies of each document, as a claimant would make them from someone else's upload: re-saved as
JPEG q55 (a messenger), scaled to 60 % and re-saved, both, margins cropped (3 % and 8 % of each
side), turned 2 and 5 degrees (a re-scan, a screenshot turned back), re-photographed (a new
phone photo of the same paper: generated only). A quarter turn is hashed after the reader's turn
(``phash_file(rotation=...)``): the same as the original, not measured.

Prints, per kind of pair, the distribution of distances and the share within each candidate
boundary. Measured 2026-11-29 (generated: 3 countries x 3 shops x 2 layouts x 4 fillings;
real: 100 SROIE, 2 invoice2data; 4 min on 2 busy cores):

    pairs (bits apart)                     n  min  p5 med p95 max  % within: <=6  <=8 <=10 <=12 <=16 <=20
    copies of one document
      re-photographed                     72   36  47  98 121 140             0    0    0    0    0    0
      jpeg q55                           210    0   0   2   4  10            99 99.5  100  100  100  100
      scaled 60 %                        210    0   0   1   4   6           100  100  100  100  100  100
      scaled + q55                       210    0   0   2   6   8            98  100  100  100  100  100
      cropped 3 %                        210   12  24  56  74  84             0    0    0  0.5  1.0  3.3
      cropped 8 %                        210   54  66 122 136 142             0    0    0    0    0    0
      turned 2 deg                       210    8  16  38  63  80             0  0.5  1.4  3.3  5.7  8.1
      turned 5 deg                       210   22  34  77 104 116             0    0    0    0    0    0
    other documents
      generated clean: other template    153   12  19  78  96 102             0    0    0  0.7  2.0  6.5
      generated clean: same template     108    2   2   8  14  16            41   59   82   92  100  100
      generated photo: other template    153   42  67 106 132 144             0    0    0    0    0    0
      generated photo: same template     108   36  62  99 127 136             0    0    0    0    0    0
      generated scan: other template     153   16  25  82 100 102             0    0    0    0  1.3  2.0
      generated scan: same template      108    4   8  23  48  72           4.6  5.6   16   20   34   45
      real SROIE: other shop            4833   68 108 124 138 156             0    0    0    0    0    0
      real SROIE: same shop              117    0  29  74 132 142           1.7  1.7  2.6  2.6  2.6  4.3

Re-saved copies are all within 10 bits, other layouts all beyond: the boundary
(``[matching].invoice_phash_max_distance = 10``). One layout's invoices fall on both sides of it,
so what they say decides (``pipeline.promotions.duplicates``). Crops, turns and new photos of
the same paper are not near at any boundary that keeps other layouts out: the invoice number
(and shop) read on them is what finds them.

    .venv/bin/python bench/bench_image_distance.py                   # both
    .venv/bin/python bench/bench_image_distance.py --only real
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import itertools
import json
import os
import sys
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
REALWORLD = REPO.parent / "shared" / "realworld"

from pipeline.imagehash import phash_distance, phash_image  # noqa: E402

BOUNDARIES = (6, 8, 10, 12, 16, 20, 24)


def _decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=quality)
    return _decode(buf.getvalue())


def _turn(image: np.ndarray, degrees: float) -> np.ndarray:
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(image, m, (w, h), borderMode=cv2.BORDER_REPLICATE)


def _crop(image: np.ndarray, share: float) -> np.ndarray:
    h, w = image.shape[:2]
    dy, dx = int(h * share), int(w * share)
    return image[dy:h - dy, dx:w - dx]


COPIES = {
    "jpeg q55": lambda im: _jpeg(im, 55),
    "scaled 60 %": lambda im: cv2.resize(im, None, fx=0.6, fy=0.6, interpolation=cv2.INTER_AREA),
    "scaled + q55": lambda im: _jpeg(cv2.resize(im, None, fx=0.6, fy=0.6, interpolation=cv2.INTER_AREA), 55),
    "cropped 3 %": lambda im: _crop(im, 0.03),
    "cropped 8 %": lambda im: _crop(im, 0.08),
    "turned 2 deg": lambda im: _turn(im, 2),
    "turned 5 deg": lambda im: _turn(im, 5),
}


def generated(pairs: dict, copies: dict) -> None:
    from pipeline.lab.degrade import jpeg_bytes, photo_params, photograph, scan
    from pipeline.lab.invoice import InvoiceDoc, InvoiceLine, invoice_sheet
    from pipeline.lab.locales import LOCALES
    from pipeline.lab.sheet import render_image

    forms = {"clean": lambda im, rng: im,
             "scan": lambda im, rng: _decode(jpeg_bytes(scan(im, rng), 80)),
             "photo": None}
    templates = {}
    for country in ("NO", "DE", "FR"):
        loc = LOCALES[country]
        shops = [r for r in loc.retailers if not r.marketplace][:3]
        for r, style in itertools.product(shops, ("classic", "modern")):
            images = {f: [] for f in forms}
            for i in range(4):
                first, last = loc.people[0][i % len(loc.people[0])], loc.people[1][(3 * i) % len(loc.people[1])]
                doc = InvoiceDoc(country, r, f"{204417811 + 9173 * i}", dt.date(2020, 2, 17 + i),
                                 customer=(f"{first} {last}", f"{loc.streets[i % len(loc.streets)]} {3 + i}",
                                           loc.cities[i % len(loc.cities)]),
                                 lines=(InvoiceLine("MSI MEG X570 ACE", 1, 3990.0),
                                        InvoiceLine("AMD Ryzen 9 3900X", 1, 5490.0)), style=style)
                clean = render_image(invoice_sheet(doc), 160)
                rng = np.random.default_rng([hash(r.id) % 1000, i])
                for form, make in forms.items():
                    if form == "photo":
                        p = photo_params(rng, "medium", allow_turn=False)
                        image = _decode(jpeg_bytes(photograph(clean, p, rng, out_width=1240), p.quality))
                        p2 = photo_params(rng, "medium", allow_turn=False)
                        again = _decode(jpeg_bytes(photograph(clean, p2, rng, out_width=1240), p2.quality))
                        copies["re-photographed"].append(phash_distance(phash_image(image), phash_image(again)))
                    else:
                        image = make(clean, rng)
                    images[form].append(image)
            templates[(country, r.id, style)] = images
            print(f"generated {country} {r.id} {style}", file=sys.stderr)
    for form in forms:
        hashes = {t: [phash_image(im) for im in imgs[form]] for t, imgs in templates.items()}
        for hs in hashes.values():
            pairs[f"generated {form}: same template"] += [phash_distance(a, b)
                                                          for a, b in itertools.combinations(hs, 2)]
        for h1, h2 in itertools.combinations(hashes.values(), 2):
            pairs[f"generated {form}: other template"].append(phash_distance(h1[0], h2[0]))
        for imgs in templates.values():
            for image in imgs[form][:2]:
                h = phash_image(image)
                for name, make in COPIES.items():
                    copies[f"{name}"].append(phash_distance(h, phash_image(make(image))))


def real(pairs: dict, copies: dict) -> None:
    sroie = REALWORLD / "sroie"
    companies = {}
    hashes = {}
    for key in sorted((sroie / "key").glob("*.json")):
        img = sroie / "img" / f"{key.stem}.jpg"
        if not img.exists():
            continue
        companies[key.stem] = json.loads(key.read_text())["company"]
        image = np.asarray(Image.open(img).convert("RGB"))
        hashes[key.stem] = phash_image(image)
        for name, make in COPIES.items():
            copies[name].append(phash_distance(hashes[key.stem], phash_image(make(image))))
    for a, b in itertools.combinations(sorted(hashes), 2):
        kind = "same shop" if companies[a] == companies[b] else "other shop"
        pairs[f"real SROIE: {kind}"].append(phash_distance(hashes[a], hashes[b]))
    for png in sorted((REALWORLD / "invoice2data").glob("*.png")):
        image = np.asarray(Image.open(png).convert("RGB"))
        h = phash_image(image)
        for name, make in COPIES.items():
            copies[name].append(phash_distance(h, phash_image(make(image))))


def _row(name: str, values: list[int]) -> str:
    v = np.array(sorted(values))
    within = "  ".join(f"{np.mean(v <= b) * 100:5.1f}" for b in BOUNDARIES)
    return (f"{name:42s} {len(v):5d} {v.min():4d} {int(np.percentile(v, 5)):4d} {int(np.median(v)):4d} "
            f"{int(np.percentile(v, 95)):4d} {v.max():4d}   {within}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", choices=["generated", "real"])
    args = ap.parse_args()
    pairs: dict[str, list[int]] = defaultdict(list)
    copies: dict[str, list[int]] = defaultdict(list)
    if args.only != "real":
        generated(pairs, copies)
    if args.only != "generated":
        real(pairs, copies)
    head = "  ".join(f"<={b:<3d}" for b in BOUNDARIES)
    print(f"{'pairs (bits apart)':42s} {'n':>5s} {'min':>4s} {'p5':>4s} {'med':>4s} {'p95':>4s} {'max':>4s}   "
          f"% within: {head}")
    print("copies of one document")
    for name, values in copies.items():
        print(_row("  " + name, values))
    print("other documents")
    for name, values in sorted(pairs.items()):
        print(_row("  " + name, values))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
