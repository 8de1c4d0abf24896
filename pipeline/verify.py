"""The one orchestrator: claim -> read documents -> checks -> decision.

Every caller (CLI ``verify`` and ``batch``, the evaluation lab, Prefect flows)
goes through ``verify_claim``. It never raises for a bad claim or a bad upload:
those become a ``review``/``reject`` decision with a reason.

>>> # verify_claim("sample_invoices/C-000123").decision in ("approve", "review", "reject")
"""
from __future__ import annotations

import hashlib
import logging
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from .cascade import cascade_checks
from .checks import Read, recheck_retailer
from .claim import ID_MAX_CHARS, Claim, escape_unsafe, load_claim
from .config import Config, default_config
from .db import RareWords, open_store
from .decide import decide
from .decision import Check, Decision, Evidence
from .errors import ClaimcheckError, ClaimError, DocumentError
from .extract.facts import invoice_facts
from .extract.sellers import seller_line_to_dict, sold_by_lines
from .integrity.checks import integrity_checks
from .matching.retailer import is_shop_name
from .promotions import PROMOTION_CHECKS, ClaimStore, Terms, apply_promotion, load_promotions
from .promotions.rules import PER_PRODUCT_CHECKS as _PER_PRODUCT
from .promotions.rules import participant_key
from .promotions.store import ClaimIdConflict
from .records import DocumentRead

__all__ = ["verify_claim", "Reader", "PROMOTION_CHECKS", "unprocessable", "default_reader", "claim_id_guess",
           "internal_error"]

Reader = Callable[..., DocumentRead]
"""read_document's signature: (path, name, *, languages, config, barcodes) -> DocumentRead."""

_log = logging.getLogger(__name__)


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


def claim_id_guess(source, config: Config | None = None) -> str:
    """The claim_id of a claim that could not be loaded, as far as it can be read (else its folder's
    name), with any character a claim may not hold escaped: never raises, whatever the file holds."""
    from .claim import read_claim_json

    guess = None
    if isinstance(source, dict):
        guess = source.get("claim_id")
    else:
        path = Path(str(source))
        claim_file = path / "claim.json" if path.is_dir() else path
        try:
            data = read_claim_json(claim_file, (config or default_config()).ingest)
            if isinstance(data, dict):
                guess = data.get("claim_id")
        except (ClaimcheckError, OSError, ValueError):
            pass
        guess = guess if isinstance(guess, str) and guess else (claim_file.parent.name or None)
    return escape_unsafe(str(guess)) if guess not in (None, "") else "unknown"


def unprocessable(claim_id: str, error: ClaimcheckError, config: Config, extra: dict | None = None) -> Decision:
    """The decision for a claim that cannot be processed at all (its id printable, whatever it was)."""
    check = Check(name="invoice_readable", product=None, status="fail", score=0, reason=error.code,
                  detail=error.message)
    return decide(escape_unsafe(claim_id) or "unknown", [check], config, extra_reasons=[error.code],
                  extra={"error": error.to_dict(), **(extra or {})})


def internal_error(exc: BaseException) -> ClaimcheckError:
    """A bug or an exhausted machine met on one claim, as that claim's error (never the run's end)."""
    if isinstance(exc, MemoryError):
        return DocumentError("DOCUMENT_TOO_LARGE", "Reading this claim's documents needed more memory than "
                                                   "the machine could give.")
    return ClaimcheckError("INTERNAL_ERROR", f"{type(exc).__name__}: {exc}"[:2000])


def _sticker_config(config: Config) -> Config:
    # Stickers are sparse text, not paragraphs: Tesseract's sparse-text mode reads them better,
    # with only the preprocess steps that measured well on labels (see [ocr] in default.toml).
    return config.model_copy(update={
        "ocr": config.ocr.model_copy(update={"psm": config.ocr.sticker_psm}),
        "preprocess": config.preprocess.model_copy(update={"steps": list(config.ocr.sticker_reads[0])}),
    })


