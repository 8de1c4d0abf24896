"""``invoice_sums``: the money on an invoice must add up. An edited total, line amount or VAT
rarely keeps every other figure consistent.

Read per invoice: each item line that starts with a quantity and ends with a unit price and an
amount (quantity x unit = amount); the net, VAT and total lines (``[sums]`` labels of
``integrity.toml``: net + VAT = total, VAT / net one of the country's rates, and the rate the
line prints is what the amounts give); and the items against the total (their sum, plus any
other amount printed on the page such as shipping, must make the total). Only figures read with
confidence count (``[duplicates].read_min_conf``; 100 for a PDF text layer): a misread digit is
not an edit, and on an OCR page two figures one digit apart are one figure misread (Tesseract
reads "119,90" as "119,96" at high confidence). The items are held against the total only on a
PDF's text layer, every line with money on it understood: OCR drops whole lines of receipts (a
dropped item is not an edited total).
A figure that does not add up is a reason for a person to look (review), never a rejection.

And ``quantity`` findings: a claimed model named more times in the claim than its invoice line's
quantity says were bought.

>>> from pipeline.records import Line, Page, Word
>>> def page(*rows):
...     return Page(1, 1000, 1000, "pdf_text", tuple(Line(tuple(Word(t, 100, (60 * i, 20 * y, 60 * i + 50, 20 * y + 12))
...                 for i, t in enumerate(r.split()))) for y, r in enumerate(rows)))
>>> good = page("1 MSI MEG X570 ACE 3 990,00 3 990,00", "Sum eks. mva 3 192,00", "MVA 25 % 798,00",
...             "Totalt inkl. mva kr 3 990,00")
>>> [f.kind for f in sum_findings([good], "NO")]
[]
>>> bad = page("1 MSI MEG X570 ACE 3 990,00 3 990,00", "Sum eks. mva 3 192,00", "MVA 25 % 798,00",
...            "Totalt inkl. mva kr 2 990,00")
>>> [f.kind for f in sum_findings([bad], "NO")]
['net + VAT', 'items']
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from ..checks import Read
from ..claim import Claim
from ..decision import Check, Evidence
from ..extract.facts import InvoiceFacts, invoice_facts
from ..extract.invoice import has_label, is_total_line, line_amounts, parse_amount
from ..records import BBox, DocumentRead, Line, Page, union_bbox
from .knowledge import IntegrityKnowledge, default_integrity

__all__ = ["Finding", "sum_findings", "check_invoice_sums", "confirm_doubtful", "ReadAgain"]

_PERCENT = re.compile(r"(\d{1,2}(?:[.,]\d{1,2})?)\s*%")
_QTY = re.compile(r"^\d{1,3}$")


@dataclass(frozen=True)
class Finding:
    kind: str
    """'line', 'net + VAT', 'VAT rate', 'printed rate', 'items' or 'quantity'."""
    what: str
    """What does not add up, in figures as printed."""
    page: int
    bbox: BBox | None


@dataclass(frozen=True)
class _Figure:
    value: Decimal
    raw: str
    page: int
    bbox: BBox | None
    line: int

    ocr: bool = False

    @property
    def alternatives(self) -> tuple[Decimal, ...]:
        """The value without each leading space-separated group, whatever the page."""
        parts = self.raw.replace("\u00a0", " ").split(" ")
        return tuple(v for i in range(1, len(parts)) if (v := parse_amount(" ".join(parts[i:]))) is not None)

    @property
    def readings(self) -> tuple[Decimal, ...]:
        """The value, and on an OCR page also the value without each leading space-separated group:
        there a space is also what separates columns ("25 % 3 780,00" may be a stray 3 before 780,00).
        A PDF's text layer is exact."""
        parts = self.raw.replace("\u00a0", " ").split(" ")
        out = [self.value]
        for i in range(1, len(parts) if self.ocr else 1):
            tail = parse_amount(" ".join(parts[i:]))
            if tail is not None:
                out.append(tail)
        return tuple(out)


def _adds_up(net: _Figure, vat: _Figure, total, tol: Decimal, ocr: bool) -> bool:
    totals = total.readings if isinstance(total, _Figure) else (total.value,)
    return any(abs(n + v - t) <= tol or (ocr and _one_digit(n + v, t)) for n in net.readings for v in vat.readings
               for t in totals)


