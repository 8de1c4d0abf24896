"""Claim folders as the reviewer workspace sees them: claim.json, its documents (only those it
lists, only inside its folder), pages rendered as the pipeline read them, and verifying the
claims of a folder that the store has no decision for yet.
"""
from __future__ import annotations

import base64
import io
import json
import re
import sys
import threading
from collections import OrderedDict
from pathlib import Path

from ..config import Config

__all__ = ["load_claim_json", "document_names", "resolve_document", "page_count", "render_page_png",
           "verify_new_claims", "typed_vs_read", "media_type", "url_id", "from_url_id", "claim_href", "shown",
           "integrity_rows", "linked_claims"]

_MEDIA = {"jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp",
          "tiff": "image/tiff", "bmp": "image/bmp", "heic": "image/heic", "pdf": "application/pdf"}


_PLAIN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


def url_id(claim_id: str) -> str:
    """The claim_id as one URL path segment: as it is when plain (letters, digits, '.', '_', '-'),
    else '~' and its UTF-8 in base64url, so a claim_id with '/', '?', '%', '..' or anything
    else still routes to its claim.

    >>> url_id("C-000123"), url_id("a/b"), from_url_id(url_id("a/b"))
    ('C-000123', '~YS9i', 'a/b')
    """
    if _PLAIN_ID.match(claim_id):
        return claim_id
    data = claim_id.encode("utf-8", "surrogatepass")
    return "~" + base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def from_url_id(segment: str) -> str:
    """The claim_id a ``url_id`` segment stands for (a segment that is not one is taken as it is)."""
    if not segment.startswith("~"):
        return segment
    try:
        raw = base64.urlsafe_b64decode(segment[1:] + "=" * (-len(segment[1:]) % 4))
        return raw.decode("utf-8", "surrogatepass")
    except (ValueError, UnicodeDecodeError):
        return segment


def claim_href(claim_id: str) -> str:
    return "/claims/" + url_id(claim_id)


def shown(text: str) -> str:
    """Text as a reviewer may see it: bidirectional and other control characters (which would
    show 'C-1exe.png' for what is stored as 'C-1', U+202E, 'gnp.exe') written as visible escapes."""
    from ..claim import escape_unsafe

    return escape_unsafe(text, limit=None)