def default_reader(config: Config) -> Reader:
    """read_document behind the read cache when ``[cache].enabled``."""
    if not config.cache.enabled:
        from .read import read_document  # the engines' modules load only when something is read

        return read_document
    from .cache import CachedReader, ReadCache, default_cache_dir

    return CachedReader(ReadCache(config.cache.dir or default_cache_dir()))


def store_options(config: Config) -> dict:
    """``open_store`` options from the config: how near look-alike uploads are, when a word is rare at a shop."""
    return {"phash_max_distance": config.matching.invoice_phash_max_distance,
            "photo_phash_max_distance": config.duplicates.photo_phash_max_distance,
            "max_near": config.duplicates.max_near, "rare_words": RareWords.from_config(config.duplicates)}


def default_store(config: Config) -> ClaimStore | None:
    """The claim store of ``[store]``, or None when it is turned off."""
    if not config.store.enabled:
        return None
    return open_store(config.store.url or None, **store_options(config))


def _image_hashes(folder: Path, reads: list[Read], config: Config) -> dict[str, str]:
    """Upload name -> perceptual hash of its first page, turned as the reader turned it, for each
    image read (not PDFs); kept in the read cache by content hash and turn, so a re-run decodes
    no image again."""
    from .cache import ReadCache, default_cache_dir
    from .imagehash import phash_file

    cache = ReadCache(config.cache.dir or default_cache_dir()) if config.cache.enabled else None
    out = {}
    for name, doc in reads:
        if not isinstance(doc, DocumentRead) or doc.kind == "pdf":
            continue
        rotation = doc.pages[0].rotation if doc.pages else 0
        key = f"{doc.sha256}-r{rotation}" if rotation else doc.sha256
        value = cache.get_phash(key) if cache else None
        if value is None:
            value = phash_file(_document_path(folder, name), config.ingest, rotation=rotation)
            if value and cache:
                cache.put_phash(key, value)
        if value:
            out[name] = value
    return out


def _extracted(claim: Claim, invoices: list[Read], seen: Sequence[Read] = ()) -> dict:
    """What each readable invoice states (number, total, currency, items), for the reviewer, and
    the marketplace "sold by" lines of every reading of it (``sold_by``: the cascade's second
    reading may hold the line the first could not read; the marketplace rule looks at them all)."""
    out = {name: invoice_facts(doc, country=claim.country).summary().to_dict()
           for name, doc in invoices if isinstance(doc, DocumentRead) and doc.pages}
    for k, (name, doc) in enumerate([*invoices, *seen]):
        if name in out and isinstance(doc, DocumentRead) and doc.pages:
            lines = out[name].setdefault("sold_by", [])
            for s in invoice_facts(doc, country=claim.country).sellers(claim.purchase.retailer):
                if not any(kept["seller"] == s.seller for kept in lines):
                    lines.append(seller_line_to_dict(replace(s, again=k >= len(invoices))))
    return out


def _check_to_json(c: Check) -> list:
    ev = c.evidence
    return [c.name, c.product, c.status, c.score, c.expected, c.found,
            [ev.document, ev.page, list(ev.bbox) if ev.bbox else None, ev.source, ev.engine] if ev else None,
            c.reason, c.detail]


def _check_from_json(d: list) -> Check:
    name, product, status, score, expected, found, ev, reason, detail = d
    evidence = Evidence(ev[0], ev[1], tuple(ev[2]) if ev[2] else None, ev[3], *ev[4:5]) if ev else None
    return Check(name=name, product=product, status=status, score=score, expected=expected, found=found,
                 evidence=evidence, reason=reason, detail=detail)


