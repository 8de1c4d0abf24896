"""Turn an upload into page images (or a PDF handle), failing early with a reason code.

The type comes from the file's bytes, never its name: an HTML page renamed
``invoice.jpg`` is ``UNSUPPORTED_TYPE``. Size, pixel and page limits come from
``[ingest]`` in the config and are checked before anything is decoded, so a
decompression bomb costs a header read, not the machine.

>>> sniff_type(b"%PDF-1.7\\n...")
'pdf'
"""
from __future__ import annotations

import hashlib
import io
import struct
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from .config import IngestConfig, default_config
from .errors import DocumentError

__all__ = ["Upload", "sniff_type", "load_upload", "decode_image_pages", "decode_image_page", "iter_image_pages",
           "image_page_count", "tiff_page_count", "IMAGE_KINDS"]

IMAGE_KINDS = ("jpeg", "png", "gif", "webp", "tiff", "bmp", "heic")

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}

try:  # HEIC/AVIF support is a plus: pillow-heif registers an opener when it is there
    import pillow_heif

    pillow_heif.register_heif_opener()
    _HEIF_AVAILABLE = True
except ImportError:  # pragma: no cover - the package is a dependency
    _HEIF_AVAILABLE = False

# Our own max_pixels check runs before decoding; PIL's global guard would only
# duplicate it with a different number, so it is turned off here.
Image.MAX_IMAGE_PIXELS = None


