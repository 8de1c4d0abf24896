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
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version

import numpy as np

from ..config import IngestConfig, PdfConfig, default_config
from ..errors import DocumentError, EngineError
from ..records import Line, Word

__all__ = ["probe", "open_pdf", "page_count", "text_layer", "render_page", "usable_text", "check_streams", "PdfChar",
           "PdfRevision", "PdfForensics", "pdf_forensics", "revisions"]

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


# ---------------------------------------------------------------------------- stream limits

_STREAM_KEYWORD = re.compile(rb"(?<!end)stream(?:\r\n|\n|\r)")
_DICT_DELIM = re.compile(rb"<<|>>")
_OBJ_HEADER = re.compile(rb"(\d+)\s+(\d+)\s+obj\s*$")
_FILTERS = re.compile(rb"/Filter\s*(\[[^\]]*\]|/[^\s/\[\]<>()]+)")
_NAME = re.compile(rb"/([^\s/\[\]<>()]+)")
_IMAGE = re.compile(rb"/Subtype\s*/Image\b")
_FONT_PROGRAM = re.compile(rb"/Length[123]\s|/Subtype\s*/(?:Type1C|CIDFontType0C|OpenType)\b")
_ENCRYPTED = re.compile(rb"/Encrypt\s*(?:<<|\d)")
_CHUNK = 1 << 20


def _dimension(key: bytes, head: bytes) -> int | None:
    m = re.search(rb"/" + key + rb"\s+(\d+)(\s+\d+\s+R)?", head)
    return int(m.group(1)) if m and not m.group(2) else None


@dataclass(frozen=True)
class _RawStream:
    objid: int | None
    genno: int
    head: bytes
    """The stream's dictionary, as written."""
    start: int
    end: int


def _raw_streams(data: bytes):
    """Every stream of the file with its dictionary, found in the bytes (no parser: a broken or
    hostile cross-reference table cannot hide one)."""
    for m in _STREAM_KEYWORD.finditer(data):
        before = data[max(0, m.start() - 16384):m.start()].rstrip()
        if not before.endswith(b">>"):
            continue
        depth, open_at = 0, None
        for d in reversed(list(_DICT_DELIM.finditer(before))):
            depth += 1 if d.group() == b">>" else -1
            if depth == 0:
                open_at = d.start()
                break
        if open_at is None:
            continue
        head = before[open_at:]
        obj = _OBJ_HEADER.search(before[max(0, open_at - 40):open_at])
        end = data.find(b"endstream", m.end())
        yield _RawStream(int(obj.group(1)) if obj else None, int(obj.group(2)) if obj else 0, head, m.end(),
                         len(data) if end < 0 else end)


def _inflate(data: bytes, limit: int) -> bytes:
    """Flate-decode at most ``limit`` + 1 bytes (raw deflate too); whatever decodes before an error."""
    for wbits in (zlib.MAX_WBITS, -zlib.MAX_WBITS):
        out, inflater, rest = [], zlib.decompressobj(wbits), data
        total = 0
        try:
            while rest and total <= limit and not inflater.eof:
                piece = inflater.decompress(rest, min(_CHUNK, limit + 1 - total))
                out.append(piece)
                total += len(piece)
                rest = inflater.unconsumed_tail
                if not piece and not rest:
                    break
        except zlib.error:
            if total == 0:
                continue
        return b"".join(out)
    return b""


def _lzw(data: bytes, limit: int) -> bytes:
    from pdfminer.lzw import LZWDecoder

    out, total = [], 0
    try:
        for piece in LZWDecoder(io.BytesIO(data)).run():
            out.append(piece)
            total += len(piece)
            if total > limit:
                break
    except Exception:  # noqa: BLE001 - a corrupt stream decodes as far as it goes
        pass
    return b"".join(out)


def _run_length(data: bytes, limit: int) -> bytes:
    out, i = bytearray(), 0
    while i < len(data) and len(out) <= limit:
        n = data[i]
        if n == 128:
            break
        if n < 128:
            out += data[i + 1:i + 2 + n]
            i += 2 + n
        else:
            out += data[i + 1:i + 2] * (257 - n)
            i += 2
    return bytes(out)


def _decode_bounded(data: bytes, filters: list[bytes], limit: int) -> tuple[bytes, bool]:
    """The stream's bytes through its filters, no stage producing more than ``limit`` + 1 bytes;
    (bytes, measured) where measured is False when a filter here cannot be decoded (an image codec,
    encryption): the length is then unknown, not a reason to refuse."""
    from pdfminer.ascii85 import ascii85decode, asciihexdecode

    for f in filters:
        if f in (b"FlateDecode", b"Fl"):
            data = _inflate(data, limit)
        elif f in (b"LZWDecode", b"LZW"):
            data = _lzw(data, limit)
        elif f in (b"RunLengthDecode", b"RL"):
            data = _run_length(data, limit)
        elif f in (b"ASCIIHexDecode", b"AHx"):
            data = asciihexdecode(data)
        elif f in (b"ASCII85Decode", b"A85"):
            try:
                data = ascii85decode(data)
            except ValueError:
                return data, False
        else:
            return data, False
    return data, True


