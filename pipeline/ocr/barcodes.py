"""The one module that talks to the barcode engines: zxing-cpp and zbar (through pyzbar).

Both engines read the page in ``[barcodes].engines`` order; a code two engines read
is kept once, from the first. When the plain pass finds nothing and ``retry`` is on,
transformed copies are read in a measured order (upscale, 45-degree turn, adaptive
binarisation, sharpening, downscale) until one decodes or ``timeout_s`` runs out;
boxes are mapped back to the caller's pixels. Nothing decoded is ``[]``, a normal
result; a missing or crashing engine is an ``EngineError``.

>>> decode_barcodes(np.full((64, 64), 255, np.uint8))
[]
"""
from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata

import cv2
import numpy as np

from ..config import BarcodeConfig, default_config
from ..errors import ConfigError, EngineError
from ..records import Barcode, BBox

__all__ = ["ENGINES", "decode_barcodes", "probe"]

ENGINES = ("zxing-cpp", "pyzbar")

# What product stickers, packaging and delivery labels carry. Everything else
# (DataBar, Codabar, MaxiCode, EAN-2/5 add-ons, ...) is left out: each extra
# symbology is one more way for photo noise to "decode" (zbar is known for short
# EAN/ITF/DataBar reads out of texture).
# Code39Std, not the Code39 family: zxing-cpp 3 reads a 6-character Code 39 as an
# Italian pharmacy Code 32 number when its check happens to fit, and full-ASCII
# decoding turns "SN/A" into "SN!". zbar reads Code 39 plain too.
_ZXING_FORMATS = (
    "Code128", "Code39Std", "Code93", "EAN13", "EAN8", "UPCA", "UPCE", "ITF",
    "QRCode", "DataMatrix", "PDF417", "Aztec",
)
# zbar has no DataMatrix/Aztec and its PDF417 decoder is incomplete. With only EAN13
# enabled it reports UPC-A and UPC-E as their 13-digit EAN-13 (GTIN), as zxing-cpp does.
_ZBAR_SYMBOLS = ("CODE128", "CODE39", "CODE93", "EAN13", "EAN8", "I25", "QRCODE")

# Engine-specific names folded onto one zxing-cpp style name per symbology.
_FORMAT_ALIASES = {
    "I25": "ITF",
    "ITF14": "ITF",
    "CODE39STD": "CODE39",
    "CODE39EXT": "CODE39",
    "QRCODEMODEL1": "QRCODE",
    "QRCODEMODEL2": "QRCODE",
    "AZTECCODE": "AZTEC",
    "AZTECRUNE": "AZTEC",
    "COMPACTPDF417": "PDF417",
}
_LINEAR = {"CODE128", "CODE39", "CODE93", "EAN13", "EAN8", "UPCA", "UPCE", "ITF"}
_GTIN = {"EAN13": 13, "EAN8": 8, "UPCA": 12}
# One mod-10 check digit, or none (Code 39). On 1,500 synthetic labels per symbology
# (any angle, 0.4-2 px modules, blur, noise) zxing-cpp misread 8 of its 150 EAN-13
# reads and 3 of 356 EAN-8; zbar at quality >= 4 misread 1 of 230 and 0 of 457; no
# misread was read the same by the other engine. So a zxing-cpp read of these needs
# zbar's agreement when zbar is configured; zbar's reads carry their scan-line count.
_WEAK_CHECK = {"EAN13", "EAN8", "UPCA", "UPCE", "ITF", "CODE39"}

# Shorter reads are what noise and partial scans decode to. Packaging ITF is ITF-14;
# both engines return 10- and 12-digit pieces of a tilted ITF-14.
_MIN_LENGTH = {"ITF": 14, "CODE39": 4, "CODE93": 3, "CODE128": 3}
# zbar's quality for a linear code is the number of scan lines that agreed; a misread
# with quality 3 beside the real code is on record (pyzbar#46), real codes score tens.
_ZBAR_MIN_QUALITY = 4
# A later engine's read of the same symbology at the same place with other text is a
# misread (zbar turns Code 128 FNC4 'ó' into 's'): overlap share of the smaller box.
_SAME_PLACE_OVERLAP = 0.5
# Upscaled retries stop here: a 12 MP photo at 2x is 48 MP and ~1 s per engine, and
# the codes upscaling rescues (modules of 1-2 px) are rare in photos that large.
_MAX_RETRY_PIXELS = 20_000_000
# Below this a retry image cannot hold a readable code, and OpenCV filters need room.
_MIN_RETRY_SIDE = 16


