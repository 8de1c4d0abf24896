"""The reading cascade: Tesseract reads every document; the next engine of ``[cascade].engines``
reads again only the documents whose first reading left a claimed field unproven.

Policy (``[cascade]`` in default.toml):

- escalate: the invoices are read again when one of ``escalate_checks`` read from an invoice
  (purchase_date, retailer, product_on_invoice) is neither ``pass`` nor ``skipped``, when the
  invoice was not readable, or when an invoice read fewer than ``escalate_below_chars`` characters;
  the serial photos when serial_number or chk_code is neither. A document whose pages all have a
  PDF text layer is never read again (there is nothing for OCR to do better), so clean PDFs and
  invoices Tesseract proves pay nothing for the second engine.
- combine, check by check: a field the first engine proved stays proved (the second engine was
  called for the fields left unproven, and its misreading of a proved field must not send a claim
  to review); a field the first left unproven passes when the second proves it, unless the first
  read a confident contradiction (its ``fail`` against the second's pass is ``uncertain``: the
  readings disagree, a person looks; a pass there would let a near-miss model through on an engine
  dropping the tier word the other read). A ``fail`` stands only
  when every engine that read the document fails it (each check's own rules already ask for the
  contradicting text to be read with confidence), a serial or CHK code read by OCR only when both
  read the same other code (``checks.fails_agree``); a fail on one reading that the other does not
  confirm is ``uncertain`` (review): a misreading never rejects. Otherwise the better of the two.
- evidence: ``Evidence.engine`` names the reading a check's value came from; its box is in that
  reading (both engines give boxes in the pixels of the page as uploaded).

>>> combine_checks([Check(name="retailer", product=None, status="uncertain", score=40)],
...                [Check(name="retailer", product=None, status="pass", score=97)],
...                ("tesseract", "ppocr"))[0].status == "pass"
True
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from .checks import UNCONFIRMED as _UNCONFIRMED
from .checks import Read, document_checks, fails_agree, reading_confirms_fail
from .claim import Claim
from .config import Config
from .decision import Check
from .errors import ClaimcheckError
from .records import BBox, DocumentRead, Line

__all__ = ["cascade_checks", "combine_checks", "contested", "engine_config", "with_context", "needs_second_reading",
           "INVOICE_CHECKS", "PHOTO_CHECKS"]

INVOICE_CHECKS = ("invoice_readable", "purchase_date", "retailer", "product_on_invoice")
PHOTO_CHECKS = ("serial_number", "chk_code")
_RANK = {"pass": 3, "uncertain": 2, "skipped": 1, "fail": 0}

ReadAgain = Callable[..., DocumentRead]
"""(document name, config with the engine to read with, barcodes[, known=the first reading]) -> the
document read by that engine; ``known`` is passed when ``[ppocr].regions`` asks for a region reading."""


def engine_config(config: Config, engine: str) -> Config:
    """``config`` with ``[ocr].engine`` set to ``engine`` (the reader and the read cache key on it)."""
    if config.ocr.engine == engine:
        return config
    return config.model_copy(update={"ocr": config.ocr.model_copy(update={"engine": engine})})


def _unproven(checks: Sequence[Check], names: Sequence[str], config: Config) -> bool:
    wanted = [n for n in names if n in config.cascade.escalate_checks or n == "invoice_readable"]
    return any(c.name in wanted and c.status not in ("pass", "skipped") for c in checks)


def _has_ocr_page(doc) -> bool:
    return isinstance(doc, DocumentRead) and any(p.source == "ocr" for p in doc.pages)


def needs_second_reading(checks: Sequence[Check], invoices: Sequence[Read], photos: Sequence[Read],
                         config: Config) -> tuple[bool, bool]:
    """(read the invoices again, read the serial photos again) under ``[cascade]``'s policy."""
    least = config.cascade.escalate_below_chars
    too_little = any(isinstance(doc, DocumentRead) and len("".join(doc.text.split())) < least for _, doc in invoices)
    again_invoices = (_unproven(checks, INVOICE_CHECKS, config) or too_little) and any(
        _has_ocr_page(doc) for _, doc in invoices)
    again_photos = _unproven(checks, PHOTO_CHECKS, config) and any(_has_ocr_page(doc) for _, doc in photos)
    return again_invoices, again_photos


