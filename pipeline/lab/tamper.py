"""A tampered set: genuine cashback claims from the lab's generator, and the same kind of claims
with one proof of purchase edited or reused the way fraudsters do it, each labelled with the
integrity reasons that should catch it. For ``bench/bench_integrity.py``.

Kinds (``KINDS``):

- ``pdf_overlay_date``: the digital invoice opened in an editor, a white box drawn over its date
  and another date typed on it, saved as an incremental update; the claim types the new date;
- ``pdf_rewrite_date``: the same edit, saved as a new file (no revision left);
- ``pdf_font_date``: the date re-typed in another font (no box: the text itself replaced);
- ``pdf_editor``: the invoice saved again by Acrobat (metadata and a revision only);
- ``sums_total``: the total lowered (PDF or phone photo) - nothing else changed;
- ``sums_line``: one line's amount raised without its unit price;
- ``photo_pasted_date`` / ``photo_pasted_model``: on the phone photo (a third of them hard phone
  photos), the date (or a model word) covered by a patch - flat paper, paper with noise, or paper
  cloned from the same photo - and another one typed on it in a close font, size and ink, softened
  or not, the patch perhaps compressed on its own, the photo saved again as JPEG or as PNG
  (``paste_value``);
- ``image_editor``: the phone photo re-saved by Photoshop (EXIF Software);
- ``screenshot``: the invoice PDF captured from the screen instead (``screen_capture``): in a
  desktop PDF viewer at 1920 x 1080 (PNG, no metadata), or on a phone at 1170 x 2532 (PNG with
  iOS's XMP UserComment "Screenshot"), alternately;
- ``reused_crop`` / ``reused_rotate`` / ``reused_recompress``: another claimant's invoice photo
  or scan, cropped, turned 3 degrees, or re-saved smaller;
- ``reused_sticker``: another claimant's serial-number photo, re-saved;
- ``edited_number``: another claimant's invoice photo with its invoice number pasted over;
- ``used_product``: the board's invoice line says it is used / B-stock (the terms exclude it).

``make_set(out, n_genuine, n_per_kind, seed)`` writes ``out/genuine`` and ``out/tampered`` (in
the order they must be verified: reuse comes after its source) and returns the claim folders.
Needs ``pypdf`` (a development dependency) for the PDF edits.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import random
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from .degrade import jpeg_bytes, photo_params, photograph
from .generator import write_claim
from .invoice import InvoiceLine, invoice_sheet
from .scenarios import Draft, draft_claim
from .sheet import Text, pil_font, render_image, render_pdf

__all__ = ["KINDS", "Tampered", "make_set", "paste_value", "PASTE_BACKGROUNDS", "screen_capture"]

KINDS: dict[str, tuple[str, ...]] = {
    # kind: reason codes any of which catches it
    "pdf_overlay_date": ("PDF_HIDDEN_TEXT", "PDF_REVISED", "PDF_FONT_MISMATCH", "INVOICE_DATES_INCONSISTENT"),
    "pdf_rewrite_date": ("PDF_HIDDEN_TEXT", "PDF_FONT_MISMATCH", "INVOICE_DATES_INCONSISTENT"),
    "pdf_font_date": ("PDF_FONT_MISMATCH", "INVOICE_DATES_INCONSISTENT"),
    "pdf_editor": ("PDF_EDITOR", "PDF_REVISED"),
    "sums_total": ("INVOICE_SUMS_MISMATCH",),
    "sums_line": ("INVOICE_SUMS_MISMATCH",),
    # image_patch (off by default: see the README's measurement)
    "photo_pasted_date": ("INVOICE_PATCH_SUSPECTED", "INVOICE_DATES_INCONSISTENT"),
    "photo_pasted_model": ("INVOICE_PATCH_SUSPECTED",),
    "image_editor": ("IMAGE_EDITOR",),
    "screenshot": ("INVOICE_SCREEN_CAPTURE",),
    "reused_crop": ("INVOICE_ALREADY_USED", "INVOICE_POSSIBLY_EDITED", "INVOICE_POSSIBLY_REUSED"),
    "reused_rotate": ("INVOICE_ALREADY_USED", "INVOICE_POSSIBLY_EDITED", "INVOICE_POSSIBLY_REUSED"),
    "reused_recompress": ("INVOICE_ALREADY_USED", "INVOICE_POSSIBLY_EDITED", "INVOICE_POSSIBLY_REUSED"),
    "reused_sticker": ("SERIAL_PHOTO_REUSED", "SERIAL_ALREADY_CLAIMED"),
    "edited_number": ("INVOICE_POSSIBLY_EDITED", "INVOICE_POSSIBLY_REUSED", "INVOICE_ALREADY_USED"),
    "used_product": ("PRODUCT_CONDITION_EXCLUDED",),
}

_USED = {"nb": "B-vare, brukt", "sv": "begagnad", "da": "brugt", "fi": "käytetty", "de": "B-Ware, gebraucht",
         "fr": "d'occasion", "en": "used", "it": "usato", "es": "usado", "pl": "używany", "cs": "použitý",
         "nl": "gebruikt", "id": "bekas"}


@dataclass(frozen=True)
class Tampered:
    folder: Path
    kind: str
    catches: tuple[str, ...]
    """Reason codes that catch it."""


def _genuine(index: int, seed: int, history: list[Draft], form: str | None) -> Draft:
    name = "promo_genuine_duo" if index % 3 else "promo_genuine_trio"
    d = draft_claim(index, seed, name, history)
    if form and d.invoice.style != "receipt" and not (d.hard and form == "photo"):  # a hard phone photo stays one
        d.invoice_form = form
    return d


def _claim_json(folder: Path) -> dict:
    return json.loads((folder / "claim.json").read_text(encoding="utf-8"))


def _save_claim(folder: Path, claim: dict) -> None:
    (folder / "claim.json").write_text(json.dumps(claim, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _invoice_path(folder: Path) -> Path:
    return folder / _claim_json(folder)["documents"]["invoices"][0]


def _label(folder: Path, kind: str, catches: tuple[str, ...], how: dict | None = None) -> Tampered:
    label = {"decision": "review", "tamper": kind, "catches": list(catches)} | ({"how": how} if how else {})
    (folder / "expected.json").write_text(json.dumps(label, indent=2) + "\n", encoding="utf-8")
    return Tampered(folder, kind, catches)


def _new_date(d: Draft) -> dt.date:
    """Another day inside the AMD period, as a forger would type it."""
    start, end = dt.date(2020, 2, 17), dt.date(2020, 3, 17)
    day = d.purchase + dt.timedelta(days=d.rng.choice([-9, -6, -4, 4, 6, 9]))
    return min(max(day, start), end) if day != d.purchase else d.purchase + dt.timedelta(days=1)


def _retype(sheet, old: str, new: str, **changes):
    """The sheet with ``old`` replaced by ``new`` in the first text item showing it (the item drawn
    with ``changes``: a label printed in the same run as its value is retyped with it)."""
    items = list(sheet.items)
    for exact in (True, False):
        for i, item in enumerate(items):
            if isinstance(item, Text) and (item.text == old if exact else old in item.text):
                items[i] = replace(item, text=item.text.replace(old, new, 1), **changes)
                return replace(sheet, items=tuple(items))
    raise ValueError(f"{old!r} is not on the sheet")


def _photo(image: np.ndarray, d: Draft, rng: np.random.Generator) -> bytes:
    params = photo_params(rng, d.level)
    return jpeg_bytes(photograph(image, params, rng, out_width=int(rng.integers(1100, 1400))), params.quality)


def _rewrite_invoice(folder: Path, d: Draft, sheet, rng: np.random.Generator) -> None:
    path = _invoice_path(folder)
    if d.invoice_form == "pdf":
        path.write_bytes(render_pdf(sheet))
    else:
        path.write_bytes(_photo(render_image(sheet, float(rng.uniform(150, 190))), d, rng))


# ------------------------------------------------------------------------------ PDF edits


def _pdf_box(data: bytes, text: str) -> tuple[float, float, float, float, float]:
    """(x0, top, x1, bottom, size) in points of ``text`` in the PDF's text layer."""
    from ..ocr.pdf import pdf_forensics

    f = pdf_forensics(data, "invoice.pdf", dpi=72)
    chars = f.pages[0]
    joined = "".join(c.text for c in chars)
    at = joined.find(text.replace(" ", ""))
    if at < 0:
        raise ValueError(f"{text!r} is not in the PDF")
    run = chars[at:at + len(text.replace(" ", ""))]
    return (min(c.bbox[0] for c in run), min(c.bbox[1] for c in run), max(c.bbox[2] for c in run),
            max(c.bbox[3] for c in run), run[0].size)


