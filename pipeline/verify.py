"""The one orchestrator: claim -> read documents -> checks -> decision.

Every caller (CLI ``verify`` and ``batch``, the evaluation lab, Prefect flows)
goes through ``verify_claim``. It never raises for a bad claim or a bad upload:
those become a ``review``/``reject`` decision with a reason.

>>> # verify_claim("sample_invoices/C-000123").decision in ("approve", "review", "reject")
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from .checks import Read, document_checks
from .claim import Claim, load_claim
from .config import Config, default_config
from .decide import decide
from .decision import Check, Decision
from .errors import ClaimcheckError, ClaimError, DocumentError
from .extract.invoice import extract_invoice
from .promotions import PROMOTION_CHECKS, ClaimStore, Terms, apply_promotion, load_promotions, open_store
from .read import read_document
from .records import DocumentRead

__all__ = ["verify_claim", "Reader", "PROMOTION_CHECKS", "unprocessable", "default_reader"]

Reader = Callable[..., DocumentRead]
"""read_document's signature: (path, name, *, languages, config, barcodes) -> DocumentRead."""

_PER_PRODUCT = ("product_eligible", "duplicate_serial")


def _document_path(folder: Path, name: str) -> Path:
    """The document inside the claim folder; a name that escapes it is refused."""
    path = (folder / name).resolve()
    if Path(name).is_absolute() or not path.is_relative_to(folder.resolve()):
        raise DocumentError("DOCUMENT_MISSING", f"The document {name} is outside the claim's folder.")
    return path


def _read_all(names, folder: Path, reader: Reader, *, languages, config: Config, barcodes: bool) -> list[Read]:
    out: list[Read] = []
    for name in names:
        try:
            out.append((name, reader(_document_path(folder, name), name, languages=languages, config=config,
                                     barcodes=barcodes)))
        except ClaimcheckError as exc:
            out.append((name, exc))
    return out


def _claim_id_guess(source) -> str:
    if isinstance(source, dict):
        return str(source.get("claim_id") or "unknown")
    path = Path(str(source))
    claim_file = path / "claim.json" if path.is_dir() else path
    try:
        data = json.loads(claim_file.read_text(encoding="utf-8"))
        if isinstance(data, dict) and data.get("claim_id"):
            return str(data["claim_id"])
    except (OSError, ValueError):
        pass
    return claim_file.parent.name or "unknown"


def unprocessable(claim_id: str, error: ClaimcheckError, config: Config, extra: dict | None = None) -> Decision:
    """The decision for a claim that cannot be processed at all."""
    check = Check("invoice_readable", None, "fail", 0, None, None, None, error.code, error.message)
    return decide(claim_id, [check], config, extra_reasons=[error.code],
                  extra={"error": error.to_dict(), **(extra or {})})


def _sticker_config(config: Config) -> Config:
    # Stickers are sparse text, not paragraphs: Tesseract's sparse-text mode reads them better.
    return config.model_copy(update={"ocr": config.ocr.model_copy(update={"psm": config.ocr.sticker_psm})})


def default_reader(config: Config) -> Reader:
    """read_document behind the read cache when ``[cache].enabled``."""
    if not config.cache.enabled:
        return read_document
    from .cache import CachedReader, ReadCache, default_cache_dir

    return CachedReader(ReadCache(config.cache.dir or default_cache_dir()))


def default_store(config: Config) -> ClaimStore | None:
    """The claim store of ``[store]``, or None when it is turned off."""
    return open_store(config.store.url or None) if config.store.enabled else None


def _extracted(claim: Claim, invoices: list[Read]) -> dict:
    """What each readable invoice states (number, total, currency, items), for the reviewer."""
    return {name: extract_invoice(doc.pages, claim.country).to_dict()
            for name, doc in invoices if isinstance(doc, DocumentRead) and doc.pages}


def _no_promotion_checks(claim: Claim) -> list[Check]:
    checks = []
    why = "no promotion named"
    for name in PROMOTION_CHECKS:
        if name in _PER_PRODUCT:
            checks += [Check(name, i, "skipped", 0, None, None, None, None, why)
                       for i in range(len(claim.product_list))]
        else:
            checks.append(Check(name, None, "skipped", 0, None, None, None, None, why))
    return checks


def verify_claim(source: str | Path | dict | Claim, config: Config | None = None, *,
                 base_dir: str | Path | None = None, reader: Reader | None = None,
                 promotions: dict[str, Terms] | None = None, store: ClaimStore | None | bool = True) -> Decision:
    """Verify one claim (a folder, a claim.json path, a dict or a Claim) and decide.

    ``promotions``: loaded terms (default: ``[promotions].dir``). ``store``: the claims seen before
    (True: the ``[store]`` of the config; None/False: no duplicate or limit checks).
    """
    config = config or default_config()
    reader = reader or default_reader(config)
    started = time.perf_counter()
    try:
        claim, folder = load_claim(source, base_dir)
    except ClaimError as exc:
        return unprocessable(_claim_id_guess(source), exc, config)
    languages = config.languages_for(claim.country)
    invoices = _read_all(claim.documents.invoices, folder, reader, languages=languages, config=config,
                         barcodes=False)
    photos = _read_all(claim.documents.serial_photos or [], folder, reader, languages=languages,
                       config=_sticker_config(config), barcodes=True)
    checks = document_checks(claim, invoices, photos, config)
    extracted = _extracted(claim, invoices)
    if not claim.promotion_id:
        checks += _no_promotion_checks(claim)
        elapsed_ms = round((time.perf_counter() - started) * 1000)
        return decide(claim.claim_id, checks, config, extra={"extracted": extracted, "timing_ms": elapsed_ms})
    try:
        terms = (promotions if promotions is not None else load_promotions(config.promotions.dir or None))
        own_store = store is True
        claim_store = default_store(config) if own_store else (store or None)
    except ClaimcheckError as exc:
        return unprocessable(claim.claim_id, exc, config)
    try:
        outcome = apply_promotion(claim, invoices, checks, terms=terms.get(claim.promotion_id), store=claim_store,
                                  config=config)
        elapsed_ms = round((time.perf_counter() - started) * 1000)
        decision = decide(claim.claim_id, checks + list(outcome.checks), config, reward=outcome.reward,
                          extra={"promotion": outcome.facts, "extracted": extracted, "timing_ms": elapsed_ms})
        if claim_store is not None and decision.decision == "reject":
            # A rejected claim must not block the claimant's (or anyone's) next, valid one.
            claim_store.release_claim(claim.claim_id)
        return decision
    finally:
        if own_store and claim_store is not None:
            claim_store.close()
