"""A perceptual hash of an upload (invoice or serial photo), so a re-compressed, resized or re-saved
copy of the same picture is found among earlier claims where its sha256 differs; and the bands that
index it (``band_keys``), so the store finds near hashes without comparing every earlier one.

pHash, 256 bits: the page in grey, resized to 64x64, its 2-D DCT, the 16x16 lowest frequencies
compared with their median. A text page's layout alone is alike across invoices at 8x8 (the
classic 64-bit pHash put two different generated invoices 2 bits apart); at 16x16
(``bench/bench_image_distance.py``): a re-saved copy (JPEG q55, scaled to 60 %) is 0-10 bits
away, another layout >= 12; invoices of one layout 2-16 (clean) or 4-72 (scans). A crop of 3 %
or a turn of 2 degrees is 8-84 bits away: a pHash does not find those, the invoice number does.
The threshold is ``[matching].invoice_phash_max_distance``.

An image match says only "looks alike": invoices of one shop's template look alike too (a clean
scan of each of four Komplett invoices was 6-24 bits from the others). Whether two look-alike
invoices are one is decided from what they say (``pipeline.promotions.duplicates``).
Measured boundaries: ``bench/bench_image_distance.py`` and ``[matching].invoice_phash_max_distance``.

Only images are hashed (photos, scans): a PDF is matched by its bytes and its invoice number,
and one shop's PDFs share a layout. A page the reader turned a quarter (``rotation``) is hashed
turned the same way, so a copy saved sideways hashes like the original.

Index (multi-index hashing): the 256 bits are cut into 16 bands of 16 bits. Two hashes at most
``d`` bits apart agree within ``r = d // 16`` bits on at least ``16 - d // (r + 1)`` bands
(pigeonhole: ``band_quorum``), so the earlier hashes near a new one are those sharing that many
band values within that radius: 16 exact keys for d <= 15, 16 x 17 keys for d <= 31; at the
default d = 10, six bands must match exactly, which most of one layout's look-alikes do not.

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

__all__ = ["phash_image", "phash_file", "phash_distance", "band_keys", "band_radius", "band_quorum", "BANDS",
           "PHASH_VERSION"]

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


def phash_file(path: str | Path, limits: IngestConfig | None = None, *, rotation: int = 0) -> str | None:
    """The pHash of a document's first page if it is an image, turned ``rotation`` degrees clockwise
    first (the turn the reader applied); None for a PDF or an unreadable file."""
    from .errors import ClaimcheckError
    from .ingest import decode_image_page, load_upload

    try:
        upload = load_upload(path, limits=limits)
        if upload.kind == "pdf":
            return None
        first = decode_image_page(upload, 1, limits)
    except (ClaimcheckError, OSError, ValueError, IndexError):
        return None
    from .ocr.preprocess import rotate_quarter

    return phash_image(rotate_quarter(first, rotation))


BANDS = 16
"""Bands a 256-bit hash is cut into for the index (16 bits each)."""


def _band_values(value: str) -> tuple[list[int], int]:
    bits = int(value, 16)
    width = len(value) * 4 // BANDS
    mask = (1 << width) - 1
    return [(bits >> (i * width)) & mask for i in range(BANDS)], width


def band_keys(value: str, scope: str, *, radius: int = 0) -> list[int]:
    """Signed 64-bit index keys of a hash's bands within ``scope`` (say promotion and role):
    ``radius`` 0 gives the hash's own 16 keys (what is stored); ``radius`` r also every band value
    within r bits (what a search for hashes ``16 * r + 15`` bits away probes).

    >>> h = "0f" * 32
    >>> len(band_keys(h, "p")), len(band_keys(h, "p", radius=1))
    (16, 272)
    >>> set(band_keys(h, "p")) <= set(band_keys(h, "p", radius=1))
    True
    """
    import hashlib
    from itertools import combinations

    values, width = _band_values(value)
    out: list[int] = []
    for band, v in enumerate(values):
        probes = [v]
        for r in range(1, radius + 1):
            for flip in combinations(range(width), r):
                probes.append(v ^ sum(1 << b for b in flip))
        for probe in probes:
            digest = hashlib.blake2b(f"{scope}\0{band}\0{probe}".encode(), digest_size=8).digest()
            out.append(int.from_bytes(digest, "big", signed=True))
    return out


def band_radius(max_distance: int) -> int:
    """The probe radius that finds every hash within ``max_distance`` bits."""
    return max_distance // BANDS


def band_quorum(max_distance: int) -> int:
    """How many of its bands a hash within ``max_distance`` bits matches at least (within the probe
    radius r): a band off by more than r costs r + 1 bits, so at most ``max_distance // (r + 1)``
    bands are.

    >>> band_quorum(10), band_quorum(20), band_quorum(31)
    (6, 6, 1)
    """
    return max(1, BANDS - max_distance // (band_radius(max_distance) + 1))
