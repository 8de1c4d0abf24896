"""Who sold it: marketplaces, third-party sellers and excluded retailers on an invoice.

A marketplace that also sells on its own account (Amazon, Cdiscount, Fnac, bol.com) prints
who sold each item: "Sold by", "Vendu par", "Verkauft von", "Solgt av" (``labels.toml``).
On such an invoice a seller whose name does not start with the marketplace's own name
is a third-party seller. The same labels on a shop's till receipt name a sales person, so
they are read only on an invoice the marketplace's name appears on (or a claim names).

>>> from pipeline.records import Line, Page, Word
>>> def line(text, y):
...     return Line(tuple(Word(t, 90, (60 * i, y, 60 * i + 50, y + 20)) for i, t in enumerate(text.split())))
>>> page = Page(1, 600, 800, "pdf_text", (line("amazon.de Rechnung", 0), line("Verkauft von TechDeals24 GmbH", 40)))
>>> [(s.seller, s.first_party) for s in find_sellers([page])]
[('TechDeals24 GmbH', False)]
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..records import BBox, Page
from .labels import Knowledge, LineText, Marketplace, default_knowledge
from .normalise import normalise_text

__all__ = ["SellerLine", "NameHit", "find_marketplaces", "find_sellers", "find_names", "names_in",
           "seller_line_to_dict", "sold_by_lines"]


@dataclass(frozen=True)
class SellerLine:
    marketplace: str
    seller: str
    """The seller's name as read."""
    first_party: bool
    """The marketplace itself sold it."""
    page: int
    bbox: BBox | None
    line: str
    again: bool = False
    """Read only by the reading cascade's second engine: one engine's reading, not enough to reject on."""


def seller_line_to_dict(s: SellerLine) -> dict:
    return {"marketplace": s.marketplace, "seller": s.seller, "first_party": s.first_party, "page": s.page,
            "bbox": list(s.bbox) if s.bbox else None, "line": s.line, "again": s.again}


def sold_by_lines(extracted: dict) -> dict[str, list[SellerLine]] | None:
    """Document -> its "sold by" lines, from a decision's ``extracted`` facts (every reading of each
    invoice, ``sold_by``); None when the facts were kept before they held them."""
    if not extracted or not all(isinstance(v, dict) and "sold_by" in v for v in extracted.values()):
        return None
    return {name: [SellerLine(d["marketplace"], d["seller"], bool(d["first_party"]), int(d["page"]),
                              tuple(d["bbox"]) if d.get("bbox") else None, d["line"], bool(d.get("again")))
                 for d in v["sold_by"]]
            for name, v in extracted.items()}


@dataclass(frozen=True)
class NameHit:
    name: str
    """The name looked for (as the terms give it)."""
    found: str
    """The line it was found on."""
    page: int
    bbox: BBox | None
    top: bool
    """In the top third of page 1, where the issuer of an invoice stands."""


def _contains(words: list[str], seq: tuple[str, ...]) -> int:
    """Index where ``seq`` occurs in ``words``, or -1."""
    n = len(seq)
    for i in range(len(words) - n + 1):
        if tuple(words[i:i + n]) == seq:
            return i
    return -1


def names_in(text: str, names: Sequence[str]) -> list[str]:
    """The names whose every word occurs in ``text`` (normalised, any order): "ebay.de" holds
    "eBay"; "Amazon.de Marketplace seller X" holds "Amazon Marketplace".

    >>> names_in("Amazon.de Marketplace - HW Shop", ["eBay", "Amazon Marketplace"])
    ['Amazon Marketplace']
    """
    words = set(normalise_text(text).split())
    return [n for n in names if (w := normalise_text(n).split()) and set(w) <= words]


def find_marketplaces(pages: Sequence[Page], claimed_retailer: str | None = None, *,
                      knowledge: Knowledge | None = None) -> list[Marketplace]:
    """Marketplaces whose name the invoice shows or the claimed retailer starts with."""
    kb = knowledge or default_knowledge()
    words = normalise_text(" ".join(p.text for p in pages)).split()
    claimed = normalise_text(claimed_retailer or "").split()
    out = []
    for market in kb.marketplaces:
        if any(_contains(words, m) >= 0 or tuple(claimed[:len(m)]) == m for m in market.markers):
            out.append(market)
    return out


def find_sellers(pages: Sequence[Page], claimed_retailer: str | None = None, *,
                 knowledge: Knowledge | None = None) -> list[SellerLine]:
    """Every "sold by" line of a marketplace invoice, with whether the seller is the marketplace."""
    kb = knowledge or default_knowledge()
    markets = find_marketplaces(pages, claimed_retailer, knowledge=kb)
    if not markets:
        return []
    out = []
    for page in pages:
        lines = [LineText.of(line) for line in page.lines]
        for i, text in enumerate(lines):
            for m in kb.seller_labels.finditer(text.folded):
                where, start = text, m.end()
                rest = text.folded[start:]
                if not rest.strip(" :\t-"):
                    if i + 1 >= len(lines):
                        continue
                    where, start = lines[i + 1], 0
                    rest = where.folded
                stop = kb.seller_stops.search(rest)
                end = start + (stop.start() if stop else len(rest))
                lead = len(where.folded[start:end]) - len(where.folded[start:end].lstrip(" :\t-"))
                s, e = start + lead, end
                seller = where.raw[s:e].strip(" ,.;:-\t")
                if not seller:
                    continue
                name = tuple(normalise_text(seller).split())
                for market in markets:
                    # PP-OCR drops spaces ("AmazonEU s.ar.l"): the words are compared glued too
                    first = any(name[:len(f)] == f or "".join(name).startswith("".join(f))
                                for f in market.first_party)
                    out.append(SellerLine(market.name, seller, first, page.number, where.bbox(s, e), text.raw))
                    if first:
                        break
    return _dedupe(out)


def _dedupe(found: list[SellerLine]) -> list[SellerLine]:
    # One line read against several marketplaces: keep it once, first-party if any reading says so.
    best: dict[tuple, SellerLine] = {}
    for s in found:
        key = (s.page, s.bbox, s.seller)
        if key not in best or (s.first_party and not best[key].first_party):
            best[key] = s
    return list(best.values())


def find_names(pages: Sequence[Page], names: Sequence[str], *, top_fraction: float = 0.33) -> list[NameHit]:
    """Lines that hold one of ``names`` (all its words, in order, as normalised words)."""
    wanted = [(n, tuple(normalise_text(n).split())) for n in names]
    out = []
    for page in pages:
        for line in page.lines:
            words = normalise_text(line.text).split()
            for name, seq in wanted:
                if seq and _contains(words, seq) >= 0:
                    box = line.bbox
                    top = page.number == 1 and box is not None and box[1] <= top_fraction * max(page.height, 1)
                    out.append(NameHit(name, line.text, page.number, box, top))
    return out