def sniff_type(head: bytes) -> str | None:
    """The document type from the first bytes of a file, or None when it is not one we read."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head[:2] == b"BM" and len(head) >= 26:
        return "bmp"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "heic"
    # PDF readers accept the header anywhere in the first KiB (some generators prepend junk).
    if b"%PDF-" in head[:1024]:
        return "pdf"
    return None


@dataclass(frozen=True)
class Upload:
    """A document that passed the byte-level checks."""

    path: Path
    name: str
    """As the claim (or the command line) names it."""
    kind: str
    data: bytes = field(repr=False)
    sha256: str = ""


def load_upload(path: str | Path, name: str | None = None, limits: IngestConfig | None = None) -> Upload:
    """Read a file's bytes and check its type and size; raise DocumentError on any problem."""
    limits = limits or default_config().ingest
    path = Path(path)
    name = name or str(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise DocumentError("DOCUMENT_MISSING", f"The file {name} was not uploaded or cannot be found.") from exc
    except OSError as exc:
        raise DocumentError("DOCUMENT_UNREADABLE", f"The file {name} cannot be opened ({exc.strerror}).") from exc
    if path.is_dir():
        raise DocumentError("DOCUMENT_UNREADABLE", f"{name} is a folder, not a document.")
    if size == 0:
        raise DocumentError("DOCUMENT_UNREADABLE", f"The file {name} is empty (0 bytes).")
    if size > limits.max_file_bytes:
        raise DocumentError(
            "DOCUMENT_TOO_LARGE",
            f"The file {name} is {size / 1048576:.1f} MB; the limit is {limits.max_file_bytes / 1048576:.0f} MB.",
        )
    data = path.read_bytes()
    kind = sniff_type(data[:1024])
    if kind is None:
        raise DocumentError(
            "UNSUPPORTED_TYPE",
            f"The file {name} is not an image or PDF we can read "
            "(accepted: JPEG, PNG, GIF, WebP, TIFF, BMP, HEIC, PDF).",
        )
    if kind == "heic" and not _HEIF_AVAILABLE:  # pragma: no cover
        raise DocumentError("UNSUPPORTED_TYPE", f"The file {name} is HEIC, and HEIC support is not installed.")
    return Upload(path, name, kind, data, hashlib.sha256(data).hexdigest())


def _to_rgb(frame: Image.Image) -> Image.Image:
    """RGB on white: transparent PNG/GIF receipts must not turn black."""
    if frame.mode in ("RGBA", "LA") or (frame.mode == "P" and "transparency" in frame.info):
        rgba = frame.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if frame.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(frame, dtype=np.float64)
        hi = arr.max() or 1.0
        return Image.fromarray((arr * (255.0 / hi)).astype(np.uint8)).convert("RGB")
    return frame.convert("RGB")


def tiff_page_count(data: bytes, stop_after: int) -> int:
    """Pages of a TIFF counted from its chain of image directories (IFDs), without decoding any
    page, and without walking further than ``stop_after`` + 1 directories (a file may chain
    millions). A chain that loops or points outside the file ends the count there.

    >>> tiff_page_count(b"II*\\x00\\x08\\x00\\x00\\x00" + b"\\x00\\x00" + b"\\x00" * 4, 20)
    1
    """
    if len(data) < 8 or data[:2] not in (b"II", b"MM"):
        return 0
    end = "<" if data[:2] == b"II" else ">"
    magic = struct.unpack_from(end + "H", data, 2)[0]
    if magic == 43:  # BigTIFF: 8-byte offsets and counts
        if len(data) < 16:
            return 0
        offset, count_fmt, entry, ptr_fmt = struct.unpack_from(end + "Q", data, 8)[0], "Q", 20, "Q"
    else:
        offset, count_fmt, entry, ptr_fmt = struct.unpack_from(end + "I", data, 4)[0], "H", 12, "I"
    count_size, ptr_size = struct.calcsize(count_fmt), struct.calcsize(ptr_fmt)
    seen: set[int] = set()
    while offset and offset not in seen and len(seen) <= stop_after:
        if offset + count_size > len(data):
            break
        seen.add(offset)
        entries = struct.unpack_from(end + count_fmt, data, offset)[0]
        nxt = offset + count_size + entries * entry
        if nxt + ptr_size > len(data):
            break
        offset = struct.unpack_from(end + ptr_fmt, data, nxt)[0]
    return len(seen)


def _too_large(name: str, width: int, height: int, limits: IngestConfig, what: str = "The image") -> DocumentError:
    return DocumentError(
        "DOCUMENT_TOO_LARGE",
        f"{what} {name} is {width}x{height} pixels; the limit is "
        f"{limits.max_pixels / 1e6:.0f} megapixels. Please upload a smaller photo or scan.",
    )


@contextmanager
def _image_errors(name: str):
    """PIL's errors as DocumentError, and its decompression-bomb warning as an error."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except DocumentError:
        raise
    except Image.DecompressionBombError as exc:
        raise DocumentError("DOCUMENT_TOO_LARGE", f"The image {name} is too large to open safely.") from exc
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, Image.DecompressionBombWarning) as exc:
        # PIL signals truncated/corrupt data as OSError ("image file is truncated"), SyntaxError
        # (bad headers) or ValueError; the person needs to know the file is damaged.
        raise DocumentError(
            "DOCUMENT_UNREADABLE",
            f"The image {name} is damaged or incomplete and cannot be read. Please upload it again.",
            detail=str(exc),
        ) from exc


def _open_image(upload: Upload, limits: IngestConfig) -> tuple[Image.Image, int]:
    """The image opened (headers only) and its page count, both checked against the limits."""
    image = Image.open(io.BytesIO(upload.data))
    width, height = image.size
    if width * height > limits.max_pixels:
        raise _too_large(upload.name, width, height, limits)
    pages = 1
    if upload.kind == "tiff":
        pages = tiff_page_count(upload.data, limits.max_pages)
        if pages > limits.max_pages:
            raise DocumentError(
                "DOCUMENT_TOO_LARGE",
                f"The file {upload.name} has more than {limits.max_pages} pages; the limit is {limits.max_pages}.",
            )
        pages = max(1, pages)
    return image, pages


def _page_array(image: Image.Image, index: int, upload: Upload, limits: IngestConfig) -> np.ndarray:
    if index:
        image.seek(index)
    fw, fh = image.size
    if fw * fh > limits.max_pixels:
        raise _too_large(upload.name, fw, fh, limits, what=f"Page {index + 1} of")
    image.load()  # truncated or corrupt data fails here, not later
    return np.asarray(_to_rgb(ImageOps.exif_transpose(image)))


def image_page_count(upload: Upload, limits: IngestConfig | None = None) -> int:
    """How many pages of an image upload the pipeline reads, from its headers (nothing decoded);
    DocumentError when a header is over the limits or broken."""
    limits = limits or default_config().ingest
    with _image_errors(upload.name):
        return _open_image(upload, limits)[1]


def iter_image_pages(upload: Upload, limits: IngestConfig | None = None) -> Iterator[np.ndarray]:
    """Each page of an image upload as an RGB uint8 array, EXIF orientation applied, decoded only
    when the next one is asked for: a multi-page TIFF never holds more than one page.

    GIF and WebP animations give their first frame only (a receipt is not a movie); TIFF gives
    every page. Size and page limits are checked from the headers before any page is decoded.
    """
    limits = limits or default_config().ingest
    with _image_errors(upload.name):
        image, pages = _open_image(upload, limits)
    for index in range(pages):
        with _image_errors(upload.name):
            page = _page_array(image, index, upload, limits)
        yield page


def decode_image_pages(upload: Upload, limits: IngestConfig | None = None) -> list[np.ndarray]:
    """Every page of an image upload (see ``iter_image_pages``), as a list."""
    return list(iter_image_pages(upload, limits))


def decode_image_page(upload: Upload, number: int, limits: IngestConfig | None = None) -> np.ndarray:
    """Page ``number`` (1-based) of an image upload, decoding that page only; IndexError if the
    upload has no such page."""
    limits = limits or default_config().ingest
    with _image_errors(upload.name):
        image, pages = _open_image(upload, limits)
        if not 1 <= number <= pages:
            raise IndexError(number)
        return _page_array(image, number - 1, upload, limits)
