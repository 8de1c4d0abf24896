"""The extraction stage: what one invoice says, parsed once.

Reading gives words in boxes (``DocumentRead``); matching and the rules need facts: the dates with
their roles and evidence, the invoice numbers, the priced item lines, the total and its currency,
the marketplaces and "sold by" sellers. ``invoice_facts(doc, country=...)`` is the one place they
are parsed: the document checks (``pipeline.checks``), the promotion rules, the duplicate
identities and the integrity signals all take them from its ``InvoiceFacts``, so no stage re-parses
what another already parsed, and every consumer sees the same parse.

Each fact is parsed on first use and kept on the record; the record is kept per reading (a
``DocumentRead`` object) and country for as long as that reading lives, so the cascade's second
reading of a document gets its own facts.

>>> from pipeline.records import DocumentRead, Line, Page, Word
>>> words = [("Invoice", "no:", "A-1001"), ("Date:", "17.02.2020"), ("MSI", "B450", "Tomahawk", "89,90"),
...          ("Total", "89,90", "EUR")]
>>> lines = tuple(Line(tuple(Word(t, 95, (40 * i, 20 * n, 40 * i + 35, 20 * n + 15)) for i, t in enumerate(ws)))
...               for n, ws in enumerate(words))
>>> facts = invoice_facts(DocumentRead("i.pdf", "pdf", "0", (Page(1, 400, 100, "ocr", lines),)), country="DE")
>>> [d.date.isoformat() for d in facts.dates], [n.number for n in facts.invoice_numbers]
(['2020-02-17'], ['A-1001'])
>>> [(i.description, str(i.amount)) for i in facts.items], str(facts.total.value), facts.currency
([('MSI B450 Tomahawk', '89.90')], '89.90', 'EUR')
"""
from __future__ import annotations

import threading
import weakref
from functools import cached_property

from ..records import DocumentRead, Page
from .dates import FoundDate, day_first_for, find_dates, unread_date_labels
from .invoice import Amount, InvoiceSummary, LineItem, find_currency, find_line_items, find_total, page_rows
from .invoice_numbers import InvoiceNumber, find_invoice_numbers
from .labels import Knowledge, default_knowledge
from .sellers import SellerLine, find_sellers

__all__ = ["InvoiceFacts", "invoice_facts"]


class InvoiceFacts:
    """What one reading of an invoice states. Build it with ``invoice_facts`` (kept per reading)."""

    def __init__(self, doc: DocumentRead, country: str | None, knowledge: Knowledge):
        self.doc = doc
        self.country = country
        self.knowledge = knowledge
        self.day_first = day_first_for(country)
        self._sellers: dict[str | None, tuple[SellerLine, ...]] = {}

    @cached_property
    def dates(self) -> tuple[FoundDate, ...]:
        """Every date on the pages, in reading order, with role, label and box (the country's
        day/month convention)."""
        return tuple(find_dates(self.doc.pages, day_first=self.day_first))

    @cached_property
    def unread_date_labels(self) -> tuple[tuple[int, str], ...]:
        """(page, line) of each "... date:" label whose value could not be read as a date."""
        return tuple(unread_date_labels(self.doc.pages, day_first=self.day_first))

    @cached_property
    def invoice_numbers(self) -> tuple[InvoiceNumber, ...]:
        """Every labelled invoice number, in reading order, without repeats."""
        return tuple(find_invoice_numbers(self.doc.pages, knowledge=self.knowledge))

    @cached_property
    def items(self) -> tuple[LineItem, ...]:
        """Every priced line that names something (one word with letters or more)."""
        return tuple(find_line_items(self.doc.pages, min_words=1))

    @cached_property
    def total(self) -> Amount | None:
        """The largest amount on a line labelled as the total."""
        return find_total(self.doc.pages)

    @cached_property
    def rows(self) -> tuple[Page, ...]:
        """The pages with each OCR page's words regrouped into rows (``page_rows``): a photo's table
        read column by column, whose lines hold no item."""
        return tuple(page_rows(p) if p.source == "ocr" else p for p in self.doc.pages)

    @cached_property
    def row_total(self) -> Amount | None:
        """The total as found on ``rows`` (a total standing apart from its label on such a photo)."""
        return find_total(self.rows)

    @cached_property
    def currency(self) -> str | None:
        """The currency most written on the invoice ('kr' and bare amounts resolved by the country)."""
        return find_currency(self.doc.pages, self.country)

    def sellers(self, claimed_retailer: str | None = None) -> tuple[SellerLine, ...]:
        """The "sold by" lines of a marketplace invoice (the marketplace known from the invoice, or
        from the claimed retailer's name)."""
        if claimed_retailer not in self._sellers:
            self._sellers[claimed_retailer] = tuple(
                find_sellers(self.doc.pages, claimed_retailer, knowledge=self.knowledge))
        return self._sellers[claimed_retailer]

    def summary(self) -> InvoiceSummary:
        """Number, total, currency and named item lines, for the decision's ``invoice`` facts."""
        return InvoiceSummary(self.total, self.currency,
                              self.invoice_numbers[0].number if self.invoice_numbers else None,
                              tuple(i for i in self.items if i.words >= 2))


_KEPT: dict[int, dict[tuple, InvoiceFacts]] = {}
"""id(reading) -> (country, id(knowledge)) -> facts; an entry goes when its reading is collected."""
_KEPT_LOCK = threading.Lock()


def _forget(key: int) -> None:
    with _KEPT_LOCK:
        _KEPT.pop(key, None)


def invoice_facts(doc: DocumentRead, *, country: str | None = None,
                  knowledge: Knowledge | None = None) -> InvoiceFacts:
    """The facts of one reading of an invoice, parsed on first use and kept while ``doc`` lives.

    country: the claim's country (the day/month convention of numeric dates, the currency of a bare
    'kr'). knowledge: the label knowledge (default: the packaged ``invoice_labels``)."""
    kb = knowledge or default_knowledge()
    key = (country, id(kb))
    with _KEPT_LOCK:
        per_doc = _KEPT.get(id(doc))
        if per_doc is None:
            per_doc = _KEPT[id(doc)] = {}
            weakref.finalize(doc, _forget, id(doc))
        facts = per_doc.get(key)
        if facts is None or facts.doc is not doc or facts.knowledge is not kb:
            facts = per_doc[key] = InvoiceFacts(doc, country, kb)
    return facts
