"""A corpus of hostile claims: what an attacker or a careless portal sends, made on the fly.

Each case is a claim folder (``claim.json`` and its documents) that once hung, crashed or
fooled claimcheck (issue #11): a PDF whose page content inflates to hundreds of megabytes,
JSON nested 200,000 deep, lone surrogates, NUL and right-to-left overrides in claim fields,
TIFFs of hundreds of 2000x2000 pages, 20,000 products, a serial typed in full-width digits
and a claim_id reused by another claimant. ``tests/test_hostile.py`` runs them through
``batch``; ``bench/bench_hostile.py`` times them and measures the workers' memory.

Every file is built from bytes written here (no downloaded samples), deterministically, and
small on disk: the weight is in what the documents *claim* to hold, not in their size.

>>> pdf = content_bomb_pdf(inflated_mb=2)
>>> len(pdf) < 20_000
True
"""
from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

__all__ = ["CASES", "content_bomb_pdf", "many_pages_tiff", "write_case", "write_corpus", "genuine_claim",
           "deep_json", "SERIAL", "FULLWIDTH_SERIAL"]

SERIAL = "602-7C37-010B1912000123"
FULLWIDTH_SERIAL = SERIAL.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-"})
"""The same serial typed with full-width digits and letters (U+FF10...): NFKC makes it SERIAL."""

_INVOICE_LINES = ["Komplett.no", "Komplett AS, Postboks 2094, 3202 Sandefjord", "FAKTURA 204417811",
                  "Fakturadato: 19.02.2020", "MSI MEG X570 ACE hovedkort 3 990,00",
                  "AMD Ryzen 9 3900X prosessor 5 490,00", "Totalt inkl. mva NOK 9 480,00"]


# ---------------------------------------------------------------------------- documents