@dataclass(frozen=True)
class _Read:
    """One engine's decode, before mapping back to the caller's pixels."""

    format: str
    text: str
    corners: np.ndarray
    """(N, 2) points in the attempt image."""
    engine: str


@dataclass(frozen=True)
class _Attempt:
    """A transformed copy of the page and the 2x3 affine map page -> copy."""

    name: str
    image: np.ndarray
    matrix: np.ndarray
    scale: float = 1.0


# --- engines -----------------------------------------------------------------------


def _zxing():
    try:
        import zxingcpp
    except ImportError as exc:
        raise EngineError(
            "ENGINE_MISSING", "zxing-cpp is not installed (pip install zxing-cpp).", engine="zxing-cpp"
        ) from exc
    return zxingcpp


def _pyzbar():
    try:
        from pyzbar import pyzbar
    except (ImportError, OSError) as exc:
        # pyzbar raises ImportError when the libzbar shared library is absent.
        raise EngineError(
            "ENGINE_MISSING",
            f"zbar is not available (pip install pyzbar; apt-get install libzbar0): {exc}",
            engine="pyzbar",
        ) from exc
    return pyzbar


def _read_zxing(gray: np.ndarray, scale: float = 1.0) -> list[_Read]:
    zx = _zxing()
    try:
        results = zx.read_barcodes(
            gray,
            formats=_zxing_formats(zx),
            # Plain: the encoded characters, as zbar gives them; HRI would add GS1
            # parentheses and the two engines' texts would no longer match.
            text_mode=zx.TextMode.Plain,
        )
    except Exception as exc:
        raise EngineError("ENGINE_FAILED", f"zxing-cpp failed: {exc}", engine="zxing-cpp") from exc
    reads = []
    for r in results:
        p = r.position
        corners = np.array(
            [(pt.x, pt.y) for pt in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)], float
        )
        reads.append(_Read(_normalise_format(r.format.name), r.text, corners, "zxing-cpp"))
    return reads


def _zxing_formats(zx):
    # zxing-cpp 2.x has no Code39Std; its Code39 reads neither Code 32 nor full ASCII.
    names = [n if hasattr(zx.BarcodeFormat, n) else "Code39" for n in _ZXING_FORMATS]
    return zx.barcode_formats_from_str(",".join(names))


def _read_zbar(gray: np.ndarray, scale: float = 1.0) -> list[_Read]:
    pyzbar = _pyzbar()
    try:
        symbols = [pyzbar.ZBarSymbol[name] for name in _ZBAR_SYMBOLS]
        results = pyzbar.decode(gray, symbols=symbols)
    except Exception as exc:
        raise EngineError("ENGINE_FAILED", f"zbar failed: {exc}", engine="pyzbar") from exc
    reads = []
    for r in results:
        fmt = _normalise_format(r.type)
        # An upscaled copy has more scan lines through the same code: scale the bar too.
        if fmt in _LINEAR and (r.quality or 0) < _ZBAR_MIN_QUALITY * max(1.0, scale):
            continue
        reads.append(_Read(fmt, _zbar_text(r.data), _zbar_corners(r), "pyzbar"))
    return reads


def _zbar_text(data: bytes) -> str:
    # zbar hands QR text over as UTF-8; linear codes are bytes, Latin-1 by their specs.
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _zbar_corners(r) -> np.ndarray:
    if r.polygon:
        return np.array([(pt.x, pt.y) for pt in r.polygon], float)
    left, top, width, height = r.rect
    return np.array([(left, top), (left + width, top + height)], float)


_READERS: dict[str, Callable[[np.ndarray, float], list[_Read]]] = {
    "zxing-cpp": _read_zxing,
    "pyzbar": _read_zbar,
}


