"""Invoices and till receipts as printed: the record of what is on the paper, and its layouts.

``InvoiceDoc`` is the ground truth of one proof of purchase (shop, number, date, lines,
totals, who sold it). ``invoice_sheet`` lays it out in one of four styles: ``classic``
(letterhead, meta block, table), ``modern`` (colour band), ``marketplace`` (an Amazon or
eBay invoice with a "sold by" line) and ``receipt`` (80 mm thermal till receipt).

>>> from pipeline.lab.locales import LOCALES
>>> loc = LOCALES["NO"]
>>> doc = InvoiceDoc("NO", loc.retailers[0], "204417811", __import__("datetime").date(2020, 2, 19),
...                  lines=(InvoiceLine("MSI MEG X570 ACE hovedkort", 1, 3990.0),))
>>> any("19.02.2020" in line for line in invoice_sheet(doc).text_lines())
True
"""
from __future__ import annotations

import datetime as dt
import textwrap
from dataclasses import dataclass

from .locales import LOCALES, Locale, Retailer
from .sheet import Rect, Sheet, Text

__all__ = ["InvoiceLine", "InvoiceDoc", "invoice_sheet", "STYLES"]

STYLES = ("classic", "modern", "marketplace", "receipt")
A4 = (595.0, 842.0)
GREY = (90, 90, 90)


@dataclass(frozen=True)
class InvoiceLine:
    description: str
    qty: int
    unit: float
    """Price per unit incl. VAT, local currency."""

    @property
    def amount(self) -> float:
        return round(self.qty * self.unit, 2)


@dataclass(frozen=True)
class InvoiceDoc:
    country: str
    retailer: Retailer
    number: str
    date: dt.date
    """The invoice (purchase) date, the one a claimant must type."""
    order_number: str | None = None
    order_date: dt.date | None = None
    """Printed too when the order was placed earlier than invoicing."""
    customer: tuple[str, ...] = ()
    customer_no: str | None = None
    lines: tuple[InvoiceLine, ...] = ()
    shipping: float = 0.0
    seller: str | None = None
    """Marketplace invoices: who sold the items ('Amazon EU S.à r.l.' or a third party)."""
    style: str = "classic"
    time: str = "14:32"
    """Receipts print the time of sale."""
    date_style: int | None = None
    """Index into the locale's date formats; None: the retailer's own."""

    @property
    def locale(self) -> Locale:
        return LOCALES[self.country]

    @property
    def total(self) -> float:
        return round(sum(line.amount for line in self.lines) + self.shipping, 2)

    @property
    def net(self) -> float:
        return round(self.total / (1 + self.locale.vat), 2)

    @property
    def vat_amount(self) -> float:
        return round(self.total - self.net, 2)

    def date_text(self, day: dt.date | None = None) -> str:
        style = self.retailer.date_style if self.date_style is None else self.date_style
        if self.style == "receipt":
            style = 0
        return self.locale.format_date(day or self.date, style)

    def printed_dates(self) -> list[dt.date]:
        """Every calendar date printed on the document."""
        dates = [self.date]
        if self.order_date and self.order_date != self.date:
            dates.append(self.order_date)
        return dates


def _vat_label(loc: Locale) -> str:
    pct = f"{loc.vat * 100:g}".replace(".", loc.decimal)
    return f"{loc.labels['vat']} {pct} %"


def _meta_rows(doc: InvoiceDoc) -> list[tuple[str, str]]:
    lab = doc.locale.labels
    rows = [(lab["invoice_no"], doc.number), (lab["date"], doc.date_text())]
    if doc.order_number:
        rows.append((lab["order_no"], doc.order_number))
    if doc.order_date and doc.order_date != doc.date:
        rows.append((lab["order_date"], doc.date_text(doc.order_date)))
    if doc.customer_no:
        rows.append((lab["customer_no"], doc.customer_no))
    return rows


