"""Shared fixtures: real documents built on the fly (no engine is mocked)."""
from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
# Real documents the tests read (invoice2data PDFs, zxing-cpp photos, SROIE receipts): copied into the
# repository, see tests/data/PROVENANCE.md; nothing outside the checkout is needed.
TEST_DATA = REPO / "tests" / "data"


def text_image(lines: list[str], *, width: int = 1240, line_height: int = 60, scale: float = 1.2) -> np.ndarray:
    """A white RGB page with the given lines in black, like a clean scan at ~150 dpi."""
    height = line_height * (len(lines) + 2)
    page = np.full((height, width, 3), 255, np.uint8)
    for i, line in enumerate(lines):
        cv2.putText(page, line, (40, line_height * (i + 1) + 20), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    (0, 0, 0), 2, cv2.LINE_AA)
    return page


def png_bytes(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height: what a decompression bomb looks like up front."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = chunk(b"IDAT", zlib.compress(b"\x00" * 64))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + idat + chunk(b"IEND", b"")


def digital_pdf(path: Path, pages: list[list[str]]) -> Path:
    """A PDF with a real text layer (reportlab), one list of lines per page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    for lines in pages:
        y = 800
        for line in lines:
            c.setFont("Helvetica", 12)
            c.drawString(60, y, line)
            y -= 22
        c.showPage()
    c.save()
    return path


def scanned_pdf(path: Path, images: list[np.ndarray], dpi: int = 150) -> Path:
    """A PDF of page images only, no text layer (what a scanner makes)."""
    pil = [Image.fromarray(img) for img in images]
    pil[0].save(path, format="PDF", save_all=True, append_images=pil[1:], resolution=dpi)
    return path


@pytest.fixture
def invoice_lines() -> list[str]:
    return ["FACTURE No 40211", "Date: 17/02/2020", "MSI MEG X570 ACE 3990,00", "TOTAL 3990,00 EUR"]


@pytest.fixture(autouse=True, scope="session")
def _isolated_read_cache(tmp_path_factory):
    """Tests never see reads cached by an earlier run (or by the developer's demo)."""
    import os

    os.environ["CLAIMCHECK_CACHE_DIR"] = str(tmp_path_factory.mktemp("read-cache"))
    # ... and never write to (or read duplicates from) a developer's claim store.
    os.environ["CLAIMCHECK_STORE"] = str(tmp_path_factory.mktemp("store") / "claims.sqlite3")
    yield


@pytest.fixture(autouse=True)
def _own_claim_store(tmp_path_factory, monkeypatch):
    """Each test its own claim store: tests reuse claim ids ("GOOD", "C-1") from folders of their
    own, and a claim_id held by another folder is a conflict (CLAIM_ID_CONFLICT), not the same claim."""
    monkeypatch.setenv("CLAIMCHECK_STORE", str(tmp_path_factory.mktemp("store") / "claims.sqlite3"))
