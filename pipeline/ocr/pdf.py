"""The one module that reads PDFs: pdfplumber for the text layer, pypdfium2 to render.

Text-layer words come out in the same Word/Line records as OCR, with boxes in the
pixels of the page rendered at ``pdf_dpi``, so evidence boxes mean the same thing
whichever path read the page. A page whose layer is empty or garbage (``(cid:NN)``
glyphs from fonts without a Unicode map) is reported unusable; the reader then
renders and OCRs it.

>>> usable_text("(cid:12)(cid:13)(cid:14)", min_chars=1, max_garbage_ratio=0.3)
False
"""
from __future__ import annotations

import io
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version

import numpy as np

from ..config import IngestConfig, PdfConfig, default_config
from ..errors import DocumentError, EngineError
from ..records import Line, Word

__all__ = ["probe", "open_pdf", "page_count", "text_layer", "render_page", "usable_text", "PdfChar", "PdfRevision",
           "PdfForensics", "pdf_forensics", "revisions"]

try:
    import pdfplumber
    import pypdfium2 as pdfium
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfminer.psparser import PSException
    from pdfplumber.utils.exceptions import PdfminerException
except ImportError as _exc:  # pragma: no cover - both are dependencies
    _IMPORT_ERROR: ImportError | None = _exc
else:
    _IMPORT_ERROR = None

_CID = re.compile(r"\(cid:\d+\)")


def probe() -> dict:
    """Versions of the PDF libraries; never raises."""
    out = {}
    for dist in ("pdfplumber", "pypdfium2"):
        try:
            out[dist] = {"available": _IMPORT_ERROR is None, "version": version(dist)}
        except PackageNotFoundError:
            out[dist] = {"available": False, "version": None}
    return out


def _require():
    if _IMPORT_ERROR is not None:
        raise EngineError("ENGINE_MISSING", f"PDF support is not installed: {_IMPORT_ERROR}") from _IMPORT_ERROR


def usable_text(text: str, *, min_chars: int, max_garbage_ratio: float) -> bool:
    """Whether a page's text layer is worth using instead of OCR."""
    garbage = sum(len(m) for m in _CID.findall(text)) + text.count("\ufffd")
    visible = len(re.sub(r"\s", "", text))
    if visible < min_chars:
        return False
    return garbage / max(visible, 1) <= max_garbage_ratio


@contextmanager
def open_pdf(data: bytes, name: str, limits: IngestConfig | None = None):
    """Yield (pdfplumber document, pypdfium2 document); typed errors for broken/encrypted files."""
    _require()
    limits = limits or default_config().ingest
    try:
        plumber = pdfplumber.open(io.BytesIO(data))
    except (PdfminerException, PDFPasswordIncorrect, PDFEncryptionError, PDFSyntaxError, PSException,
            ValueError, TypeError, KeyError, AttributeError) as exc:
        # pdfplumber wraps whatever pdfminer raised; the wrapped error tells encrypted from broken.
        inner = exc.args[0] if isinstance(exc, PdfminerException) and exc.args else exc
        if isinstance(inner, (PDFPasswordIncorrect, PDFEncryptionError)):
            raise DocumentError(
                "DOCUMENT_ENCRYPTED",
                f"The PDF {name} is password-protected. Please upload it without a password.",
            ) from exc
        raise DocumentError(
            "DOCUMENT_UNREADABLE", f"The file {name} is not a valid PDF and cannot be read."
        ) from exc
    try:
        try:
            rendered = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            if "password" in str(exc).lower():
                raise DocumentError(
                    "DOCUMENT_ENCRYPTED",
                    f"The PDF {name} is password-protected. Please upload it without a password.",
                ) from exc
            raise DocumentError(
                "DOCUMENT_UNREADABLE", f"The file {name} is not a valid PDF and cannot be read."
            ) from exc
        try:
            n = page_count(plumber, name)
            if n == 0:
                raise DocumentError("DOCUMENT_UNREADABLE", f"The PDF {name} has no pages.")
            if n > limits.max_pages:
                raise DocumentError(
                    "DOCUMENT_TOO_LARGE", f"The PDF {name} has {n} pages; the limit is {limits.max_pages}."
                )
            yield plumber, rendered
        finally:
            rendered.close()
    finally:
        plumber.close()