def _table(doc: InvoiceDoc, y: float, x0: float = 50, x1: float = 545, size: float = 9.5) -> tuple[list, float]:
    """Item table from baseline y; returns items and the y below it."""
    loc, lab = doc.locale, doc.locale.labels
    items: list = [Rect(x0, y - 12, x1, y + 5, fill=(236, 236, 236)),
                   Text(x0 + 4, y, lab["qty"], size, bold=True), Text(x0 + 50, y, lab["item"], size, bold=True),
                   Text(x1 - 82, y, lab["price"], size, bold=True, align="right"),
                   Text(x1 - 4, y, lab["amount"], size, bold=True, align="right")]
    y += 20
    max_chars = int((x1 - x0 - 170) / (0.55 * size))
    for line in doc.lines:
        wrapped = textwrap.wrap(line.description, max_chars) or [""]
        items += [Text(x0 + 4, y, str(line.qty), size),
                  Text(x1 - 82, y, loc.money(line.unit, symbol=False), size, align="right"),
                  Text(x1 - 4, y, loc.money(line.amount, symbol=False), size, align="right")]
        for part in wrapped:
            items.append(Text(x0 + 50, y, part, size))
            y += size + 4
        y += 5
    if doc.shipping:
        items += [Text(x0 + 50, y, lab["ship"], size),
                  Text(x1 - 4, y, loc.money(doc.shipping, symbol=False), size, align="right")]
        y += size + 9
    items.append(Rect(x0, y - 8, x1, y - 7.4, fill=(0, 0, 0)))
    return items, y + 8


def _totals(doc: InvoiceDoc, y: float, x1: float = 545, size: float = 10) -> tuple[list, float]:
    loc, lab = doc.locale, doc.locale.labels
    items = [Text(x1 - 130, y, lab["net"], size, align="right"), Text(x1 - 4, y, loc.money(doc.net), size,
                                                                       align="right"),
             Text(x1 - 130, y + 16, _vat_label(loc), size, align="right"),
             Text(x1 - 4, y + 16, loc.money(doc.vat_amount), size, align="right"),
             Text(x1 - 130, y + 36, lab["total"], size + 2, bold=True, align="right"),
             Text(x1 - 4, y + 36, loc.money(doc.total), size + 2, bold=True, align="right")]
    return items, y + 60


def _customer(doc: InvoiceDoc, x: float, y: float, size: float = 10) -> list:
    if not doc.customer:
        return []
    items = [Text(x, y, doc.locale.labels["customer"], size - 1, color=GREY)]
    for i, part in enumerate(doc.customer):
        items.append(Text(x, y + 15 + i * 14, part, size))
    return items


def _footer(doc: InvoiceDoc, y: float) -> list:
    lab, r = doc.locale.labels, doc.retailer
    out = [Text(50, y, lab["paid"], 9.5), Text(50, y + 16, lab["thanks"], 9.5, bold=True)]
    bottom = A4[1] - 40
    parts = [r.legal, *r.address[-1:], r.registration] + ([r.domain] if r.domain else [])
    out.append(Rect(50, bottom - 14, 545, bottom - 13.5, fill=(150, 150, 150)))
    out.append(Text(297, bottom, " · ".join(parts), 7.5, align="center", color=GREY))
    return out


def _classic(doc: InvoiceDoc) -> Sheet:
    loc, r = doc.locale, doc.retailer
    title = loc.extra.get("title_alt", loc.title) if r.date_style == 2 else loc.title
    items: list = [Text(50, 72, r.name, 20, bold=True)]
    y = 90
    for line in (*r.address, r.registration) + ((f"www.{r.domain}",) if r.domain else ()):
        items.append(Text(50, y, line, 9))
        y += 12
    items.append(Text(545, 72, title, 22, bold=True, align="right"))
    my = 110
    for label, value in _meta_rows(doc):
        items += [Text(360, my, f"{label}:", 9.5), Text(545, my, value, 9.5, align="right")]
        my += 15
    items += _customer(doc, 50, max(y, my) + 28)
    table, ty = _table(doc, max(y, my) + 28 + 15 + 14 * len(doc.customer) + 40)
    totals, ty = _totals(doc, ty + 6)
    items += table + totals + _footer(doc, ty + 20)
    return Sheet(*A4, tuple(items))