def probe() -> dict:
    """Which engines import, and their versions; never raises.

    >>> sorted(probe())
    ['pyzbar', 'zxing-cpp']
    """
    out: dict[str, dict] = {}
    for name, load, dist in (("zxing-cpp", _zxing, "zxing-cpp"), ("pyzbar", _pyzbar, "pyzbar")):
        try:
            load()
        except Exception as exc:
            out[name] = {"available": False, "version": None, "error": str(exc)}
            continue
        out[name] = {"available": True, "version": _dist_version(dist)}
    if out["pyzbar"]["available"]:
        out["pyzbar"]["zbar"] = _zbar_library_version()
    return out


def _dist_version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except Exception:
        return None


def _zbar_library_version() -> str | None:
    try:
        from ctypes import c_uint

        from pyzbar.wrapper import zbar_version

        major, minor = c_uint(), c_uint()
        zbar_version(major, minor)
        return f"{major.value}.{minor.value}"
    except Exception:
        return None


# --- decoding ----------------------------------------------------------------------


def decode_barcodes(
    image: np.ndarray, config: BarcodeConfig | None = None, *, page: int = 1
) -> list[Barcode]:
    """Barcodes on an RGB (H, W, 3) or grayscale (H, W) uint8 image, boxes in its pixels.

    >>> decode_barcodes(np.zeros((10, 10, 3), np.uint8), page=2)
    []
    """
    cfg = config or default_config().barcodes
    engines = _engines(cfg)
    if not engines:
        return []
    gray = _as_gray(image)
    if gray.size == 0:
        return []
    deadline = time.monotonic() + cfg.timeout_s

    found = _read_attempt(_plain(gray), engines)
    if not found and cfg.retry:
        for attempt in _retries(gray, cfg):
            if time.monotonic() >= deadline:
                break
            found = _read_attempt(attempt, engines)
            if found:
                break
    height, width = gray.shape
    return [
        Barcode(fmt, text, bbox, engine, page)
        for fmt, text, bbox, engine in _deduplicate(found, width, height)
    ]


def _engines(cfg: BarcodeConfig) -> list[str]:
    unknown = [e for e in cfg.engines if e not in _READERS]
    if unknown:
        raise ConfigError(
            message=f"barcodes.engines: unknown engine {unknown[0]!r}; known: {', '.join(ENGINES)}"
        )
    return list(dict.fromkeys(cfg.engines))


