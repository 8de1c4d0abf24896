"""Readings kept as data: what the engines read from a claim's documents, written once to ``reads.json``
and served back in place of the engines, so the decision path (extract, match, rules, decide) can be
tested in seconds without OCR.

``RecordingReader`` wraps the real reader and keeps every read (or the error a document raised);
``StoredReader`` answers the same calls from what was kept, and fails on a call it has no reading for
(a test must never pass on a reading nobody made). The format is the read cache's (``pipeline.cache``).

>>> StoredReader.from_json({"format": 1, "reads": []}).reads
{}
"""
from __future__ import annotations

import json
from pathlib import Path

from .cache import _doc_from_body, _doc_to_body, _error_from_body, _error_to_body
from .config import Config
from .errors import ClaimcheckError
from .records import DocumentRead

__all__ = ["RecordingReader", "StoredReader", "FORMAT"]

FORMAT = 2
"""2: a call names the OCR engine it read with (the cascade reads a document again with another
engine); format 1's calls, without it, were Tesseract's."""


def _call_key(name: str, languages, barcodes: bool, ocr: bool, engine: str = "tesseract") -> str:
    return json.dumps([name, list(languages or []), bool(barcodes), bool(ocr), engine])


class RecordingReader:
    """A reader that reads with ``read`` (the real engines) and keeps each result by call."""

    def __init__(self, read):
        self._read = read
        self.reads: dict[str, dict] = {}

    def __call__(self, path, name=None, *, languages, config: Config, barcodes=False, ocr=True,
                 known: DocumentRead | None = None) -> DocumentRead:
        key = _call_key(name or Path(path).name, languages, barcodes, ocr, config.ocr.engine)
        extra = {} if known is None else {"known": known}  # a region reading (pipeline.ocr.ppocr)
        try:
            doc = self._read(path, name, languages=languages, config=config, barcodes=barcodes, ocr=ocr, **extra)
        except ClaimcheckError as exc:
            self.reads[key] = _error_to_body(exc, name or Path(path).name)
            raise
        self.reads[key] = _doc_to_body(doc)
        return doc

    def to_json(self) -> dict:
        return {"format": FORMAT, "reads": [{"call": json.loads(k), "read": v} for k, v in sorted(self.reads.items())]}


class StoredReader:
    """A reader that answers from stored readings only."""

    def __init__(self, reads: dict[str, dict]):
        self.reads = reads

    @classmethod
    def from_json(cls, data: dict) -> StoredReader:
        if data.get("format") not in (1, FORMAT):
            raise ValueError(f"stored reads: format {data.get('format')!r}, expected {FORMAT}")
        return cls({_call_key(*r["call"]): r["read"] for r in data["reads"]})

    @classmethod
    def load(cls, path: str | Path) -> StoredReader:
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))

    def __call__(self, path, name=None, *, languages, config: Config, barcodes=False, ocr=True,
                 known: DocumentRead | None = None) -> DocumentRead:
        """``known`` is not part of the call: a claim's documents are read the same way each time."""
        shown = name or Path(path).name
        key = _call_key(shown, languages, barcodes, ocr, config.ocr.engine)
        if key not in self.reads:
            raise LookupError(f"no stored reading for {key} (stored: {sorted(self.reads)})")
        body = self.reads[key]
        if "error" in body:
            raise _error_from_body(body, shown)
        return _doc_from_body(body)