def _document_results(claim: Claim, invoices: list[Read], photos: list[Read], config: Config,
                      reader, folder: Path | None = None, read_again=None
                      ) -> tuple[list[Check], dict, list[Read]]:
    """The document checks (over the reading cascade's readings), the integrity signals and what the
    invoices state. Behind a read cache they are kept too, keyed by the claim, each first read's key,
    ``[matching]``, ``[integrity]`` and ``[cascade]`` (``pipeline.cache.checks_key``): a re-run under
    new decision cut-offs, terms or policy recomputes only the promotion checks and the decision, and
    reads nothing, not even with the cascade's second engine. Third: the second readings the cascade
    made (kept with the checks)."""
    cache = key = None
    keys = list(reader.last_keys) if reader is not None else []
    if keys and getattr(reader.cache, "folder", None) is not None and all(len(k) == 64 for k in keys):
        from .cache import checks_key, reading_from_json, reading_to_json

        cache, key = reader.cache, checks_key(claim.model_dump_json(), keys, config)
        hit = cache.get_value("checks", key)
        if hit is not None:
            try:
                # the invoices' second readings as the cascade made them (a region reading merged with
                # the lines handed to it, keyed by what the first checks contested): an entry written
                # before they were kept is recomputed below (its readings are cached: nothing is read)
                later = [(name, reading_from_json(body)) for name, body in hit["later"]]
                return [_check_from_json(c) for c in hit["checks"]], hit["extracted"], later
            except (KeyError, TypeError, ValueError):
                pass  # recomputed and overwritten below
    seen: list[Read] = []
    checks, _ = cascade_checks(claim, invoices, photos, config, read_again, _sticker_config(config), seen)
    checks += integrity_checks(claim, folder, invoices, photos, checks, config)
    extracted = _extracted(claim, invoices, seen)
    if key is not None:
        cache.put_value("checks", key, {"checks": [_check_to_json(c) for c in checks], "extracted": extracted,
                                        "later": [[name, reading_to_json(doc)] for name, doc in seen
                                                  if isinstance(doc, DocumentRead)]})
    return checks, extracted, seen


def _read_again(folder: Path, reader: Reader, languages):
    """The cascade's second reading of a document of the claim, through the same (cached) reader."""
    def read_again(name: str, config: Config, barcodes: bool, known: DocumentRead | None = None) -> DocumentRead:
        keys = getattr(reader, "last_keys", None)
        kept = list(keys) if isinstance(keys, list) else None
        extra = {} if known is None else {"known": known}  # the first reading, for a region reading
        try:
            return reader(_document_path(folder, name), name, languages=languages, config=config, barcodes=barcodes,
                          **extra)
        finally:
            if kept is not None:
                reader.last_keys = kept  # the checks are keyed by the first readings (and [cascade])
    return read_again


def _grouped(reads: Sequence[Read]) -> dict[str, list[DocumentRead]]:
    out: dict[str, list[DocumentRead]] = {}
    for name, doc in reads:
        if isinstance(doc, DocumentRead):
            out.setdefault(name, []).append(doc)
    return out


_KNOWN_SHOPS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
"""Per open claim store: the shop names of its approved claims read so far, and the marks to read on from."""


def known_shops(store) -> list[str]:
    """The shops of the store's approved claims (``SqlClaimStore.approved_retailers``) that can be a
    shop's name; read incrementally while the store stays open (a batch worker's does)."""
    read = getattr(store, "approved_retailers", None)
    if read is None:
        return []
    names, marks = _KNOWN_SHOPS.get(store, ([], (0, 0)))
    try:
        new, marks = read(marks)
    except ClaimcheckError as exc:  # the claim is still checked, only without the store's shops
        _log.warning("known shops not read from the claim store: %s", exc)
        return names
    if new:
        names = list(dict.fromkeys(names + [n for n in new if is_shop_name(n)]))
    _KNOWN_SHOPS[store] = (names, marks)
    return names


def _no_promotion_checks(claim: Claim) -> list[Check]:
    checks = []
    why = "no promotion named"
    for name in PROMOTION_CHECKS:
        if name in _PER_PRODUCT:
            checks += [Check(name=name, product=i, status="skipped", score=0, detail=why)
                       for i in range(len(claim.product_list))]
        else:
            checks.append(Check(name=name, product=None, status="skipped", score=0, detail=why))
    return checks


