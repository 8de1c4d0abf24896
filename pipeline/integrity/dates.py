"""``invoice_dates``: the dates one invoice prints must be in order.

An order is placed before it is invoiced and a payment falls due after: an order date later than
the invoice's own date, or a due date earlier, says the invoice date was changed (a forger moves
the date into the promotion period and leaves the order date as it was) - or that one of them
was misread. Which labels name an order or a due date is data (``[roles] before_invoice`` and
``after_invoice`` of ``dates.toml``); the days of slack are ``[dates]`` of ``integrity.toml``.

The invoice's own date is the one the claim's ``purchase_date`` check found on the document (else
the one date labelled as the invoice's). Only dates read with confidence count: a PDF's text layer,
or OCR words of at least ``min_conf`` with no character repaired and no day/month order in doubt.
A date out of order is a reason for a person to look (review), never a rejection.

>>> import datetime as dt
>>> from pipeline.records import Line, Page, Word
>>> def page(*rows):
...     return Page(1, 1000, 1000, "pdf_text", tuple(Line(tuple(Word(t, 100, (90 * i, 20 * y, 90 * i + 80, 20 * y + 12))
...                 for i, t in enumerate(r.split()))) for y, r in enumerate(rows)))
>>> [f.what for f in date_findings([page("Invoice date: 09.03.2020", "Order date: 14.03.2020")], "DE")]
['the order date 14.03.2020 is after the invoice date 09.03.2020']
>>> date_findings([page("Invoice date: 17.03.2020", "Order date: 14.03.2020", "Due date: 31.03.2020")], "DE")
[]
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from ..checks import Read
from ..decision import Check, Evidence
from ..extract.dates import DateKnowledge, FoundDate, default_date_knowledge
from ..extract.facts import invoice_facts
from ..records import BBox, DocumentRead, Page
from .knowledge import DatesKnowledge, default_integrity

__all__ = ["DateFinding", "date_findings", "check_invoice_dates"]


@dataclass(frozen=True)
class DateFinding:
    what: str
    """What is out of order, dates as printed."""
    page: int
    bbox: BBox | None
    """The date out of order (the order or due date)."""
    invoice_bbox: BBox | None


def _overlaps(a: BBox | None, b: BBox | None) -> bool:
    return a is not None and b is not None and a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _sure(found: FoundDate, pages: Sequence[Page], min_conf: float, order_known: bool) -> bool:
    """Read as printed: a text layer, or OCR words of ``min_conf`` or more, nothing repaired, the
    day/month order not in doubt (``order_known``: the country writes one order only)."""
    if found.repaired or (found.ambiguous and not order_known) or found.bbox is None \
            or not 1 <= found.page <= len(pages):
        return False
    page = pages[found.page - 1]
    if page.source != "ocr":
        return True
    confs = [w.conf for w in page.words if _overlaps(w.bbox, found.bbox)]
    return bool(confs) and min(confs) >= min_conf


def _invoice_date(dates: Sequence[FoundDate], anchor: tuple[int, BBox] | None) -> FoundDate | None:
    """The invoice's own date: the one found at ``anchor`` (page, box), else the one date value
    labelled as the invoice's."""
    if anchor is not None:
        at = [f for f in dates if f.page == anchor[0] and _overlaps(f.bbox, anchor[1])]
        return at[0] if at else None
    labelled = [f for f in dates if f.role == "invoice"]
    return labelled[0] if labelled and len({f.date for f in labelled}) == 1 else None


def date_findings(pages: Sequence[Page], country: str | None, *, anchor: tuple[int, BBox] | None = None,
                  min_conf: float = 80.0, knowledge: DatesKnowledge | None = None,
                  date_knowledge: DateKnowledge | None = None, dates: Sequence[FoundDate] | None = None
                  ) -> list[DateFinding]:
    """What is out of order among the dates of ``pages`` (empty: in order, or too little read).
    anchor: (page, box) of the invoice's own date (the claim's purchase-date evidence);
    dates: the pages' dates when the caller has them (``InvoiceFacts.dates``)."""
    from ..extract.dates import day_first_for, find_dates

    kb = knowledge or default_integrity().dates
    dkb = date_knowledge or default_date_knowledge()
    if dates is None:
        dates = find_dates(pages, day_first=day_first_for(country))
    invoice = _invoice_date(dates, anchor)
    order_known = bool(country) and country.upper() not in dkb.ambiguous_countries
    if invoice is None or not _sure(invoice, pages, min_conf, order_known):
        return []
    out = []
    for f in dates:
        side = dkb.sequence_of(f.label)
        if side is None or f is invoice or not _sure(f, pages, min_conf, order_known):
            continue
        if side == "before" and f.date > invoice.date + dt.timedelta(days=kb.order_after_days):
            what = f"the order date {f.raw} is after the invoice date {invoice.raw}"
        elif side == "after" and f.date < invoice.date - dt.timedelta(days=kb.due_before_days):
            what = f"the due date {f.raw} is before the invoice date {invoice.raw}"
        else:
            continue
        label = (f.label or "").strip(" :")
        out.append(DateFinding(f"{what}" + (f" ({label})" if label and label.lower() not in what else ""),
                               f.page, f.bbox, invoice.bbox))
    return out


def check_invoice_dates(claim, invoices: Sequence[Read], doc_checks: Sequence[Check] = (), *,
                        min_conf: float, knowledge: DatesKnowledge | None = None) -> Check:
    """``invoice_dates`` over every readable invoice of the claim (``INVOICE_DATES_INCONSISTENT``,
    review; evidence: the date out of order)."""
    checked = False
    for name, doc in invoices:
        if not isinstance(doc, DocumentRead) or not doc.pages:
            continue
        checked = True
        anchor = next(((c.evidence.page or 1, tuple(c.evidence.bbox)) for c in doc_checks
                       if c.name == "purchase_date" and c.evidence and c.evidence.document == name
                       and c.evidence.bbox), None)
        facts = invoice_facts(doc, country=claim.country)
        found = date_findings(doc.pages, claim.country, anchor=anchor, min_conf=min_conf, knowledge=knowledge,
                              dates=facts.dates)
        if found:
            f = found[0]
            source = doc.pages[f.page - 1].source
            return Check(name="invoice_dates", product=None, status="uncertain", score=40,
                         expected="an order date on or before the invoice date, a due date on or after",
                         found=f.what, evidence=Evidence(name, f.page, f.bbox, source),
                         reason="INVOICE_DATES_INCONSISTENT", detail="; ".join(x.what for x in found))
    if not checked:
        return Check(name="invoice_dates", product=None, status="skipped", score=0, detail="no readable invoice")
    return Check(name="invoice_dates", product=None, status="pass", score=100,
                 expected="an order date on or before the invoice date, a due date on or after",
                 detail="no order or due date read with confidence on the wrong side of the invoice date")
