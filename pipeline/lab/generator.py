"""``generate``: write a labelled set of sample claims, the same bytes for the same seed.

One folder per claim (``../shared/contract.md``): ``claim.json``, the invoice (digital
PDF, scanned PDF, phone photo, till-receipt photo or scan), the serial photo(s) and
``expected.json``: the contract's label (decision, reasons, checks) plus ``scenario``,
``kind``, ``reward`` where the terms fix it, and ``truth``: what the documents really
show (printed text, dates, models, serials) so tests can hold the label to the documents.

>>> # generate(Path("/tmp/set"), n=60, seed=1)  ->  60 claim folders
"""
from __future__ import annotations

import json
import re
import sys
import unicodedata
import zlib
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from .degrade import jpeg_bytes, photo_params, photograph, scan, unreadable
from .invoice import invoice_sheet
from .scenarios import Draft, draft_claim, plan_set
from .sheet import image_pdf, render_image, render_pdf
from .stickers import StickerSpec, packaging_label, product_sticker

__all__ = ["generate", "generated_set", "write_claim"]

_DESCRIPTION = {"motherboard": "AMD {chip} ATX Motherboard", "graphics_card": "NVIDIA GeForce Graphics Card",
                "monitor": "Gaming Monitor", "aio": "All-in-One PC", "desktop": "Gaming Desktop PC"}


def _slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.split()[0]).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-") or "invoice"


def _np_rng(d: Draft, purpose: int) -> np.random.Generator:
    return np.random.default_rng([d.seed, d.index, purpose])


