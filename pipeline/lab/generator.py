"""``generate``: write a labelled set of sample claims, the same bytes for the same seed.

One folder per claim (``docs/contract.md``): ``claim.json``, the invoice (digital
PDF, scanned PDF, phone photo, till-receipt photo or scan, or a hard phone photo of the
invoice or of a faded till receipt), the serial photo(s) and ``expected.json``: the
contract's label (decision, reasons, checks) plus ``scenario``, ``kind``, ``reward`` where
the terms fix it, and ``truth``: what the documents really show (printed text, dates,
models, serials, the logo, and for hard photos what was measured of the labelled values'
legibility in the final JPEG) so tests can hold the label to the documents.

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

from .degrade import careful_hard_photo, hard_params, jpeg_bytes, photo_params, photograph, scan, unreadable
from .forms import FORM_FAMILIES, form_family
from .invoice import invoice_sheet
from .scenarios import HARD_FORMS, HARD_SHARE, Draft, draft_claim, plan_set, template_series
from .sheet import Picture, Text, image_pdf, render_image, render_pdf, text_box
from .stickers import StickerSpec, packaging_label, product_sticker

__all__ = ["generate", "generated_set", "write_claim", "write_scenarios", "write_template_series", "form_family",
           "FORM_FAMILIES"]


_DESCRIPTION = {"motherboard": "AMD {chip} ATX Motherboard", "graphics_card": "Graphics Card",
                "monitor": "Gaming Monitor", "laptop": "Gaming Notebook", "aio": "All-in-One PC",
                "desktop": "Gaming Desktop PC"}


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
    boxes: list = []
    label = packaging_label(spec, boxes=boxes) if form == "packaging" else product_sticker(spec, font=(
        "sans", "mono")[zlib.crc32(item.product.model.encode()) % 2], boxes=boxes)
    if d.sticker_unreadable:
        label = unreadable(label, rng)
    h, w = label.shape[:2]
    # a claimant frames the label: a box label (wide, fine barcodes) is shot closer than a board sticker
    pad = int(w * (rng.uniform(0.04, 0.1) if form == "packaging" else rng.uniform(0.12, 0.35)))
    kind = "box" if form == "packaging" else ("pcb" if item.product.category == "motherboard" else
                                              ("metal" if item.product.category == "aio" else "plastic"))
    canvas = _surface(kind, h + 2 * pad, w + 2 * pad, rng)
    canvas[pad:pad + h, pad:pad + w] = label
    if d.hard and not d.sticker_unreadable:
        keys = [((x0 + pad, y0 + pad, x1 + pad, y1 + pad), em) for (x0, y0, x1, y1), em in boxes]
        return careful_hard_photo(canvas, hard_params(rng, sticker=True), rng, keys)
    level = "easy" if d.sticker_unreadable else d.sticker_level
    params = photo_params(rng, level, allow_turn=False)
    out_width = int(rng.integers(1240, 1400)) if form == "packaging" else int(rng.integers(1000, 1240))
    photo = photograph(canvas, params, rng, out_width=out_width, keep=(pad, pad, pad + w, pad + h))
    return jpeg_bytes(photo, params.quality), None


def _key_boxes(d: Draft, sheet, scale: float) -> list:
    """Where the values the label judges are printed (image pixels, with their em height): the
    shop's name or logo, the invoice date, the number and the lines naming the claimed products
    (each part of a wrapped line). A hard photo must keep each of them legible."""
    inv = d.invoice
    needles = {inv.date_text().lower(), inv.number.lower(), inv.heading().lower()}
    words = {w.lower() for it in d.items if it.on_invoice for w in it.product.model.split() if len(w) >= 3}
    keys = []
    for item in sheet.items:
        if isinstance(item, Picture):
            keys.append(((item.x0 * scale, item.y0 * scale, item.x1 * scale, item.y1 * scale),
                         (item.y1 - item.y0) * scale * 0.6))
        elif isinstance(item, Text) and item.text.strip():
            text = item.text.lower()
            if any(n and n in text for n in needles) or words & set(text.split()):
                keys.append((tuple(v * scale for v in text_box(item)), item.size * scale))
    return keys


def _invoice_file(d: Draft, rng: np.random.Generator) -> tuple[str, bytes, dict | None]:
    """(file name, bytes, what was measured of a hard photo) of the invoice upload in the draft's form."""
    sheet = invoice_sheet(d.invoice)
    loc = d.locale
    stem = _slug(loc.receipt_title if d.invoice.style == "receipt" else loc.title)
    form = d.invoice_form
    if form == "pdf":
        return f"{stem}.pdf", render_pdf(sheet), None
    dpi = float(rng.uniform(150, 190)) if d.invoice.style != "receipt" else float(rng.uniform(190, 220))
    image = render_image(sheet, dpi)
    if form in HARD_FORMS:
        hard = hard_params(rng, receipt=d.invoice.style == "receipt")
        data, info = careful_hard_photo(image, hard, rng, _key_boxes(d, sheet, dpi / 72))
        return f"{stem}.jpg", data, info
    if form == "scan_pdf":
        page = scan(image, rng, grey=rng.random() < 0.8)
        jpeg = jpeg_bytes(page, int(rng.integers(68, 82)))
        return f"{stem}-scan.pdf", image_pdf([jpeg], [(sheet.width, sheet.height)]), None
    if form == "receipt_scan":
        page = scan(image, rng, grey=True)
        return f"{stem}.jpg", jpeg_bytes(page, int(rng.integers(70, 82))), None
    # phone photos of the invoice or the till receipt
    params = photo_params(rng, d.level)
    if d.invoice.style == "receipt":
        params = replace(params, margin=float(rng.uniform(0.25, 0.5)))  # a till roll is narrow: more table
    scale = dpi / 72
    keep = tuple(v * scale for v in sheet.text_bbox())
    out_width = int(rng.integers(1100, 1400)) if d.invoice.style != "receipt" else int(rng.integers(900, 1100))
    photo = photograph(image, params, rng, out_width=out_width, keep=keep)
    return f"{stem}.jpg", jpeg_bytes(photo, params.quality,
                                     recompress=int(rng.integers(50, 70)) if d.level == "hard" else None), None


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
        name, data, legibility = cache[d.copy_invoice_of.claim_id]
    else:
        name, data, legibility = _invoice_file(d, rng)
    if d.scenario.name.startswith("promo_genuine"):
        cache[d.claim_id] = (name, data, legibility)  # a later claim may upload the very same file
    if d.corrupt:
        data = _corrupt(data, d.corrupt, rng)
    (folder / name).write_bytes(data)
    photos = []
    stickers = []
    for k, item in enumerate(it for it in d.items if it.serial):
        photo_name = "serial.jpg" if k == 0 else f"serial-{k + 1}.jpg"
        owner = d.sticker_of or d
        srng = _np_rng(d, 10 + k)
        data_s, measured = _sticker_photo(d, item, srng)
        (folder / photo_name).write_bytes(data_s)
        photos.append(photo_name)
        stickers.append({"file": photo_name, "model": item.product.model, "serial": item.serial, "chk": item.chk,
                         "ean": item.ean, "form": d.sticker_form, "level": d.sticker_level,
                         "readable": not d.sticker_unreadable, "sticker_of": owner.claim_id,
                         **({"legibility": measured} if measured else {})})
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
    sheet = invoice_sheet(inv)
    form = d.copy_invoice_of.invoice_form if d.copy_invoice_of is not None and d.copy_invoice_bytes \
        else d.invoice_form
    truth = {
        "invoice": {
            "file": name, "form": form, "family": form_family(form), "style": inv.style,
            "level": d.level if form in ("photo", "receipt_photo") else None,
            "retailer_id": inv.retailer.id, "retailer": inv.retailer.name, "seller": inv.seller,
            "header": inv.heading() if not inv.shop_in_logo else None, "logo": sheet.pictures(),
            "shop_in_text": not inv.shop_in_logo,
            "number": inv.number, "date": inv.date.isoformat(), "date_text": inv.date_text(),
            "dates": [x.isoformat() for x in inv.printed_dates()],
            "models": [it.product.model for it in d.items if it.on_invoice],
            "buyer": inv.customer[0] if inv.customer else None,
            "total": inv.locale.money(inv.total), "corrupt": d.corrupt,
            "copied_from": d.copy_invoice_of.claim_id if d.copy_invoice_of else None,
            "lines": sheet.text_lines(),
            **({"legibility": legibility} if legibility else {}),
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


def generate(out: Path, n: int, seed: int, kinds: str = "all", *, hard_share: float = HARD_SHARE,
             progress: bool = False) -> list[Path]:
    """Write ``n`` labelled claims under ``out`` (one folder each); the same seed gives the same bytes.

    ``kinds``: 'all' (document-check and promotion claims), 'documents' (``promotion_id``
    null: the document checks only) or 'promotion'. ``hard_share`` (0..1): the share of claims
    whose uploads are hard phone photos (1: all of them; the claims are otherwise the same for
    a seed whatever the share). Claim folders a previous ``generate`` wrote in ``out`` are
    replaced; other folders (hand-made claims) are left alone.
    """
    if not 0.0 <= hard_share <= 1.0:
        raise ValueError(f"hard_share must be between 0 and 1, got {hard_share}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _remove_generated(out)
    return write_scenarios(out, seed, plan_set(n, seed, kinds), hard_share=hard_share, progress=progress)


def write_scenarios(out: Path, seed: int, scenarios: list[str], *, first_index: int = 1,
                    hard_share: float | list[bool] = HARD_SHARE, progress: bool = False) -> list[Path]:
    """Write one claim per scenario name, in order, numbered from ``first_index`` (claims that copy an
    earlier one copy from those written here). ``hard_share``: a share, or one flag per claim. Leaves
    the folders already in ``out`` alone."""
    history: list[Draft] = []
    cache: dict = {}
    folders = []
    flags = hard_share if isinstance(hard_share, list) else None
    for k, name in enumerate(scenarios):
        index = first_index + k
        share = (1.0 if flags[k] else 0.0) if flags is not None else hard_share
        draft = draft_claim(index, seed, name, history, hard_share=share)
        history.append(draft)
        folders.append(write_claim(draft, out, cache))
        if progress and (k + 1) % 25 == 0:
            print(f"generated {k + 1}/{len(scenarios)}", file=sys.stderr)
    return folders


def write_template_series(out: Path, *, seed: int = 17, buyer: bool = True, n: int = 4,
                          form: str = "photo") -> list[Path]:
    """Issue #17's reproduction in ``out``: ``n`` genuine claims for the same Duo bundle at
    Komplett.no, invoices from one template dated 17, 18, 19, 20 ... February 2020, each of
    another buyer (named on the invoice unless ``buyer`` is False), in the order they were
    bought (verify them in path order into one store)."""
    forms = ("pdf", "scan_pdf", "photo", *HARD_FORMS)
    if form not in forms:
        raise ValueError(f"form must be one of {forms}, got {form!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _remove_generated(out)
    cache: dict = {}
    return [write_claim(d, out, cache) for d in template_series(seed, buyer=buyer, n=n, form=form)]


def generated_set(out: Path, n: int, seed: int, kinds: str = "all", *, hard_share: float = HARD_SHARE,
                  progress: bool = False) -> Path:
    """``out``/claims holding the set ``generate(n, seed, kinds, hard_share)`` writes, generated only
    when ``out`` does not already hold that set (``out``/generated.json records which): benchmarks
    re-run on one set without paying for it again."""
    import json

    out = Path(out)
    claims, stamp = out / "claims", out / "generated.json"
    wanted = {"n": n, "seed": seed, "kinds": kinds, "hard_share": hard_share}
    if not (stamp.exists() and json.loads(stamp.read_text()) == wanted):
        stamp.unlink(missing_ok=True)
        generate(claims, n=n, seed=seed, kinds=kinds, hard_share=hard_share, progress=progress)
        stamp.write_text(json.dumps(wanted))
    return claims
