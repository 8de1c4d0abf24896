"""Invoices and till receipts as printed: the record of what is on the paper, and its layouts.

``InvoiceDoc`` is the ground truth of one proof of purchase (shop, number, date, lines,
totals, who sold it). ``invoice_sheet`` lays it out in one of four styles: ``classic``
(letterhead, meta block, table), ``modern`` (colour band), ``marketplace`` (an Amazon or
eBay invoice with a "sold by" line) and ``receipt`` (80 mm thermal till receipt; 58 mm
with ``receipt_width=32``, where long product names wrap onto two lines).

Variants real invoices show: the shop's name only in its logo (``shop_in_logo``: drawn as
a picture, no text layer, the rest of the page naming no brand), a header of brand and town
("MediaMarkt Rotterdam"), "Billing Address" / "Shipping Address" blocks, and delivery and
due dates beside the invoice date.

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
import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

from .locales import LOCALES, Locale, Retailer, without_brand
from .sheet import Picture, Rect, Sheet, Text, pil_font

__all__ = ["InvoiceLine", "InvoiceDoc", "invoice_sheet", "logo_image", "STYLES"]

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
    delivery_date: dt.date | None = None
    due_date: dt.date | None = None
    """Printed beside the invoice date (another date on the page, not the purchase date)."""
    shop_in_logo: bool = False
    """The shop's name is only in its logo (a picture): no text on the page names the brand."""
    header: str | None = None
    """The header's text instead of the shop's name ("MediaMarkt Rotterdam": brand and town)."""
    entity: str | None = None
    """A seller line printed under the header (the legal entity that sold)."""
    address_labels: bool = False
    """The buyer's block is headed "Billing Address" and repeated under "Shipping Address"."""
    receipt_width: int = 40
    """Characters per till-receipt line: 40 (80 mm roll) or 32 (58 mm: long names wrap)."""

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
        for other in (self.order_date, self.delivery_date, self.due_date):
            if other and other not in dates:
                dates.append(other)
        return dates

    def address(self) -> tuple[str, ...]:
        """The shop's address lines as printed (no brand when the name is only in the logo)."""
        if not self.shop_in_logo:
            return self.retailer.address
        return tuple(x for x in (without_brand(a, self.retailer) for a in self.retailer.address) if x)

    def heading(self) -> str:
        return self.header or self.retailer.name


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
    if doc.delivery_date and doc.delivery_date != doc.date:
        rows.append((lab["delivery_date"], doc.date_text(doc.delivery_date)))
    if doc.due_date and doc.due_date != doc.date:
        rows.append((lab["due"], doc.date_text(doc.due_date)))
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


def _customer(doc: InvoiceDoc, x: float, y: float, size: float = 10, second_x: float | None = None) -> list:
    if not doc.customer:
        return []
    lab = doc.locale.labels
    blocks = [(x, lab["customer"])]
    if doc.address_labels:
        blocks = [(x, lab["billing"]), (second_x or x + 250, lab["shipping"])]
    items = []
    for bx, title in blocks:
        items.append(Text(bx, y, title, size - 1, bold=doc.address_labels, color=GREY))
        for i, part in enumerate(doc.customer):
            items.append(Text(bx, y + 15 + i * 14, part, size))
    return items