def page_count(plumber, name: str) -> int:
    try:
        return len(plumber.pages)
    except (PdfminerException, PDFSyntaxError, PSException, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise DocumentError("DOCUMENT_UNREADABLE", f"The PDF {name} is damaged: its pages cannot be listed.") from exc


def _group_lines(words: list[dict], scale: float) -> list[Line]:
    """Cluster pdfplumber words into lines by vertical overlap, left to right."""
    rows: list[list[dict]] = []
    for w in sorted(words, key=lambda w: ((w["top"] + w["bottom"]) / 2, w["x0"])):
        mid = (w["top"] + w["bottom"]) / 2
        if rows:
            last = rows[-1]
            top = min(x["top"] for x in last)
            bottom = max(x["bottom"] for x in last)
            if top - 1 <= mid <= bottom + 1:
                last.append(w)
                continue
        rows.append([w])
    lines = []
    for row in rows:
        row.sort(key=lambda w: w["x0"])
        lines.append(Line(tuple(
            Word(w["text"], 100.0, (int(w["x0"] * scale), int(w["top"] * scale),
                                    int(round(w["x1"] * scale)), int(round(w["bottom"] * scale))))
            for w in row
        )))
    return lines


def text_layer(plumber, index: int, *, dpi: int, name: str, config: PdfConfig | None = None) -> list[Line] | None:
    """The page's text layer as lines in pixels at ``dpi``, or None when it is not usable."""
    config = config or default_config().pdf
    try:
        page = plumber.pages[index]
        words = page.extract_words(keep_blank_chars=False, use_text_flow=False, x_tolerance=1.5, y_tolerance=2)
    except (PdfminerException, PDFSyntaxError, PSException, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise DocumentError(
            "DOCUMENT_UNREADABLE", f"Page {index + 1} of the PDF {name} is damaged and cannot be read."
        ) from exc
    text = " ".join(w["text"] for w in words)
    if not usable_text(text, min_chars=config.min_text_chars, max_garbage_ratio=config.max_garbage_ratio):
        return None
    words = [w for w in words if not _CID.fullmatch(w["text"])]
    return _group_lines(words, dpi / 72.0)


def render_page(rendered, index: int, *, dpi: int, max_pixels: int, name: str) -> np.ndarray:
    """The page as an RGB array at ``dpi``, lowered if the page is so big it would pass ``max_pixels``."""
    try:
        page = rendered[index]
        w_pt, h_pt = page.get_size()
        scale = dpi / 72.0
        if w_pt * h_pt * scale * scale > max_pixels:
            scale = (max_pixels / (w_pt * h_pt)) ** 0.5
        bitmap = page.render(scale=scale)
        image = bitmap.to_numpy()
        mode = bitmap.mode
    except pdfium.PdfiumError as exc:
        raise DocumentError("DOCUMENT_UNREADABLE", f"Page {index + 1} of the PDF {name} cannot be rendered.") from exc
    if mode == "BGRA" or (image.ndim == 3 and image.shape[2] == 4):
        image = image[:, :, [2, 1, 0]]
    elif mode == "BGR" or mode == "BGRX":
        image = image[:, :, [2, 1, 0]]
    elif image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return np.ascontiguousarray(image)


# ------------------------------------------------------------------------------ forensics


@dataclass(frozen=True)
class PdfChar:
    """One glyph of a page's text layer, as drawn: its font, size, colour and box (page pixels)."""

    text: str
    font: str
    """The font's name without a subset prefix ('ABCDEF+Helvetica' -> 'Helvetica')."""
    size: float
    bbox: tuple[int, int, int, int]
    contrast: int
    """Darkest-to-lightest spread of the rendered pixels inside the glyph's box (0: nothing drawn there;
    -1: the box is off the page, where nothing can show)."""


@dataclass(frozen=True)
class PdfRevision:
    """One save of the file: the original, then each incremental update appended to it."""

    objects: tuple[int, ...]
    """Object numbers the save wrote (in an update: those it added or changed)."""
    producers: tuple[str, ...] = ()
    """/Producer and /Creator strings written in that save."""


@dataclass(frozen=True)
class PdfForensics:
    metadata: dict
    """The document information dictionary as the reader sees it (the newest save's)."""
    revisions: tuple[PdfRevision, ...]
    pages: tuple[tuple[PdfChar, ...], ...] = field(default_factory=tuple)
    """Each page's glyphs, in drawing order."""
    dpi: int = 200


_OBJ = re.compile(rb"(?<![0-9])(\d{1,7})\s+\d{1,5}\s+obj\b")
_WHO = re.compile(rb"/(?:Producer|Creator)\s*\(((?:[^()\\]|\\.){0,200})\)")
_SUBSET = re.compile(r"^[A-Z]{6}\+")


def revisions(data: bytes) -> tuple[PdfRevision, ...]:
    """The saves of a PDF file: its bytes cut after each ``%%EOF`` (a linearized file's first-page
    trailer is not a save of its own).

    >>> [len(r.objects) for r in revisions(b"%PDF-1.4\\n1 0 obj<<>>endobj\\n%%EOF\\n2 0 obj<<>>endobj\\n%%EOF\\n")]
    [1, 1]
    """
    parts, start = [], 0
    for m in re.finditer(rb"%%EOF[ \t\r\n]*", data):
        parts.append(data[start:m.end()])
        start = m.end()
    if data[start:].strip():
        parts.append(data[start:])
    if len(parts) > 1 and b"/Linearized" in data[:2048]:
        parts = [parts[0] + parts[1], *parts[2:]]
    out = []
    for part in parts:
        objects = tuple(sorted({int(n) for n in _OBJ.findall(part)}))
        who = tuple(w.decode("latin-1", "replace") for w in _WHO.findall(part))
        out.append(PdfRevision(objects, who))
    return tuple(out)


def _contrast(grey: np.ndarray, box: tuple[int, int, int, int]) -> int:
    x0, y0, x1, y1 = box
    h, w = grey.shape
    if (x0 + x1) / 2 >= w or (y0 + y1) / 2 >= h or x1 <= 0 or y1 <= 0:
        return -1
    # the glyph's own box, a pixel in from each side (the neighbours' anti-aliasing stays out)
    cut = grey[max(0, y0 + 1):min(h, y1 - 1), max(0, x0 + 1):min(w, x1 - 1)]
    return int(cut.max()) - int(cut.min()) if cut.size else 0


def pdf_forensics(data: bytes, name: str, limits: IngestConfig | None = None, *, dpi: int = 100) -> PdfForensics:
    """What tells an edited PDF: its saves, its metadata, and each glyph's font, size and whether
    anything shows where it is drawn (the page rendered at ``dpi``)."""
    limits = limits or default_config().ingest
    pages = []
    with open_pdf(data, name, limits) as (plumber, rendered):
        try:
            metadata = {k: v for k, v in (plumber.metadata or {}).items() if isinstance(v, str | int | float)}
        except (PdfminerException, PDFSyntaxError, PSException, ValueError, TypeError, KeyError) as exc:
            raise DocumentError("DOCUMENT_UNREADABLE", f"The PDF {name} is damaged.") from exc
        scale = dpi / 72.0
        for index in range(len(plumber.pages)):
            try:
                chars = plumber.pages[index].chars
            except (PdfminerException, PDFSyntaxError, PSException, ValueError, TypeError, KeyError,
                    AttributeError) as exc:
                raise DocumentError("DOCUMENT_UNREADABLE", f"Page {index + 1} of the PDF {name} is damaged.") from exc
            image = render_page(rendered, index, dpi=dpi, max_pixels=limits.max_pixels, name=name)
            grey = image.mean(axis=2).astype(np.uint8) if image.ndim == 3 else image
            out = []
            for c in chars:
                if not c.get("text", "").strip():
                    continue
                box = (int(c["x0"] * scale), int(c["top"] * scale), int(round(c["x1"] * scale)),
                       int(round(c["bottom"] * scale)))
                out.append(PdfChar(c["text"], _SUBSET.sub("", str(c.get("fontname", ""))), round(float(c["size"]), 1),
                                   box, _contrast(grey, box)))
            pages.append(tuple(out))
    return PdfForensics(metadata, revisions(data), tuple(pages), dpi)
