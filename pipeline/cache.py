"""A read cache: what was read from a document, keyed by everything that shapes the read; and
next to it, what is derived from reads that a re-run with new thresholds would compute again
(the document checks of a claim, the perceptual hash of an invoice image).

Read key: the document's content hash + the engines' versions + a hash of the reader's own code
+ the reading sections of the config (ingest, ocr, preprocess, pdf, barcodes) + languages and
what was asked (text, barcodes); a PP-OCR read (``[ocr].engine = "ppocr"``, the cascade's second
reading) also its ``[ppocr]`` settings and its models' version and hash. A re-run with new
thresholds, policy or terms reads nothing again; a change of OCR settings or of Tesseract does.
A read that failed for a reason in the document (``DocumentError``: corrupt, too large, wrong
type) or timed out (``OCR_TIMEOUT``:
``[ocr].timeout_s`` is in the key) is remembered as that error, so a re-run does not spend the
timeout again; other engine failures (a missing or crashed engine) are never cached.

Where: ``[cache].dir``, else ``$CLAIMCHECK_CACHE_DIR``, else ``$XDG_CACHE_HOME/claimcheck/reads``
(``~/.cache``).

Entry format (2): one header line ``{"format", "key", "sum"}`` then the body, compact JSON
(a word is ``[text, conf, x0, y0, x1, y1]``; line and page texts are not stored twice). ``sum``
is the body's BLAKE2b: an entry that is torn, garbled, fails to parse or names another key is
counted in ``corrupt``, treated as missing and overwritten by the recomputed value. Entries are
written to a temp file in the same folder and renamed into place (``os.replace``, atomic on
POSIX), so several processes can fill one cache at once and a reader never sees half an entry.

>>> ReadCache(None).get("0" * 64) is None
True
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from .codegraph import import_closure
from .config import Config
from .errors import ClaimcheckError, DocumentError, EngineError
from .knowledge import CHECKS, knowledge_hash
from .records import Barcode, DocumentRead, Line, Page, Word

__all__ = ["ReadCache", "read_key", "engine_versions", "default_cache_dir", "CachedReader", "checks_key"]

_FORMAT = 2
_CACHED_ENGINE_ERRORS = ("OCR_TIMEOUT",)
"""Engine errors that are the read's outcome under the keyed settings (kept); others are the machine's."""


def default_cache_dir() -> Path:
    env = os.environ.get("CLAIMCHECK_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "claimcheck" / "reads"


def _code_hash(root: Path, patterns: tuple[str, ...]) -> str:
    digest = hashlib.sha256()
    for f in sorted(p for pattern in patterns for p in root.glob(pattern)):
        digest.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes())
    return digest.hexdigest()[:16]


_PPOCR_CODE = "ocr/ppocr.py"
"""The PP-OCR wrapper's code keys PP-OCR reads only: a change to how the second engine reads must not
throw away every Tesseract reading (a cold lab of 500 claims is most of an hour on 2 shared cores)."""


def _reader_code_hash() -> str:
    """Hash of the code that turns bytes into words: a fix there must invalidate old reads."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for f in sorted(root.glob("ocr/*.py")) + [root / "ingest.py", root / "read.py"]:
        if f.relative_to(root).as_posix() != _PPOCR_CODE:
            digest.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes())
    return digest.hexdigest()[:16]


@lru_cache(maxsize=1)
def _ppocr_code_hash() -> str:
    return _code_hash(Path(__file__).resolve().parent, (_PPOCR_CODE,))


_CHECKS_ROOTS = ("checks.py", "cascade.py", "integrity/checks.py", "extract/invoice.py", "decision.py", "claim.py",
                 "cache.py")
"""The modules the cached document checks run from (``verify._document_results``: the checks, the
integrity signals, what the invoices state, the records and the claim as keyed): their code and the
code of every ``pipeline`` module they import, found from the imports themselves (no list to keep)."""


@lru_cache(maxsize=1)
def _checks_code_hash() -> str:
    """Hash of the code the document checks run on (a fix there must invalidate cached checks); the data
    they read is keyed apart (``knowledge_hash("checks")``)."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for f in import_closure(_CHECKS_ROOTS, root):
        digest.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes())
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


_PER_CONFIG: dict[tuple[str, int], tuple[Config, str]] = {}


def _per_config(what: str, config: Config, make) -> str:
    """``make(config)`` once per config object (configs are frozen; dumping one per document is not free)."""
    hit = _PER_CONFIG.get((what, id(config)))
    if hit is not None and hit[0] is config:
        return hit[1]
    if len(_PER_CONFIG) > 256:
        _PER_CONFIG.clear()
    value = make(config)
    _PER_CONFIG[(what, id(config))] = (config, value)  # holding the config keeps its id from being reused
    return value


def _reading_json(config: Config) -> str:
    def make(c: Config) -> str:
        reading = {"engines": engine_versions(),
                   "reading": c.model_dump(include={"ingest", "ocr", "preprocess", "pdf", "barcodes"},
                                           exclude={"ingest": set(_CLAIM_LIMITS)})}
        if c.ocr.engine == "ppocr":  # its settings and models key its reads only
            from .ocr import ppocr

            reading["ppocr"] = {"settings": c.ppocr.model_dump(exclude={"intra_op_threads", "inter_op_threads"}),
                                "models": ppocr.model_version(), "code": _ppocr_code_hash()}
        return json.dumps(reading, sort_keys=True)
    return _per_config("reading", config, make)


_CLAIM_LIMITS = ("claim_max_bytes", "claim_max_depth", "claim_max_products", "claim_max_documents",
                 "claim_max_text_chars")
"""[ingest] limits on claim.json, not on reading a document: not part of a read's key."""


def known_digest(known: DocumentRead) -> str:
    """A digest of a first reading handed to the next engine (its read depends on it)."""
    body = json.dumps([_page_to_compact(p) for p in known.pages], separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def read_key(content_sha256: str, config: Config, *, languages: list[str], barcodes: bool, ocr: bool,
             known: str | None = None) -> str:
    """``known``: the digest of the first reading a region reading was given (``known_digest``)."""
    fields = {"format": _FORMAT, "doc": content_sha256, "languages": list(languages), "barcodes": barcodes, "ocr": ocr}
    if known is not None:
        fields["known"] = known
    payload = json.dumps(fields, sort_keys=True)
    return hashlib.sha256((payload + _reading_json(config)).encode()).hexdigest()


def _matching_json(config: Config) -> str:
    def make(c: Config) -> str:
        extra = {}
        if c.matching.retailer_aliases:  # an extra alias file: its content, not only its path
            from .matching.retailer import load_retailers

            extra = {"retailer_aliases": load_retailers(extra=c.matching.retailer_aliases).digest}
        if len(c.cascade.engines) > 1:  # the checks combine the second engine's readings: its models key them
            from .ocr import ppocr

            extra["ppocr"] = {"settings": c.ppocr.model_dump(exclude={"intra_op_threads", "inter_op_threads"}),
                              "models": ppocr.model_version(), "code": _ppocr_code_hash()}
        return json.dumps({"matching": c.matching.model_dump(), "integrity": c.integrity.model_dump(),
                           "cascade": c.cascade.model_dump(), "read_min_conf": c.duplicates.read_min_conf, **extra},
                          sort_keys=True)
    return _per_config("matching", config, make)


def checks_key(claim_json: str, read_keys: list[str], config: Config) -> str:
    """Key of a claim's document checks (and integrity signals): the claim as loaded, each document's
    read key (or error), the ``[matching]`` thresholds, ``[integrity]``, ``[cascade]`` (and, with a
    second engine, its settings and models), and the confidence a figure must
    be read with, the checks' code and data, and today's date (a claim without a submission time
    judges future dates against today)."""
    payload = json.dumps({"format": _FORMAT, "claim": claim_json, "reads": read_keys,
                          "today": dt.date.today().isoformat(), "code": _checks_code_hash(),
                          "knowledge": knowledge_hash(CHECKS)})
    return hashlib.sha256((payload + _matching_json(config)).encode()).hexdigest()


# ------------------------------------------------------------------------------ compact records

def _page_to_compact(p: Page) -> list:
    return [p.number, p.width, p.height, p.source, p.rotation, p.languages,
            [[[w.text, round(w.conf, 1), *w.bbox] for w in line.words] for line in p.lines],
            [[b.format, b.text, list(b.bbox) if b.bbox else None, b.engine, b.page] for b in p.barcodes]]


def _page_from_compact(d: list) -> Page:
    number, width, height, source, rotation, languages, lines, barcodes = d
    return Page(number, width, height, source,
                tuple(Line(tuple(Word(w[0], float(w[1]), (w[2], w[3], w[4], w[5])) for w in ws)) for ws in lines),
                tuple(Barcode(f, t, tuple(bb) if bb else None, e, pg) for f, t, bb, e, pg in barcodes),
                rotation, languages)


def _doc_to_body(doc: DocumentRead) -> dict:
    return {"name": doc.name, "kind": doc.kind, "sha256": doc.sha256, "pages": [_page_to_compact(p) for p in doc.pages]}


def _doc_from_body(body: dict) -> DocumentRead:
    return DocumentRead(body["name"], body["kind"], body["sha256"], tuple(_page_from_compact(p) for p in body["pages"]))


def reading_to_json(doc: DocumentRead) -> dict:
    """A reading as the cache keeps it (JSON-ready)."""
    return _doc_to_body(doc)


def reading_from_json(body: dict) -> DocumentRead:
    """``reading_to_json`` back; KeyError/TypeError/ValueError when it is not one."""
    return _doc_from_body(body)


def _error_to_body(exc: ClaimcheckError, name: str) -> dict:
    return {"error": {"type": type(exc).__name__, "code": exc.code, "message": exc.message, "name": name,
                      "details": json.loads(json.dumps(exc.details, default=str))}}


def _error_from_body(body: dict, name: str | None = None) -> ClaimcheckError:
    e = body["error"]
    cls = {"DocumentError": DocumentError, "EngineError": EngineError}.get(e["type"], ClaimcheckError)
    message = e["message"]
    if name and e.get("name") and name != e["name"]:
        message = message.replace(e["name"], name)  # the same bytes, named otherwise by this claim
    return cls(e["code"], message, **e.get("details", {}))


def _cacheable_error(exc: ClaimcheckError) -> bool:
    return isinstance(exc, DocumentError) or (isinstance(exc, EngineError) and exc.code in _CACHED_ENGINE_ERRORS)


def _atomic_write(path: Path, data: bytes) -> None:
    """Write to a temp file next to ``path`` and rename it into place: readers see all or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _sum(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=16).hexdigest()


class ReadCache:
    """A folder of read results (and values derived from reads); ``ReadCache(None)`` never hits."""

    def __init__(self, folder: str | Path | None):
        self.folder = Path(folder) if folder else None
        self.hits = self.misses = self.corrupt = 0

    # ---------------------------------------------------------------- entries: header line + body

    def _entry_path(self, kind: str, key: str) -> Path:
        return self.folder / kind / key[:2] / f"{key}.v{_FORMAT}"

    def _load(self, kind: str, key: str):
        """The body stored under (kind, key), or None; a damaged entry counts as corrupt."""
        if self.folder is None:
            return None
        try:
            raw = self._entry_path(kind, key).read_bytes()
        except FileNotFoundError:
            self.misses += 1
            return None
        except OSError:
            self.corrupt += 1
            self.misses += 1
            return None
        try:
            head, _, body = raw.partition(b"\n")
            header = json.loads(head)
            if header.get("format") != _FORMAT or header.get("key") != key or header.get("sum") != _sum(body):
                raise ValueError("header does not match the body")
            value = json.loads(body)
        except (ValueError, AttributeError):
            self.corrupt += 1
            self.misses += 1
            return None
        self.hits += 1
        return value

    def _store(self, kind: str, key: str, value) -> None:
        if self.folder is None:
            return
        body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        head = json.dumps({"format": _FORMAT, "key": key, "sum": _sum(body)}).encode()
        _atomic_write(self._entry_path(kind, key), head + b"\n" + body)

    # ---------------------------------------------------------------- reads

    def get_entry(self, key: str, name: str | None = None) -> DocumentRead | ClaimcheckError | None:
        """The read stored under ``key``: a DocumentRead, the error that read raised (its message
        naming the document ``name``), or None."""
        body = self._load("reads", key)
        if body is None:
            return None
        try:
            return _error_from_body(body, name) if "error" in body else _doc_from_body(body)
        except (KeyError, TypeError, ValueError):
            self.hits -= 1
            self.corrupt += 1
            self.misses += 1
            return None

    def get(self, key: str) -> DocumentRead | None:
        entry = self.get_entry(key)
        return entry if isinstance(entry, DocumentRead) else None

    def put(self, key: str, doc: DocumentRead | ClaimcheckError, name: str = "") -> None:
        """Keep a read, or the error a read raised (``name``: the document's name in its message)."""
        self._store("reads", key, _error_to_body(doc, name) if isinstance(doc, ClaimcheckError)
                    else _doc_to_body(doc))

    # ---------------------------------------------------------------- derived values

    def get_value(self, kind: str, key: str):
        """A derived value (JSON) stored under (kind, key), or None."""
        return self._load(kind, key)

    def put_value(self, kind: str, key: str, value) -> None:
        self._store(kind, key, value)

    def get_phash(self, sha256: str) -> str | None:
        """The perceptual hash stored for a document's bytes, or None."""
        from .imagehash import PHASH_VERSION

        value = self._load("phash", f"{sha256}-{PHASH_VERSION}")
        return value if isinstance(value, str) and len(value) == 64 else None

    def put_phash(self, sha256: str, value: str) -> None:
        from .imagehash import PHASH_VERSION

        self._store("phash", f"{sha256}-{PHASH_VERSION}", value)


class CachedReader:
    """read_document with a cache in front: same signature, same results and errors (the errors
    that belong to the document are remembered too; see the module docstring)."""

    def __init__(self, cache: ReadCache, read=None):
        self.cache = cache
        self._read = read
        self.last_keys: list[str] = []
        """Read keys served since the caller last cleared this (verify uses them to key its checks)."""

    @property
    def read(self):
        if self._read is None:
            from .read import read_document  # the engines' modules load on the first miss only

            self._read = read_document
        return self._read

    def __call__(self, path, name=None, *, languages, config: Config, barcodes=False, ocr=True,
                 known: DocumentRead | None = None) -> DocumentRead:
        extra = {} if known is None else {"known": known}
        try:
            digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        except OSError:
            self.last_keys.append("unread")
            return self.read(path, name, languages=languages, config=config, barcodes=barcodes, ocr=ocr, **extra)
        key = read_key(digest, config, languages=languages, barcodes=barcodes, ocr=ocr,
                       known=None if known is None else known_digest(known))
        self.last_keys.append(key)
        shown = name or str(path)
        hit = self.cache.get_entry(key, shown)
        if isinstance(hit, ClaimcheckError):
            raise hit
        if hit is not None:
            # the same bytes may be named differently by another claim
            return DocumentRead(shown, hit.kind, hit.sha256, hit.pages)
        try:
            doc = self.read(path, name, languages=languages, config=config, barcodes=barcodes, ocr=ocr, **extra)
        except ClaimcheckError as exc:
            if _cacheable_error(exc):
                self.cache.put(key, exc, shown)
            else:
                self.last_keys[-1] = "uncached-error"
            raise
        self.cache.put(key, doc)
        return doc