def check_streams(data: bytes, name: str, limits: IngestConfig | None = None) -> None:
    """Refuse a PDF (DOCUMENT_TOO_LARGE) whose streams inflate beyond ``[ingest]``'s
    ``pdf_max_stream_bytes`` each (``pdf_max_font_bytes`` for a font program) or
    ``pdf_max_inflated_bytes`` together, or that holds an image over ``max_pixels``; measured
    before pdfplumber or pdfium decode anything.

    Each stream is inflated into a bounded buffer and thrown away, so the check costs at most the
    limits, never what the file claims. Image streams are held to their declared size instead
    (both libraries decode an image no further than its width x height). A PDF encrypted with an
    empty password (which readers open silently) is deciphered first.
    """
    limits = limits or default_config().ingest
    budget = limits.pdf_max_inflated_bytes
    decipher = _decipher(data) if _ENCRYPTED.search(data[-65536:]) or _ENCRYPTED.search(data[:65536]) else None
    total = 0
    for st in _raw_streams(data):
        if _IMAGE.search(st.head):
            width, height = _dimension(b"Width", st.head), _dimension(b"Height", st.head)
            if width is not None and height is not None:
                if width * height > limits.max_pixels:
                    raise DocumentError(
                        "DOCUMENT_TOO_LARGE",
                        f"An image inside the PDF {name} is {width}x{height} pixels; the limit is "
                        f"{limits.max_pixels / 1e6:.0f} megapixels.")
                continue
        f = _FILTERS.search(st.head)
        filters = _NAME.findall(f.group(1)) if f else []
        if not filters:
            continue  # stored as is: no bigger than the file, which max_file_bytes already holds
        raw = data[st.start:st.end]
        if decipher is not None and st.objid is not None:
            try:
                raw = decipher(st.objid, st.genno, raw)
            except Exception:  # noqa: BLE001 - a stream that does not decipher is measured as it is
                pass
        font = bool(_FONT_PROGRAM.search(st.head))
        per_stream = limits.pdf_max_font_bytes if font else limits.pdf_max_stream_bytes
        decoded, measured = _decode_bounded(raw, filters, per_stream)
        if not measured:
            continue
        if len(decoded) > per_stream:
            what = "a font that inflates" if font else "a stream (page content or objects) that inflates"
            raise DocumentError(
                "DOCUMENT_TOO_LARGE",
                f"The PDF {name} holds {what} to more than {per_stream / 1048576:.0f} MB (object "
                f"{st.objid}); the limit is {per_stream / 1048576:.0f} MB.")
        total += len(decoded)
        if total > budget:
            raise DocumentError(
                "DOCUMENT_TOO_LARGE",
                f"The PDF {name} inflates to more than {budget / 1048576:.0f} MB of page content, fonts and "
                f"objects; the limit is {budget / 1048576:.0f} MB.")


def _decipher(data: bytes):
    """pdfminer's decipher function for a PDF encrypted with the empty password, else None."""
    try:
        from pdfminer.pdfdocument import PDFDocument
        from pdfminer.pdfparser import PDFParser

        return PDFDocument(PDFParser(io.BytesIO(data)), password="").decipher
    except Exception:  # noqa: BLE001 - a password or a broken file: open_pdf says which
        return None


def _unopenable(name: str, *, encrypted: bool) -> DocumentError:
    """The error for a PDF neither library could open: password-protected, or not a PDF."""
    if encrypted:
        return DocumentError("DOCUMENT_ENCRYPTED",
                             f"The PDF {name} is password-protected. Please upload it without a password.")
    return DocumentError("DOCUMENT_UNREADABLE", f"The file {name} is not a valid PDF and cannot be read.")


@contextmanager
def open_pdf(data: bytes, name: str, limits: IngestConfig | None = None):
    """Yield (pdfplumber document, pypdfium2 document); typed errors for broken/encrypted files,
    DOCUMENT_TOO_LARGE (``check_streams``) before either library parses a stream."""
    _require()
    limits = limits or default_config().ingest
    check_streams(data, name, limits)
    try:
        plumber = pdfplumber.open(io.BytesIO(data))
    except (PdfminerException, PDFPasswordIncorrect, PDFEncryptionError, PDFSyntaxError, PSException,
            ValueError, TypeError, KeyError, AttributeError) as exc:
        # pdfplumber wraps whatever pdfminer raised; the wrapped error tells encrypted from broken.
        inner = exc.args[0] if isinstance(exc, PdfminerException) and exc.args else exc
        raise _unopenable(name, encrypted=isinstance(inner, (PDFPasswordIncorrect, PDFEncryptionError))) from exc
    try:
        try:
            rendered = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            raise _unopenable(name, encrypted="password" in str(exc).lower()) from exc
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


def picture_boxes(plumber, index: int, *, dpi: int, min_px: int, max_count: int) -> list[tuple[int, int, int, int]]:
    """The boxes of the page's embedded pictures in pixels at ``dpi`` (a logo, a stamp), largest first:
    at most ``max_count``, each at least ``min_px`` on both sides. A damaged image list is no pictures
    (the text layer was read; its pictures are extra)."""
    try:
        page = plumber.pages[index]
        images = list(page.images)
        w_pt, h_pt = float(page.width), float(page.height)
    except (PdfminerException, PDFSyntaxError, PSException, ValueError, TypeError, KeyError, AttributeError):
        return []
    scale = dpi / 72.0
    boxes = set()
    for im in images:
        try:
            x0, top, x1, bottom = (max(0.0, min(float(im[k]), lim)) for k, lim in
                                   (("x0", w_pt), ("top", h_pt), ("x1", w_pt), ("bottom", h_pt)))
        except (KeyError, TypeError, ValueError):
            continue
        box = (int(x0 * scale), int(top * scale), int(round(x1 * scale)), int(round(bottom * scale)))
        if box[2] - box[0] >= min_px and box[3] - box[1] >= min_px:
            boxes.add(box)
    return sorted(boxes, key=lambda b: (-(b[2] - b[0]) * (b[3] - b[1]), b))[:max_count]


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
