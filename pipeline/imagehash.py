"""A perceptual hash of an invoice image, so a re-compressed, resized or re-saved copy of the same
photo is recognised as the same invoice (``duplicate_invoice``), where its sha256 differs.

pHash, 256 bits: the page in grey, resized to 64x64, its 2-D DCT, the 16x16 lowest frequencies
compared with their median. A text page's layout alone is alike across invoices at 8x8 (the
classic 64-bit pHash put two different generated invoices 2 bits apart); at 16x16, measured on
61 generated invoice photos: a JPEG q60 copy at 70 % size is <= 6 bits away, two different
invoices >= 36. The threshold is ``[matching].invoice_phash_max_distance``.

Only images are hashed (photos, scans): a PDF is matched by its bytes and its invoice number,
and one shop's PDFs share a layout.

>>> import numpy as np
>>> page = np.zeros((200, 120), np.uint8); page[20:60, 10:110] = 255
>>> a = phash_image(page); len(a)
64
>>> phash_distance(a, phash_image(page[::2, ::2]))
0
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from .config import IngestConfig

__all__ = ["phash_image", "phash_file", "phash_distance", "PHASH_VERSION"]

PHASH_VERSION = 1
"""Part of the cache key of stored hashes: a change of the algorithm must not compare old with new."""


def phash_image(image: np.ndarray) -> str:
    """The 256-bit pHash of an image (grey, RGB or RGBA array) as 64 hex digits."""
    grey = image
    if image.ndim == 3:
        grey = cv2.cvtColor(image, cv2.COLOR_RGBA2GRAY if image.shape[2] == 4 else cv2.COLOR_RGB2GRAY)
    small = cv2.resize(grey, (64, 64), interpolation=cv2.INTER_AREA).astype(np.float32)
    low = cv2.dct(small)[:16, :16].flatten()
    bits = low > np.median(low[1:])  # the DC term says only how bright the page is
    return np.packbits(bits).tobytes().hex()


def phash_distance(a: str, b: str) -> int:
    """Bits that differ between two hashes (of the same length)."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def phash_file(path: str | Path, limits: IngestConfig | None = None) -> str | None:
    """The pHash of a document's first page if it is an image; None for a PDF or an unreadable file."""
    from .errors import ClaimcheckError
    from .ingest import decode_image_page, load_upload

    try:
        upload = load_upload(path, limits=limits)
        if upload.kind == "pdf":
            return None
        first = decode_image_page(upload, 1, limits)
    except (ClaimcheckError, OSError, ValueError, IndexError):
        return None
    return phash_image(first)
