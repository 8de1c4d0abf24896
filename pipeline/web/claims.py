"""Claim folders as the reviewer workspace sees them: claim.json, its documents (only those it
lists, only inside its folder), pages rendered as the pipeline read them, and verifying the
claims of a folder that the store has no decision for yet.
"""
from __future__ import annotations

import io
import json
import sys
import threading
from collections import OrderedDict
from pathlib import Path

from ..config import Config

__all__ = ["load_claim_json", "document_names", "resolve_document", "page_count", "render_page_png",
           "verify_new_claims", "typed_vs_read", "media_type", "integrity_rows", "linked_claims"]

_MEDIA = {"jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp",
          "tiff": "image/tiff", "bmp": "image/bmp", "heic": "image/heic", "pdf": "application/pdf"}


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
    """How many pages the pipeline reads in the document (at least 1)."""
    from ..ingest import load_upload

    try:
        upload = load_upload(path, path.name, config.ingest)
    except Exception:  # noqa: BLE001 - an unreadable document still gets one (broken) page
        return 1
    if upload.kind == "pdf":
        import pypdfium2 as pdfium

        try:
            doc = pdfium.PdfDocument(upload.data)
        except pdfium.PdfiumError:
            return 1
        try:
            return max(1, min(len(doc), config.ingest.max_pages))
        finally:
            doc.close()
    if upload.kind == "tiff":
        from PIL import Image

        try:
            with Image.open(io.BytesIO(upload.data)) as im:
                return max(1, min(getattr(im, "n_frames", 1), config.ingest.max_pages))
        except OSError:
            return 1
    return 1


_CACHE: OrderedDict[tuple, bytes] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 32


def render_page_png(path: Path, page: int, config: Config) -> bytes:
    """Page ``page`` (1-based) as PNG, in the pixels the pipeline read: PDFs rendered at
    ``[ingest].pdf_dpi`` by the pipeline's own renderer, images with EXIF orientation applied.
    Raises DocumentError (or IndexError for a page that is not there)."""
    from PIL import Image

    from ..ingest import decode_image_pages, load_upload
    from ..ocr import pdf as pdf_engine

    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size, page, config.ingest.pdf_dpi, config.ingest.max_pixels)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    upload = load_upload(path, path.name, config.ingest)
    if upload.kind == "pdf":
        with pdf_engine.open_pdf(upload.data, upload.name, config.ingest) as (_plumber, rendered):
            if not 1 <= page <= len(rendered):
                raise IndexError(page)
            image = pdf_engine.render_page(rendered, page - 1, dpi=config.ingest.pdf_dpi,
                                           max_pixels=config.ingest.max_pixels, name=upload.name)
    else:
        pages = decode_image_pages(upload, config.ingest)
        if not 1 <= page <= len(pages):
            raise IndexError(page)
        image = pages[page - 1]
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG", compress_level=1)
    data = buf.getvalue()
    with _CACHE_LOCK:
        _CACHE[key] = data
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return data


def verify_new_claims(root: str | Path, store, config: Config, *, progress: bool = True) -> int:
    """Verify every claim below ``root`` whose folder no stored decision names yet and save each
    decision with ``claim_dir`` (the folder's absolute path); returns how many were verified.
    Duplicates and claim limits are judged against ``store`` itself."""
    from ..claim import find_claim_files
    from ..errors import ClaimcheckError
    from ..verify import unprocessable, verify_claim
    from .queries import known_claim_dirs

    done = known_claim_dirs(store.engine)
    todo = [f for f in find_claim_files(root) if str(f.parent.resolve()) not in done]
    for i, claim_file in enumerate(todo, 1):
        folder = claim_file.parent.resolve()
        try:
            decision = verify_claim(claim_file, config, store=store)  # saves the run, with claim_dir
        except ClaimcheckError as exc:  # e.g. the store itself failed for this claim
            decision = unprocessable(folder.name, exc, config)
            store.save_decision({**decision.to_dict(), "claim_dir": str(folder)})
        if progress:
            print(f"[{i}/{len(todo)}] {decision.claim_id}: {decision.decision}", file=sys.stderr, flush=True)
    return len(todo)


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