def load_claim_json(claim_dir: str | Path | None) -> dict | None:
    """The claim.json of a claim folder, or None (no folder, unreadable, not an object)."""
    if not claim_dir:
        return None
    try:
        data = json.loads((Path(claim_dir) / "claim.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def document_names(claim: dict | None) -> list[str]:
    """The invoices then the serial photos the claim lists, each once."""
    docs = (claim or {}).get("documents") or {}
    names: list[str] = []
    for key in ("invoices", "serial_photos"):
        for name in docs.get(key) or []:
            if isinstance(name, str) and name and name not in names:
                names.append(name)
    return names


def resolve_document(claim_dir: str | Path | None, claim: dict | None, name: str) -> Path | None:
    """The file for ``name`` if the claim lists it and it resolves (symlinks followed) to a regular
    file inside the claim folder; otherwise None."""
    if not claim_dir or name not in document_names(claim):
        return None
    if "\x00" in name or Path(name).is_absolute():
        return None
    folder = Path(claim_dir).resolve()
    try:
        path = (folder / name).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not path.is_relative_to(folder) or not path.is_file():
        return None
    return path


def media_type(path: Path) -> str | None:
    """The served type from the file's bytes (never from its name); None when it is not a document."""
    from ..ingest import sniff_type

    with path.open("rb") as f:
        return _MEDIA.get(sniff_type(f.read(1024)) or "")


def page_count(path: Path, config: Config) -> int:
    """How many pages the pipeline reads in the document (at least 1), from its headers: nothing
    is decoded, and a PDF's streams are measured first (``check_streams``)."""
    from ..errors import ClaimcheckError
    from ..ingest import image_page_count, load_upload

    try:
        upload = load_upload(path, path.name, config.ingest)
        if upload.kind != "pdf":
            return max(1, min(image_page_count(upload, config.ingest), config.ingest.max_pages))
        import pypdfium2 as pdfium

        from ..ocr.pdf import check_streams

        check_streams(upload.data, upload.name, config.ingest)
        doc = pdfium.PdfDocument(upload.data)
    except (ClaimcheckError, OSError, ValueError, RuntimeError):  # an unreadable document: one (broken) page
        return 1
    try:
        return max(1, min(len(doc), config.ingest.max_pages))
    finally:
        doc.close()


class _PageCache:
    """Rendered pages (PNG) by (file, version, page, rendering settings), least recently used out
    first, at most ``max_bytes``; at most ``workers`` pages rendered at once, and a page asked for
    twice while it renders is rendered once."""

    def __init__(self) -> None:
        self.items: OrderedDict[tuple, bytes] = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()
        self.rendering: dict[tuple, threading.Lock] = {}
        self.slots: threading.BoundedSemaphore | None = None
        self.slots_n = 0

    def get(self, key: tuple) -> bytes | None:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        return None

    def put(self, key: tuple, data: bytes, max_bytes: int) -> None:
        with self.lock:
            if key in self.items or len(data) > max_bytes:
                return
            self.items[key] = data
            self.size += len(data)
            while self.size > max_bytes:
                _, old = self.items.popitem(last=False)
                self.size -= len(old)

    def render(self, key: tuple, make, *, workers: int, max_bytes: int) -> bytes:
        hit = self.get(key)
        if hit is not None:
            return hit
        with self.lock:
            if self.slots is None or self.slots_n != workers:
                self.slots, self.slots_n = threading.BoundedSemaphore(workers), workers
            mine = self.rendering.setdefault(key, threading.Lock())
            slots = self.slots
        with mine:  # the same page asked for twice: the second waits for the first
            hit = self.get(key)
            if hit is not None:
                return hit
            with slots:
                data = make()
            self.put(key, data, max_bytes)
        with self.lock:
            self.rendering.pop(key, None)
        return data


_PAGES = _PageCache()


def render_page_png(path: Path, page: int, config: Config) -> bytes:
    """Page ``page`` (1-based) as PNG, in the pixels the pipeline read: PDFs rendered at
    ``[ingest].pdf_dpi`` by the pipeline's own renderer, images with EXIF orientation applied.
    Only that page is decoded (one frame of a multi-page TIFF), at most ``[web].render_workers``
    at once, and kept in a cache of ``[web].render_cache_mb``. Call it off the event loop.
    Raises DocumentError (or IndexError for a page that is not there)."""
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size, page, config.ingest.pdf_dpi, config.ingest.max_pixels)
    return _PAGES.render(key, lambda: _render(path, page, config), workers=config.web.render_workers,
                         max_bytes=config.web.render_cache_mb * 1024 * 1024)


def _render(path: Path, page: int, config: Config) -> bytes:
    from PIL import Image

    from ..ingest import decode_image_page, load_upload
    from ..ocr import pdf as pdf_engine

    upload = load_upload(path, path.name, config.ingest)
    if upload.kind == "pdf":
        with pdf_engine.open_pdf(upload.data, upload.name, config.ingest) as (_plumber, rendered):
            if not 1 <= page <= len(rendered):
                raise IndexError(page)
            image = pdf_engine.render_page(rendered, page - 1, dpi=config.ingest.pdf_dpi,
                                           max_pixels=config.ingest.max_pixels, name=upload.name)
    else:
        image = decode_image_page(upload, page, config.ingest)
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def verify_new_claims(root: str | Path, store, config: Config, *, progress: bool = True,
                      workers: int | None = None) -> int:
    """Verify every claim below ``root`` whose folder no stored decision names yet and save each
    decision with ``claim_dir`` (the folder's absolute path); returns how many were verified.
    Duplicates and claim limits are judged against ``store`` itself. Each claim runs in a watched
    worker (``pipeline.pool``: the ``[batch]`` time and memory limits), so no claim keeps the
    workspace from starting; a store in memory (not shareable with workers) is verified here."""
    from ..claim import find_claim_files
    from .queries import known_claim_dirs

    done = known_claim_dirs(store.engine)
    todo = [f for f in find_claim_files(root) if str(f.parent.resolve()) not in done]
    if not todo:
        return 0
    url = store.engine.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        _verify_here(todo, store, config, progress)
        return len(todo)
    import os
    from concurrent.futures import as_completed

    from ..pool import ClaimPool

    config = config.model_copy(update={"store": config.store.model_copy(update={
        "enabled": True, "url": url.render_as_string(hide_password=False)})})
    base = Path(root)
    with ClaimPool(min(len(todo), workers or os.cpu_count() or 1), config) as pool:
        futures = [pool.submit(str(f), str(f.relative_to(base))) for f in todo]  # each saves its decision
        for i, fut in enumerate(as_completed(futures), 1):
            result = fut.result()
            if progress:
                print(f"[{i}/{len(todo)}] {result['claim_id']}: {result['decision']}", file=sys.stderr, flush=True)
    return len(todo)


def _verify_here(todo: list[Path], store, config: Config, progress: bool) -> None:
    from ..errors import ClaimcheckError
    from ..verify import unprocessable, verify_claim

    for i, claim_file in enumerate(todo, 1):
        folder = claim_file.parent.resolve()
        try:
            decision = verify_claim(claim_file, config, store=store)  # saves the run, with claim_dir
        except ClaimcheckError as exc:  # e.g. the store itself failed for this claim
            decision = unprocessable(folder.name, exc, config)
            store.save_decision({**decision.to_dict(), "claim_dir": str(folder)})
        if progress:
            print(f"[{i}/{len(todo)}] {decision.claim_id}: {decision.decision}", file=sys.stderr, flush=True)


_TYPED = (("purchase_date", None, "purchase date"), ("retailer", None, "retailer"))
_PER_PRODUCT = (("product_on_invoice", "model", "model"), ("serial_number", "serial", "serial"),
                ("chk_code", "chk", "CHK code"))


def typed_vs_read(claim: dict | None, checks: list[dict]) -> list[dict]:
    """Rows of (field, what the claimant typed, what was read, status, evidence) for the reviewer."""
    claim = claim or {}
    purchase = claim.get("purchase") or {}
    by_key = {(c.get("name"), c.get("product")): c for c in checks if isinstance(c, dict)}
    rows = []
    typed = {"purchase_date": purchase.get("date"), "retailer": purchase.get("retailer")}
    for name, _field, label in _TYPED:
        check = by_key.get((name, None)) or {}
        rows.append({"field": label, "typed": typed.get(name), "read": check.get("found"),
                     "status": check.get("status"), "evidence": check.get("evidence")})
    for i, product in enumerate(claim.get("products") or []):
        if not isinstance(product, dict):
            continue
        for name, key, label in _PER_PRODUCT:
            check = by_key.get((name, i)) or {}
            if product.get(key) is None and not check.get("found"):
                continue
            rows.append({"field": f"product {i + 1} {label}", "typed": product.get(key), "read": check.get("found"),
                         "status": check.get("status"), "evidence": check.get("evidence")})
    return rows


def integrity_rows(checks: list[dict]) -> list[dict]:
    """The integrity signals among a decision's checks (``pipeline.integrity.INTEGRITY_CHECKS``), those
    that found something first, each as the check row (with its evidence and box) it is."""
    from ..integrity import INTEGRITY_CHECKS

    rows = [c for c in checks if c.get("name") in INTEGRITY_CHECKS and c.get("status") != "skipped"]
    return sorted(rows, key=lambda c: c.get("status") == "pass")


def linked_claims(store, claim_id: str) -> list[dict]:
    """Claims a duplicate rule put next to this one, either way: the other claim, which check, why."""
    links_for = getattr(store, "links_for", None)
    if links_for is None:
        return []
    out = []
    for link in links_for(claim_id):
        other = link.other_claim_id if link.claim_id == claim_id else link.claim_id
        out.append({"other": other, "check": link.check, "reason": link.reason, "detail": link.detail,
                    "made_by": "this claim" if link.claim_id == claim_id else other})
    return out
