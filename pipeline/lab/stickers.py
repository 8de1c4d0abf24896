"""Serial-number stickers as printed: on the product (Code 128 or QR of the serial, printed
S/N and CHK, model, EAN) and on the packaging (a box label with the EAN-13 and the serial's
barcode). Clean RGB arrays; ``pipeline.lab.degrade`` photographs them.

>>> img = product_sticker(StickerSpec("602-7C35-010B1912000123", "A1C", "MEG X570 ACE", "4719072660001"))
>>> img.shape[2]
3
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw

from .sheet import pil_font

__all__ = ["StickerSpec", "product_sticker", "packaging_label", "ean13", "barcode_image"]


@dataclass(frozen=True)
class StickerSpec:
    serial: str
    chk: str | None
    model: str
    ean: str
    symbology: str = "code128"
    """'code128' or 'qr': what encodes the serial on the product sticker."""
    part_number: str = ""
    description: str = ""
    """Packaging labels: a product-type line ('AMD X570 ATX Motherboard')."""


def ean13(first12: str) -> str:
    """The 13-digit EAN with its check digit."""
    digits = [int(c) for c in first12]
    total = sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits))
    return first12 + str((10 - total % 10) % 10)


def barcode_image(text: str, symbology: str, *, module_px: int, height: int | None = None) -> np.ndarray:
    """A black-on-white barcode (grey uint8) with its quiet zone."""
    import zxingcpp

    fmt = {"code128": zxingcpp.BarcodeFormat.Code128, "qr": zxingcpp.BarcodeFormat.QRCode,
           "ean13": zxingcpp.BarcodeFormat.EAN13}[symbology]
    bars = np.asarray(zxingcpp.create_barcode(text, fmt).to_image(scale=module_px, add_quiet_zones=True))
    if bars.ndim == 3:
        bars = cv2.cvtColor(bars, cv2.COLOR_RGB2GRAY)
    if height and symbology != "qr":
        bars = cv2.resize(bars, (bars.shape[1], height), interpolation=cv2.INTER_NEAREST)
    return bars


def _paste(canvas: Image.Image, grey: np.ndarray, xy: tuple[int, int]) -> None:
    canvas.paste(Image.fromarray(grey).convert("RGB"), xy)


def _box(draw: ImageDraw.ImageDraw, boxes: list | None, xy, text: str, font, anchor: str) -> None:
    """Note where a value was printed: (x0, y0, x1, y1) and its em height in label pixels."""
    if boxes is not None:
        boxes.append((draw.textbbox(xy, text, font=font, anchor=anchor), float(font.size)))


def product_sticker(spec: StickerSpec, *, paper=(250, 250, 247), font: str = "sans",
                    boxes: list | None = None) -> np.ndarray:
    """The label on the board / card / monitor: brand, model, barcode, S/N, CHK, EAN. ``boxes``:
    a list that gets the S/N and CHK text's boxes (a photo's legibility is measured there)."""
    if spec.symbology == "qr":
        qr = barcode_image(spec.serial, "qr", module_px=6)
        width = 760
        img = Image.new("RGB", (width, max(330, qr.shape[0] + 70)), paper)
        draw = ImageDraw.Draw(img)
        draw.text((24, 52), "MSI", fill="black", font=pil_font("sans", True, 34), anchor="ls")
        draw.text((24, 96), spec.model, fill="black", font=pil_font(font, False, 24), anchor="ls")
        _paste(img, qr, (width - qr.shape[1] - 16, 50))
        draw.text((24, 160), "S/N:", fill="black", font=pil_font(font, False, 24), anchor="ls")
        draw.text((24, 196), spec.serial, fill="black", font=pil_font(font, True, 27), anchor="ls")
        _box(draw, boxes, (24, 196), spec.serial, pil_font(font, True, 27), "ls")
        y = 246
    else:
        bars = barcode_image(spec.serial, "code128", module_px=3, height=86)
        width = max(760, bars.shape[1] + 48)
        img = Image.new("RGB", (width, 340), paper)
        draw = ImageDraw.Draw(img)
        draw.text((24, 48), "MSI", fill="black", font=pil_font("sans", True, 32), anchor="ls")
        draw.text((120, 46), spec.model, fill="black", font=pil_font(font, False, 24), anchor="ls")
        _paste(img, bars, (24, 62))
        draw.text((24, 190), f"S/N: {spec.serial}", fill="black", font=pil_font(font, True, 28), anchor="ls")
        _box(draw, boxes, (24, 190), f"S/N: {spec.serial}", pil_font(font, True, 28), "ls")
        y = 234
    if spec.chk:
        draw.text((24, y), f"CHK: {spec.chk}", fill="black", font=pil_font(font, True, 28), anchor="ls")
        _box(draw, boxes, (24, y), f"CHK: {spec.chk}", pil_font(font, True, 28), "ls")
    if spec.ean:
        draw.text((24, y + 44), f"EAN {spec.ean}", fill="black", font=pil_font(font, False, 22), anchor="ls")
    draw.text((width - 24, y + 44), "MADE IN CHINA", fill="black", font=pil_font("sans", False, 16),
              anchor="rs")
    draw.rectangle([3, 3, width - 4, img.height - 4], outline=(40, 40, 40), width=3)
    return np.asarray(img)


def packaging_label(spec: StickerSpec, *, paper=(255, 255, 255), boxes: list | None = None) -> np.ndarray:
    """The white label on the retail box: model, EAN-13 barcode, the serial's Code 128, CHK."""
    ean_bars = barcode_image(spec.ean, "ean13", module_px=3, height=110)
    sn_bars = barcode_image(spec.serial, "code128", module_px=3, height=80)
    width = max(980, ean_bars.shape[1] + sn_bars.shape[1] + 90)
    img = Image.new("RGB", (width, 470), paper)
    draw = ImageDraw.Draw(img)
    draw.text((28, 56), "MSI", fill="black", font=pil_font("sans", True, 40), anchor="ls")
    draw.text((150, 54), spec.model, fill="black", font=pil_font("sans", True, 30), anchor="ls")
    if spec.description:
        draw.text((28, 98), spec.description, fill="black", font=pil_font("sans", False, 22), anchor="ls")
    if spec.part_number:
        draw.text((width - 28, 98), f"P/N: {spec.part_number}", fill="black", font=pil_font("sans", False, 20),
                  anchor="rs")
    _paste(img, ean_bars, (28, 128))
    draw.text((40, 270), spec.ean, fill="black", font=pil_font("mono", False, 26), anchor="ls")
    x = width - sn_bars.shape[1] - 28
    _paste(img, sn_bars, (x, 140))
    draw.text((x + 8, 240), f"S/N: {spec.serial}", fill="black", font=pil_font("sans", True, 24), anchor="ls")
    _box(draw, boxes, (x + 8, 240), f"S/N: {spec.serial}", pil_font("sans", True, 24), "ls")
    if spec.chk:
        draw.text((x + 8, 276), f"CHK: {spec.chk}", fill="black", font=pil_font("sans", True, 24), anchor="ls")
        _box(draw, boxes, (x + 8, 276), f"CHK: {spec.chk}", pil_font("sans", True, 24), "ls")
    draw.line([28, 310, width - 28, 310], fill="black", width=2)
    for i, text in enumerate(("Designed by MSI in Taiwan", "MADE IN CHINA", "CE  FC  WEEE")):
        draw.text((28, 350 + 34 * i), text, fill="black", font=pil_font("sans", False, 20), anchor="ls")
    draw.rectangle([2, 2, width - 3, img.height - 3], outline=(0, 0, 0), width=2)
    return np.asarray(img)