def _pdf(objects: list[bytes]) -> bytes:
    """A PDF file from its numbered objects (1-based), with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _stream(data: bytes, extra: str = "") -> bytes:
    return (f"<< /Length {len(data)} /Filter /FlateDecode {extra}>>\nstream\n".encode() + data
            + b"\nendstream")


def content_bomb_pdf(*, inflated_mb: int = 300, pages: int = 1) -> bytes:
    """A one-page PDF whose content stream inflates to ``inflated_mb`` MB of text-drawing operators
    (each a glyph a PDF reader must place): ~1 KB on disk per MB inflated."""
    unit = b"BT /F1 9 Tf 20 20 Td (A) Tj ET\n" * 32768  # ~1 MB
    comp = zlib.compressobj(9)
    body = b"".join(comp.compress(unit) for _ in range(inflated_mb)) + comp.flush()
    kids = " ".join(f"{3 + i} 0 R" for i in range(pages))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode()]
    content, font = 3 + pages, 4 + pages
    for _ in range(pages):
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {content} 0 R "
                       f"/Resources << /Font << /F1 {font} 0 R >> >> >>".encode())
    objects.append(_stream(body))
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    return _pdf(objects)


def many_pages_tiff(pages: int, width: int = 2000, height: int = 2000, *, rgb: bool = False) -> bytes:
    """A little-endian TIFF of ``pages`` white ``width`` x ``height`` pages that all share one
    deflated strip: a few KB on disk, ``pages`` x ``width`` x ``height`` pixels once decoded."""
    channels = 3 if rgb else 1
    strip = zlib.compress(b"\xff" * (width * height * channels), 9)
    out = bytearray(b"II*\x00" + struct.pack("<I", 0))  # first IFD's offset: set below
    strip_at = 8
    out += strip
    if len(out) % 2:
        out += b"\x00"
    bps_at = len(out)
    out += struct.pack("<HHH", 8, 8, 8)
    entries = 9
    ifd_size = 2 + entries * 12 + 4
    first = len(out)
    for i in range(pages):
        here = first + i * ifd_size
        nxt = here + ifd_size if i + 1 < pages else 0
        tags = [
            (256, 4, 1, width), (257, 4, 1, height),
            (258, 3, channels, bps_at if rgb else 8),
            (259, 3, 1, 8),  # deflate
            (262, 3, 1, 2 if rgb else 1),
            (273, 4, 1, strip_at), (277, 3, 1, channels), (278, 4, 1, height), (279, 4, 1, len(strip)),
        ]
        out += struct.pack("<H", entries)
        for tag, kind, count, value in tags:
            if kind == 3 and count == 1:
                out += struct.pack("<HHIHH", tag, kind, count, value, 0)
            else:
                out += struct.pack("<HHII", tag, kind, count, value)
        out += struct.pack("<I", nxt)
    out[4:8] = struct.pack("<I", first)
    return bytes(out)


def deep_json(levels: int = 200_000) -> str:
    """A claim.json whose extra field nests ``levels`` arrays deep (valid JSON)."""
    head = json.dumps(genuine_claim("DEEP"))[:-1]
    return head + ', "notes": ' + "[" * levels + "]" * levels + "}"


# ---------------------------------------------------------------------------- claims

def genuine_claim(claim_id: str, *, email: str = "kari@example.no", serial: str = SERIAL,
                  promotion_id: str | None = "amd-msi-cashback-2020", invoices=("faktura.pdf",)) -> dict:
    """The claim.json of a genuine duo claim (MEG X570 ACE + Ryzen 9 3900X at Komplett.no)."""
    return {
        "claim_id": claim_id, "promotion_id": promotion_id, "submitted_at": "2020-03-20T10:15:00+01:00",
        "claimant": {"email": email, "country": "NO"},
        "purchase": {"date": "2020-02-19", "retailer": "Komplett.no", "channel": "online_retailer", "country": "NO"},
        "products": [
            {"model": "MEG X570 ACE", "serial": serial, "chk": "A1C", "category": "motherboard"},
            {"model": "AMD Ryzen 9 3900X", "serial": None, "chk": None, "category": "cpu"}],
        "documents": {"invoices": list(invoices), "serial_photos": ["sticker.png"]},
    }


def _invoice_pdf(path: Path, number: int) -> None:
    from .lab.sheet import Sheet, Text, render_pdf

    lines = [line.replace("204417811", str(number)) for line in _INVOICE_LINES]
    page = Sheet(595, 842, tuple(Text(60, 42 + 22 * i, line, 12) for i, line in enumerate(lines)))
    path.write_bytes(render_pdf(page))


def _genuine_folder(folder: Path, claim: dict, *, sticker_serial: str | None = None) -> None:
    """The claim with its own invoice (numbered after the claim's folder, so no two cases share
    one) and a sticker showing ``sticker_serial`` (default: the serial claimed, NFKC-folded)."""
    import unicodedata
    import zlib as _z

    from .samples import save_png, sticker_image

    folder.mkdir(parents=True, exist_ok=True)
    _invoice_pdf(folder / "faktura.pdf", 204400000 + _z.crc32(str(folder.name + folder.parent.name).encode()) % 99999)
    serial = sticker_serial or unicodedata.normalize("NFKC", claim["products"][0]["serial"])
    save_png(sticker_image(serial, "A1C", "MEG X570 ACE"), folder / "sticker.png")
    _write_json(folder, claim)


def _write_json(folder: Path, claim: dict | str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    text = claim if isinstance(claim, str) else json.dumps(claim)  # ASCII: lone surrogates as \ud800 escapes
    (folder / "claim.json").write_text(text, encoding="utf-8")


def _case_pdf_bomb(folder: Path) -> None:
    claim = genuine_claim("H-PDF-BOMB", promotion_id=None, invoices=["invoice.pdf"])
    claim["documents"]["serial_photos"] = []
    _write_json(folder, claim)
    (folder / "invoice.pdf").write_bytes(content_bomb_pdf(inflated_mb=300, pages=2))


def _case_deep_json(folder: Path) -> None:
    _write_json(folder, deep_json(200_000))


def _case_surrogate(folder: Path) -> None:
    claim = genuine_claim("H-\ud800", promotion_id=None, email="s@example.no", serial="602-7C37-010B1912000201")
    _genuine_folder(folder, claim)


def _case_nul(folder: Path) -> None:
    claim = genuine_claim("H-NUL", promotion_id=None, email="n@example.no", serial="602-7C37-010B1912000202")
    claim["purchase"]["retailer"] = "Komplett.no\x00<script>"
    _genuine_folder(folder, claim)


def _case_bidi(folder: Path) -> None:
    claim = genuine_claim("H-BIDI-\u202egnp.exe", promotion_id=None, email="b@example.no",
                          serial="602-7C37-010B1912000203")
    _genuine_folder(folder, claim)


def _case_tiff(pages: int) -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        claim = genuine_claim(f"H-TIFF-{pages}", promotion_id=None, invoices=["invoice.tif"])
        claim["documents"]["serial_photos"] = []
        _write_json(folder, claim)
        (folder / "invoice.tif").write_bytes(many_pages_tiff(pages))
    return build


def _case_many_products(folder: Path) -> None:
    claim = genuine_claim("H-PRODUCTS", promotion_id=None, email="p@example.no", serial="602-7C37-010B1912000204")
    product = {"model": "MEG X570 ACE", "serial": SERIAL, "chk": "A1C", "category": "motherboard"}
    claim["products"] = [product] * 20_000
    _genuine_folder(folder, claim)


def _case_fullwidth(folder: Path) -> None:
    # Two claimants claim one board: the second types its serial in full-width characters.
    _genuine_folder(folder / "first", genuine_claim("H-SERIAL-1", email="kari@example.no"))
    _genuine_folder(folder / "second", genuine_claim("H-SERIAL-2", email="ola@example.no", serial=FULLWIDTH_SERIAL))


def _case_claim_id_reuse(folder: Path) -> None:
    # Two claims, two claimants, two folders, one claim_id.
    _genuine_folder(folder / "first", genuine_claim("H-REUSED", email="ingrid@example.no",
                                                    serial="602-7C37-010B1912000998"))
    _genuine_folder(folder / "second", genuine_claim("H-REUSED", email="mallory@example.no",
                                                     serial="602-7C37-010B1912000999"))


CASES: dict[str, Callable[[Path], None]] = {
    "pdf-content-bomb": _case_pdf_bomb,
    "deep-json": _case_deep_json,
    "lone-surrogate": _case_surrogate,
    "nul-in-field": _case_nul,
    "bidi-override": _case_bidi,
    "tiff-500-pages": _case_tiff(500),
    "tiff-1500-pages": _case_tiff(1500),
    "20000-products": _case_many_products,
    "fullwidth-serial": _case_fullwidth,
    "claim-id-reuse": _case_claim_id_reuse,
}
"""Case name -> builder of its folder (one claim, or a few claims in sub-folders)."""


def write_case(name: str, folder: str | Path) -> Path:
    folder = Path(folder)
    CASES[name](folder)
    return folder


def write_corpus(root: str | Path, names: list[str] | None = None) -> dict[str, Path]:
    """Every case (or ``names``) in its own folder below ``root``; returns name -> folder."""
    root = Path(root)
    return {name: write_case(name, root / name) for name in (names or list(CASES))}
