"""A page as a small display list (text runs and rectangles in points), drawn two ways:
as a digital PDF with a real text layer (reportlab) and as an RGB image at any DPI (Pillow).

One description, two renderers, so the PDF, the scan and the phone photo of an invoice
show exactly the same words in the same places. Fonts are the DejaVu faces bundled with
matplotlib (same bytes on every machine), else the system's.

>>> page = Sheet(200, 100, (Text(10, 50, "FAKTURA", 12, bold=True),))
>>> render_image(page, 72).shape
(100, 200, 3)
>>> page.text_lines()
['FAKTURA']
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

__all__ = ["Text", "Rect", "Picture", "Sheet", "text_box", "render_image", "render_pdf", "image_pdf", "font_path",
           "pil_font"]

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Text:
    x: float
    """Points from the left; the anchor given by ``align``."""
    y: float
    """Baseline, points from the top."""
    text: str
    size: float
    bold: bool = False
    family: str = "sans"
    """'sans', 'mono' or 'serif'."""
    align: str = "left"
    """'left', 'right' or 'center' about x."""
    color: RGB = (0, 0, 0)


@dataclass(frozen=True)
class Rect:
    x0: float
    y0: float
    x1: float
    y1: float
    fill: RGB | None = None
    stroke: RGB | None = None
    width: float = 0.8


@dataclass(frozen=True, eq=False)
class Picture:
    """A raster drawn into the box (points): a logo. The PDF gets it as an image, with no text layer,
    so whatever words it shows are only there for a reader that reads pixels."""

    x0: float
    y0: float
    x1: float
    y1: float
    pixels: np.ndarray
    """RGB uint8."""
    alt: str = ""
    """What it shows (the truth, for labels and tests; never drawn as text)."""


@dataclass(frozen=True)
class Sheet:
    width: float
    """Points (A4 is 595 x 842)."""
    height: float
    items: tuple
    paper: RGB = (255, 255, 255)

    def text_lines(self) -> list[str]:
        """Printed text, one entry per baseline (runs on one baseline joined left to right)."""
        rows: dict[float, list[Text]] = {}
        for item in self.items:
            if isinstance(item, Text) and item.text.strip():
                rows.setdefault(round(item.y, 1), []).append(item)
        return ["  ".join(t.text for t in sorted(run, key=lambda t: t.x)) for _, run in sorted(rows.items())]

    def pictures(self) -> list[str]:
        """What the sheet's pictures (logos) show."""
        return [item.alt for item in self.items if isinstance(item, Picture) and item.alt]

    def text_bbox(self) -> tuple[float, float, float, float]:
        """Rough box (points) holding every text run and picture: what a photo must not crop."""
        boxes = [text_box(item) for item in self.items if isinstance(item, Text) and item.text.strip()]
        boxes += [(item.x0, item.y0, item.x1, item.y1) for item in self.items if isinstance(item, Picture)]
        return (max(0.0, min(b[0] for b in boxes)), max(0.0, min(b[1] for b in boxes)),
                min(self.width, max(b[2] for b in boxes)), min(self.height, max(b[3] for b in boxes)))


def text_box(item: Text) -> tuple[float, float, float, float]:
    """Rough box (points) of one text run: x0, y0 (cap height above the baseline), x1, y1 (descenders)."""
    width = 0.6 * item.size * len(item.text)
    x0 = {"left": item.x, "right": item.x - width, "center": item.x - width / 2}[item.align]
    return (x0, item.y - item.size, x0 + width, item.y + 0.3 * item.size)


_FACES = {
    ("sans", False): "DejaVuSans.ttf", ("sans", True): "DejaVuSans-Bold.ttf",
    ("mono", False): "DejaVuSansMono.ttf", ("mono", True): "DejaVuSansMono-Bold.ttf",
    ("serif", False): "DejaVuSerif.ttf", ("serif", True): "DejaVuSerif-Bold.ttf",
}


@cache
def font_path(family: str, bold: bool) -> str:
    """The TTF file of a face: matplotlib's bundled copy first (pinned bytes), then the system's."""
    name = _FACES[(family, bold)]
    spec = importlib.util.find_spec("matplotlib")
    candidates = []
    if spec and spec.submodule_search_locations:
        candidates.append(Path(spec.submodule_search_locations[0]) / "mpl-data" / "fonts" / "ttf" / name)
    candidates.append(Path("/usr/share/fonts/truetype/dejavu") / name)
    for path in candidates:
        if path.exists():
            return str(path)
    raise FileNotFoundError(f"font {name} not found (install matplotlib or fonts-dejavu)")


