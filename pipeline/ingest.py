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
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, ImageSequence

from .config import IngestConfig, default_config
from .errors import DocumentError

__all__ = ["Upload", "sniff_type", "load_upload", "decode_image_pages", "IMAGE_KINDS"]

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


def decode_image_pages(upload: Upload, limits: IngestConfig | None = None) -> list[np.ndarray]:
    """Every page of an image upload as an RGB uint8 array, EXIF orientation applied.

    GIF and WebP animations give their first frame only (a receipt is not a movie);
    TIFF gives every page up to ``max_pages``.
    """
    limits = limits or default_config().ingest
    name = upload.name
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(upload.data))
            width, height = image.size
            if width * height > limits.max_pixels:
                raise DocumentError(
                    "DOCUMENT_TOO_LARGE",
                    f"The image {name} is {width}x{height} pixels; the limit is "
                    f"{limits.max_pixels / 1e6:.0f} megapixels. Please upload a smaller photo or scan.",
                )
            frames = ImageSequence.all_frames(image) if upload.kind == "tiff" else [image]
            if len(frames) > limits.max_pages:
                raise DocumentError(
                    "DOCUMENT_TOO_LARGE",
                    f"The file {name} has {len(frames)} pages; the limit is {limits.max_pages}.",
                )
            pages = []
            for frame in frames:
                fw, fh = frame.size
                if fw * fh > limits.max_pixels:
                    raise DocumentError(
                        "DOCUMENT_TOO_LARGE", f"A page of {name} is {fw}x{fh} pixels; the limit is "
                        f"{limits.max_pixels / 1e6:.0f} megapixels.")
                frame.load()  # truncated or corrupt data fails here, not later
                frame = ImageOps.exif_transpose(frame)
                pages.append(np.asarray(_to_rgb(frame)))
            return pages
    except DocumentError:
        raise
    except Image.DecompressionBombError as exc:
        raise DocumentError("DOCUMENT_TOO_LARGE", f"The image {name} is too large to open safely.") from exc
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombWarning) as exc:
        # PIL signals truncated/corrupt data as OSError ("image file is truncated"), SyntaxError
        # (bad headers) or ValueError; the person needs to know the file is damaged.
        raise DocumentError(
            "DOCUMENT_UNREADABLE",
            f"The image {name} is damaged or incomplete and cannot be read. Please upload it again.",
            detail=str(exc),
        ) from exc