def _as_gray(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"decode_barcodes wants a uint8 image, got {image.dtype}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 3 and image.shape[2] in (3, 4):
        code = cv2.COLOR_RGB2GRAY if image.shape[2] == 3 else cv2.COLOR_RGBA2GRAY
        return cv2.cvtColor(np.ascontiguousarray(image), code)
    if image.ndim == 2:
        return np.ascontiguousarray(image)
    raise ValueError(f"decode_barcodes wants (H, W) or (H, W, 3), got shape {image.shape}")


def _read_attempt(attempt: _Attempt, engines: list[str]) -> list[tuple[str, str, np.ndarray, str]]:
    """Every plausible read of one attempt, corners mapped back to the page."""
    reads = [
        read
        for engine in engines
        for read in _READERS[engine](attempt.image, attempt.scale)
        if _plausible(read.format, read.text)
    ]
    reads = [_with_full_box(read, reads, attempt.image, engines) for read in reads]
    inverse = cv2.invertAffineTransform(attempt.matrix)
    return [
        (read.format, read.text, read.corners @ inverse[:, :2].T + inverse[:, 2], read.engine)
        for read in reads
        if _witnessed(read, reads, engines)
    ]


def _with_full_box(read: _Read, reads: list[_Read], image: np.ndarray, engines: list[str]) -> _Read:
    """A zbar read of a linear code with its box completed from zxing-cpp's read of it.

    zbar places a linear code at the same point on every scan line that read it (near
    the stop pattern), so its box is a line across the bars. zxing-cpp's box spans the
    symbol: take it from this attempt, else from zxing-cpp on the strip of scan lines.
    """
    if read.engine != "pyzbar" or read.format not in _LINEAR or np.ptp(read.corners, axis=0).min() > 0:
        return read
    key = _dedup_key(read.format, read.text)
    same = [o for o in reads if o.engine == "zxing-cpp" and _dedup_key(o.format, o.text) == key]
    if not same and "zxing-cpp" in engines:
        same = [o for o in _read_strip(read, image) if _dedup_key(o.format, o.text) == key]
    return _Read(read.format, read.text, same[0].corners, read.engine) if same else read


def _read_strip(read: _Read, image: np.ndarray) -> list[_Read]:
    """zxing-cpp on the band of columns (or rows) holding zbar's scan lines, at 2x.

    zbar reads thinner modules than zxing-cpp; doubling the small strip is cheap and
    lets zxing-cpp read what zbar did in most cases.
    """
    lo, hi = read.corners.min(axis=0), read.corners.max(axis=0)
    axis = 0 if hi[0] - lo[0] >= hi[1] - lo[1] else 1  # 0: zbar scanned columns
    pad = max(8, int(hi[axis] - lo[axis]))
    a = max(0, int(lo[axis]) - pad)
    b = min(image.shape[1 - axis], int(hi[axis]) + pad + 1)
    strip = image[:, a:b] if axis == 0 else image[a:b]
    up = cv2.resize(strip, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    offset = np.array((a, 0) if axis == 0 else (0, a), float)
    return [_Read(r.format, r.text, r.corners / 2 + offset, r.engine) for r in _read_zxing(up)]


def _witnessed(read: _Read, reads: list[_Read], engines: list[str]) -> bool:
    """A weak-check zxing-cpp read counts when zbar read the same, or zbar is not in use."""
    if read.format not in _WEAK_CHECK or read.engine != "zxing-cpp" or "pyzbar" not in engines:
        return True
    key = _dedup_key(read.format, read.text)
    return any(o.engine == "pyzbar" and _dedup_key(o.format, o.text) == key for o in reads)


def _deduplicate(found, width: int, height: int) -> list[tuple[str, str, BBox | None, str]]:
    kept: list[tuple[str, str, BBox | None, str]] = []
    keys: set[tuple[str, str]] = set()
    for fmt, text, corners, engine in found:
        key = _dedup_key(fmt, text)
        bbox = _bbox(corners, width, height)
        if key in keys:
            continue
        if any(
            _family(fmt) == _family(k[0]) and k[3] != engine and _same_place(bbox, k[2]) for k in kept
        ):
            continue
        keys.add(key)
        kept.append((fmt, text, bbox, engine))
    return kept


def _normalise_format(name: str) -> str:
    """zxing-cpp's name without separators, upper case: 'Code 128' -> 'CODE128', 'I25' -> 'ITF'."""
    key = re.sub(r"[^A-Z0-9]", "", name.upper())
    return _FORMAT_ALIASES.get(key, key)


def _family(fmt: str) -> str:
    # UPC-A and UPC-E are EAN-13 with a leading zero; engines disagree on which name they give.
    return "EAN13" if fmt in ("UPCA", "UPCE") else fmt


def _dedup_key(fmt: str, text: str) -> tuple[str, str]:
    if fmt == "UPCA" and len(text) == 12:
        text = "0" + text
    return _family(fmt), text


def _plausible(fmt: str, text: str) -> bool:
    if not text.strip() or len(text) < _MIN_LENGTH.get(fmt, 1):
        return False
    if fmt in ("EAN13", "EAN8", "UPCA", "UPCE", "ITF") and not text.isdigit():
        return False
    if fmt in _GTIN:
        return len(text) == _GTIN[fmt] and _gtin_check_ok(text)
    if fmt == "ITF" and len(text) == 14:
        return _gtin_check_ok(text)
    return True


def _gtin_check_ok(digits: str) -> bool:
    body, check = digits[:-1], int(digits[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def _bbox(corners: np.ndarray, width: int, height: int) -> BBox | None:
    if corners.size == 0:
        return None
    x0 = min(max(math.floor(corners[:, 0].min()), 0), width)
    y0 = min(max(math.floor(corners[:, 1].min()), 0), height)
    x1 = min(max(math.ceil(corners[:, 0].max()), 0), width)
    y1 = min(max(math.ceil(corners[:, 1].max()), 0), height)
    return (x0, y0, x1, y1)


def _same_place(a: BBox | None, b: BBox | None) -> bool:
    if a is None or b is None:
        return False
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw < 0 or ih < 0:
        return False
    smaller = min(max(1, a[2] - a[0]) * max(1, a[3] - a[1]), max(1, b[2] - b[0]) * max(1, b[3] - b[1]))
    return max(1, iw) * max(1, ih) >= _SAME_PLACE_OVERLAP * smaller


# --- retries -----------------------------------------------------------------------
# Every real photo reads without retries, so the choice was measured on copies of them
# degraded 14 ways (small, blurred, JPEG, turned 10/30/45 degrees, perspective, dark,
# low contrast, noise, inside a 12 MP scene, combinations). Of 87 copies the plain pass
# missed, 2x upscaling rescued 20, a 45-degree turn 19 (17 of them new), adaptive
# binarisation 12 (5 new), sharpening 9 (2 new). CLAHE (6), Otsu (3) and upscaled
# quadrants (3) rescued none those four missed; plain halves/quadrants and 90-degree
# turns none at all (both engines scan 90-degree turned codes, zxing-cpp reads big
# images at reduced sizes itself); 0.5x downscaling one. One 45-degree turn serves
# both diagonals: a code at -45 becomes horizontal, one at +45 vertical.


def _plain(gray: np.ndarray) -> _Attempt:
    return _Attempt("plain", gray, np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))


def _retries(gray: np.ndarray, cfg: BarcodeConfig) -> Iterator[_Attempt]:
    """Transformed copies, built lazily so a spent deadline builds nothing more."""
    if min(gray.shape) < _MIN_RETRY_SIDE:
        return
    ups = sorted(s for s in cfg.scales if s > 1)
    downs = sorted((s for s in cfg.scales if 0 < s < 1), reverse=True)
    for s in ups:
        if gray.size * s * s <= _MAX_RETRY_PIXELS:
            yield _scaled(gray, s)
    for angle in cfg.rotations:
        if angle % 90:
            yield _rotated(gray, angle)
    yield _plain_copy("adaptive", _adaptive_binarise(gray))
    yield _plain_copy("sharpen", _unsharp(gray))
    for s in downs:
        yield _scaled(gray, s)


def _plain_copy(name: str, image: np.ndarray) -> _Attempt:
    return _Attempt(name, image, _plain(image).matrix)


def _scaled(gray: np.ndarray, s: float) -> _Attempt:
    h, w = gray.shape
    nw, nh = max(1, round(w * s)), max(1, round(h * s))
    interp = cv2.INTER_CUBIC if s > 1 else cv2.INTER_AREA
    image = cv2.resize(gray, (nw, nh), interpolation=interp)
    matrix = np.array([[nw / w, 0.0, 0.0], [0.0, nh / h, 0.0]])
    return _Attempt(f"scale {s:g}", image, matrix, scale=s)


def _rotated(gray: np.ndarray, angle: float) -> _Attempt:
    """Turned ``angle`` degrees counter-clockwise on a canvas big enough to keep every pixel."""
    h, w = gray.shape
    cos, sin = abs(math.cos(math.radians(angle))), abs(math.sin(math.radians(angle)))
    # The turned canvas is up to twice the pixels; big pages are turned at a size that fits.
    s = min(1.0, math.sqrt(_MAX_RETRY_PIXELS / ((h * sin + w * cos) * (h * cos + w * sin))))
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, s)
    nw, nh = math.ceil(s * (h * sin + w * cos)), math.ceil(s * (h * cos + w * sin))
    matrix[0, 2] += nw / 2 - w / 2
    matrix[1, 2] += nh / 2 - h / 2
    # White fill: a dark border would touch the code's quiet zone at the corners.
    image = cv2.warpAffine(gray, matrix, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=255)
    return _Attempt(f"rotate {angle:g}", image, matrix, scale=s)


def _adaptive_binarise(gray: np.ndarray) -> np.ndarray:
    # The window must span several modules and the light gaps between them; a twentieth
    # of the short side did on the photos, 15 px at least.
    block = max(15, (min(gray.shape) // 20) | 1)
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, block, 5)


def _unsharp(gray: np.ndarray) -> np.ndarray:
    blurred = cv2.GaussianBlur(gray, (0, 0), 2.0)
    return cv2.addWeighted(gray, 1.8, blurred, -0.8, 0)
