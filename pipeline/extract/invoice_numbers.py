"""Invoice numbers, found after their label ("Invoice No", "Facture N°", "Rechnungsnummer",
"Fakturanr", "No. Faktur", "Document No", "Bill No", ...; the labels are in ``labels.toml``).

The number is the first token after the label on its line (or, when the label ends its line,
the first token of the next line; or, in a header row of labels over a row of values, the
token of the next line under the label) that holds a digit and is neither a date nor an amount:
"Invoice Date: 17/02/2020" and "Invoice total 1469,90" give no number.

>>> from pipeline.records import Line, Page, Word
>>> words = [Word(t, 90, (60 * i, 0, 60 * i + 50, 20)) for i, t in enumerate("FACTURE No 40211".split())]
>>> [n.number for n in find_invoice_numbers([Page(1, 600, 800, "ocr", (Line(tuple(words)),))])]
['40211']
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..records import BBox, Page
from .dates import find_dates_in_text
from .labels import Knowledge, LineText, default_knowledge
from .normalise import fold_confusables

__all__ = ["InvoiceNumber", "find_invoice_numbers", "invoice_number_key"]

_GAP = re.compile(r"[\s:#.\-]*")
_TOKEN = re.compile(r"[a-z0-9][a-z0-9\-/_.]*")


@dataclass(frozen=True)
class InvoiceNumber:
    number: str
    """As read, trailing punctuation removed."""
    label: str
    """The label text as read ("Rechnungs-Nr.")."""
    page: int
    bbox: BBox | None

    @property
    def key(self) -> str:
        return invoice_number_key(self.number)


def invoice_number_key(number: str) -> str:
    """Comparable form: letters and digits only, OCR look-alikes folded ('O' = '0', 'l' = '1').

    >>> invoice_number_key("INV-2020/0O1") == invoice_number_key("inv 2020 001")
    True
    """
    return fold_confusables("".join(c for c in number.casefold() if c.isalnum()))


def _value(text: LineText, start: int) -> tuple[int, int] | None:
    """The span of an acceptable number token starting at ``start`` (after separators)."""
    gap = _GAP.match(text.folded, start)
    pos = gap.end() if gap else start
    m = _TOKEN.match(text.folded, pos)
    if not m:
        return None
    s, e = m.start(), m.end()
    while e > s and text.folded[e - 1] in "-/_.":
        e -= 1
    token = text.folded[s:e]
    alnum = [c for c in token if c.isalnum()]
    if len(alnum) < 3 or not any(c.isdigit() for c in token):
        return None
    if text.folded[e:e + 1] == "," and text.folded[e + 1:e + 2].isdigit():
        return None  # an amount: 1469,90
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})*[.,]\d{2}", token):
        return None  # an amount: 1.234,56 / 12.50
    dates = find_dates_in_text(text.raw[s:e])
    if dates and dates[0].end - dates[0].start >= (e - s) - 1:
        return None
    return s, e


def _below(line: LineText, label: BBox | None) -> tuple[int, int] | None:
    """The acceptable number in ``line`` whose word starts under the label's column."""
    if label is None:
        return None
    x0, _, x1, _ = label
    slack = max(4, (x1 - x0) // 4)
    for start, _end, box in line.spans:
        if box and x0 - slack <= box[0] <= x1:
            return _value(line, start)
    return None


def find_invoice_numbers(pages: Sequence[Page], *, knowledge: Knowledge | None = None) -> list[InvoiceNumber]:
    """Every labelled invoice number on the pages, in reading order, without repeats.

    A number read under a label's column (a header row of labels over a row of values) is a guess:
    the title "FAKTURA - DAŇOVÝ DOKLAD" over the shop's address "Jankovcova 1522/53" is no label
    over its value, and two invoices of one shop would share that "number". Such guesses count only
    where no number stands after its label on its line (or on the line below a label ending its
    line)."""
    kb = knowledge or default_knowledge()
    out: list[InvoiceNumber] = []
    guesses: list[InvoiceNumber] = []
    seen: set[tuple[str, bool]] = set()
    for page in pages:
        lines = [LineText.of(line) for line in page.lines]
        for i, text in enumerate(lines):
            for m in kb.invoice_labels.finditer(text.folded):
                span = _value(text, m.end())
                where = text
                if span is None and not text.folded[m.end():].strip(" :#.-\t"):
                    if i + 1 < len(lines):  # the label ends its line: the number is below
                        where = lines[i + 1]
                        span = _value(where, 0)
                found = out
                if span is None and i + 1 < len(lines):
                    # a header row of labels ("Fakturanr  Fakturadato") over a row of values
                    where, found = lines[i + 1], guesses
                    span = _below(where, text.bbox(m.start(), m.end()))
                if span is None:
                    continue
                number = where.raw[span[0]:span[1]]
                key = invoice_number_key(number)
                if (key, found is out) in seen:
                    continue
                seen.add((key, found is out))
                found.append(InvoiceNumber(number, text.raw[m.start():m.end()], page.number,
                                           where.bbox(span[0], span[1])))
    return out or guesses
