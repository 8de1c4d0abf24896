"""The document checks of the contract: invoice_readable, purchase_date, retailer,
product_on_invoice, serial_number, chk_code. Each is a plain function over what
was read; none reads a file or calls an engine.

A read is ``(name, DocumentRead)`` or ``(name, ClaimcheckError)`` when the upload
could not be read, so a broken file is a finding, not a crash.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

from .claim import Claim
from .config import Config
from .decision import Check, Evidence
from .errors import ClaimcheckError
from .extract.facts import invoice_facts
from .matching.models import match_model
from .matching.retailer import load_retailers, match_retailer
from .matching.serials import match_chk, match_serial, same_reading
from .records import DocumentRead

__all__ = [
    "Read", "dates_read", "date_is_sure", "invoice_date", "check_invoice_readable", "check_purchase_date",
    "check_retailer", "recheck_retailer", "check_product_on_invoice", "check_serial_number", "check_chk_code",
    "document_checks", "fails_agree", "reading_confirms_fail",
]

Read = tuple[str, "DocumentRead | ClaimcheckError"]

_RANK = {"pass": 3, "uncertain": 2, "fail": 1}


def _readable(reads: Sequence[Read], min_chars: int = 1) -> list[tuple[str, DocumentRead]]:
    """Documents with at least ``min_chars`` characters read (or a barcode): the ones a check may judge.

    A document we could not read is no evidence against the claim: checks on it are skipped and
    invoice_readable sends the claim to a reviewer.
    """
    return [(name, doc) for name, doc in reads if isinstance(doc, DocumentRead) and doc.pages
            and (len("".join(doc.text.split())) >= min_chars or doc.barcodes)]


def _invoices(reads: Sequence[Read], config: Config) -> list[tuple[str, DocumentRead]]:
    return _readable(reads, config.matching.readable_min_chars)


def _page_source(doc: DocumentRead, page: int | None) -> str | None:
    if page is None or not (1 <= page <= len(doc.pages)):
        return None
    return doc.pages[page - 1].source


def _best(results):
    """The most favourable (pass > uncertain > fail), then the highest score."""
    return max(results, key=lambda r: (_RANK.get(r[1].status, 0), r[1].score))


def _skipped(name: str, product: int | None, expected: str | None, why: str) -> Check:
    return Check(name=name, product=product, status="skipped", score=0, expected=expected, detail=why)


def check_invoice_readable(reads: Sequence[Read], config: Config) -> Check:
    m = config.matching
    good = _readable(reads)
    errors = [(name, err) for name, err in reads if isinstance(err, ClaimcheckError)]
    if not good:
        if errors:
            name, err = errors[0]
            return Check(name="invoice_readable", product=None, status="fail", score=0, evidence=Evidence(name),
                         reason=err.code, detail=err.message)
        name = reads[0][0] if reads else "invoice"
        return Check(name="invoice_readable", product=None, status="fail", score=0, evidence=Evidence(name),
                     reason="INVOICE_UNREADABLE", detail="No text could be read from the invoice.")
    name, doc = max(good, key=lambda nd: len(nd[1].text))
    words = [w for p in doc.pages for w in p.words]
    chars = sum(len(w.text) for w in words)
    conf = sum(w.conf * len(w.text) for w in words) / chars if chars else 0.0
    evidence = Evidence(name, 1, None, doc.pages[0].source)
    detail = f"{chars} characters read, mean confidence {conf:.0f}"
    if chars >= m["readable_min_chars"] and conf >= m["readable_min_conf"]:
        # A gate: readable is readable. How well each value was read shows in its own check's score.
        return Check(name="invoice_readable", product=None, status="pass", score=100, found=f"{chars} characters",
                     evidence=evidence, detail=detail)
    status = "uncertain" if chars else "fail"
    return Check(name="invoice_readable", product=None, status=status, score=round(conf), found=f"{chars} characters",
                 evidence=evidence, reason="INVOICE_UNREADABLE", detail=detail)


def check_purchase_date(claim: Claim, reads: Sequence[Read], config: Config) -> Check:
    expected = claim.purchase.date
    good = _invoices(reads, config)
    if not good:
        return _skipped("purchase_date", None, expected.isoformat(), "no readable invoice")
    found = dates_read(claim, good, config)
    exact = [f for f in found if f[2].date == expected]
    if exact:
        # a date read straight beats one that needed an OCR repair or a day/month convention
        name, doc, d = min(exact, key=lambda f: (f[2].repaired, f[2].ambiguous))
        score = 100 if not (d.repaired or d.ambiguous) else config.matching["date_repaired_score"]
        return Check(name="purchase_date", product=None, status="pass", score=score, expected=expected.isoformat(),
                     found=d.raw, evidence=Evidence(name, d.page, d.bbox, _page_source(doc, d.page)))
    swapped = [f for f in found if f[2].ambiguous and _swap(f[2].date) == expected]
    if swapped:
        name, doc, d = swapped[0]
        return Check(name="purchase_date", product=None, status="uncertain", score=50, expected=expected.isoformat(),
                     found=d.raw, evidence=Evidence(name, d.page, d.bbox, _page_source(doc, d.page)),
                     reason="DATE_NOT_FOUND",
                     detail="the invoice's date reads as the claimed one only with day and month swapped")
    unclear = [f for f in found if _one_digit_apart(f[2].date, expected)
               and _read_confidence(f[1], f[2]) < config.matching.date_unclear_below_conf]
    if unclear:
        # "22/12/2017" read as "29/12/2017": one digit apart and not read with confidence is what a
        # misread looks like; a reviewer decides rather than the claim being rejected for our error.
        name, doc, d = unclear[0]
        return Check(name="purchase_date", product=None, status="uncertain", score=30, expected=expected.isoformat(),
                     found=d.raw, evidence=Evidence(name, d.page, d.bbox, _page_source(doc, d.page)),
                     reason="DATE_UNCLEAR",
                     detail=f"the invoice's date reads {d.date.isoformat()}, one digit from the claimed date, "
                     f"read with low confidence")
    unread = [(name, page, text) for name, doc in good
              for page, text in invoice_facts(doc, country=claim.country).unread_date_labels]
    if found and unread:
        # An invoice also prints order and delivery dates; when its date label's value was not
        # readable, the dates that were read prove no mismatch.
        name, doc, d = found[0]
        return Check(name="purchase_date", product=None, status="uncertain", score=20, expected=expected.isoformat(),
                     found=d.raw, evidence=Evidence(name, d.page, d.bbox, _page_source(doc, d.page)),
                     reason="DATE_UNCLEAR",
                     detail=f"the invoice shows {d.date.isoformat()}, but the date after {unread[0][2]!r} "
                     f"could not be read")
    if not found:
        return Check(name="purchase_date", product=None, status="uncertain", score=0, expected=expected.isoformat(),
                     evidence=Evidence(good[0][0]), reason="DATE_NOT_FOUND",
                     detail="no date could be read on the invoice")
    # Reject rule (DATE_MISMATCH): the invoice's own date, read with confidence, is another day.
    own, why = invoice_date(found)
    if own is None:
        name, doc, d = found[0]
        return Check(name="purchase_date", product=None, status="uncertain", score=10, expected=expected.isoformat(),
                     found=d.raw, evidence=Evidence(name, d.page, d.bbox, _page_source(doc, d.page)),
                     reason="DATE_NOT_FOUND", detail=why)
    name, doc, d = own
    evidence = Evidence(name, d.page, d.bbox, _page_source(doc, d.page))
    conf = _read_confidence(doc, d)
    if not date_is_sure(doc, d, config):
        return Check(name="purchase_date", product=None, status="uncertain", score=20, expected=expected.isoformat(),
                     found=d.raw, evidence=evidence, reason="DATE_UNCLEAR",
                     detail=f"{why} reads {d.date.isoformat()}, but " + ("only after an OCR repair" if d.repaired else
                                                                  f"with confidence {conf:.0f} only"))
    return Check(name="purchase_date", product=None, status="fail", score=0, expected=expected.isoformat(), found=d.raw,
                 evidence=evidence, reason="DATE_MISMATCH",
                 detail=f"{why} is {d.date.isoformat()}, not the claimed date")


def dates_read(claim: Claim, good: Sequence[tuple[str, DocumentRead]], config: Config) -> list[tuple]:
    """Every date read on the readable invoices, as ``(name, doc, FoundDate)``, in reading order.
    A date after the claim was submitted (or today) plus ``date_max_future_days`` is a misread
    ("13 Mar 2048"), not a purchase date, and is left out."""
    reference = claim.submitted_at.date() if claim.submitted_at else dt.date.today()
    latest = reference + dt.timedelta(days=config.matching.date_max_future_days)
    return [(name, doc, d) for name, doc in good for d in invoice_facts(doc, country=claim.country).dates
            if d.date <= latest]


def date_is_sure(doc: DocumentRead, found, config: Config) -> bool:
    """Read with confidence: no OCR repair, and the words at least ``date_reject_min_conf``."""
    return not found.repaired and _read_confidence(doc, found) >= config.matching.date_reject_min_conf


def invoice_date(found: Sequence[tuple]) -> tuple[tuple | None, str]:
    """The invoice's own date among the dates read (``(name, doc, FoundDate)`` tuples), and why it is;
    or (None, why none is). It is the first date labelled as the invoice's or purchase date
    (``[roles]`` in dates.toml); without one, the document's only date that no label calls another
    one (an order, delivery or due date). A date another label names never is.
    """
    labelled = [f for f in found if f[2].role == "invoice"]
    if labelled:
        dates = sorted({f[2].date for f in labelled})
        if len(dates) > 1:
            return None, ("the invoice shows several dates labelled as its date: "
                          + ", ".join(x.isoformat() for x in dates))
        return labelled[0], f"the invoice's date (after {labelled[0][2].label!r})"
    dates = {f[2].date for f in found}
    unlabelled = [f for f in found if f[2].role is None]
    if len({f[2].date for f in unlabelled}) == 1:
        return unlabelled[0], ("the invoice's only date" if len(dates) == 1 else
                               "the invoice's only date not labelled as another (order, delivery, due) date")
    others = sorted({(f[2].date, f[2].label) for f in found if f[2].role == "other"})
    shown = ", ".join(f"{x.isoformat()} ({label})" if label else x.isoformat()
                      for x, label in sorted({(f[2].date, f[2].label) for f in found}, key=lambda t: t[0]))
    if others and len(dates) == 1:
        return None, f"the invoice shows only {shown}, not its own date"
    return None, f"the invoice shows {shown}, none of them labelled as the invoice's date"


def _one_digit_apart(a: dt.date, b: dt.date) -> bool:
    """Exactly one of day, month, year differs, and in exactly one printed digit."""
    pairs = [(f"{a.day:02d}", f"{b.day:02d}"), (f"{a.month:02d}", f"{b.month:02d}"), (f"{a.year:04d}", f"{b.year:04d}")]
    diffs = [sum(x != y for x, y in zip(p, q)) for p, q in pairs]
    return sorted(diffs) == [0, 0, 1]


def _read_confidence(doc: DocumentRead, found) -> float:
    """The lowest OCR confidence of the words a found value spans (100 for a PDF text layer)."""
    return _box_confidence(doc, found.page, found.bbox, lowest=True)


def _box_confidence(doc: DocumentRead, page: int, bbox, *, lowest: bool = False) -> float:
    """The OCR confidence of the words inside a box: their lowest, or their mean."""
    if bbox is None or not (1 <= page <= len(doc.pages)):
        return 0.0
    x0, y0, x1, y1 = bbox
    confs = [w.conf for w in doc.pages[page - 1].words
             if w.bbox[0] < x1 and w.bbox[2] > x0 and w.bbox[1] < y1 and w.bbox[3] > y0]
    if not confs:
        return 0.0
    return min(confs) if lowest else sum(confs) / len(confs)


def _swap(d):
    try:
        return d.replace(month=d.day, day=d.month)
    except ValueError:
        return None


def _match_check(name: str, product: int | None, expected: str, results, reasons: dict[str, str]) -> Check:
    doc_name, result, doc = _best(results)
    status = result.status
    if status == "pass":
        reason = None
    elif status == "fail":
        reason = reasons["fail_found"] if result.found else reasons["fail"]
    else:
        reason = reasons["uncertain_found"] if result.found else reasons["uncertain"]
    source = getattr(result, "source", None) or _page_source(doc, result.page)
    evidence = Evidence(doc_name, result.page, result.bbox, source)
    return Check(name=name, product=product, status=status, score=int(result.score), expected=expected,
                 found=result.found, evidence=evidence, reason=reason, detail=getattr(result, "detail", None) or None)


def check_retailer(claim: Claim, reads: Sequence[Read], config: Config, *, known_shops: Sequence[str] = ()) -> Check:
    """The claimed shop on the invoice. Reject rule (RETAILER_MISMATCH): the invoice names another
    seller, read with confidence (``match_retailer``); a name not found is RETAILER_NOT_FOUND (review).

    known_shops: names of shops the claim store has seen on approved claims (recognised as sellers).
    """
    expected = claim.purchase.retailer
    if not expected:
        return _skipped("retailer", None, None, "no retailer claimed")
    good = _invoices(reads, config)
    if not good:
        return _skipped("retailer", None, expected, "no readable invoice")
    th = config.matching.get("retailer", {})
    aliases = load_retailers(extra=config.matching.retailer_aliases or None)
    results = []
    for name, doc in good:
        sold_by = [(s.seller, s.page, s.bbox) for s in invoice_facts(doc, country=claim.country).sellers(expected)]
        results.append((name, match_retailer(expected, doc.pages, aliases, known_shops=known_shops,
                                             sold_by=sold_by, **th), doc))
    return _match_check("retailer", None, expected, results, {
        "fail": "RETAILER_MISMATCH", "fail_found": "RETAILER_MISMATCH",
        "uncertain": "RETAILER_NOT_FOUND", "uncertain_found": "RETAILER_NOT_FOUND"})


def check_product_on_invoice(claim: Claim, index: int, reads: Sequence[Read], config: Config) -> Check:
    expected = claim.product_list[index].model
    if not expected:
        return _skipped("product_on_invoice", index, None, "no model claimed")
    good = _invoices(reads, config)
    if not good:
        return _skipped("product_on_invoice", index, expected, "no readable invoice")
    th = config.matching.get("model", {})
    results = [(name, match_model(expected, doc.pages, **th), doc) for name, doc in good]
    check = _match_check("product_on_invoice", index, expected, results, {
        "fail": "PRODUCT_NOT_ON_INVOICE", "fail_found": "PRODUCT_MISMATCH",
        "uncertain": "PRODUCT_UNCERTAIN", "uncertain_found": "PRODUCT_UNCERTAIN"})
    best = _best(results)[1]
    if check.reason == "PRODUCT_MISMATCH" and best.reason != "different_model":
        # A few letters in common ("Aycen 7 S") are no other model: PRODUCT_MISMATCH is for a line
        # that names a model differing in a distinguishing token; the rest is "not on the invoice".
        check = replace(check, reason="PRODUCT_NOT_ON_INVOICE")
    if check.reason == "PRODUCT_NOT_ON_INVOICE":
        # Reject rule: the invoice's item lines were all read, with confidence, and none is the product.
        listed = _items_read(good, config, claim.country)
        if listed is None:
            return replace(check, status="uncertain", score=min(check.score, 30), reason="PRODUCT_UNCERTAIN",
                           detail="the claimed model is not on the invoice, but its item lines could not all "
                                  "be read")
        return replace(check, detail=f"the invoice lists {listed}")
    # What was read instead ("the invoice shows GeForce RTX 5060 Ti"): PRODUCT_MISMATCH's message names it.
    return replace(check, detail=best.detail) if best.detail and check.status != "pass" else check


def _items_read(good: Sequence[tuple[str, DocumentRead]], config: Config, country: str | None) -> str | None:
    """The item lines of an invoice whose items were all read with confidence, or None.

    Item lines: a name and a price ("1 Mainboard 159,90"; a till receipt's item may stand on the
    line above its "1 x 89.90" line), not a tax, shipping, payment or subtotal line. All read: each
    at ``items_min_conf``, and their amounts add up to the invoice's total, or fall short of it by
    at most ``items_total_slack`` of it (shipping, fees): one line read of two bought, or a footer's
    number taken for a price ("Kassa 4"), does not add up.
    """
    m = config.matching
    for _, doc in good:
        facts = invoice_facts(doc, country=country)
        items, total = facts.items, facts.total
        if not items or total is None or total.value <= 0:
            continue
        if any(_box_confidence(doc, item.page, item.bbox) < m.items_min_conf for item in items):
            continue
        gap = (total.value - sum(item.amount for item in items)) / total.value
        if Decimal("-0.01") <= gap <= Decimal(str(m.items_total_slack)):
            return "; ".join(item.description for item in items[:3]) + (" ..." if len(items) > 3 else "")
    return None


def _sticker_check(name: str, claim: Claim, index: int, value: str | None, photos: Sequence[Read],
                   config: Config, matcher, reasons: dict[str, str]) -> Check:
    if not value:
        return _skipped(name, index, None, f"no {name.replace('_', ' ')} claimed")
    if not photos:
        return Check(name=name, product=index, status="uncertain", score=0, expected=value,
                     reason="SERIAL_PHOTO_MISSING", detail="no serial-number photo was uploaded")
    good = _readable(photos)
    if not good:
        doc_name, err = photos[0]
        return Check(name=name, product=index, status="uncertain", score=0, expected=value, evidence=Evidence(doc_name),
                     reason=reasons["uncertain"], detail=getattr(err, "message", "the photo could not be read"))
    th = config.matching.get("serial" if name == "serial_number" else "chk", {})
    results = [(n, matcher(value, barcodes=doc.barcodes, pages=doc.pages, **th), doc) for n, doc in good]
    return _match_check(name, index, value, results, reasons)


def check_serial_number(claim: Claim, index: int, photos: Sequence[Read], config: Config) -> Check:
    return _sticker_check("serial_number", claim, index, claim.product_list[index].serial, photos, config,
                          match_serial, {"fail": "SERIAL_MISMATCH", "fail_found": "SERIAL_MISMATCH",
                                         "uncertain": "SERIAL_UNREADABLE", "uncertain_found": "SERIAL_UNCERTAIN"})


def check_chk_code(claim: Claim, index: int, photos: Sequence[Read], config: Config) -> Check:
    return _sticker_check("chk_code", claim, index, claim.product_list[index].chk, photos, config,
                          match_chk, {"fail": "CHK_MISMATCH", "fail_found": "CHK_MISMATCH",
                                      "uncertain": "CHK_UNREADABLE", "uncertain_found": "CHK_UNREADABLE"})


def fails_agree(a: Check, b: Check) -> bool:
    """Whether two readings' fails of one check rest on the same contradicting value.

    A serial or CHK code read by OCR rejects only when both engines read the same other code
    (look-alikes folded): Tesseract's "43H" and PP-OCR's "4JM" for a claimed 4JH show a glyph
    neither engine is sure of, not another code. A decoded barcode is one exact read, whatever the
    engine; the other checks' fails each rest on their own rule (a date, a seller, a model read
    with confidence) and agree as fails.
    """
    if a.name not in ("serial_number", "chk_code"):
        return True
    if any(c.evidence is not None and c.evidence.source == "barcode" for c in (a, b)):
        return True
    return same_reading(a.found, b.found)


def reading_confirms_fail(check: Check, claim: Claim, first: Sequence[Read], second: Sequence[Read],
                          config: Config) -> bool:
    """Whether a second engine's reading, on which ``check`` came out uncertain, holds the same
    contradicting value the first reading's fail rests on: the two engines agree on it.

    The second engine may miss what made the first one's reading decisive (PP-OCR reads the
    "Invoice date" label and its date as two lines, or drops a line) and still read the other value:
    - date: the first reading's invoice date, read sure (no repair, ``date_reject_min_conf``) in the
      second reading in a place no label calls another date's, and the claimed date nowhere in it;
    - model (PRODUCT_MISMATCH): the other model the first reading showed passes, as a claim of its
      own, on the second reading.
    Other checks' fails need the second engine's own fail (``fails_agree``).
    """
    if check.status != "fail":
        return False
    if check.name == "purchase_date" and check.reason == "DATE_MISMATCH":
        own, _ = invoice_date(dates_read(claim, _invoices(first, config), config))
        if own is None:
            return False
        seen = dates_read(claim, _invoices(second, config), config)
        if any(f[2].date == claim.purchase.date for f in seen):
            return False
        return any(f[2].date == own[2].date and f[2].role != "other" and date_is_sure(f[1], f[2], config)
                   for f in seen)
    if check.name == "product_on_invoice" and check.reason == "PRODUCT_MISMATCH" and check.found:
        th = config.matching.get("model", {})
        return any(match_model(check.found, doc.pages, **th).status == "pass" for _, doc in _invoices(second, config))
    return False


UNCONFIRMED = {
    "invoice_readable": "INVOICE_UNREADABLE", "purchase_date": "DATE_UNCLEAR", "retailer": "RETAILER_NOT_FOUND",
    "product_on_invoice": "PRODUCT_UNCERTAIN", "serial_number": "SERIAL_UNCERTAIN", "chk_code": "CHK_UNREADABLE",
}
"""The review reason of a check whose fail only one engine read (``pipeline.cascade``), or read in a
PDF's picture (``_read_in_picture``)."""


