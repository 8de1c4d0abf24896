"""A read cache: what was read from a document, keyed by everything that shapes the read.

The key is the document's content hash + the engines' versions + the reading
sections of the config (ingest, ocr, preprocess, pdf, barcodes) + languages and
what was asked (text, barcodes). A re-run with new thresholds, policy or terms
reads nothing again; a change of OCR settings or of Tesseract does.

Entries are JSON files written to a temp name and renamed into place (atomic on
POSIX), so several processes can fill one cache at once; an entry that fails to
parse or whose embedded key does not match is treated as missing and rewritten.

>>> ReadCache(None).get("0" * 64) is None
True
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from .config import Config
from .records import DocumentRead

__all__ = ["ReadCache", "read_key", "engine_versions", "default_cache_dir", "CachedReader"]

_FORMAT = 1


def default_cache_dir() -> Path:
    env = os.environ.get("CLAIMCHECK_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "claimcheck" / "reads"


def _reader_code_hash() -> str:
    """Hash of the code that turns bytes into words: a fix there must invalidate old reads."""
    root = Path(__file__).resolve().parent
    files = sorted([root / "ingest.py", root / "read.py", *(root / "ocr").glob("*.py")])
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.name.encode() + b"\0" + f.read_bytes())
    return digest.hexdigest()[:16]


@lru_cache(maxsize=1)
def engine_versions() -> dict:
    from .ocr import tesseract

    out = {"tesseract": tesseract.probe().get("version"), "reader_code": _reader_code_hash()}
    for dist in ("zxing-cpp", "pyzbar", "pdfplumber", "pypdfium2", "opencv-python-headless", "claimcheck"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = None
    return out


def read_key(content_sha256: str, config: Config, *, languages: list[str], barcodes: bool, ocr: bool) -> str:
    reading = config.model_dump(include={"ingest", "ocr", "preprocess", "pdf", "barcodes"})
    payload = {"format": _FORMAT, "doc": content_sha256, "engines": engine_versions(), "reading": reading,
               "languages": list(languages), "barcodes": barcodes, "ocr": ocr}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


class ReadCache:
    """A folder of read results; ``ReadCache(None)`` is a cache that never hits."""

    def __init__(self, folder: str | Path | None):
        self.folder = Path(folder) if folder else None
        self.hits = self.misses = self.corrupt = 0

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> DocumentRead | None:
        if self.folder is None:
            return None
        path = self._path(key)
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            if entry.get("key") != key:
                raise ValueError("key mismatch")
            doc = DocumentRead.from_dict(entry["read"])
        except FileNotFoundError:
            self.misses += 1
            return None
        except (OSError, ValueError, KeyError, TypeError):
            self.corrupt += 1
            self.misses += 1
            return None
        self.hits += 1
        return doc

    def put(self, key: str, doc: DocumentRead) -> None:
        if self.folder is None:
            return
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        blob = json.dumps({"key": key, "read": doc.to_dict()}, ensure_ascii=False)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(blob)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


class CachedReader:
    """read_document with a cache in front: same signature, same errors (errors are not cached)."""

    def __init__(self, cache: ReadCache, read=None):
        from .read import read_document

        self.cache = cache
        self.read = read or read_document

    def __call__(self, path, name=None, *, languages, config: Config, barcodes=False, ocr=True) -> DocumentRead:
        try:
            digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        except OSError:
            return self.read(path, name, languages=languages, config=config, barcodes=barcodes, ocr=ocr)
        key = read_key(digest, config, languages=languages, barcodes=barcodes, ocr=ocr)
        hit = self.cache.get(key)
        if hit is not None:
            # the same bytes may be named differently by another claim
            return DocumentRead(name or str(path), hit.kind, hit.sha256, hit.pages)
        doc = self.read(path, name, languages=languages, config=config, barcodes=barcodes, ocr=ocr)
        self.cache.put(key, doc)
        return doc