def _modern(doc: InvoiceDoc) -> Sheet:
    loc, r = doc.locale, doc.retailer
    items: list = [Rect(0, 0, A4[0], 64, fill=r.accent),
                   Text(40, 42, r.name, 22, bold=True, color=(255, 255, 255))]
    if r.domain:
        items.append(Text(555, 40, r.domain, 10, align="right", color=(255, 255, 255)))
    items.append(Text(40, 108, loc.title, 18, bold=True))
    rows = _meta_rows(doc)
    for i, (label, value) in enumerate(rows):
        x = 40 + (i % 2) * 260
        y = 134 + (i // 2) * 30
        items += [Text(x, y, label, 8, color=GREY), Text(x, y + 13, value, 10.5, bold=True)]
    y = 134 + ((len(rows) + 1) // 2) * 30 + 20
    items += _customer(doc, 40, y)
    seller_y = y
    for i, line in enumerate((r.legal, *r.address[-1:], r.registration)):
        items.append(Text(555, seller_y + 15 + i * 14, line, 9, align="right"))
    table, ty = _table(doc, y + 15 + 14 * max(3, len(doc.customer)) + 36, x0=40, x1=555)
    totals, ty = _totals(doc, ty + 6, x1=555)
    items += table + totals
    lab = loc.labels
    items += [Text(40, ty + 20, lab["paid"], 9.5), Text(40, ty + 36, lab["thanks"], 10, bold=True)]
    return Sheet(*A4, tuple(items))


def _marketplace(doc: InvoiceDoc) -> Sheet:
    """An Amazon-style invoice: the marketplace's header, the seller of record named per line."""
    loc, r = doc.locale, doc.retailer
    lab = loc.labels
    items: list = [Text(50, 70, r.name, 24, bold=True, family="sans"),
                   Text(545, 66, loc.title, 16, bold=True, align="right")]
    y = 100
    for label, value in _meta_rows(doc):
        items += [Text(50, y, f"{label}: {value}", 10)]
        y += 15
    if doc.seller:
        items.append(Text(50, y + 10, f"{lab['seller']}: {doc.seller}", 10.5, bold=True))
        y += 26
    items += _customer(doc, 50, y + 22)
    table, ty = _table(doc, y + 22 + 15 + 14 * len(doc.customer) + 36)
    totals, ty = _totals(doc, ty + 6)
    items += table + totals
    if doc.seller:
        items.append(Text(50, ty + 24, f"{lab['seller']} {doc.seller}", 8.5, color=GREY))
    bottom = A4[1] - 40
    items.append(Text(297, bottom, " · ".join((r.legal, *r.address, r.registration)), 7, align="center",
                      color=GREY))
    return Sheet(*A4, tuple(items))


def _receipt(doc: InvoiceDoc, width_chars: int = 40) -> Sheet:
    """An 80 mm till receipt in a monospace face; long item names wrap as tills wrap them."""
    loc, r, lab = doc.locale, doc.retailer, doc.locale.labels
    size = 8.6
    cw = 0.602 * size
    width = width_chars * cw + 24
    x0, x1, cx = 12.0, width - 12, width / 2
    items: list = []
    y = 30.0

    def add(text: str, *, bold=False, align="left", big=False) -> None:
        nonlocal y
        s = size * (1.5 if big else 1.0)
        x = {"left": x0, "right": x1, "center": cx}[align]
        items.append(Text(x, y, text, s, bold=bold, family="mono", align=align))
        y += s + 4

    def pair(left: str, right: str, *, bold=False) -> None:
        nonlocal y
        items.append(Text(x0, y, left, size, bold=bold, family="mono"))
        items.append(Text(x1, y, right, size, bold=bold, family="mono", align="right"))
        y += size + 4

    add(r.name.upper(), bold=True, align="center", big=True)
    y += 2
    for line in r.address:
        for part in textwrap.wrap(line, width_chars):
            add(part, align="center")
    add(r.registration, align="center")
    y += 6
    add(loc.receipt_title, bold=True, align="center")
    pair(f"{doc.date_text()} {doc.time}", f"{lab['receipt_no']} {doc.number}")
    pair(f"{lab['cashier']} {int(doc.number[-2:]) % 9 + 1}", "")
    add("-" * width_chars)
    for line in doc.lines:
        parts = textwrap.wrap(line.description, width_chars - 2) or [""]
        for part in parts:
            add(part)
        pair(f"  {line.qty} x {loc.money(line.unit, symbol=False)}", loc.money(line.amount, symbol=False))
    add("-" * width_chars)
    pair(lab["total"].upper(), loc.money(doc.total), bold=True)
    y += 4
    pair(_vat_label(loc), loc.money(doc.vat_amount, symbol=False))
    pair(lab["net"], loc.money(doc.net, symbol=False))
    y += 4
    pair(lab["card"], loc.money(doc.total, symbol=False))
    add(f"**** **** **** {doc.number[-4:]}")
    y += 8
    add(lab["thanks"], align="center")
    if r.domain:
        add(f"www.{r.domain}", align="center")
    return Sheet(round(width), round(y + 24), tuple(items))


def invoice_sheet(doc: InvoiceDoc) -> Sheet:
    """The printed page of ``doc`` in its style."""
    return {"classic": _classic, "modern": _modern, "marketplace": _marketplace, "receipt": _receipt}[doc.style](doc)