def _claim_dir(source, folder: Path | None) -> str | None:
    """The claim folder's absolute path (also for a claim that could not be loaded), if on disk."""
    if folder is None and isinstance(source, str | Path):
        path = Path(source)
        folder = path if path.is_dir() else path.parent
    return str(folder.resolve()) if folder is not None else None


def _save_decision(store, decision: Decision, claim_dir: str | None, claim_path: str | None) -> None:
    """Keep this decision run in the store (``SqlClaimStore.save_decision``), with where the claim is."""
    save = getattr(store, "save_decision", None)
    if save is None:
        return
    record = decision.to_dict()
    if isinstance(record.get("conflict"), dict):  # kept beside the claim that holds the id, not over it
        record["claim_id"] = record["conflict"]["stored_as"]
    record["claim_dir"] = claim_dir
    if claim_path is not None:
        record["claim_path"] = claim_path
    try:
        save(record)
    except (ClaimcheckError, ValueError) as exc:  # the decision stands; only its history is incomplete
        _log.warning("claim %s: decision not saved to the claim store: %s", decision.claim_id, exc)


def _held_by_another(claim: Claim, own_dir: str | None, store) -> ClaimIdConflict | None:
    """A conflict when the store knows ``claim.claim_id`` from another folder or claimant."""
    look_up = getattr(store, "claim_holder", None)
    if look_up is None:
        return None
    try:
        holder = look_up(claim.claim_id)
    except ClaimcheckError:  # the store is failing: the promotion checks say so, if they need it
        return None
    why = holder.conflicts_with(own_dir, participant_key(claim)) if holder is not None else None
    return ClaimIdConflict(claim.claim_id, holder, why) if why else None