@lru_cache(maxsize=64)
def logo_image(retailer: Retailer, *, mono: bool = False, on: tuple[int, int, int] | None = None) -> np.ndarray:
    """The shop's logo as pixels: its name in stylised, sheared, spaced letters beside a mark, in
    one of three designs fixed by the shop. ``mono``: black on white (a thermal printer's bitmap);
    ``on``: drawn on that background colour in white (a colour band)."""
    name = retailer.name.split(".")[0] if "." in retailer.name and len(retailer.name.split(".")[0]) > 2 \
        else retailer.name
    design = zlib.crc32(retailer.id.encode()) % 3
    ink = (0, 0, 0) if mono else (retailer.accent if sum(retailer.accent) > 60 else (30, 30, 30))
    paper = on or (255, 255, 255)
    if on is not None:
        ink = (255, 255, 255)
    px = 120
    font = pil_font("sans", True, px)
    text = name.upper() if design != 1 else name.lower()
    spacing = (px * 0.12, px * 0.02, px * 0.2)[design]
    widths = [font.getlength(c) for c in text]
    text_w = int(sum(widths) + spacing * (len(text) - 1))
    mark = int(px * 1.15)
    w, h = text_w + mark + int(px * 0.6), int(px * 1.5)
    img = Image.new("RGB", (w, h), paper)
    draw = ImageDraw.Draw(img)
    cy = h // 2
    # the mark: a disc with the initial cut out, a diamond, or a ring of bars
    if design == 0:
        draw.ellipse([4, cy - mark // 2, 4 + mark, cy + mark // 2], fill=ink)
        draw.text((4 + mark / 2, cy), text[0], font=pil_font("serif", True, int(px * 0.8)), fill=paper, anchor="mm")
    elif design == 1:
        pts = [(4 + mark / 2, cy - mark / 2), (4 + mark, cy), (4 + mark / 2, cy + mark / 2), (4, cy)]
        draw.polygon(pts, fill=ink)
        draw.polygon([(x * 0.5 + (4 + mark / 2) * 0.5, y * 0.5 + cy * 0.5) for x, y in pts], fill=paper)
    else:
        for k in range(4):
            y0 = cy - mark // 2 + k * mark // 4
            draw.rectangle([4 + k * mark // 8, y0, 4 + mark, y0 + mark // 6], fill=ink)
    x = mark + px * 0.35
    for c, cw in zip(text, widths):
        if design == 2:  # hollow letters
            draw.text((x, cy), c, font=font, fill=paper, stroke_width=max(3, px // 22), stroke_fill=ink, anchor="lm")
        else:
            draw.text((x, cy), c, font=font, fill=ink, anchor="lm")
        x += cw + spacing
    if design == 1:
        draw.rounded_rectangle([mark + px * 0.35, h - px * 0.22, w - px * 0.3, h - px * 0.1], radius=px // 10,
                               fill=ink)
    # slant: an italic wordmark, sheared as a drawing, not a font
    shear = (0.22, 0.0, -0.12)[design]
    out = img.transform((w + int(abs(shear) * h), h), Image.AFFINE,
                        (1, shear, -abs(shear) * h if shear > 0 else 0, 0, 1, 0),
                        resample=Image.BICUBIC, fillcolor=paper)
    return np.asarray(out)


def _logo(doc: InvoiceDoc, x: float, baseline: float, height: float, *, align: str = "left", mono: bool = False,
          on: tuple[int, int, int] | None = None) -> Picture:
    pixels = logo_image(doc.retailer, mono=mono, on=on)
    width = height * pixels.shape[1] / pixels.shape[0]
    x0 = {"left": x, "center": x - width / 2, "right": x - width}[align]
    return Picture(x0, baseline - height * 0.8, x0 + width, baseline + height * 0.2, pixels, alt=doc.retailer.name)


def _footer(doc: InvoiceDoc, y: float) -> list:
    lab, r = doc.locale.labels, doc.retailer
    out = [Text(50, y, lab["paid"], 9.5), Text(50, y + 16, lab["thanks"], 9.5, bold=True)]
    bottom = A4[1] - 40
    parts = [r.legal, *r.address[-1:], r.registration] + ([r.domain] if r.domain else [])
    if doc.shop_in_logo:
        parts = [p for p in (without_brand(x, r) for x in (*r.address[-1:], r.registration)) if p]
    out.append(Rect(50, bottom - 14, 545, bottom - 13.5, fill=(150, 150, 150)))
    out.append(Text(297, bottom, " · ".join(parts), 7.5, align="center", color=GREY))
    return out


def _width(text: str, size: float, *, bold: bool = False) -> float:
    """Width in points of a text run in the sheet's sans face."""
    return pil_font("sans", bold, round(size * 10)).getlength(text) / 10


def _classic(doc: InvoiceDoc) -> Sheet:
    loc, r = doc.locale, doc.retailer
    title = loc.extra.get("title_alt", loc.title) if r.date_style == 2 else loc.title
    items: list = [_logo(doc, 50, 74, 30) if doc.shop_in_logo else Text(50, 72, doc.heading(), 20, bold=True)]
    y = 90
    if doc.entity:
        items.append(Text(50, y, doc.entity, 9, bold=True))
        y += 12
    web = (f"www.{r.domain}",) if r.domain and not doc.shop_in_logo else ()
    for line in (*doc.address(), r.registration) + web:
        items.append(Text(50, y, line, 9))
        y += 12
    items.append(Text(545, 72, title, 22, bold=True, align="right"))
    my = 110
    rows = _meta_rows(doc)
    # labels from x=360 unless a long label and a long value would run into each other
    needed = max(_width(f"{label}:", 9.5) + _width(value, 9.5) for label, value in rows) + 12
    x_label = min(360.0, 545 - needed)
    for label, value in rows:
        items += [Text(x_label, my, f"{label}:", 9.5), Text(545, my, value, 9.5, align="right")]
        my += 15
    items += _customer(doc, 50, max(y, my) + 28)
    table, ty = _table(doc, max(y, my) + 28 + 15 + 14 * len(doc.customer) + 40)
    totals, ty = _totals(doc, ty + 6)
    items += table + totals + _footer(doc, ty + 20)
    return Sheet(*A4, tuple(items))


def _modern(doc: InvoiceDoc) -> Sheet:
    loc, r = doc.locale, doc.retailer
    items: list = [Rect(0, 0, A4[0], 64, fill=r.accent),
                   _logo(doc, 40, 44, 34, on=r.accent) if doc.shop_in_logo else
                   Text(40, 42, doc.heading(), 22, bold=True, color=(255, 255, 255))]
    if r.domain and not doc.shop_in_logo:
        items.append(Text(555, 40, r.domain, 10, align="right", color=(255, 255, 255)))
    items.append(Text(40, 108, loc.title, 18, bold=True))
    rows = _meta_rows(doc)
    for i, (label, value) in enumerate(rows):
        x = 40 + (i % 2) * 260
        y = 134 + (i // 2) * 30
        items += [Text(x, y, label, 8, color=GREY), Text(x, y + 13, value, 10.5, bold=True)]
    y = 134 + ((len(rows) + 1) // 2) * 30 + 20
    items += _customer(doc, 40, y, second_x=200)
    seller = (doc.entity or r.legal, *r.address[-1:], r.registration)
    if doc.shop_in_logo:
        seller = tuple(x for x in (without_brand(line, r) for line in (*r.address[-1:], r.registration)) if x)
    for i, line in enumerate(seller):
        items.append(Text(555, y + 15 + i * 14, line, 9, align="right"))
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


def _receipt(doc: InvoiceDoc) -> Sheet:
    """A till receipt in a monospace face (80 mm: 40 characters a line, 58 mm: 32); long item names
    wrap as tills wrap them."""
    loc, r, lab = doc.locale, doc.retailer, doc.locale.labels
    width_chars = doc.receipt_width
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
        if right and len(left) + len(right) + 1 > width_chars:  # a narrow roll: the right part drops a line
            add(left, bold=bold)
            left = ""
        items.append(Text(x0, y, left, size, bold=bold, family="mono"))
        items.append(Text(x1, y, right, size, bold=bold, family="mono", align="right"))
        y += size + 4

    if doc.shop_in_logo:
        y += 10
        items.append(_logo(doc, cx, y, 26, align="center", mono=True))
        y += 14
    else:
        add(doc.heading().upper(), bold=True, align="center", big=True)
    y += 2
    if doc.entity:
        add(doc.entity, align="center")
    for line in doc.address():
        for part in textwrap.wrap(line, width_chars):
            add(part, align="center")
    add(r.registration, align="center")
    y += 6
    add(loc.receipt_title, bold=True, align="center")
    pair(f"{doc.date_text()} {doc.time}", f"{lab['receipt_no']} {doc.number}")
    pair(f"{lab['cashier']} {int(doc.number[-2:]) % 9 + 1}", "")
    add("-" * width_chars)
    for line in doc.lines:
        amount = loc.money(line.amount, symbol=False)
        if width_chars <= 32:
            # a 58 mm till: the name in a column beside the amount, wrapped there (the model too)
            parts = textwrap.wrap(line.description.upper(), width_chars - len(amount) - 2) or [""]
            for part in parts[:-1]:
                add(part)
            pair(parts[-1], amount)
            if line.qty > 1:
                add(f"  {line.qty} x {loc.money(line.unit, symbol=False)}")
            continue
        parts = textwrap.wrap(line.description, width_chars - 2) or [""]
        for part in parts:
            add(part)
        pair(f"  {line.qty} x {loc.money(line.unit, symbol=False)}", amount)
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
    if r.domain and not doc.shop_in_logo:
        add(f"www.{r.domain}", align="center")
    return Sheet(round(width), round(y + 24), tuple(items))


def invoice_sheet(doc: InvoiceDoc) -> Sheet:
    """The printed page of ``doc`` in its style."""
    return {"classic": _classic, "modern": _modern, "marketplace": _marketplace, "receipt": _receipt}[doc.style](doc)