def _one_digit(a: Decimal, b: Decimal) -> bool:
    """Written with the same digits but one ('119,90' read as '119,96'): what OCR does at high confidence."""
    x, y = f"{a:.2f}", f"{b:.2f}"
    return len(x) == len(y) and sum(p != q for p, q in zip(x, y)) == 1


def _digits_dropped(a: Decimal, b: Decimal) -> bool:
    """One written as the other with leading digits lost ("9.90" read for "199.90"): what OCR does to a
    figure squeezed against its neighbour."""
    x, y = sorted((f"{a:.2f}", f"{b:.2f}"), key=len)
    return x != y and y.endswith(x)


def _has_decimals(raw: str) -> bool:
    """Whether a figure is written with its cents ("55,12", "1 846,06"; not "55")."""
    digits = raw.rstrip(" €$£%kr.-").replace(" ", "")
    return len(digits) > 3 and digits[-3] in ",." and digits[-2:].isdigit()


def _item_line(line: Line, amounts) -> bool:
    """A line starting with a quantity, then a description (or "x"), then a unit price and an amount.
    A leading digit group that belongs to the first amount ("4 580,00" read on a line of its own)
    is not a quantity."""
    words = line.words
    if len(words) < 3 or len(amounts) < 2 or not _QTY.match(words[0].text) or int(words[0].text) == 0:
        return False
    first_box = amounts[0][2]
    if first_box is not None and first_box[0] <= words[0].bbox[0]:
        return False
    return words[1].text.lower() in ("x", "×", "*") or any(
        sum(ch.isalpha() for ch in w.text) >= 2 for w in words[1:])


def _conf(line: Line, bbox: BBox | None) -> float:
    if bbox is None:
        return 0.0
    x0, y0, x1, y1 = bbox
    confs = [w.conf for w in line.words if w.bbox[0] < x1 and w.bbox[2] > x0 and w.bbox[1] < y1 and w.bbox[3] > y0]
    return min(confs, default=0.0)


def _sure(line: Line, amounts, min_conf: float) -> bool:
    return all(_conf(line, bbox) >= min_conf for _, _, bbox in amounts)


def _line_adds_up(line: Line, qty: int, unit: _Figure, amount: _Figure, tol: Decimal, ocr: bool) -> bool:
    """Whether an item line's quantity x unit price makes its amount, allowing for how a line is read."""
    # "GUNGNIR 100 109,90": a number of the description may be read into the price
    units = {unit.value, *unit.alternatives}
    if amount.value > 0:
        # "Motherboard -219.90 219.90": a dash of the description ("... - used") glued to the price
        units |= {-u for u in units if u < 0}
    # "5 130 PLAIN RICE 4 1.80 7.20": a receipt's row number and item code come before the
    # quantity; any whole number standing before the unit price may be it
    qtys = [qty, *(int(w.text) for w in line.words[1:] if _QTY.match(w.text) and int(w.text) > 0
                   and unit.bbox is not None and w.bbox[2] <= unit.bbox[0])]
    return any(abs(q * u - amount.value) <= tol * max(1, q) or (
        ocr and (_one_digit(q * u, amount.value) or _digits_dropped(q * u, amount.value)))
        for u in units for q in qtys)


_MAX_QTY = 99


def _described(line: Line, amounts) -> bool:
    """Two words or more of letters before the line's first amount: a description, not a label."""
    first = amounts[0][2]
    if first is None:
        return False
    return sum(1 for w in line.words if w.bbox[2] <= first[0] and sum(ch.isalpha() for ch in w.text) >= 2) >= 2


def _item_lines(pages: Sequence[Page]) -> int:
    return sum(_item_line(line, amounts) for p in pages for line in p.lines if (amounts := line_amounts(line)))