def _read_in_picture(check: Check, invoices: Sequence[Read]) -> bool:
    """Whether a check's evidence lies on words OCR read in a picture of a PDF page with a text layer
    (``read._picture_lines``: confidences under the text layer's 100). One engine read them, and
    the cascade never reads a text page again: such a contradiction is no reject."""
    ev = check.evidence
    if ev is None or ev.page is None or ev.bbox is None:
        return False
    doc = next((d for name, d in invoices if name == ev.document and isinstance(d, DocumentRead)), None)
    if doc is None or not 1 <= ev.page <= len(doc.pages) or doc.pages[ev.page - 1].source != "pdf_text":
        return False
    x0, y0, x1, y1 = ev.bbox
    return any(w.conf < 100 and w.bbox[0] < x1 and w.bbox[2] > x0 and w.bbox[1] < y1 and w.bbox[3] > y0
               for w in doc.pages[ev.page - 1].words)


def _picture_fail(check: Check, invoices: Sequence[Read]) -> Check:
    if check.status != "fail" or not _read_in_picture(check, invoices):
        return check
    why = "the contradiction was read by OCR in a picture of the PDF (one engine only)"
    return replace(check, status="uncertain", score=min(check.score, 49),
                   reason=UNCONFIRMED.get(check.name, check.reason),
                   detail=f"{check.detail}; {why}" if check.detail else why)