def _stamp(check: Check, engine: str) -> Check:
    ev = check.evidence
    if ev is None or ev.source != "ocr" or ev.engine:
        return check
    return replace(check, evidence=replace(ev, engine=engine))


def _unconfirmed(fail: Check, other: Check, engines: tuple[str, str], failed_by: str,
                 other_found: str | None = None) -> Check:
    """A fail read by one engine only (or both failing on different values, ``other_found`` the
    second's): uncertain, with what the failing reading found."""
    why = f"{failed_by} read a mismatch ({fail.reason}) that {engines[1] if failed_by == engines[0] else engines[0]} " \
          f"did not confirm" + (f" (it read {other_found!r}, not {fail.found!r})" if other_found else "")
    detail = f"{fail.detail}; {why}" if fail.detail else why
    reason = other.reason if other.status == "uncertain" and other.reason else _UNCONFIRMED.get(fail.name, fail.reason)
    return replace(fail, status="uncertain", score=min(fail.score, 49), reason=reason, detail=detail)


def _disagreeing(passed: Check, failed: Check, engines: tuple[str, str]) -> Check:
    """The second engine proves the claimed value where the first read a contradiction with
    confidence: the readings disagree about what the page says, so neither decides (review)."""
    found = f" ({failed.found})" if failed.found else ""
    why = (f"the readings disagree: {engines[0]} read a mismatch{found} ({failed.reason}) "
           f"where {engines[1]} proved the claim")
    detail = f"{passed.detail}; {why}" if passed.detail else why
    return replace(passed, status="uncertain", score=min(passed.score, 49),
                   reason=_UNCONFIRMED.get(passed.name, failed.reason), detail=detail)


def combine_checks(first: Sequence[Check], second: Sequence[Check], engines: tuple[str, str],
                   read_again: set[str] | None = None) -> list[Check]:
    """Two engines' document checks of one claim, check by check (see the module docstring).

    Both lists come from ``document_checks`` on one claim, so they pair up in order; evidence from
    an OCR reading is stamped with its engine. ``read_again``: the documents the second engine read
    (default: all); the second list's evidence on another document is the first engine's reading."""
    a_name, b_name = engines
    out = []
    for a, b in zip(first, second, strict=True):
        if (a.name, a.product) != (b.name, b.product):
            raise ValueError(f"checks out of step: {a.name} / {b.name}")
        second_read = read_again is None or (b.evidence is not None and b.evidence.document in read_again)
        a, b = _stamp(a, a_name), _stamp(b, b_name if second_read else a_name)
        if a.status == "pass":  # the first engine proved it: the second was not asked about this field
            out.append(a)
        elif a.status == "fail" and b.status == "pass":
            out.append(_disagreeing(b, a, engines))
        elif b.status == "pass":
            out.append(a if a.status == "pass" else b)
        elif a.status == "fail" and b.status == "fail":
            out.append(a if fails_agree(a, b) else _unconfirmed(a, b, engines, a_name, other_found=b.found))
        elif a.status == "fail":
            out.append(_unconfirmed(a, b, engines, a_name))
        elif b.status == "fail":
            out.append(_unconfirmed(b, a, engines, b_name))
        else:
            out.append(max((a, b), key=lambda c: (_RANK.get(c.status, 0), c.score, c is a)))
    return out


