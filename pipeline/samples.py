"""Deterministic sample documents: invoices (digital PDF or photo-like image) and
serial-number sticker photos with a real Code 128, for demos and tests.

>>> sticker_image("BA3T01946000V", "7F2", "MPG X570 GAMING PLUS").shape[2]
3
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

__all__ = ["InvoiceSpec", "invoice_pdf", "invoice_image", "sticker_image", "save_jpeg"]


@dataclass(frozen=True)
class InvoiceSpec:
    title: str
    """FACTURE, RECHNUNG, FAKTURA, INVOICE ..."""
    retailer: str
    retailer_lines: tuple[str, ...]
    """Address, VAT number, web domain under the name."""
    number: str
    date_label: str
    date_text: str
    """The date as the retailer prints it ('17.02.2020', '11/10/2019')."""
    items: tuple[tuple[str, str], ...]
    """(description, price) per line."""
    total: str
    footer: tuple[str, ...] = ()


def _font(size: int) -> ImageFont.ImageFont:
    """DejaVu Sans from the system's font folders (Pillow searches them by name; the committed samples
    were drawn with it), else the copy matplotlib ships (an installed wheel, no fonts-dejavu)."""
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        from .lab.sheet import font_path

        return ImageFont.truetype(font_path("sans", False), size)


def _lines(spec: InvoiceSpec) -> list[tuple[str, int, bool]]:
    """(text, font size, bold) from top to bottom."""
    out = [(spec.retailer, 20, True)]
    out += [(line, 11, False) for line in spec.retailer_lines]
    out += [("", 11, False), (f"{spec.title}  {spec.number}", 18, True),
            (f"{spec.date_label} {spec.date_text}", 12, False), ("", 11, False)]
    out += [(f"{desc}    {price}", 12, False) for desc, price in spec.items]
    out += [("", 11, False), (spec.total, 13, True)]
    out += [(line, 10, False) for line in spec.footer]
    return out


def invoice_pdf(spec: InvoiceSpec, path: str | Path) -> Path:
    """A digital invoice: a PDF with a real text layer."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    path = Path(path)
    c = canvas.Canvas(str(path), pagesize=A4, invariant=1)  # invariant: same bytes for the same input
    y = 790
    for text, size, bold in _lines(spec):
        c.setFont("Helvetica-Bold" if bold else "Helvetica", size)
        if text:
            c.drawString(56, y, text)
        y -= size + 8
    c.showPage()
    c.save()
    return path


def invoice_image(spec: InvoiceSpec, *, width: int = 1240) -> np.ndarray:
    """The same invoice as a clean 150-dpi scan (RGB array)."""
    scale = width / 595
    height = int(842 * scale)
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    y = 52 * scale
    for text, size, _bold in _lines(spec):
        if text:
            draw.text((56 * scale, y), text, fill="black", font=_font(int(size * scale)))
        y += (size + 8) * scale
    return np.asarray(img)


def sticker_image(serial: str, chk: str | None, model: str, *, ean: str | None = None) -> np.ndarray:
    """A product serial sticker: Code 128 of the serial, printed S/N and CHK, model, EAN."""
    import zxingcpp

    barcode = zxingcpp.create_barcode(serial, zxingcpp.BarcodeFormat.Code128)
    bars = np.asarray(barcode.to_image(scale=3, add_quiet_zones=True))
    bars = cv2.resize(bars, (bars.shape[1], 90), interpolation=cv2.INTER_NEAREST)
    width = max(700, bars.shape[1] + 40)
    img = Image.new("RGB", (width, 330), "white")
    draw = ImageDraw.Draw(img)
    draw.text((20, 12), "MSI", fill="black", font=_font(30))
    draw.text((110, 18), model, fill="black", font=_font(22))
    img.paste(Image.fromarray(bars).convert("RGB"), (20, 60))
    draw.text((20, 160), f"S/N: {serial}", fill="black", font=_font(28))
    if chk:
        draw.text((20, 205), f"CHK: {chk}", fill="black", font=_font(28))
    if ean:
        draw.text((20, 250), f"EAN {ean}", fill="black", font=_font(24))
    draw.rectangle([2, 2, width - 3, 327], outline="black", width=3)
    return np.asarray(img)


def save_jpeg(image: np.ndarray, path: str | Path, quality: int = 85) -> Path:
    path = Path(path)
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=quality, optimize=True)
    path.write_bytes(buf.getvalue())
    return path


def save_png(image: np.ndarray, path: str | Path) -> Path:
    Image.fromarray(image).save(path, format="PNG", optimize=True)
    return Path(path)


def photo_like(image: np.ndarray, *, angle: float = 4.0, shade: float = 0.35, seed: int = 0) -> np.ndarray:
    """A phone-photo version of a scan: slight rotation, uneven light, noise."""
    rng = np.random.default_rng(seed)
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    out = cv2.warpAffine(image, m, (w, h), borderMode=cv2.BORDER_CONSTANT, borderValue=(235, 235, 230))
    gradient = np.linspace(1.0 - shade, 1.0, w, dtype=np.float32)[None, :, None]
    out = out.astype(np.float32) * gradient + rng.normal(0, 6, out.shape)
    return np.clip(out, 0, 255).astype(np.uint8)


__all__ += ["save_png", "photo_like"]
