"""Records that cross stage borders: what was read from a document.

The tree is Document > Page > Line > Word (docTR's shape), plus the barcodes found
on each page. Coordinates are pixels of the page image the pipeline read: the
upload after EXIF orientation and any 90-degree turn the reader applied, or the
PDF page rendered at the configured DPI. Every record exports to plain dicts
(``to_dict``) and back (``from_dict``) so results can be cached and shown as evidence.

>>> Word("FACTURE", 96.0, (10, 10, 90, 30)).to_dict()["text"]
'FACTURE'
"""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["BBox", "Word", "Line", "Barcode", "Page", "DocumentRead", "union_bbox"]

BBox = tuple[int, int, int, int]


def union_bbox(boxes) -> BBox | None:
    """The smallest box holding every box given, or None for none."""
    boxes = list(boxes)
    if not boxes:
        return None
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


@dataclass(frozen=True)
class Word:
    text: str
    """The word as read, without surrounding spaces."""
    conf: float
    """Engine confidence 0..100; 100 for a PDF text layer."""
    bbox: BBox
    """[x0, y0, x1, y1] in page pixels."""

    def to_dict(self) -> dict:
        return {"text": self.text, "conf": round(self.conf, 1), "bbox": list(self.bbox)}

    @classmethod
    def from_dict(cls, d: dict) -> Word:
        return cls(d["text"], float(d["conf"]), tuple(d["bbox"]))


@dataclass(frozen=True)
class Line:
    words: tuple[Word, ...]
    """Words in reading order."""

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def bbox(self) -> BBox | None:
        return union_bbox(w.bbox for w in self.words)

    @property
    def conf(self) -> float:
        return sum(w.conf for w in self.words) / len(self.words) if self.words else 0.0

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "conf": round(self.conf, 1),
            "bbox": list(self.bbox) if self.bbox else None,
            "words": [w.to_dict() for w in self.words],
        }

    @classmethod
    def from_dict(cls, d: dict) -> Line:
        return cls(tuple(Word.from_dict(w) for w in d["words"]))


@dataclass(frozen=True)
class Barcode:
    format: str
    """Symbology as zxing-cpp names it, upper case: CODE128, QRCODE, EAN13, DATAMATRIX, ..."""
    text: str
    """The decoded content."""
    bbox: BBox | None
    """Where on the page, in page pixels."""
    engine: str
    """Which decoder read it first: 'zxing-cpp' or 'pyzbar'."""
    page: int = 1

    def to_dict(self) -> dict:
        return {
            "format": self.format,
            "text": self.text,
            "bbox": list(self.bbox) if self.bbox else None,
            "engine": self.engine,
            "page": self.page,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Barcode:
        bbox = tuple(d["bbox"]) if d.get("bbox") else None
        return cls(d["format"], d["text"], bbox, d["engine"], d.get("page", 1))


@dataclass(frozen=True)
class Page:
    number: int
    """1-based page number within the document."""
    width: int
    height: int
    source: str
    """'pdf_text' (the PDF's own text layer) or 'ocr'."""
    lines: tuple[Line, ...] = ()
    barcodes: tuple[Barcode, ...] = ()
    rotation: int = 0
    """Degrees clockwise the reader turned the upload before reading (0, 90, 180, 270)."""
    languages: str = ""
    """Tesseract languages used, e.g. 'nor+eng'; 'ppocr' for a page PP-OCR read; empty for a text layer."""

    @property
    def words(self) -> list[Word]:
        return [w for line in self.lines for w in line.words]

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    def to_dict(self) -> dict:
        return {
            "number": self.number,
            "width": self.width,
            "height": self.height,
            "source": self.source,
            "rotation": self.rotation,
            "languages": self.languages,
            "text": self.text,
            "lines": [line.to_dict() for line in self.lines],
            "barcodes": [b.to_dict() for b in self.barcodes],
        }

    @classmethod
    def from_dict(cls, d: dict) -> Page:
        return cls(
            number=d["number"],
            width=d["width"],
            height=d["height"],
            source=d["source"],
            lines=tuple(Line.from_dict(x) for x in d["lines"]),
            barcodes=tuple(Barcode.from_dict(x) for x in d.get("barcodes", [])),
            rotation=d.get("rotation", 0),
            languages=d.get("languages", ""),
        )


@dataclass(frozen=True)
class DocumentRead:
    name: str
    """The document's name as the claim gives it (relative path) or as given on the CLI."""
    kind: str
    """Detected type: 'jpeg', 'png', 'gif', 'webp', 'tiff', 'bmp', 'heic', 'pdf'."""
    sha256: str
    """Hash of the file's bytes."""
    pages: tuple[Page, ...] = field(default_factory=tuple)

    @property
    def text(self) -> str:
        return "\n\n".join(p.text for p in self.pages)

    @property
    def barcodes(self) -> list[Barcode]:
        return [b for p in self.pages for b in p.barcodes]

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind,
            "sha256": self.sha256,
            "pages": [p.to_dict() for p in self.pages],
        }

    @classmethod
    def from_dict(cls, d: dict) -> DocumentRead:
        return cls(d["name"], d["kind"], d["sha256"], tuple(Page.from_dict(p) for p in d["pages"]))