def contested(doc: DocumentRead, checks: Sequence[Check], name: str) -> DocumentRead:
    """The first reading of document ``name`` without the lines the invoice checks among ``checks``
    rest on where they did not pass (a ``fail``'s contradicting value, an ``uncertain`` check's value
    found): what a region reading is handed as read, so that the second engine reads those lines itself.

    A region reading leaves out the lines the first engine read well; a contradiction read on such a
    line would then be seen by one engine only, and a reject needs both (a confidently misread line
    must not reject a genuine customer). Withholding those lines makes the second engine read every
    line a reject could rest on: the two engines still agree on a contradiction or not, as with
    whole-page readings. An uncertain check's value counts too: Tesseract may read a date well and
    miss its label ("Invoice Date:" over a date it cannot place), while the second reading places it.
    The price is a few more lines recognised on claims Tesseract did not prove.

    >>> from pipeline.decision import Evidence
    >>> from pipeline.records import Line, Page, Word
    >>> date = Line((Word("Date:", 96, (10, 10, 60, 30)), Word("12/03/2018", 95, (70, 10, 180, 30))))
    >>> shop = Line((Word("SHOP", 97, (10, 40, 60, 60)),))
    >>> doc = DocumentRead("r.jpg", "image", "0" * 64, (Page(1, 200, 100, "ocr", (date, shop)),))
    >>> fail = Check(name="purchase_date", product=None, status="fail", score=0,
    ...              evidence=Evidence("r.jpg", 1, (70, 10, 180, 30), "ocr"), reason="DATE_MISMATCH")
    >>> [line.text for line in contested(doc, [fail], "r.jpg").pages[0].lines]
    ['SHOP']
    >>> contested(doc, [fail], "other.jpg") is doc
    True
    """
    boxes: dict[int, list] = {}
    for c in checks:
        ev = c.evidence
        unsettled = c.status == "fail" or (c.status == "uncertain" and c.found)
        if (unsettled and c.name in INVOICE_CHECKS and ev is not None and ev.document == name
                and ev.source == "ocr" and ev.page is not None and ev.bbox is not None):
            boxes.setdefault(ev.page, []).append(ev.bbox)
    if not boxes:
        return doc

    def hit(line, page_boxes) -> bool:
        return any(_overlaps(w.bbox, box) for w in line.words for box in page_boxes)

    pages = tuple(replace(p, lines=tuple(line for line in p.lines if not hit(line, boxes[p.number])))
                  if p.number in boxes and p.source == "ocr" else p for p in doc.pages)
    return replace(doc, pages=pages)


def _overlaps(a, b) -> bool:
    return a[0] < b[2] and a[2] > b[0] and a[1] < b[3] and a[3] > b[1]


def _centre_in(box, area, slack: float = 2) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return area[0] - slack <= cx <= area[2] + slack and area[1] - slack <= cy <= area[3] + slack


Carried = dict[int, tuple[Line, ...]]
"""Per page number: the first engine's lines a region reading carries (``with_context``)."""


def with_context(second: DocumentRead, handed: DocumentRead, min_conf: float) -> tuple[DocumentRead, Carried]:
    """A region reading with the lines of the first reading it was handed (``handed``) that it did not
    recognise again because the first engine read every word of them at ``min_conf`` or more: the
    page as the two engines read it together, in reading order, and those carried lines by page.

    A region reading alone is a few lines of the page: too little text for an invoice to count as
    readable, a shop name without the registration number beside it, a date without its label. The
    carried lines are context only: a fail of the second reading whose evidence lies on them alone
    is the first engine's reading, not the second's agreement (``_first_engines``), and a first
    reading's fail is never confirmed by them (its lines were withheld, ``contested``, and the
    confirmation looks at the second engine's own lines).

    >>> from pipeline.records import Line, Page, Word
    >>> shop = Line((Word("SHOP", 97, (10, 10, 60, 30)),))
    >>> blur = Line((Word("T0TAL", 41, (10, 40, 60, 60)),))
    >>> total = Line((Word("TOTAL", 88, (10, 40, 60, 60)),))
    >>> handed = DocumentRead("r.jpg", "image", "0" * 64, (Page(1, 200, 100, "ocr", (shop, blur)),))
    >>> second = DocumentRead("r.jpg", "image", "0" * 64, (Page(1, 200, 100, "ocr", (total,)),))
    >>> doc, carried = with_context(second, handed, 90)
    >>> [line.text for line in doc.pages[0].lines], [line.text for line in carried[1]]
    (['SHOP', 'TOTAL'], ['SHOP'])
    """
    pages, carried = [], {}
    for index, page in enumerate(second.pages):
        first = handed.pages[index] if index < len(handed.pages) else None
        # a page the first engine turned a quarter is read whole by the second (other pixels)
        if first is None or first.source != "ocr" or first.rotation or page.source != "ocr":
            pages.append(page)
            continue
        read = [line.bbox for line in page.lines if line.words]
        keep = tuple(line for line in first.lines if line.words and all(w.conf >= min_conf for w in line.words)
                     and not any(_centre_in(w.bbox, box) for w in line.words for box in read))
        if keep:
            carried[page.number] = keep
            page = replace(page, lines=_rows(page.lines, keep))
        pages.append(page)
    return replace(second, pages=tuple(pages)), carried


