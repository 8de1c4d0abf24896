"""What an invoice states besides its date: the total and its currency, the line items,
the invoice number. Pure functions over read pages; labels and currency signs are data
(``pipeline/data/invoice.toml``).

>>> parse_amount("1.234,56"), parse_amount("1,234.56"), parse_amount("3 990,00"), parse_amount("Rp 500.000")
(Decimal('1234.56'), Decimal('1234.56'), Decimal('3990.00'), Decimal('500000'))
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from ..datafiles import read_toml
from ..errors import ConfigError
from ..records import BBox, Line, Page, union_bbox
from .folding import fold

__all__ = ["invoice_knowledge", "page_rows",
           "parse_amount", "find_amounts", "find_currency", "find_total", "find_line_items",
           "line_amounts", "has_label", "Amount", "LineItem", "InvoiceSummary"]

# An amount: digits with optional thousands groups (".", ",", space, apostrophe) and 1-2 decimals.
_AMOUNT = re.compile(
    r"(?<![\w.,])-?(?:\d{1,3}(?:[.,' \u00a0]\d{3})+|\d+)(?:[.,]\d{1,2})?(?![\w]|[.,]\d)")




@lru_cache(maxsize=1)
def invoice_knowledge() -> dict:
    """``data/invoice.toml``: total and item labels, currencies (validated; see ``pipeline.knowledge``)."""
    data, _ = read_toml(None, packaged="invoice.toml")
    try:
        labels = data["labels"]
        out = {
            "total": tuple(fold(x) for x in labels["total"]),
            "not_total": tuple(fold(x) for x in labels["not_total"]),
            "not_item": tuple(fold(x) for x in labels["not_item"]),
            "currencies": {fold(k): v for k, v in data["currencies"].items()},
            "country_currency": dict(data["country_currency"]),
        }
    except (KeyError, TypeError) as exc:
        raise ConfigError(message=f"invoice.toml: {exc}") from exc
    bad = [k for k, v in out["currencies"].items() if not (v == "?" or re.fullmatch(r"[A-Z]{3}", v))]
    if bad:
        raise ConfigError(message=f"invoice.toml: currencies: not ISO 4217 codes for {bad}")
    return out


def parse_amount(text: str) -> Decimal | None:
    """The money value written in ``text`` (European or English separators), or None.

    A separator followed by exactly 3 digits groups thousands ("500.000" = 500000); followed by
    1-2 digits at the end it is the decimal point.
    """
    m = _AMOUNT.search(text)
    if not m:
        return None
    raw = m.group(0).replace("\u00a0", " ")
    sign = -1 if raw.startswith("-") else 1
    raw = raw.lstrip("-")
    decimals = ""
    tail = re.search(r"[.,](\d{1,2})$", raw)
    if tail:
        decimals = tail.group(1)
        raw = raw[: tail.start()]
    digits = re.sub(r"[.,' ]", "", raw)
    try:
        value = Decimal(digits + ("." + decimals if decimals else ""))
    except InvalidOperation:
        return None
    return value * sign


@dataclass(frozen=True)
class Amount:
    value: Decimal
    raw: str
    page: int
    bbox: BBox | None


def _next_to_currency(text: str, start: int, end: int) -> bool:
    """A currency sign right before or after the number ("Rs 1939", "1939 €", "NOK 9 480")."""
    signs = invoice_knowledge()["currencies"]
    before = fold(text[max(0, start - 5):start]).rstrip().split()
    after = fold(text[end:end + 5]).lstrip().split()
    return bool((before and before[-1].lstrip("(") in signs) or (after and after[0].rstrip(")*.,") in signs)
                or (before and before[-1][-1:] in signs) or text[end:end + 1] in signs)


def _line_amounts(line) -> list[tuple[Decimal, str, BBox | None]]:
    text = line.text
    out = []
    for m in _AMOUNT.finditer(text):
        raw = m.group(0)
        has_decimals = bool(re.search(r"[.,]\d{2}$", raw))
        currency = _next_to_currency(text, m.start(), m.end())
        # "2" or "2020" is a quantity or a year, and "080 100 444" a phone number, not money:
        # a whole or space-grouped number counts only beside a currency sign.
        if not has_decimals and not currency:
            if " " in raw.strip() or not re.search(r"\d[.,']\d{3}$", raw):
                continue
        value = parse_amount(raw)
        if value is None:
            continue
        # words the span touches, for evidence
        pos, boxes = 0, []
        for w in line.words:
            start, end = pos, pos + len(w.text)
            if start < m.end() and end > m.start():
                boxes.append(w.bbox)
            pos = end + 1
        bbox = (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
                max(b[3] for b in boxes)) if boxes else None
        out.append((value, raw, bbox))
    return out


def line_amounts(line) -> list[tuple[Decimal, str, BBox | None]]:
    """(value, as printed, box) of each money amount on a line, left to right (a bare "2" or "2020"
    is a quantity or a year, not money)."""
    return _line_amounts(line)


def has_label(text: str, labels: Sequence[str]) -> bool:
    """Whether ``text`` holds one of ``labels`` as whole words (case and accents folded)."""
    return _has_label(fold(text), tuple(fold(x) for x in labels))


def find_amounts(pages: Sequence[Page]) -> list[Amount]:
    return [Amount(v, raw, p.number, bbox) for p in pages for line in p.lines for v, raw, bbox in _line_amounts(line)]


def find_currency(pages: Sequence[Page], country: str | None = None) -> str | None:
    """The currency most written on the invoice; 'kr' and bare amounts resolved by the country."""
    k = invoice_knowledge()
    fallback = k["country_currency"].get((country or "").upper())
    counts: dict[str, int] = {}
    for p in pages:
        for line in p.lines:
            for w in line.words:
                token = fold(w.text).strip(":;()[]")
                for sign, code in k["currencies"].items():
                    if token == sign or (len(sign) == 1 and not sign.isalnum() and sign in token):
                        code = fallback if code == "?" else code
                        if code:
                            counts[code] = counts.get(code, 0) + 1
    if counts:
        return max(sorted(counts), key=lambda c: counts[c])
    return fallback


def _has_label(folded: str, labels: Sequence[str]) -> bool:
    return any(re.search(r"(?<![a-z])" + re.escape(label) + r"(?![a-z])", folded) for label in labels)


def is_total_line(text: str) -> bool:
    """Whether a line is labelled as the invoice's total ("Totalt inkl. mva", "Total Sales Incl GST";
    not "Subtotal" nor "Total GST")."""
    k, folded = invoice_knowledge(), fold(text)
    return _has_label(folded, k["total"]) and not _has_label(folded, k["not_total"])


def find_total(pages: Sequence[Page]) -> Amount | None:
    """The invoice total: the largest amount on a line labelled as the total."""
    best: Amount | None = None
    for p in pages:
        for line in p.lines:
            if not is_total_line(line.text):
                continue
            for value, raw, bbox in _line_amounts(line):
                if best is None or value > best.value:
                    best = Amount(value, raw, p.number, bbox)
    return best


def page_rows(page: Page) -> Page:
    """The page's words regrouped into rows by where they stand: OCR sometimes reads a photo's table
    column by column (the descriptions, then the quantities, then the amounts, each its own line), so
    no line holds an item. A word joins the row whose rightmost word ends left of it at nearly its
    height (a row may climb or fall a little across a turned photo: the height is taken along the
    slope the page's own lines show, so an amount far right of its description still joins it);
    rows in order of height.

    >>> from pipeline.records import Word
    >>> def w(t, x, y):
    ...     return Word(t, 95, (x, y, x + 60, y + 18))
    >>> words = Line((w("MSI", 100, 400), w("MEG", 170, 399), w("X570", 240, 398), w("ACE", 310, 397)))
    >>> tilted = Page(1, 1200, 800, "ocr", (words, Line((w("4", 900, 385), w("990,00", 975, 385)))))
    >>> [line.text for line in page_rows(tilted).lines]
    ['MSI MEG X570 ACE 4 990,00']
    """
    words = sorted((w for line in page.lines for w in line.words), key=lambda w: (w.bbox[0], w.bbox[1]))
    slope = _text_slope(page)
    rows: list[list] = []
    for w in words:
        cy, h = (w.bbox[1] + w.bbox[3]) / 2, w.bbox[3] - w.bbox[1]
        best, gap = None, None
        for row in rows:
            last = row[-1]
            ly, lh = (last.bbox[1] + last.bbox[3]) / 2, last.bbox[3] - last.bbox[1]
            dy = abs(cy - ly - slope * (w.bbox[0] - last.bbox[2]))
            if last.bbox[2] <= w.bbox[0] + 0.2 * h and dy <= 0.45 * max(1, min(h, lh)) and (gap is None or dy < gap):
                best, gap = row, dy
        if best is None:
            rows.append([w])
        else:
            best.append(w)
    rows.sort(key=lambda r: sum((w.bbox[1] + w.bbox[3]) / 2 for w in r) / len(r))
    return replace(page, lines=tuple(Line(tuple(r)) for r in rows))


def _text_slope(page: Page, *, min_words: int = 3) -> float:
    """The median slope (height per width) of the page's lines of ``min_words`` words or more, each
    the least-squares slope of its words' centres; 0 when no line tells."""
    slopes = []
    for line in page.lines:
        pts = [((w.bbox[0] + w.bbox[2]) / 2, (w.bbox[1] + w.bbox[3]) / 2) for w in line.words]
        if len(pts) < min_words:
            continue
        mx, my = sum(x for x, _ in pts) / len(pts), sum(y for _, y in pts) / len(pts)
        sxx = sum((x - mx) ** 2 for x, _ in pts)
        if sxx > 0:
            slopes.append(sum((x - mx) * (y - my) for x, y in pts) / sxx)
    if not slopes:
        return 0.0
    slopes.sort()
    return max(-0.1, min(0.1, slopes[len(slopes) // 2]))


@dataclass(frozen=True)
class LineItem:
    description: str
    amount: Decimal
    page: int
    bbox: BBox | None
    words: int = 1
    """How many words with letters the description has."""

    def to_dict(self) -> dict:
        return {"description": self.description, "amount": str(self.amount), "page": self.page,
                "bbox": list(self.bbox) if self.bbox else None}


_QUANTITY_LINE = re.compile(r"^\s*\d{1,4}\s*[x×*]\s*\d", re.IGNORECASE)
"""A till receipt's quantity line: "1 x 399,00  399,00", "2X 4.62"."""


def find_line_items(pages: Sequence[Page], *, min_words: int = 2) -> list[LineItem]:
    """Lines that name something (``min_words`` or more words with letters) and end with a price.

    A till receipt's item on two lines ("MSI B450 Tomahawk" / "1 x 89.90  89.90") counts too: a
    quantity-and-price line takes the description of the line above when that one has no price
    (an amount alone under a table heading is not an item).
    """
    k = invoice_knowledge()
    items = []
    for p in pages:
        previous = None
        for line in p.lines:
            amounts = _line_amounts(line)
            folded = fold(line.text)
            if not amounts or _has_label(folded, k["total"]) or _has_label(folded, k["not_item"]):
                previous = None if amounts else line
                continue
            first_amount = line.text.find(amounts[0][1])
            description = line.text[:first_amount].strip(" :-\t")
            bbox = line.bbox
            words = sum(1 for t in description.split() if re.search(r"[^\W\d_]{2,}", t))
            if not words and previous is not None and _QUANTITY_LINE.match(line.text) and not any(
                    _has_label(fold(previous.text), k[kind]) for kind in ("total", "not_item")):
                description = previous.text.strip(" :-\t")
                words = sum(1 for t in description.split() if re.search(r"[^\W\d_]{2,}", t))
                bbox = union_bbox([previous.bbox, line.bbox])
            previous = None
            if words < min_words:
                continue
            items.append(LineItem(description, amounts[-1][0], p.number, bbox, words))
    return items


@dataclass(frozen=True)
class InvoiceSummary:
    """What the decision's ``invoice`` facts show of one invoice (``extract.facts.InvoiceFacts.summary``)."""
    total: Amount | None
    currency: str | None
    invoice_number: str | None
    items: tuple[LineItem, ...]

    def to_dict(self) -> dict:
        return {
            "invoice_number": self.invoice_number,
            "total": str(self.total.value) if self.total else None,
            "currency": self.currency,
            "total_evidence": {"page": self.total.page, "bbox": list(self.total.bbox) if self.total.bbox else None}
            if self.total else None,
            "items": [i.to_dict() for i in self.items],
        }