def sum_findings(pages: Sequence[Page], country: str | None, *, min_conf: float = 80.0,
                 knowledge: IntegrityKnowledge | None = None, facts: InvoiceFacts | None = None,
                 doubtful: list | None = None) -> list[Finding]:
    """What does not add up on the pages (empty: everything read adds up, or too little was read).
    facts: the reading's extracted facts (``extract.facts``: its total, its rows), when the caller
    has them. OCR pages are read as rows of words when their lines hold fewer items than the rows do.
    doubtful: a list that receives (page, ((figure as printed, box), ...)) for each OCR item line
    that would not add up as read but holds figures read without confidence (those figures), to be
    read again (``check_invoice_sums``)."""
    facts = facts or invoice_facts(DocumentRead("", "", "", tuple(pages)), country=country)
    pages, total = list(facts.doc.pages), facts.total
    if any(p.source == "ocr" for p in pages) and _item_lines(facts.rows) > _item_lines(pages):
        pages, total = list(facts.rows), facts.total or facts.row_total
    kb = knowledge or default_integrity()
    tol = kb.tolerance
    out: list[Finding] = []
    items: list[_Figure] = []
    net = vat = None
    vat_rate: Decimal | None = None
    others: list[_Figure] = []
    complete = True  # every line with money on it read with confidence and understood
    unquantified: list[tuple[Line, _Figure, _Figure, bool]] = []  # described, priced, no quantity read
    index = 0
    for page in pages:
        for line in page.lines:
            index += 1
            amounts = line_amounts(line)
            first = line.words[0].text if line.words else ""
            if not amounts:
                if _QTY.match(first) and len(line.words) >= 3 and any(
                        sum(ch.isalpha() for ch in w.text) >= 2 for w in line.words[1:]) and any(
                        ch.isdigit() for w in line.words[1:] for ch in w.text):
                    complete = False  # a line that looks like an item but whose prices were not read as money
                continue
            text = line.text
            sure = _sure(line, amounts, min_conf)
            complete = complete and sure
            figures = [_Figure(v, raw, page.number, bbox, index, page.source == "ocr") for v, raw, bbox in amounts]
            is_total = total is not None and total.page == page.number and any(
                f.bbox == total.bbox for f in figures)
            if is_total:
                continue
            if has_label(text, kb.net_labels):
                net = figures[-1] if sure else net
                continue
            if has_label(text, kb.vat_labels) and not is_total_line(text):
                # "Total Sales Incl GST 17.70" is a total naming the VAT, not the VAT
                if sure:
                    vat = figures[-1]
                    m = _PERCENT.search(text)
                    vat_rate = Decimal(m.group(1).replace(",", ".")) if m else None
                continue
            if _item_line(line, amounts) and not sure and doubtful is not None and page.source == "ocr":
                unit, amount = figures[-2], figures[-1]
                if not _line_adds_up(line, int(first), unit, amount, tol, True):
                    # would not add up as read: the figures read without confidence, to read again
                    doubtful.append((page.number, tuple((raw, bbox) for (_, raw, bbox) in amounts[-2:]
                                                        if bbox is not None and _conf(line, bbox) < min_conf)))
            if _item_line(line, amounts) and sure:
                qty, unit, amount = int(first), figures[-2], figures[-1]
                items.append(amount)
                units = {unit.value, *unit.alternatives}
                if not _line_adds_up(line, qty, unit, amount, tol, page.source == "ocr"):
                    if page.source == "ocr" and (line.words[0].conf < min_conf or amount.value in units):
                        # the quantity, a lone glyph at the line's start, read without confidence, or
                        # read other than 1 beside a unit price equal to the amount ("4 q MSI ... 594.90
                        # 594.90"): a misread quantity, not a line that does not add up
                        complete = False
                    else:
                        out.append(Finding("line", f"{qty} x {unit.raw} is not {amount.raw}", page.number,
                                           union_bbox(b for b in (unit.bbox, amount.bbox) if b)))
                continue
            if len(amounts) >= 2 or (_QTY.match(first) and any(
                    sum(ch.isalpha() for ch in w.text) >= 2 for w in line.words[1:])):
                complete = False  # a priced line, or a line with a quantity, not understood as an item
            if len(amounts) >= 2 and sure and _described(line, amounts) and not is_total_line(text):
                unquantified.append((line, figures[-2], figures[-1], page.source == "ocr"))
            if sure:
                others.extend(figures)
    if items:
        # the table has a quantity column (an item line read with its quantity): a described line
        # whose quantity was not read still needs a whole quantity that makes its unit price its amount
        for line, unit, amount, ocr in unquantified:
            if unit.value > 0 and amount.value > 0 and not any(
                    _line_adds_up(line, q, unit, amount, tol, ocr) for q in range(1, _MAX_QTY + 1)):
                out.append(Finding("line", f"no quantity makes {unit.raw} into {amount.raw}", unit.page,
                                   union_bbox(b for b in (unit.bbox, amount.bbox) if b)))
    total_sure = total is not None and any(
        _conf(line, total.bbox) >= min_conf for p in pages if p.number == total.page for line in p.lines
        if total.bbox and line.bbox and line.bbox[1] <= (total.bbox[1] + total.bbox[3]) / 2 <= line.bbox[3])
    ocr = any(p.source == "ocr" for p in pages)
    # a VAT larger than the net on a photo: the two figures are misread or misplaced, not edited
    misread = ocr and net is not None and vat is not None and vat.value > net.value * kb.ocr_max_vat_share
    # ... or one of them read without the decimals the others show ("275.58 + 55 is not 330.70")
    shown = [f for f in (net, vat, total) if f is not None]
    misread = misread or (ocr and len({_has_decimals(f.raw) for f in shown}) > 1)
    if total_sure and net is not None and vat is not None and not misread and \
            not _adds_up(net, vat, total, 3 * tol, ocr):
        out.append(Finding("net + VAT", f"{net.raw} + {vat.raw} is not {total.raw}", total.page, total.bbox))
    if net is not None and vat is not None and net.value > 0 and not misread:
        pairs = [(v / n * 100, n) for n in net.readings if n > 0 for v in vat.readings]
        rates = kb.vat_rates.get((country or "").upper(), ())

        def near(rate: Decimal, n: Decimal, wanted: Sequence[Decimal]) -> bool:
            slack = kb.rate_tolerance * 100 + tol * 100 / n * 100
            return any(abs(rate - r) <= slack for r in wanted)
        rate = vat.value / net.value * 100
        if rates and not any(near(r, n, rates) for r, n in pairs):
            out.append(Finding("VAT rate", f"{vat.raw} is {rate:.1f} % of {net.raw}, not a {country} VAT rate "
                                           f"({', '.join(f'{r:g}' for r in rates)} %)", vat.page, vat.bbox))
        elif vat_rate is not None and not any(near(r, n, [vat_rate]) for r, n in pairs):
            out.append(Finding("printed rate", f"{vat.raw} is {rate:.1f} % of {net.raw}, the line says {vat_rate:g} %",
                               vat.page, vat.bbox))
    if total_sure and items and complete and all(p.source == "pdf_text" for p in pages):
        gap = total.value - sum(f.value for f in items)
        explained = abs(gap) <= tol * len(items) or any(
            abs(abs(gap) - f.value) <= tol * (len(items) + 1) for f in others)
        if not explained:
            out.append(Finding("items", f"the items add up to {sum(f.value for f in items)}, the total is {total.raw}",
                               total.page, total.bbox))
    return out