def _same_row(a: BBox, b: BBox) -> bool:
    """Side by side on one printed row: mostly the same height, not overlapping across."""
    overlap = min(a[3], b[3]) - max(a[1], b[1])
    return overlap >= 0.5 * min(a[3] - a[1], b[3] - b[1]) and (a[2] <= b[0] or b[2] <= a[0])


def _rows(own: tuple[Line, ...], carried: tuple[Line, ...]) -> tuple[Line, ...]:
    """The second engine's lines and the carried ones in reading order, a carried line standing on the
    same row as one of the second engine's joined to it ("SLIM" read again beside the price "7 030,00"
    the first engine read alone: one row of a wrapped product name, not two lines)."""
    lines = [line for line in own if line.words]
    rest = []
    for extra in carried:
        k = next((i for i, line in enumerate(lines) if _same_row(line.bbox, extra.bbox)), None)
        if k is None:
            rest.append(extra)
        else:
            lines[k] = Line(tuple(sorted(lines[k].words + extra.words, key=lambda w: w.bbox[0])))
    return tuple(sorted(lines + rest, key=lambda line: ((line.bbox[1] + line.bbox[3]) / 2, line.bbox[0])))


def _first_engines(check: Check, context: dict[str, tuple[DocumentRead, Carried]], first_engine: str) -> Check:
    """A second reading's check whose evidence lies only on lines carried from the first reading: the
    first engine's value (stamped so), and a fail there is no second engine's fail (``uncertain``)."""
    ev = check.evidence
    if ev is None or ev.bbox is None or ev.page is None or ev.document not in context:
        return check
    own, carried = context[ev.document]
    lines = carried.get(ev.page, ())
    own_lines = own.pages[ev.page - 1].lines if 1 <= ev.page <= len(own.pages) else ()
    if not any(_overlaps(ev.bbox, line.bbox) for line in lines) or any(
            _overlaps(ev.bbox, line.bbox) for line in own_lines if line.words):
        return check
    check = replace(check, evidence=replace(ev, engine=first_engine))
    if check.status != "fail":
        return check
    why = f"the contradiction is on a line only {first_engine} read"
    return replace(check, status="uncertain", score=min(check.score, 49),
                   reason=_UNCONFIRMED.get(check.name, check.reason),
                   detail=f"{check.detail}; {why}" if check.detail else why)