def conflict_id(claim_id: str, own_dir: str | None) -> str:
    """The id a conflicting claim's decisions are kept under in the store, so that they never take
    the place of the claim that holds ``claim_id`` (in the reviewer's queue, in labels)."""
    digest = hashlib.sha256((own_dir or "").encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return f"{claim_id[:ID_MAX_CHARS - 20]} [conflict {digest}]"


def _conflict_decision(claim: Claim, checks: list[Check], extracted: dict, conflict: ClaimIdConflict,
                       own_dir: str | None, config: Config, started: float) -> Decision:
    why = f"the claim_id is held by {conflict.why}"
    promotion = [Check(name=c.name, product=c.product, status="skipped", score=0, detail=why)
                 for c in _no_promotion_checks(claim)]
    elapsed_ms = round((time.perf_counter() - started) * 1000)
    return decide(claim.claim_id, checks + promotion, config, extra_reasons=["CLAIM_ID_CONFLICT"], extra={
        "error": conflict.to_dict(),
        "conflict": {"claim_id": claim.claim_id, "held_by": conflict.holder.claim_dir, "why": conflict.why,
                     "stored_as": conflict_id(claim.claim_id, own_dir)},
        "extracted": extracted, "timing_ms": elapsed_ms})


def verify_claim(source: str | Path | dict | Claim, config: Config | None = None, *,
                 base_dir: str | Path | None = None, reader: Reader | None = None,
                 promotions: dict[str, Terms] | None = None, store: ClaimStore | None | bool = True,
                 claim_path: str | None = None) -> Decision:
    """Verify one claim (a folder, a claim.json path, a dict or a Claim) and decide.

    ``promotions``: loaded terms (default: ``[promotions].dir``). ``store``: the claims seen before
    (True: the ``[store]`` of the config; None/False: no duplicate or limit checks). With a store,
    every decision run is also saved in it (``save_decision``) with ``claim_dir`` (the claim folder's
    absolute path) and ``claim_path`` (as given: a batch's path relative to its root).
    """
    config = config or default_config()
    own_store = store is True
    claim_store, store_error = None, None
    if own_store:
        try:
            claim_store = default_store(config)
        except ClaimcheckError as exc:  # matters only to a claim that names a promotion
            store_error = exc
    else:
        claim_store = store or None
    try:
        try:
            decision, folder = _verify(source, config, base_dir, reader or default_reader(config), promotions,
                                       claim_store, store_error)
        except Exception as exc:  # noqa: BLE001 - verify always gives a decision, INTERNAL_ERROR at worst
            _log.exception("claim %s: verification failed", claim_id_guess(source, config))
            decision, folder = unprocessable(claim_id_guess(source, config), internal_error(exc), config), None
        if claim_store is not None:
            _save_decision(claim_store, decision, _claim_dir(source, folder), claim_path)
        return decision
    finally:
        if own_store and claim_store is not None:
            claim_store.close()


def _verify(source, config: Config, base_dir, reader: Reader, promotions: dict[str, Terms] | None,
            claim_store: ClaimStore | None, store_error: ClaimcheckError | None) -> tuple[Decision, Path | None]:
    started = time.perf_counter()
    try:
        claim, folder = load_claim(source, base_dir, config.ingest)
    except ClaimError as exc:
        return unprocessable(claim_id_guess(source, config), exc, config), None
    languages = config.languages_for(claim.country)
    tracked = reader if isinstance(getattr(reader, "last_keys", None), list) else None
    if tracked is not None:
        tracked.last_keys = []
    invoices = _read_all(claim.documents.invoices, folder, reader, languages=languages, config=config,
                         barcodes=False)
    photos = _read_all(claim.documents.serial_photos or [], folder, reader, languages=languages,
                       config=_sticker_config(config), barcodes=True)
    checks, extracted, seen = _document_results(claim, invoices, photos, config, tracked, folder,
                                          _read_again(folder, reader, languages))
    if claim_store is not None and any(c.name == "retailer" and c.reason == "RETAILER_NOT_FOUND" for c in checks):
        checks = recheck_retailer(checks, claim, invoices, config, known_shops(claim_store))
    own_dir = None if isinstance(source, dict | Claim) and base_dir is None else str(folder.resolve())
    conflict = _held_by_another(claim, own_dir, claim_store)
    if conflict is not None:
        return _conflict_decision(claim, checks, extracted, conflict, own_dir, config, started), folder
    if not claim.promotion_id:
        checks += _no_promotion_checks(claim)
        elapsed_ms = round((time.perf_counter() - started) * 1000)
        return decide(claim.claim_id, checks, config, extra={"extracted": extracted, "timing_ms": elapsed_ms}), folder
    try:
        terms = (promotions if promotions is not None else load_promotions(config.promotions.dir or None))
        if store_error is not None:
            raise store_error
    except ClaimcheckError as exc:
        return unprocessable(claim.claim_id, exc, config), folder
    hashes = _image_hashes(folder, invoices + photos, config) if claim_store is not None else None
    try:
        # the cascade's second readings: the duplicate rules, the product's condition and the terms'
        # required invoice number look at them too, with or without a claim store
        later = _grouped(seen)
        outcome = apply_promotion(claim, invoices, checks, terms=terms.get(claim.promotion_id), store=claim_store,
                                  config=config, photos=photos, image_hashes=hashes, claim_dir=own_dir,
                                  sold_by=sold_by_lines(extracted), later_reads=later)
    except ClaimIdConflict as exc:  # taken by another claim between the look-up above and now
        return _conflict_decision(claim, checks, extracted, exc, own_dir, config, started), folder
    elapsed_ms = round((time.perf_counter() - started) * 1000)
    decision = decide(claim.claim_id, checks + list(outcome.checks), config, reward=outcome.reward,
                      extra={"promotion": outcome.facts, "extracted": extracted, "timing_ms": elapsed_ms})
    if claim_store is not None and decision.decision == "reject":
        # A rejected claim must not block the claimant's (or anyone's) next, valid one.
        claim_store.release_claim(claim.claim_id)
    return decision, folder