def _quantity_findings(claim: Claim, doc: DocumentRead, name: str, doc_checks: Sequence[Check]) -> list[Finding]:
    """A model claimed more often than its invoice line's quantity."""
    from ..promotions.condition import product_lines

    wanted: dict[str, list[int]] = {}
    for i, p in enumerate(claim.product_list):
        wanted.setdefault((p.model or "").casefold(), []).append(i)
    out = []
    for indexes in wanted.values():
        if len(indexes) < 2:
            continue
        found = next((c for c in doc_checks if c.name == "product_on_invoice" and c.product in indexes
                      and c.evidence and c.evidence.document == name and c.evidence.bbox), None)
        if found is None:
            continue
        lines = product_lines(doc, found.evidence.page or 1, found.evidence.bbox)
        first = lines[0].words[0].text if lines and lines[0].words else ""
        if _QTY.match(first) and int(first) < len(indexes):
            out.append(Finding("quantity", f"{len(indexes)} claimed, the invoice line says {first}",
                               found.evidence.page or 1, lines[0].bbox))
    return out


ReadAgain = Callable[[str, DocumentRead, int, Sequence[BBox]], Sequence[tuple[str, float]]]
"""(document name, its reading, page, boxes) -> (text, confidence) of each box read by another engine."""


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _inside(box: BBox, boxes: Sequence[tuple[BBox, float]]) -> float | None:
    """The confidence of the confirmed figure whose box holds ``box``'s centre."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return next((c for (x0, y0, x1, y1), c in boxes if x0 <= cx <= x1 and y0 <= cy <= y1), None)


def confirm_doubtful(doc: DocumentRead, name: str, doubtful: Sequence, read_again: ReadAgain, min_conf: float
                     ) -> tuple[DocumentRead, list[str]] | None:
    """``doc`` with the doubtful figures another engine read the same (the same digits, at
    ``min_conf`` or more) raised to that confidence, and a note per figure; None: none confirmed."""
    wanted: dict[int, list[tuple[str, BBox]]] = {}
    for page, figures in doubtful:
        for fig in figures:
            if fig not in wanted.setdefault(page, []):
                wanted[page].append(fig)
    sure: dict[int, list[tuple[BBox, float]]] = {}
    notes = []
    for page, figures in wanted.items():
        for (raw, box), (text, conf) in zip(figures, read_again(name, doc, page, [b for _, b in figures]),
                                            strict=True):
            if conf >= min_conf and _digits(raw) and _digits(raw) == _digits(text):
                sure.setdefault(page, []).append((box, conf))
                notes.append(f"{raw} read again as {text} at {conf:.0f}")
    if not sure:
        return None
    pages = tuple(p if p.number not in sure else replace(p, lines=tuple(
        Line(tuple(w if (c := _inside(w.bbox, sure[p.number])) is None else replace(w, conf=max(w.conf, c))
                   for w in line.words)) for line in p.lines)) for p in doc.pages)
    return replace(doc, pages=pages), notes


def check_invoice_sums(claim: Claim, invoices: Sequence[Read], doc_checks: Sequence[Check] = (), *,
                       min_conf: float, knowledge: IntegrityKnowledge | None = None,
                       read_again: ReadAgain | None = None) -> Check:
    """``invoice_sums`` over every readable invoice of the claim. read_again: another engine's reading
    of figures OCR read without confidence on an item line that would not add up as read (the
    line is checked when that engine reads the same digits with confidence)."""
    checked = False
    for name, doc in invoices:
        if not isinstance(doc, DocumentRead) or not doc.pages:
            continue
        checked = True
        doubtful: list = []
        found = sum_findings(doc.pages, claim.country, min_conf=min_conf, knowledge=knowledge,
                             facts=invoice_facts(doc, country=claim.country), doubtful=doubtful)
        notes: list[str] = []
        if not found and any(figs for _, figs in doubtful) and read_again is not None:
            confirmed = confirm_doubtful(doc, name, doubtful, read_again, min_conf)
            if confirmed is not None:
                again, notes = confirmed
                found = sum_findings(again.pages, claim.country, min_conf=min_conf, knowledge=knowledge,
                                     facts=invoice_facts(again, country=claim.country))
        found += _quantity_findings(claim, doc, name, doc_checks)
        if found:
            f = found[0]
            reason = "INVOICE_QUANTITY_MISMATCH" if f.kind == "quantity" else "INVOICE_SUMS_MISMATCH"
            source = doc.pages[f.page - 1].source if 1 <= f.page <= len(doc.pages) else None
            detail = "; ".join(f"{x.kind}: {x.what}" for x in found) + (
                f" ({'; '.join(notes)})" if notes and f.kind != "quantity" else "")
            return Check(name="invoice_sums", product=None, status="uncertain", score=40,
                         expected="figures that add up", found=f.what, evidence=Evidence(name, f.page, f.bbox, source),
                         reason=reason, detail=detail)
    if not checked:
        return Check(name="invoice_sums", product=None, status="skipped", score=0, detail="no readable invoice")
    return Check(name="invoice_sums", product=None, status="pass", score=100, expected="figures that add up",
                 detail="every figure read with confidence adds up")