def _second_reads(reads: Sequence[Read], config: Config, read_again: ReadAgain, barcodes: bool,
                  done: set[str], first_checks: Sequence[Check] = (),
                  context: dict[str, tuple[DocumentRead, Carried]] | None = None) -> list[Read]:
    """Each document read by ``config``'s engine where it has a page OCR read (its name added to
    ``done``); the first reading where it has none (a text layer) or where the second engine failed
    on it (the first reading stands). A region reading is handed the first reading less the lines
    a fail of ``first_checks`` rests on (``contested``), and comes back with the handed lines it did
    not read again as context (``with_context``; ``context``: per document, its own reading and them)."""
    out: list[Read] = []
    for name, doc in reads:
        if not _has_ocr_page(doc):
            out.append((name, doc))
            continue
        # Region reading on invoices only: a sticker holds a few short lines (its whole reading is cheap),
        # and on the lab's sticker photos Tesseract reads a CHK code with confidence that it cannot prove.
        regions = config.ocr.engine == "ppocr" and config.ppocr.regions and not barcodes
        handed = contested(doc, first_checks, name) if regions else None
        try:
            again = read_again(name, config, barcodes, **({"known": handed} if regions else {}))
        except ClaimcheckError:
            out.append((name, doc))
            continue
        done.add(name)
        if handed is not None:
            merged, carried = with_context(again, handed, config.ppocr.region_known_conf)
            if context is not None and carried:
                context[name] = (again, carried)
            again = merged
        out.append((name, again))
    return out


def cascade_checks(claim: Claim, invoices: Sequence[Read], photos: Sequence[Read], config: Config,
                   read_again: ReadAgain | None, photo_config: Config | None = None,
                   seen: list[tuple[str, Read]] | None = None) -> tuple[list[Check], dict]:
    """The document checks over the cascade's readings, and what was read again
    (``{"invoices": [engine...], "photos": [engine...]}``).

    ``photo_config``: the config the serial photos are read with (the sticker settings).
    ``seen``: where the invoices' second readings are put (name, reading), for what the
    promotion's rules look for on every reading (a marketplace's "sold by" line)."""
    engines = list(config.cascade.engines)
    checks = [_stamp(c, engines[0]) for c in document_checks(claim, invoices, photos, config)]
    escalated: dict = {"invoices": [], "photos": []}
    if read_again is None:
        return checks, escalated
    for engine in engines[1:]:
        again_invoices, again_photos = needs_second_reading(checks, invoices, photos, config)
        if not (again_invoices or again_photos):
            break
        done: set[str] = set()
        context: dict[str, tuple[DocumentRead, Carried]] = {}
        second_invoices = (_second_reads(invoices, engine_config(config, engine), read_again, False, done, checks,
                                         context) if again_invoices else list(invoices))
        second_photos = (_second_reads(photos, engine_config(photo_config or config, engine), read_again, True, done)
                         if again_photos else list(photos))
        second = document_checks(claim, second_invoices, second_photos, config)
        # the second engine's own lines, without the first reading's carried as context
        second_own = [(name, context[name][0] if name in context else doc) for name, doc in second_invoices]
        if seen is not None and again_invoices:
            seen.extend(second_own)
        names = INVOICE_CHECKS * again_invoices + PHOTO_CHECKS * again_photos
        second = [_first_engines(s, context, engines[0]) if s.name in names else f
                  for s, f in zip(second, checks, strict=True)]
        # A confident fail the other engine left uncertain, though its reading holds the same other
        # date or model (either way round): the two engines agree on the contradiction, and it stands.
        confirmed: dict[int, Check] = {}
        for k, (f, s) in enumerate(zip(checks, second)):
            if s.name not in INVOICE_CHECKS or {f.status, s.status} != {"fail", "uncertain"}:
                continue
            if f.status == "fail" and reading_confirms_fail(f, claim, invoices, second_own, config):
                confirmed[k] = replace(f, detail=f"{f.detail}; {engine}'s reading shows it too")
            elif s.status == "fail" and reading_confirms_fail(s, claim, second_invoices, invoices, config):
                confirmed[k] = replace(_stamp(s, engine), detail=f"{s.detail}; {engines[0]}'s reading shows it too")
        checks = combine_checks(checks, second, (engines[0], engine), done)
        checks = [confirmed.get(k, c) for k, c in enumerate(checks)]
        escalated["invoices"] += [engine] * again_invoices
        escalated["photos"] += [engine] * again_photos
    return checks, escalated