@lru_cache(maxsize=256)
def pil_font(family: str, bold: bool, px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(font_path(family, bold), max(4, px))


def render_image(sheet: Sheet, dpi: float) -> np.ndarray:
    """The page as an RGB array at ``dpi`` (a clean 'scan')."""
    scale = dpi / 72.0
    img = Image.new("RGB", (round(sheet.width * scale), round(sheet.height * scale)), sheet.paper)
    draw = ImageDraw.Draw(img)
    for item in sheet.items:
        if isinstance(item, Rect):
            box = [item.x0 * scale, item.y0 * scale, item.x1 * scale, item.y1 * scale]
            draw.rectangle(box, fill=item.fill, outline=item.stroke,
                           width=max(1, round(item.width * scale)) if item.stroke else 0)
        elif isinstance(item, Picture):
            box = (round(item.x0 * scale), round(item.y0 * scale), round(item.x1 * scale), round(item.y1 * scale))
            pic = Image.fromarray(item.pixels).resize((box[2] - box[0], box[3] - box[1]), Image.LANCZOS)
            img.paste(pic, box[:2])
        elif isinstance(item, Text) and item.text:
            anchor = {"left": "ls", "right": "rs", "center": "ms"}[item.align]
            draw.text((item.x * scale, item.y * scale), item.text, fill=item.color, anchor=anchor,
                      font=pil_font(item.family, item.bold, round(item.size * scale)))
    return np.asarray(img)


_RL_NAMES = {key: "Lab" + name.removesuffix(".ttf") for key, name in _FACES.items()}


def _register_reportlab_fonts() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    registered = set(pdfmetrics.getRegisteredFontNames())
    for key, rl_name in _RL_NAMES.items():
        if rl_name not in registered:
            pdfmetrics.registerFont(TTFont(rl_name, font_path(*key)))


def render_pdf(sheets: Sheet | list[Sheet]) -> bytes:
    """A digital PDF: real text (embedded DejaVu subsets), same bytes for the same input."""
    import io

    from reportlab.pdfgen import canvas

    _register_reportlab_fonts()
    sheets = [sheets] if isinstance(sheets, Sheet) else sheets
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(sheets[0].width, sheets[0].height), invariant=1)
    for sheet in sheets:
        c.setPageSize((sheet.width, sheet.height))
        if sheet.paper != (255, 255, 255):
            c.setFillColorRGB(*[v / 255 for v in sheet.paper])
            c.rect(0, 0, sheet.width, sheet.height, stroke=0, fill=1)
        for item in sheet.items:
            if isinstance(item, Rect):
                if item.fill:
                    c.setFillColorRGB(*[v / 255 for v in item.fill])
                if item.stroke:
                    c.setStrokeColorRGB(*[v / 255 for v in item.stroke])
                    c.setLineWidth(item.width)
                c.rect(item.x0, sheet.height - item.y1, item.x1 - item.x0, item.y1 - item.y0,
                       stroke=1 if item.stroke else 0, fill=1 if item.fill else 0)
            elif isinstance(item, Picture):
                from reportlab.lib.utils import ImageReader

                png = io.BytesIO()
                Image.fromarray(item.pixels).save(png, format="PNG")
                c.drawImage(ImageReader(io.BytesIO(png.getvalue())), item.x0, sheet.height - item.y1,
                            width=item.x1 - item.x0, height=item.y1 - item.y0)
            elif isinstance(item, Text) and item.text:
                c.setFillColorRGB(*[v / 255 for v in item.color])
                c.setFont(_RL_NAMES[(item.family, item.bold)], item.size)
                y = sheet.height - item.y
                if item.align == "right":
                    c.drawRightString(item.x, y, item.text)
                elif item.align == "center":
                    c.drawCentredString(item.x, y, item.text)
                else:
                    c.drawString(item.x, y, item.text)
        c.showPage()
    c.save()
    return buf.getvalue()


def image_pdf(pages: list[bytes], sizes_pt: list[tuple[float, float]]) -> bytes:
    """A scanned PDF: each page one embedded JPEG (no text layer), same bytes for the same input."""
    import io

    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=sizes_pt[0], invariant=1)
    for jpeg, (w, h) in zip(pages, sizes_pt):
        c.setPageSize((w, h))
        c.drawImage(ImageReader(io.BytesIO(jpeg)), 0, 0, width=w, height=h)
        c.showPage()
    c.save()
    return buf.getvalue()
