"""Language knowledge the extraction and the promotion rules use, from ``pipeline/data/labels.toml``:
invoice-number labels, marketplace seller labels, marketplaces, product-category names, and the
words that state a product's condition (used, refurbished, B-stock, ...).

Labels are matched on text folded one character for one (accents stripped, lower case), so
the offsets of a match are those of the line as read and its words' boxes can be found.

>>> canonical_category("Carte graphique"), canonical_category("graphics_card")
('graphics_card', 'graphics_card')
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..errors import ConfigError
from ..records import BBox, Line, union_bbox
from .folding import fold  # re-exported: the label patterns are folded with it
from .normalise import normalise_text

__all__ = ["Knowledge", "Marketplace", "load_knowledge", "default_knowledge", "canonical_category", "fold",
           "label_pattern", "LineText"]

_PACKAGED = Path(__file__).resolve().parents[1] / "data" / "labels.toml"


@dataclass(frozen=True)
class LineText:
    """A line's text, folded, with each word's character span for finding boxes."""

    raw: str
    folded: str
    spans: tuple[tuple[int, int, BBox], ...]

    @classmethod
    def of(cls, line: Line) -> LineText:
        spans, pos = [], 0
        for word in line.words:
            spans.append((pos, pos + len(word.text), word.bbox))
            pos += len(word.text) + 1
        raw = line.text
        return cls(raw, fold(raw), tuple(spans))

    def bbox(self, start: int, end: int) -> BBox | None:
        return union_bbox(b for s, e, b in self.spans if s < end and e > start)


def label_pattern(labels) -> re.Pattern:
    """One regex for a list of labels: words may be split by spaces, dots, hyphens or colons on
    the invoice; '°'/'º' may be read as 'o' or lost; a label never ends inside a word."""
    alts = []
    for label in sorted({fold(x) for x in labels}, key=lambda x: (-len(x), x)):
        words = [re.escape(w) for w in re.split(r"[\s.\-]+", label) if w]
        body = r"[\s.\-:]*".join(words)
        body = re.sub("[°º]", "[°ºo]?", body)
        alts.append(body)
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(alts) + r")(?![a-z])")


@dataclass(frozen=True)
class Marketplace:
    name: str
    markers: tuple[tuple[str, ...], ...]
    """Each marker as normalised words ("bol.com" -> ('bol', 'com'))."""
    first_party: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Knowledge:
    invoice_labels: re.Pattern
    seller_labels: re.Pattern
    seller_stops: re.Pattern
    marketplaces: tuple[Marketplace, ...]
    categories: dict[str, str]
    """Normalised name or alias -> canonical category."""
    source: str
    conditions: dict[str, re.Pattern] = field(default_factory=dict)
    """Condition name ('used', 'refurbished', 'b_stock', ...) -> the words stating it; 'new' is none."""


def _strings(value, where: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(message=f"{where} must be a non-empty list of non-empty strings")
    return [v.strip() for v in value]


def load_knowledge(path: str | Path | None = None) -> Knowledge:
    """Read and validate a labels file (default: the packaged ``labels.toml``)."""
    path = Path(path) if path is not None else _PACKAGED
    source = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(message=f"{source}: cannot read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(message=f"{source}: not valid TOML: {exc}") from exc
    unknown = sorted(set(data) - {"invoice_numbers", "sellers", "marketplaces", "categories", "conditions"})
    if unknown:
        raise ConfigError(message=f"{source}: unknown section(s) {', '.join(unknown)}")
    inv = data.get("invoice_numbers") or {}
    sellers = data.get("sellers") or {}
    invoice_labels = _strings(inv.get("labels"), f"{source}: invoice_numbers.labels")
    seller_labels = _strings(sellers.get("labels"), f"{source}: sellers.labels")
    stops = _strings(sellers.get("stops"), f"{source}: sellers.stops")
    markets = []
    for name, entry in (data.get("marketplaces") or {}).items():
        where = f"{source}: marketplaces.{name}"
        if not isinstance(entry, dict) or set(entry) - {"markers", "first_party"}:
            raise ConfigError(message=f"{where} must hold only 'markers' and 'first_party'")
        markers = _strings(entry.get("markers"), f"{where}.markers")
        first = entry.get("first_party", [])
        if first:
            first = _strings(first, f"{where}.first_party")
        markets.append(Marketplace(name, tuple(tuple(normalise_text(m).split()) for m in markers),
                                   tuple(tuple(normalise_text(f).split()) for f in first)))
    categories: dict[str, str] = {}
    for key, aliases in (data.get("categories") or {}).items():
        if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
            raise ConfigError(message=f"{source}: categories.{key}: a category is lower_snake_case")
        for name in [key.replace("_", " "), *_strings(aliases, f"{source}: categories.{key}")]:
            norm = normalise_text(name)
            if categories.get(norm, key) != key:
                raise ConfigError(message=f"{source}: categories.{key}: {name!r} is already an alias of "
                                          f"{categories[norm]!r}")
            categories[norm] = key
    conditions = {}
    for key, entry in (data.get("conditions") or {}).items():
        where = f"{source}: conditions.{key}"
        if not re.fullmatch(r"[a-z][a-z0-9_]*", key) or key == "new":
            raise ConfigError(message=f"{where}: a condition is lower_snake_case and not 'new' (stated by no word)")
        if not isinstance(entry, dict) or set(entry) != {"words"}:
            raise ConfigError(message=f"{where} must hold only 'words'")
        conditions[key] = label_pattern(_strings(entry["words"], f"{where}.words"))
    return Knowledge(
        invoice_labels=label_pattern(invoice_labels),
        seller_labels=label_pattern(seller_labels),
        seller_stops=label_pattern(stops),
        marketplaces=tuple(markets),
        categories=categories,
        source=source,
        conditions=conditions,
    )


@lru_cache(maxsize=1)
def default_knowledge() -> Knowledge:
    return load_knowledge()


def canonical_category(text: str | None, knowledge: Knowledge | None = None) -> str | None:
    """The category a claim's free text means, or the text in lower_snake_case when unknown."""
    if not text or not text.strip():
        return None
    kb = knowledge or default_knowledge()
    norm = normalise_text(text.replace("_", " "))
    return kb.categories.get(norm, norm.replace(" ", "_") or None)