def _overlay_edit(data: bytes, old: str, new: str, *, incremental: bool) -> bytes:
    """A white box over ``old`` and ``new`` typed on it in Helvetica, as a PDF editor does."""
    from pypdf import PdfReader, PdfWriter
    from reportlab.pdfgen import canvas

    x0, top, x1, bottom, size = _pdf_box(data, old)
    reader = PdfReader(io.BytesIO(data))
    width, height = float(reader.pages[0].mediabox.width), float(reader.pages[0].mediabox.height)
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(width, height))
    c.setFillColorRGB(1, 1, 1)
    c.rect(x0 - 1, height - bottom - 1.5, x1 - x0 + 2, bottom - top + 2.5, stroke=0, fill=1)
    c.setFillColorRGB(0, 0, 0)
    c.setFont("Helvetica", size)
    c.drawRightString(x1, height - bottom + size * 0.22, new)
    c.showPage()
    c.save()
    overlay = PdfReader(io.BytesIO(buf.getvalue())).pages[0]
    writer = PdfWriter(io.BytesIO(data), incremental=True) if incremental else PdfWriter(clone_from=reader)
    writer.pages[0].merge_page(overlay)
    writer.add_metadata({"/Producer": "Adobe Acrobat Pro DC (21.1.20155)", "/ModDate": "D:20200318101500+01'00'"}
                        if incremental else {"/Producer": "pypdf"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _resave_by_acrobat(data: bytes) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter(io.BytesIO(data), incremental=True)
    writer.add_metadata({"/Producer": "Adobe Acrobat Pro DC (21.1.20155)", "/ModDate": "D:20200318101500+01'00'"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# ------------------------------------------------------------------------------ photo edits


def _date_box(path: Path, day: dt.date, country: str, config) -> tuple[int, int, int, int] | None:
    """The box where ``day`` was read on the photo (real OCR, the date parser the checks use)."""
    from ..extract.facts import invoice_facts
    from ..read import read_document

    doc = read_document(path, path.name, languages=config.languages_for(country), config=config)
    for found in invoice_facts(doc, country=country).dates:
        if found.date == day and found.page == 1 and found.bbox:
            return tuple(found.bbox)
    return None


def _word_box(path: Path, wanted, config) -> tuple[int, int, int, int] | None:
    """The box of the first word read on the photo that ``wanted(text)`` accepts (real OCR)."""
    from ..read import read_document

    doc = read_document(path, path.name, languages=config.languages_for(None), config=config)
    for w in doc.pages[0].words:
        if wanted(w.text):
            return w.bbox
    return None


def _paste(path: Path, box: tuple[int, int, int, int], text: str, quality: int = 88) -> None:
    """Blank paper pasted over ``box`` of the photo and ``text`` typed on it, saved again (the crude
    edit of an invoice number)."""
    image = Image.open(path).convert("RGB")
    x0, y0, x1, y1 = box
    pad = max(2, (y1 - y0) // 5)
    region = np.asarray(image)[max(0, y0 - pad):y1 + pad, max(0, x0 - pad):x1 + pad]
    paper = tuple(int(v) for v in np.percentile(region.reshape(-1, 3), 90, axis=0))
    draw = ImageDraw.Draw(image)
    draw.rectangle([x0 - pad, y0 - pad, x1 + pad, y1 + pad], fill=paper)
    font = pil_font("sans", False, max(8, int((y1 - y0) * 1.25)))
    draw.text((x0, y1), text, fill=(35, 35, 35), font=font, anchor="ls")
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=quality)
    path.write_bytes(buf.getvalue())


PASTE_BACKGROUNDS = ("flat", "noised", "cloned")
"""How a forger covers the old value: a flat fill of the paper's colour; the same with noise like
the photo's added; paper cloned from a blank stretch of the same photo (its own grain and light)."""


def _blank_stretch(grey: np.ndarray, w: int, h: int, near: tuple[int, int], rng: np.random.Generator
                   ) -> tuple[int, int] | None:
    """Top-left of a ``w`` x ``h`` stretch of blank paper near ``near`` (flattest of a few tries)."""
    H, W = grey.shape
    best = None
    for _ in range(60):
        x = int(np.clip(near[0] + rng.normal(0, 4 * h), 0, W - w - 1))
        y = int(np.clip(near[1] + rng.normal(0, 6 * h), 0, H - h - 1))
        cut = grey[y:y + h, x:x + w]
        if cut.size == 0:
            continue
        spread = float(np.percentile(cut, 98) - np.percentile(cut, 2))
        if cut.mean() > 120 and (best is None or spread < best[0]):
            best = (spread, x, y)
    return None if best is None or best[0] > 40 else (best[1], best[2])


def paste_value(path: Path, box: tuple[int, int, int, int], text: str, rng: np.random.Generator, *,
                background: str | None = None, out: str | None = None) -> dict:
    """A realistic paste of ``text`` over the value read in ``box`` of the photo at ``path``: a patch
    covering the old value (``PASTE_BACKGROUNDS``), the new value typed on it in a font, size and ink
    close to the page's (a DejaVu face, 0.92-1.12 x the size the box's height says, the ink of the
    words around), the
    patch softened like the photo (or not) and perhaps compressed on its own first (cut from another
    picture), pasted where the value was (any offset to the photo's 8x8 grid), then the photo saved
    again as JPEG (``out`` 'jpeg', quality 70-95) or without re-compression (``out`` 'png', written
    next to it and the claim pointed at it by the caller). Returns what was done (for the label)."""
    image = np.asarray(Image.open(path).convert("RGB")).astype(np.float32)
    grey = image.mean(axis=2)
    H, W = grey.shape
    x0, y0, x1, y1 = box
    h = max(6, y1 - y0)
    family = str(rng.choice(["sans", "sans", "serif", "mono"]))
    bold = rng.random() < 0.2
    size = max(8, int(round(h / 0.73 * rng.uniform(0.92, 1.12))))  # a word's box is about its capitals: 0.73 em
    while size > 8 and pil_font(family, bold, size).getlength(text) > (x1 - x0) * 1.1:
        size -= 1  # the new value fits where the old one was, as a forger makes it
    font = pil_font(family, bold, size)
    pad_x, pad_y = int(round(h * rng.uniform(0.15, 0.35))), int(round(h * rng.uniform(0.2, 0.45)))
    px0, py0 = max(0, x0 - pad_x), max(0, y0 - pad_y)
    width = int(min(W - px0, max(x1 - x0, font.getlength(text)) + 2 * pad_x))
    height = int(min(H - py0, (y1 - y0) + 2 * pad_y))
    background = background or str(rng.choice(PASTE_BACKGROUNDS))
    around = grey[max(0, y0 - 2 * h):y1 + 2 * h, max(0, x0 - 4 * h):x1 + 4 * h]
    ink_level = float(np.percentile(around, 2))
    region = image[py0:py0 + height, px0:px0 + width]
    paper = np.percentile(region.reshape(-1, 3), 85, axis=0)
    residual = around - cv2.GaussianBlur(around, (0, 0), 1.5)
    noise = float(1.4826 * np.median(np.abs(residual[around > np.percentile(around, 40)])))
    if background == "cloned":
        at = _blank_stretch(grey, width, height, (px0, py0), rng)
        if at is None:
            background = "noised"
        else:
            patch = image[at[1]:at[1] + height, at[0]:at[0] + width].copy()
            patch *= (paper / np.maximum(1.0, np.percentile(patch.reshape(-1, 3), 85, axis=0)))[None, None, :]
    if background != "cloned":
        patch = np.broadcast_to(paper, (height, width, 3)).astype(np.float32).copy()
        if background == "noised":
            patch += rng.normal(0, max(0.5, noise), (height, width))[..., None]
    layer = Image.new("L", (width, height), 0)
    ImageDraw.Draw(layer).text((x0 - px0, y1 - py0), text, fill=255, font=font, anchor="ls")
    alpha = np.asarray(layer).astype(np.float32) / 255
    ink = ink_level + rng.uniform(-10, 25)
    patch = patch * (1 - alpha[..., None]) + ink * alpha[..., None]
    blur = float(rng.choice([0.0, rng.uniform(0.4, 1.3)]))
    if blur:
        patch = cv2.GaussianBlur(patch, (0, 0), blur)
    own_jpeg = rng.random() < 0.4
    patch = np.clip(patch, 0, 255).astype(np.uint8)
    if own_jpeg:
        buf = io.BytesIO()
        Image.fromarray(patch).save(buf, format="JPEG", quality=int(rng.integers(60, 90)))
        patch = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    edited = np.clip(image, 0, 255).astype(np.uint8)
    edited[py0:py0 + height, px0:px0 + width] = patch
    out = out or str(rng.choice(["jpeg", "jpeg", "png"]))
    buf = io.BytesIO()
    if out == "png":
        Image.fromarray(edited).save(buf, format="PNG")
    else:
        Image.fromarray(edited).save(buf, format="JPEG", quality=int(rng.integers(70, 96)))
    path.write_bytes(buf.getvalue())
    return {"background": background, "font": family, "size": size, "blur": round(blur, 2), "patch_jpeg": own_jpeg,
            "saved": out, "box": [px0, py0, px0 + width, py0 + height]}


# ------------------------------------------------------------------------------ reuse


def _transform(data: bytes, how: str, rng: random.Random) -> bytes:
    image = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    h, w = image.shape[:2]
    if how == "reused_crop":
        cut = rng.uniform(0.03, 0.08)
        image = image[int(h * cut):h - int(h * cut * 0.5), int(w * cut * 0.5):w - int(w * cut)]
    elif how == "reused_rotate":
        m = cv2.getRotationMatrix2D((w / 2, h / 2), rng.choice([-3.0, 3.0]), 1.0)
        image = cv2.warpAffine(image, m, (w, h), borderMode=cv2.BORDER_REPLICATE)
    else:
        image = cv2.resize(image, None, fx=0.75, fy=0.75, interpolation=cv2.INTER_AREA)
    return jpeg_bytes(np.ascontiguousarray(image), rng.randint(55, 75))


def make_set(out: Path, n_genuine: int = 20, n_per_kind: int = 3, seed: int = 17, *,
             kinds: tuple[str, ...] | None = None, config=None, progress: bool = False) -> tuple[
                 list[Path], list[Tampered]]:
    """Write the genuine and tampered claims under ``out``; returns (genuine folders, tampered)."""
    from ..config import default_config

    config = config or default_config()
    kinds = tuple(kinds or KINDS)
    out = Path(out)
    genuine_root, tampered_root = out / "genuine", out / "tampered"
    genuine_root.mkdir(parents=True, exist_ok=True)
    tampered_root.mkdir(parents=True, exist_ok=True)
    history: list[Draft] = []
    cache: dict = {}
    genuine = []
    forms = ["pdf", "photo", "scan_pdf"]
    for i in range(1, n_genuine + 1):
        d = _genuine(i, seed, history, forms[i % 3])
        history.append(d)
        genuine.append(write_claim(d, genuine_root, cache))
    sources = [(d, f) for d, f in zip(history, genuine)
               if d.invoice_form in ("photo", "receipt_photo", "receipt_scan")]
    tampered = []
    index = 1000
    rng = random.Random(f"tamper:{seed}")
    for kind in kinds:
        for k in range(n_per_kind):
            index += 1
            try:
                made = _make(kind, k, index, seed, history, sources, tampered_root, cache, rng, config)
            except ValueError as exc:  # the layout drawn does not show what this edit changes
                if progress:
                    print(f"tampered {kind} #{k}: skipped ({exc})", flush=True)
                made = None
            if made is not None:
                tampered.append(made)
                if progress:
                    print(f"tampered {kind} {made.folder.name}", flush=True)
    return genuine, tampered


def _make(kind: str, k: int, index: int, seed: int, history: list[Draft], sources, root: Path, cache: dict,
          rng: random.Random, config) -> Tampered | None:
    nprng = np.random.default_rng([seed, index, 77])
    catches = KINDS[kind]
    if kind.startswith("pdf_") or (kind.startswith("sums_") and k % 2 == 0):
        form = "pdf"
    elif kind.startswith("photo_pasted"):
        form = "hard_photo" if k % 3 == 2 else "photo"  # a third on hard phone photos (shadow, glare, tilt)
    elif kind == "screenshot":
        form = "pdf"
    elif kind.startswith(("photo_", "image_", "sums_")):
        form = "photo"
    else:
        form = None
    if kind.startswith("reused_") or kind == "edited_number":
        if not sources:
            return None
        return _reuse(kind, k, index, seed, history, sources, root, cache, rng, config, catches)
    d = _genuine(index, seed, [], form)
    if form == "hard_photo":
        d.hard, d.level, d.sticker_level = True, "hard", "hard_photo"
        d.invoice_form = "hard_receipt" if d.invoice.style == "receipt" else "hard_photo"
    if kind.startswith(("pdf_", "sums_")) and d.invoice.style == "receipt":
        d.invoice = replace(d.invoice, style="classic")
        if form:
            d.invoice_form = form  # a receipt kept its photo form: the edit needs the PDF
    if kind == "used_product":
        board = next(it for it in d.items if it.product.category == "motherboard")
        lines = list(d.invoice.lines)
        for i, line in enumerate(lines):
            if board.product.model in line.description:
                lines[i] = InvoiceLine(f"{line.description} - {_USED.get(d.locale.language, 'used')}", line.qty,
                                       line.unit)
        d.invoice = replace(d.invoice, lines=tuple(lines))
    folder = write_claim(d, root, cache)
    claim = _claim_json(folder)
    path = _invoice_path(folder)
    sheet = invoice_sheet(d.invoice)
    how = None
    if kind in ("pdf_overlay_date", "pdf_rewrite_date", "pdf_font_date", "photo_pasted_date"):
        new = _new_date(d)
        old_text, new_text = d.invoice.date_text(), d.invoice.date_text(new)
        if kind == "pdf_font_date":
            _rewrite_invoice(folder, d, _retype(sheet, old_text, new_text, family="serif"), nprng)
        elif kind == "photo_pasted_date":
            box = _date_box(path, d.purchase, d.country, config)
            if box is None:
                return None
            how = _paste_claim(folder, claim, path, box, new_text, nprng)
        else:
            path.write_bytes(_overlay_edit(path.read_bytes(), old_text, new_text,
                                           incremental=kind == "pdf_overlay_date"))
        claim["purchase"]["date"] = new.isoformat()
    elif kind == "pdf_editor":
        path.write_bytes(_resave_by_acrobat(path.read_bytes()))
    elif kind in ("sums_total", "sums_line"):
        loc, doc = d.locale, d.invoice
        if kind == "sums_total":
            sheet = _retype(sheet, loc.money(doc.total), loc.money(round(doc.total * 0.85, loc.decimals)))
        else:
            line = doc.lines[0]
            sheet = _retype(sheet, loc.money(line.amount, symbol=False),
                            loc.money(line.amount + loc.local_price(50), symbol=False))
        _rewrite_invoice(folder, d, sheet, nprng)
    elif kind == "photo_pasted_model":
        board = next(it for it in d.items if it.product.category == "motherboard")
        words = board.product.model.split()
        target = next((w for w in words if any(ch.isdigit() for ch in w)), words[-1])
        box = _word_box(path, lambda t: t.upper() == target.upper(), config)
        if box is None:
            return None
        pasted = "X570" if target.upper() != "X570" else "B550"
        how = _paste_claim(folder, claim, path, box, pasted, nprng)
        for p in claim["products"]:
            if p["model"] == board.product.model:
                p["model"] = p["model"].replace(target, pasted)
    elif kind == "screenshot":
        old = _invoice_path(folder)
        png = old.with_suffix(".png")
        png.write_bytes(screen_capture(sheet, phone=k % 2 == 1))
        if png != old:
            old.unlink()
        claim["documents"]["invoices"][0] = png.name
        how = {"screen": "phone" if k % 2 else "desktop"}
    elif kind == "image_editor":
        image = Image.open(path)
        exif = image.getexif()
        exif[0x0131] = "Adobe Photoshop 24.1 (Windows)"
        buf = io.BytesIO()
        image.save(buf, format="JPEG", quality=90, exif=exif.tobytes())
        path.write_bytes(buf.getvalue())
    _save_claim(folder, claim)
    return _label(folder, kind, catches, how)


def screen_capture(sheet, *, phone: bool) -> bytes:
    """A PNG of the invoice page as a screen shows it: on a desktop PDF viewer (1920 x 1080: a dark
    toolbar, the page fitted to the window's height on grey) or on a phone (1170 x 2532: a status bar,
    the page fitted to the width on white, with iOS's XMP UserComment "Screenshot")."""
    from PIL import PngImagePlugin

    if phone:
        size, bar, background, bar_colour = (1170, 2532), 150, (255, 255, 255), (248, 248, 248)
        dpi = 1170 / sheet.width * 72
    else:
        size, bar, background, bar_colour = (1920, 1080), 56, (82, 86, 89), (50, 54, 57)
        dpi = (1080 - bar - 24) / sheet.height * 72
    page = Image.fromarray(render_image(sheet, dpi))
    screen = Image.new("RGB", size, background)
    ImageDraw.Draw(screen).rectangle((0, 0, size[0], bar), fill=bar_colour)
    ImageDraw.Draw(screen).text((24, bar // 2), "9:41" if phone else "invoice.pdf  1 / 1   100 %",
                                fill=(20, 20, 20) if phone else (230, 230, 230), font=pil_font("sans", True, 28),
                                anchor="lm")
    x = (size[0] - page.width) // 2
    screen.paste(page, (max(0, x), bar + (0 if phone else 12)))
    info = PngImagePlugin.PngInfo()
    if phone:
        info.add_itxt("XML:com.adobe.xmp", '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf='
                      '"http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:exif='
                      '"http://ns.adobe.com/exif/1.0/"><exif:UserComment>Screenshot</exif:UserComment>'
                      '</rdf:Description></rdf:RDF></x:xmpmeta>')
    buf = io.BytesIO()
    screen.save(buf, format="PNG", pnginfo=info)
    return buf.getvalue()


def _paste_claim(folder: Path, claim: dict, path: Path, box, text: str, rng: np.random.Generator) -> dict:
    """``paste_value`` on the claim's invoice photo; a photo saved without re-compression is a PNG
    the claim now names."""
    how = paste_value(path, box, text, rng)
    if how["saved"] == "png":
        png = path.with_suffix(".png")
        path.rename(png)
        claim["documents"]["invoices"][0] = png.name
    return how


def _reuse(kind, k, index, seed, history, sources, root, cache, rng, config, catches) -> Tampered | None:
    """Another claimant (own purchase data copied from the source, own serials) reusing a source's upload."""
    src, src_folder = sources[(k * 7 + len(kind)) % len(sources)]
    d = draft_claim(index, seed, "invoice_reused" if kind != "reused_sticker" else "serial_already_claimed",
                    [src])
    d.expected = {"decision": "review"}
    folder = write_claim(d, root, {src.claim_id: (_invoice_path(src_folder).name,
                                                  _invoice_path(src_folder).read_bytes())})
    claim = _claim_json(folder)
    if kind == "reused_sticker":
        photo = src_folder / _claim_json(src_folder)["documents"]["serial_photos"][0]
        mine = folder / claim["documents"]["serial_photos"][0]
        image = np.asarray(Image.open(photo).convert("RGB"))
        mine.write_bytes(jpeg_bytes(cv2.resize(image, None, fx=0.8, fy=0.8, interpolation=cv2.INTER_AREA), 70))
        return _label(folder, kind, catches)
    source_invoice = _invoice_path(src_folder)
    target = folder / claim["documents"]["invoices"][0]
    if target.name != source_invoice.name or target.suffix.lower() not in (".jpg", ".jpeg", ".png"):
        return None
    data = source_invoice.read_bytes()
    if kind == "edited_number":
        target.write_bytes(data)
        number = src.invoice.number
        box = _word_box(target, lambda t: t.strip(":.") == number, config)
        if box is None:
            return None
        _paste(target, box, number[:-3] + f"{(int(number[-3:]) + 137) % 1000:03d}")
    else:
        target.write_bytes(_transform(data, kind, rng))
    return _label(folder, kind, catches)