def document_checks(claim: Claim, invoices: Sequence[Read], photos: Sequence[Read], config: Config) -> list[Check]:
    """Every document check of the contract, in contract order, per product where it applies. A fail
    resting on words read in a PDF's picture is uncertain (``_picture_fail``)."""
    checks = [
        check_invoice_readable(invoices, config),
        check_purchase_date(claim, invoices, config),
        check_retailer(claim, invoices, config),
    ]
    for i in range(len(claim.product_list)):
        checks.append(check_product_on_invoice(claim, i, invoices, config))
        checks.append(check_serial_number(claim, i, photos, config))
        checks.append(check_chk_code(claim, i, photos, config))
    checks = [_picture_fail(c, invoices) if c.name in _READ_FROM_INVOICE else c for c in checks]
    if checks[0].status == "uncertain":
        checks = [_doubtful_read(c) if c.name in _READ_FROM_INVOICE else c for c in checks]
    return checks


_READ_FROM_INVOICE = ("purchase_date", "retailer", "product_on_invoice")


def recheck_retailer(checks: Sequence[Check], claim: Claim, invoices: Sequence[Read], config: Config,
                     known_shops: Sequence[str]) -> list[Check]:
    """The document checks with the retailer check run again knowing ``known_shops`` (the claim
    store's), where it was uncertain for want of a name: a known shop named on the invoice instead
    is the evidence a RETAILER_MISMATCH needs. The document checks themselves are cached without
    the store's knowledge, which grows with every claim."""
    out = list(checks)
    for k, c in enumerate(out):
        if c.name == "retailer" and c.status == "uncertain" and c.reason == "RETAILER_NOT_FOUND" and known_shops:
            again = _picture_fail(check_retailer(claim, invoices, config, known_shops=known_shops), invoices)
            readable = next((x for x in out if x.name == "invoice_readable"), None)
            out[k] = _doubtful_read(again) if readable is not None and readable.status == "uncertain" else again
    return out


def _doubtful_read(check: Check) -> Check:
    """A mismatch found on an invoice the OCR could barely read is a question, not a verdict.

    Text read at low confidence garbles names and dates; rejecting a claim for what such a
    read did not show would reject genuine claims for a bad photo. The reviewer asks for a
    better one (INVOICE_UNREADABLE) instead.
    """
    if check.status != "fail":
        return check
    detail = f"{check.detail + '; ' if check.detail else ''}a mismatch on a poorly read invoice"
    return replace(check, status="uncertain", score=min(check.score, 49), reason="INVOICE_UNREADABLE", detail=detail)