def _surface(kind: str, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """What a sticker is stuck on: a circuit board, black plastic, brushed metal or a printed box."""
    base = {"pcb": (28, 46, 36), "plastic": (32, 32, 35), "metal": (168, 170, 172), "box": (24, 24, 26)}[kind]
    img = np.empty((h, w, 3), np.float32)
    img[:] = base
    if kind == "pcb":
        for _ in range(40):
            x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
            cw, ch = int(rng.integers(8, 60)), int(rng.integers(8, 40))
            shade = float(rng.uniform(10, 90))
            cv2.rectangle(img, (x, y), (x + cw, y + ch), (shade, shade, shade), -1)
        for _ in range(30):
            y = int(rng.integers(0, h))
            cv2.line(img, (0, y), (w, y + int(rng.integers(-40, 40))), (40, 80, 55), 1)
    elif kind == "metal":
        img += cv2.resize(rng.normal(0, 6, (h, 8)).astype(np.float32), (w, h))[..., None]
    img += rng.normal(0, 4, (h, w))[..., None]
    out = np.clip(img, 0, 255).astype(np.uint8)
    if kind == "box":
        cv2.putText(out, "MSI", (int(w * 0.05), int(h * 0.97)), cv2.FONT_HERSHEY_DUPLEX, h / 90, (200, 30, 40),
                    max(2, h // 40))
    return out


def _sticker_photo(d: Draft, item, rng: np.random.Generator) -> bytes:
    form = d.sticker_form
    chip = "X570" if "X570" in item.product.model else ("X470" if "X470" in item.product.model else "B450")
    spec = StickerSpec(item.serial, item.chk, item.product.model, item.ean,
                       symbology="qr" if form == "qr" else "code128",
                       part_number=f"911-{item.product.code}-001",
                       description=_DESCRIPTION.get(item.product.category, "").format(chip=chip))
    label = packaging_label(spec) if form == "packaging" else product_sticker(spec, font=("sans", "mono")[
        zlib.crc32(item.product.model.encode()) % 2])
    if d.sticker_unreadable:
        label = unreadable(label, rng)
    h, w = label.shape[:2]
    # a claimant frames the label: a box label (wide, fine barcodes) is shot closer than a board sticker
    pad = int(w * (rng.uniform(0.04, 0.1) if form == "packaging" else rng.uniform(0.12, 0.35)))
    kind = "box" if form == "packaging" else ("pcb" if item.product.category == "motherboard" else
                                              ("metal" if item.product.category == "aio" else "plastic"))
    canvas = _surface(kind, h + 2 * pad, w + 2 * pad, rng)
    canvas[pad:pad + h, pad:pad + w] = label
    level = "easy" if d.sticker_unreadable else d.sticker_level
    params = photo_params(rng, level, allow_turn=False)
    out_width = int(rng.integers(1240, 1400)) if form == "packaging" else int(rng.integers(1000, 1240))
    photo = photograph(canvas, params, rng, out_width=out_width, keep=(pad, pad, pad + w, pad + h))
    return jpeg_bytes(photo, params.quality)


def _invoice_file(d: Draft, rng: np.random.Generator) -> tuple[str, bytes]:
    """(file name, bytes) of the invoice upload in the draft's form."""
    sheet = invoice_sheet(d.invoice)
    loc = d.locale
    stem = _slug(loc.receipt_title if d.invoice.style == "receipt" else loc.title)
    form = d.invoice_form
    if form == "pdf":
        return f"{stem}.pdf", render_pdf(sheet)
    dpi = float(rng.uniform(150, 190)) if d.invoice.style != "receipt" else float(rng.uniform(190, 220))
    image = render_image(sheet, dpi)
    if form == "scan_pdf":
        page = scan(image, rng, grey=rng.random() < 0.8)
        jpeg = jpeg_bytes(page, int(rng.integers(68, 82)))
        return f"{stem}-scan.pdf", image_pdf([jpeg], [(sheet.width, sheet.height)])
    if form == "receipt_scan":
        page = scan(image, rng, grey=True)
        return f"{stem}.jpg", jpeg_bytes(page, int(rng.integers(70, 82)))
    # phone photos of the invoice or the till receipt
    params = photo_params(rng, d.level)
    if d.invoice.style == "receipt":
        params = replace(params, margin=float(rng.uniform(0.25, 0.5)))  # a till roll is narrow: more table
    scale = dpi / 72
    keep = tuple(v * scale for v in sheet.text_bbox())
    out_width = int(rng.integers(1100, 1400)) if d.invoice.style != "receipt" else int(rng.integers(900, 1100))
    photo = photograph(image, params, rng, out_width=out_width, keep=keep)
    return f"{stem}.jpg", jpeg_bytes(photo, params.quality,
                                     recompress=int(rng.integers(50, 70)) if d.level == "hard" else None)


def _corrupt(data: bytes, how: str, rng: np.random.Generator) -> bytes:
    if how == "empty":
        return b""
    return data[: int(len(data) * rng.uniform(0.2, 0.5))]


def write_claim(d: Draft, root: Path, cache: dict) -> Path:
    """Write one claim folder; ``cache`` holds invoice bytes by claim id (for reused invoices)."""
    folder = root / d.folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = _np_rng(d, 1)
    if d.copy_invoice_of is not None and d.copy_invoice_bytes:
        name, data = cache[d.copy_invoice_of.claim_id]
    else:
        name, data = _invoice_file(d, rng)
    if d.scenario.name.startswith("promo_genuine"):
        cache[d.claim_id] = (name, data)  # a later claim may upload the very same file
    if d.corrupt:
        data = _corrupt(data, d.corrupt, rng)
    (folder / name).write_bytes(data)
    photos = []
    stickers = []
    for k, item in enumerate(it for it in d.items if it.serial):
        photo_name = "serial.jpg" if k == 0 else f"serial-{k + 1}.jpg"
        owner = d.sticker_of or d
        srng = _np_rng(d, 10 + k)
        (folder / photo_name).write_bytes(_sticker_photo(d, item, srng))
        photos.append(photo_name)
        stickers.append({"file": photo_name, "model": item.product.model, "serial": item.serial, "chk": item.chk,
                         "ean": item.ean, "form": d.sticker_form, "level": d.sticker_level,
                         "readable": not d.sticker_unreadable, "sticker_of": owner.claim_id})
    claim = {
        "claim_id": d.claim_id,
        "promotion_id": d.promotion_id,
        "submitted_at": d.submitted.isoformat(),
        "claimant": {"email": d.email, "country": d.claimant_country},
        "purchase": {"date": d.claimed_date.isoformat(), "retailer": d.claimed_retailer, "channel": d.channel,
                     "country": d.country},
        "products": d.claimed_products,
        "documents": {"invoices": [name], "serial_photos": photos},
    }
    inv = d.invoice
    truth = {
        "invoice": {
            "file": name, "form": d.invoice_form, "style": inv.style,
            "level": d.level if d.invoice_form in ("photo", "receipt_photo") else None,
            "retailer_id": inv.retailer.id, "retailer": inv.retailer.name, "seller": inv.seller,
            "number": inv.number, "date": inv.date.isoformat(), "date_text": inv.date_text(),
            "dates": [x.isoformat() for x in inv.printed_dates()],
            "models": [it.product.model for it in d.items if it.on_invoice],
            "total": inv.locale.money(inv.total), "corrupt": d.corrupt,
            "copied_from": d.copy_invoice_of.claim_id if d.copy_invoice_of else None,
            "lines": invoice_sheet(inv).text_lines(),
        },
        "stickers": stickers,
        "bought": [it.product.model for it in d.items],
        **({"notes": d.notes} if d.notes else {}),
    }
    expected = {**d.expected, "scenario": d.scenario.name, "kind": d.scenario.kind, "truth": truth}
    (folder / "claim.json").write_text(json.dumps(claim, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (folder / "expected.json").write_text(json.dumps(expected, indent=2, ensure_ascii=False) + "\n",
                                          encoding="utf-8")
    return folder


_GENERATED = re.compile(r"^\d{4}-[a-z]{2}-[a-z-]+$")


def _remove_generated(out: Path) -> None:
    """Folders an earlier ``generate`` wrote here (its name pattern and a labelled scenario); nothing else."""
    import shutil

    for folder in out.iterdir():
        if not (folder.is_dir() and _GENERATED.match(folder.name) and (folder / "expected.json").is_file()):
            continue
        try:
            generated = "scenario" in json.loads((folder / "expected.json").read_text(encoding="utf-8"))
        except ValueError:
            generated = False
        if generated:
            shutil.rmtree(folder)


def generate(out: Path, n: int, seed: int, kinds: str = "all", *, progress: bool = False) -> list[Path]:
    """Write ``n`` labelled claims under ``out`` (one folder each); the same seed gives the same bytes.

    ``kinds``: 'all' (document-check and promotion claims), 'documents' (``promotion_id``
    null: the document checks only) or 'promotion'. Claim folders a previous ``generate``
    wrote in ``out`` are replaced; other folders (hand-made claims) are left alone.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _remove_generated(out)
    history: list[Draft] = []
    cache: dict = {}
    folders = []
    for index, name in enumerate(plan_set(n, seed, kinds), start=1):
        draft = draft_claim(index, seed, name, history)
        history.append(draft)
        folders.append(write_claim(draft, out, cache))
        if progress and index % 25 == 0:
            print(f"generated {index}/{n}", file=sys.stderr)
    return folders



def generated_set(out: Path, n: int, seed: int, kinds: str = "all", *, progress: bool = False) -> Path:
    """``out``/claims holding the set ``generate(n, seed, kinds)`` writes, generated only when
    ``out`` does not already hold that set (``out``/generated.json records which): benchmarks
    re-run on one set without paying for it again."""
    import json

    out = Path(out)
    claims, stamp = out / "claims", out / "generated.json"
    wanted = {"n": n, "seed": seed, "kinds": kinds}
    if not (stamp.exists() and json.loads(stamp.read_text()) == wanted):
        stamp.unlink(missing_ok=True)
        generate(claims, n=n, seed=seed, kinds=kinds, progress=progress)
        stamp.write_text(json.dumps(wanted))
    return claims
