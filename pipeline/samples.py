"""Hand-made sample documents for demos and tests: an invoice described by a few fields
(``InvoiceSpec``), drawn by the lab's renderers (``pipeline.lab.sheet``: the PDF with a text layer
and the scan are two renderings of one page; ``pipeline.lab.stickers``: the serial sticker with a
real Code 128). One generator: the lab's; this module only lays out the simple demo invoice.

>>> sticker_image("BA3T01946000V", "7F2", "MPG X570 GAMING PLUS").shape[2]
3
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from .lab.sheet import Sheet, Text, render_image, render_pdf
from .lab.stickers import StickerSpec, product_sticker

__all__ = ["InvoiceSpec", "invoice_sheet", "invoice_pdf", "invoice_image", "sticker_image", "save_jpeg"]


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


def invoice_sheet(spec: InvoiceSpec) -> Sheet:
    """The invoice as the lab's display list (``pipeline.lab.sheet``), one A4 page: the PDF and the
    image below are two renderings of it."""
    items, y = [], 52.0
    for text, size, bold in _lines(spec):
        if text:
            items.append(Text(56, y, text, size, bold=bold))
        y += size + 8
    return Sheet(595, 842, tuple(items))


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
    """A digital invoice: a PDF with a real text layer (same bytes for the same spec)."""
    path = Path(path)
    path.write_bytes(render_pdf(invoice_sheet(spec)))
    return path


def invoice_image(spec: InvoiceSpec, *, width: int = 1240) -> np.ndarray:
    """The same invoice as a clean scan ``width`` pixels wide (1240: 150 dpi; RGB array)."""
    return render_image(invoice_sheet(spec), width * 72 / 595)


def sticker_image(serial: str, chk: str | None, model: str, *, ean: str | None = None) -> np.ndarray:
    """A product serial sticker (the lab's ``product_sticker``): Code 128 of the serial, printed S/N
    and CHK, model, EAN when given."""
    return product_sticker(StickerSpec(serial, chk, model, ean or ""))


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
