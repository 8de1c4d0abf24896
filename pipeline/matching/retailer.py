"""Does the claimed retailer appear on the invoice?

The claimed name is first resolved to a retailer's aliases (``pipeline/data/retailers.toml``:
trading names, legal names / seller of record, web domains, VAT numbers); an unknown name
is looked for as it is. Each alias is compared, with company-form words (SDN BHD, GmbH,
S.à r.l., AS, Ltd, Sp. z o.o., ...) stripped, against windows of 1 to 3 consecutive lines
of every page, with rapidfuzz's ``partial_ratio`` on the text squeezed of spaces and
punctuation: OCR often loses or invents spaces ("MR.D.I.Y(M)SDN BHD").

A short core name (under ``min_core_chars`` letters, such as "AEON" or "Power") cannot pass
alone: the full legal name, a domain or a VAT number must be found too. Lines outside
the top of the first page score ``outside_top_penalty`` less, so the header wins ties.
A legal entity and its brand are one shop: "Komplett Services AS" and "Coolblue Nederland
B.V." are also looked for as "Komplett" and "Coolblue" (``[legal_forms].qualifiers``).

A claimed name that is not found is not a mismatch. The claim *fails* only on positive
evidence: the invoice names another seller, read with confidence (``identify_sellers``):

- another retailer of the alias file (a legal name, domain or VAT number anywhere outside the
  buyer's block; a trading name at the top of page 1), or a shop the claim store knows;
- a "sold by" line (passed in by the caller);
- a company's registered name: a name with a company form next to a registration or VAT
  number label, or the first line of page 1 when it ends with a company form.

That seller must share no word with the claimed name (OCR-tolerant) and be read with a mean
word confidence of at least ``seller_min_conf``. A header word, a field label ("Billing
Address"), a town, a missing or partial name is ``uncertain``; so is a claim that holds the
invoice's name plus other words ("<name> - for testing").

>>> from pipeline.records import Line, Page, Word
>>> line = Line((Word("Vendu", 99, (0, 0, 50, 10)), Word("par", 99, (55, 0, 80, 10)),
...              Word("Amazon", 99, (85, 0, 150, 10)), Word("EU", 99, (155, 0, 175, 10)),
...              Word("S.a", 99, (180, 0, 200, 10)), Word("r.l.", 99, (205, 0, 230, 10))))
>>> m = match_retailer("amazon.fr", [Page(1, 600, 800, "pdf_text", (line,))])
>>> m.status, m.found
('pass', 'Amazon EU S.a r.l.')
>>> m = match_retailer("Komplett", [Page(1, 600, 800, "pdf_text", (line,))])
>>> m.status, m.reason, m.found
('fail', 'other_seller', 'Amazon EU S.a r.l.')
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from pathlib import Path

from rapidfuzz import fuzz
from stdnum import vatin

from ..datafiles import read_toml
from ..errors import ConfigError
from ..extract.normalise import fold_confusables, normalise_text
from ..records import BBox, Line, Page, Word, union_bbox

__all__ = [
    "RetailerAliases",
    "RetailerMatch",
    "RetailerData",
    "Seller",
    "identify_sellers",
    "is_shop_name",
    "load_retailers",
    "match_retailer",
    "names_differ",
    "resolve_retailer",
    "strip_entity",
    "strip_legal_form",
]


@dataclass(frozen=True)
class RetailerAliases:
    """How one retailer shows itself on invoices."""

    id: str
    names: tuple[str, ...]
    legal_names: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    vat: tuple[str, ...] = ()
    country: str | None = None


@dataclass(frozen=True)
class RetailerData:
    """The retailer alias file: retailers by id, the company-form words to strip, and who is who
    on an invoice (buyer labels, registration-number labels and patterns)."""

    retailers: Mapping[str, RetailerAliases]
    legal_suffixes: tuple[str, ...]
    """Normalised, longest first."""
    legal_prefixes: tuple[str, ...]
    source: str = "retailers.toml"
    qualifiers: tuple[str, ...] = ()
    """Normalised words a legal entity adds to its brand ("services", "nederland"), longest first."""
    buyer_labels: tuple[tuple[str, ...], ...] = ()
    """Normalised words of each label that opens the buyer's block."""
    registration_labels: tuple[tuple[str, ...], ...] = ()
    """Normalised words of each company-registration / VAT number label."""
    registration_patterns: tuple[re.Pattern, ...] = ()
    """A whole line (raw text) that is a registration number on its own."""
    document_words: frozenset[str] = frozenset()
    """Normalised words of document titles and labels ("tax invoice", "receipt"): no shop's name."""
    keys: Mapping[str, frozenset[str]] = field(default_factory=dict, compare=False, repr=False)
    """Per retailer id, the compact forms a claim may name it by (filled by ``with_index``)."""

    @cached_property
    def form_words(self) -> frozenset[str]:
        """Every word of a company form or qualifier ("sdn", "bhd", "nederland")."""
        return frozenset(w for f in self.legal_suffixes + self.legal_prefixes + self.qualifiers for w in f.split())

    def with_index(self) -> RetailerData:
        keys = {}
        for r in self.retailers.values():
            k = {_compact(r.id)}
            for name in r.names + r.legal_names + r.domains:
                k.add(_compact(name))
                k.add(strip_legal_form(name, self).replace(" ", ""))
            keys[r.id] = frozenset(k - {""})
        return replace(self, keys=keys)

    @property
    def digest(self) -> str:
        """A short hash of the retailers and their aliases (cache keys, reports)."""
        blob = repr(sorted((r.id, r.names, r.legal_names, r.domains, r.vat) for r in self.retailers.values()))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Seller:
    """A seller the invoice names: who issued it or sold the goods."""

    name: str
    """As read."""
    how: str
    """'alias' (a retailer of the alias file), 'known_shop' (a shop the caller knows),
    'sold_by' (a "sold by" line), 'legal_name' (a registered company name)."""
    retailer_id: str | None
    page: int
    bbox: BBox | None
    conf: float
    """Mean OCR confidence of its words (100 for a PDF text layer)."""

    def to_dict(self) -> dict:
        return {"name": self.name, "how": self.how, "retailer_id": self.retailer_id, "page": self.page,
                "bbox": list(self.bbox) if self.bbox else None, "conf": round(self.conf, 1)}


@dataclass(frozen=True)
class RetailerMatch:
    """How well the claimed retailer was found on the invoice."""

    status: str
    """'pass', 'fail' or 'uncertain'."""
    score: int
    """0..100: rapidfuzz partial ratio of the best alias in the best window, less penalties."""
    found: str | None
    """Pass or near: the invoice words that matched. Fail: the other seller the invoice names.
    Uncertain: the seller read on the invoice if any (not with confidence, or not clearly another
    shop), else None."""
    page: int | None
    bbox: BBox | None
    retailer_id: str | None
    """The known retailer the claim resolved to, None for a name not in the alias file."""
    matched_alias: str | None
    """Which alias matched ("Amazon EU S.à r.l.", "amazon.fr", a VAT number)."""
    reason: str
    """'match', 'brand' (the claimed legal entity's brand was found), 'repeated_short_name', 'near',
    'short_name_only' (only a short core name was found), 'claim_holds_name' (the claim holds a seller
    the invoice names, read with confidence, plus other words), 'partial_name' (the claim holds the
    invoice's name plus other words), 'other_seller' (the invoice names another seller: the only
    fail), 'not_found', 'empty_claim'."""
    detail: str = ""
    """Why, for a reviewer."""
    seller: Seller | None = None
    """The seller the invoice names, when one was identified."""

    def to_dict(self) -> dict:
        return {"status": self.status, "score": self.score, "found": self.found, "page": self.page,
                "bbox": list(self.bbox) if self.bbox else None, "retailer_id": self.retailer_id,
                "matched_alias": self.matched_alias, "reason": self.reason, "detail": self.detail,
                "seller": self.seller.to_dict() if self.seller else None}


# ------------------------------------------------------------------------------------ loading

_RETAILER_FIELDS = {"names", "legal_names", "domains", "vat", "country"}


def _string_list(value: object, where: str, *, required: bool) -> tuple[str, ...]:
    if value is None:
        if required:
            raise ConfigError(message=f"{where} is missing (a list of strings)")
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(message=f"{where} must be a list of non-empty strings")
    if required and not value:
        raise ConfigError(message=f"{where} must hold at least one name")
    return tuple(v.strip() for v in value)


def _word_labels(values: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    out = {tuple(normalise_text(v).split()) for v in values} - {()}
    return tuple(sorted(out, key=lambda t: (-len(t), t)))


def _parse_retailer(rid: str, entry: object, source: str) -> RetailerAliases:
    where = f"{source}: retailers.{rid!r}"
    if not isinstance(entry, dict):
        raise ConfigError(message=f"{where} must be a table")
    extra = sorted(set(entry) - _RETAILER_FIELDS)
    if extra:
        raise ConfigError(message=f"{where}: unknown field(s) {', '.join(extra)}; "
                                  f"allowed: {', '.join(sorted(_RETAILER_FIELDS))}")
    names = _string_list(entry.get("names"), f"{where}.names", required=True)
    legal = _string_list(entry.get("legal_names"), f"{where}.legal_names", required=False)
    domains = _string_list(entry.get("domains"), f"{where}.domains", required=False)
    for d in domains:
        if " " in d or "." not in d:
            raise ConfigError(message=f"{where}.domains: {d!r} is not a domain name")
    vat = _string_list(entry.get("vat"), f"{where}.vat", required=False)
    for v in vat:
        if not v.replace(" ", "").isalnum() or not v[:2].isalpha():
            raise ConfigError(message=f"{where}.vat: {v!r} must be letters and digits with a "
                                      "country prefix")
        if not vatin.is_valid(v):
            # python-stdnum knows each country's check digits: a typo here would never match.
            raise ConfigError(message=f"{where}.vat: {v!r} is not a valid VAT number (check digits)")
    country = entry.get("country")
    if country is not None and not (isinstance(country, str) and len(country) == 2 and country.isupper()):
        raise ConfigError(message=f"{where}.country: {country!r} must be an ISO 3166-1 alpha-2 code")
    for name in names + legal:
        if not normalise_text(name):
            raise ConfigError(message=f"{where}: name {name!r} has no letters or digits")
    return RetailerAliases(rid, names, legal, domains, vat, country)


def _parse_retailers(data: dict, source: str) -> RetailerData:
    unknown = sorted(set(data) - {"legal_forms", "parties", "retailers"})
    if unknown:
        raise ConfigError(message=f"{source}: unknown section(s) {', '.join(unknown)}")
    forms = data.get("legal_forms", {})
    if not isinstance(forms, dict) or set(forms) - {"suffixes", "prefixes", "qualifiers"}:
        raise ConfigError(message=f"{source}: [legal_forms] may hold only 'suffixes', 'prefixes' and "
                                  "'qualifiers'")
    suffixes = _string_list(forms.get("suffixes"), f"{source}: legal_forms.suffixes", required=False)
    prefixes = _string_list(forms.get("prefixes"), f"{source}: legal_forms.prefixes", required=False)
    qualifiers = _string_list(forms.get("qualifiers"), f"{source}: legal_forms.qualifiers", required=False)
    parties = data.get("parties", {})
    allowed = {"buyer_labels", "registration_labels", "registration_patterns", "document_words"}
    if not isinstance(parties, dict) or set(parties) - allowed:
        raise ConfigError(message=f"{source}: [parties] may hold only {', '.join(sorted(allowed))}")
    buyer = _string_list(parties.get("buyer_labels"), f"{source}: parties.buyer_labels", required=False)
    registration = _string_list(parties.get("registration_labels"), f"{source}: parties.registration_labels",
                                required=False)
    patterns = []
    for k, pattern in enumerate(_string_list(parties.get("registration_patterns"),
                                             f"{source}: parties.registration_patterns", required=False)):
        try:
            patterns.append(re.compile(pattern))
        except re.error as exc:
            raise ConfigError(message=f"{source}: parties.registration_patterns[{k}]: {exc}") from exc
    document = _string_list(parties.get("document_words"), f"{source}: parties.document_words", required=False)
    table = data.get("retailers")
    if not isinstance(table, dict) or not table:
        raise ConfigError(message=f"{source}: section [retailers] is missing or empty")
    retailers = {rid: _parse_retailer(rid, entry, source) for rid, entry in table.items()}

    def norm(values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted({normalise_text(s) for s in values} - {""}, key=len, reverse=True))

    return RetailerData(retailers, norm(suffixes), norm(prefixes), source, norm(qualifiers),
                        _word_labels(buyer), _word_labels(registration), tuple(patterns),
                        frozenset(w for v in document for w in normalise_text(v).split())).with_index()


def _merge_aliases(base: RetailerData, data: dict, source: str) -> RetailerData:
    """``base`` with the retailers of an extra alias file added: a new id is added, the lists of an
    id already known are extended (names learned from reviewers' decisions, a site's own shops)."""
    unknown = sorted(set(data) - {"retailers"})
    if unknown:
        raise ConfigError(message=f"{source}: an extra alias file holds only [retailers], not "
                                  f"{', '.join(unknown)}")
    table = data.get("retailers", {})  # an empty file: nothing learned yet
    if not isinstance(table, dict):
        raise ConfigError(message=f"{source}: [retailers] must be a table of retailers")
    merged = dict(base.retailers)
    for rid, entry in table.items():
        if rid in merged and isinstance(entry, dict) and "names" not in entry:
            entry = {**entry, "names": list(merged[rid].names)}
        new = _parse_retailer(rid, entry, source)
        old = merged.get(rid)
        if old is not None:
            def union(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
                return tuple(dict.fromkeys(a + b))
            new = RetailerAliases(rid, union(old.names, new.names), union(old.legal_names, new.legal_names),
                                  union(old.domains, new.domains), union(old.vat, new.vat),
                                  new.country or old.country)
        merged[rid] = new
    return replace(base, retailers=merged, source=f"{base.source} + {source}").with_index()


def load_retailers(path: str | Path | None = None, *, extra: str | Path | None = None) -> RetailerData:
    """The alias file at ``path``, or the packaged ``retailers.toml``; validated.

    ``extra``: a second file of ``[retailers."<id>"]`` tables merged over it (same fields; lists of
    an id already known are extended), as ``claimcheck retailers learn`` writes.
    Raises ConfigError naming the file and the field at fault.
    """
    if extra:
        return _with_extra(str(path) if path is not None else None, str(extra), _mtime(extra))
    if path is None:
        return _default_retailers()
    return _parse_retailers(*read_toml(path, packaged="retailers.toml"))


def _mtime(path: str | Path) -> float:
    try:
        return Path(path).stat().st_mtime
    except OSError:
        return 0.0


@lru_cache(maxsize=4)
def _with_extra(path: str | None, extra: str, _mtime: float) -> RetailerData:
    return _merge_aliases(load_retailers(path), *read_toml(extra, packaged="retailers.toml"))


@lru_cache(maxsize=1)
def _default_retailers() -> RetailerData:
    return _parse_retailers(*read_toml(None, packaged="retailers.toml"))


# -------------------------------------------------------------------------------- name handling

def _strip_forms(words: str, data: RetailerData, qualifiers: bool) -> str:
    core = words
    changed = True
    while changed:
        changed = False
        for suffix in data.legal_suffixes:
            if core.endswith(" " + suffix):
                core = core[: -len(suffix) - 1]
                changed = True
                break
        for prefix in data.legal_prefixes:
            if core.startswith(prefix + " "):
                core = core[len(prefix) + 1:]
                changed = True
                break
        if qualifiers:
            for word in data.qualifiers:
                if core.endswith(" " + word):
                    core = core[: -len(word) - 1]
                    changed = True
                    break
    return core or words


def strip_legal_form(name: str, data: RetailerData | None = None) -> str:
    """The normalised name without company-form words at its end or start; never empty
    when the name has words.

    >>> strip_legal_form("POPULAR BOOK CO. (M) SDN BHD")
    'popular book'
    """
    return _strip_forms(normalise_text(name), data or load_retailers(), False)


def strip_entity(name: str, data: RetailerData | None = None) -> str:
    """The brand in a legal entity's name: company forms and the words an entity adds to its
    brand (``[legal_forms].qualifiers``: a country, "Services") stripped; never empty.

    >>> strip_entity("Komplett Services Sweden AB"), strip_entity("Amazon EU S.a r.l., Niederlassung Deutschland")
    ('komplett', 'amazon')
    """
    return _strip_forms(normalise_text(name), data or load_retailers(), True)


def _compact(s: str) -> str:
    return normalise_text(s).replace(" ", "")


def resolve_retailer(claimed: str, data: RetailerData | None = None) -> list[RetailerAliases]:
    """Every known retailer whose id, name, legal name or domain is the claimed name
    (normalised, company form ignored); else the one known retailer the claimed name holds with
    other words ("Komplett.no webshop", "Gigantti - for testing", "Elkjøp Lørenskog"); empty for an
    unknown name, and when the words name two different known retailers ("Komplett Elkjøp").

    >>> [r.id for r in resolve_retailer("Komplett.no webshop")], resolve_retailer("Komplett Elkjøp")
    (['komplett.no'], [])
    """
    data = data or load_retailers()
    if not data.keys and data.retailers:
        data = data.with_index()
    exact = _resolve_exact(claimed, data)
    if exact:
        return exact
    words = normalise_text(claimed).split()
    found: dict[tuple[int, int], list[RetailerAliases]] = {}
    for n in range(len(words) - 1, 0, -1):
        for k in range(len(words) - n + 1):
            if not any(a <= k and k + n <= b for a, b in found):
                hits = _resolve_exact(" ".join(words[k:k + n]), data)
                if hits:
                    found[(k, k + n)] = hits
    named = {frozenset(r.id for r in hits) for hits in found.values()}
    return next(iter(found.values())) if len(named) == 1 else []


def _resolve_exact(claimed: str, data: RetailerData) -> list[RetailerAliases]:
    want = {_compact(claimed), strip_legal_form(claimed, data).replace(" ", "")} - {""}
    return [r for r in data.retailers.values() if want & data.keys.get(r.id, frozenset())]


def names_differ(a: str, b: str, data: RetailerData | None = None) -> bool:
    """Whether two shop names are clearly two companies: their brands (``strip_entity``) share no
    word of three letters or more (OCR-tolerant, ratio 80) and, where both have five letters or
    more, neither holds most of the other (partial ratio 70, OCR look-alikes folded).

    >>> names_differ("Komplett.no", "Elkjøp Nordic AS"), names_differ("ASIA MART", "A MART")
    (True, False)
    >>> names_differ("Coolblue Nederland B.V.", "Coolblue"), names_differ("Acme - for testing", "ACME")
    (False, False)
    """
    data = data or load_retailers()
    wa, wb = strip_entity(a, data).split(), strip_entity(b, data).split()
    if not (_has_name_word(" ".join(wa), data) and _has_name_word(" ".join(wb), data)):
        return False  # "CO (M)", "SDN BHD", "TAX INVOICE": too little to tell two companies apart
    for x in wa:
        for y in wb:
            if len(x) >= 3 and len(y) >= 3 and fuzz.ratio(x, y) >= 80:
                return False
    # OCR look-alikes folded: "MR. O.1.¥." is a misread "MR. D.I.Y.", not another shop. Between
    # short names three letters in common say nothing ("x-kom" is not "Komputronik").
    a, b = fold_confusables("".join(wa)), fold_confusables("".join(wb))
    return min(len(a), len(b)) < 5 or fuzz.partial_ratio(a, b) < 70


@dataclass(frozen=True)
class _Term:
    alias: str
    kind: str  # 'name', 'domain', 'vat'
    core: str  # compact text that must be found
    full: str  # compact text with the company form, "" when the same as core
    tokens: tuple[str, ...] = ()  # the core's words
    legal: bool = False  # a legal name (with its company form), not a trading name
    brand: bool = False  # the brand of a claimed legal entity, qualifiers stripped


def _terms(claimed: str, known: list[RetailerAliases], data: RetailerData) -> list[_Term]:
    terms: dict[tuple[str, str], _Term] = {}

    def add_name(name: str, legal: bool, brand: bool = False) -> None:
        stripped = strip_entity(name, data) if brand else strip_legal_form(name, data)
        core = stripped.replace(" ", "")
        full = _compact(name)
        tokens = tuple(stripped.split())
        if core and (core, "name") not in terms:
            terms[(core, "name")] = _Term(name, "name", core, full if full != core and not brand else "", tokens,
                                          legal, brand)
        elif core and full != core and not brand and terms[(core, "name")].full == "":
            terms[(core, "name")] = _Term(name, "name", core, full, tokens, legal or terms[(core, "name")].legal)

    # Exact identifiers first: on a tie they are the stronger evidence.
    for r in known:
        for v in r.vat:
            terms[(_compact(v), "vat")] = _Term(v, "vat", _compact(v), "")
        for domain in r.domains:
            terms[(_compact(domain), "domain")] = _Term(domain, "domain", _compact(domain), "")
    if not known:
        add_name(claimed, False)
    for r in known:
        for name in r.legal_names:
            add_name(name, True)
        for name in r.names:
            add_name(name, False)
    if not known:
        # "Coolblue Nederland B.V." is also looked for as its brand "Coolblue".
        add_name(claimed, False, brand=True)
    return list(terms.values())


# ---------------------------------------------------------------------------------- matching

@dataclass(frozen=True)
class _Window:
    page: int
    text: str
    """Compact normalised text of the window's words."""
    owner: tuple[int, ...]
    """For each character of ``text``, the index of its word in ``words``."""
    words: tuple
    top: bool
    lines: tuple[int, ...] = ()
    """Indices of the page's lines the window spans."""

    @property
    def folded(self) -> str:
        return fold_confusables(self.text)


def _windows(pages: Sequence[Page], max_lines: int, top_fraction: float) -> list[_Window]:
    out = []
    for page in pages:
        prepared = []
        for index, line in enumerate(page.lines):
            if not line.words:
                continue
            chars, owner = [], []
            for k, w in enumerate(line.words):
                c = _compact(w.text)
                chars.append(c)
                owner.extend([k] * len(c))
            prepared.append(("".join(chars), owner, line.words, _is_top(page, line.bbox, top_fraction), index))
        for size in range(1, max_lines + 1):
            for k in range(len(prepared) - size + 1):
                text, owner, words, top, lines = "", [], [], True, []
                for t, o, w, is_top, index in prepared[k:k + size]:
                    owner.extend(x + len(words) for x in o)
                    text += t
                    words.extend(w)
                    top = top and is_top
                    lines.append(index)
                if text:
                    out.append(_Window(page.number, text, tuple(owner), tuple(words), top, tuple(lines)))
    return out


def _is_top(page: Page, box: BBox | None, top_fraction: float) -> bool:
    return page.number == 1 and box is not None and box[1] <= top_fraction * max(page.height, 1)


def _partial(needle: str, window: _Window, cutoff: float = 0) -> tuple[float, int, int]:
    """How well ``needle`` occurs in the window: score and the window's matching character range.
    Scores under ``cutoff`` may come back as 0 (rapidfuzz stops early)."""
    hay = window.text
    if not needle or not hay:
        return 0.0, 0, 0
    if len(hay) <= len(needle):  # partial_ratio would look for the window inside the name
        return max(fuzz.ratio(needle, hay), fuzz.ratio(fold_confusables(needle), window.folded) - 2), 0, len(hay)
    if needle in hay:
        start = hay.index(needle)
        return 100.0, start, start + len(needle)
    al = fuzz.partial_ratio_alignment(needle, hay, score_cutoff=max(0, cutoff - 2))
    score, start, end = (al.score, al.dest_start, al.dest_end) if al is not None else (0.0, 0, 0)
    if score < 100:
        # OCR look-alikes (0/O, 1/I, 5/S, 8/B): score the folded text too, a little lower.
        folded = fuzz.partial_ratio_alignment(fold_confusables(needle), window.folded, score_cutoff=cutoff)
        if folded is not None and folded.score - 2 > score:
            return folded.score - 2, folded.dest_start, folded.dest_end
    return score, start, end


def _coverage(tokens: tuple[str, ...], window: _Window) -> float:
    """Share of the name's letters whose word is in the window on its own, in any order:
    "RESTAURANT SIN DU" is not covered by "RESTAURANT SDN BHD" although its letters align."""
    total = sum(len(t) for t in tokens)
    if not total:
        return 1.0
    got = 0
    for t in tokens:
        ratio = max(fuzz.partial_ratio(t, window.text),
                    fuzz.partial_ratio(fold_confusables(t), window.folded) - 2)
        # A short word may lose one letter to OCR ("DTY" for DIY), a long one a quarter.
        got += len(t) if ratio >= (66 if len(t) <= 3 else 75) else 0
    return got / total


def _heading_line(core: str, pages: Sequence[Page], top_fraction: float, min_conf: float):
    """The line at the top of page 1 that is ``core`` and nothing else, every word read with at least
    ``min_conf`` (None if there is none): a name standing alone as the document's heading or logo,
    not letters inside other words."""
    for page in pages[:1]:
        for line in page.lines:
            # a logo's mark read as a glyph no name is written in ("三POWER") is not part of the name
            text = _NOT_LATIN_ENDS.sub("", "".join(_compact(w.text) for w in line.words))
            if (line.words and _is_top(page, line.bbox, top_fraction) and text == core
                    and all(w.conf >= min_conf for w in line.words)):
                return page.number, line
    return None


_NOT_LATIN_ENDS = re.compile(r"^[^a-z0-9]+|[^a-z0-9]+$")


def _standalone_mentions(core: str, pages: Sequence[Page]) -> int:
    """Lines on which ``core`` stands as a whole word (normalised, exact)."""
    count = 0
    for page in pages:
        for line in page.lines:
            if core in {_compact(w.text) for w in line.words}:
                count += 1
    return count


@dataclass(frozen=True)
class _Thresholds:
    pass_score: int
    uncertain_score: int
    min_core_chars: int
    min_coverage: float
    full_name_gate: int
    outside_top_penalty: int


@dataclass(frozen=True)
class _Hit:
    key: float
    win: _Window
    term: _Term
    start: int
    end: int
    short: bool

    @property
    def words(self) -> tuple[Word, ...]:
        idx = sorted(set(self.win.owner[self.start:self.end])) if self.end > self.start else []
        return tuple(self.win.words[idx[0]:idx[-1] + 1]) if idx else ()


def _scan(terms: Sequence[_Term], windows: Iterable[_Window], th: _Thresholds, cutoff: float = 0) -> _Hit | None:
    """The best (term, window) pair: the term's score there, less the outside-the-top penalty."""
    best: _Hit | None = None
    for win in windows:
        penalty = 0 if win.top else th.outside_top_penalty
        for term in terms:
            score, start, end = _partial(term.core, win, cutoff)
            short = term.kind == "name" and len(term.core) < th.min_core_chars
            # The company form only confirms a name already near: "SDN BHD" is on every receipt.
            if term.full and score >= th.full_name_gate:
                full_score, f_start, f_end = _partial(term.full, win)
                if full_score >= score or (short and full_score >= th.pass_score):
                    score, start, end = max(score, full_score), f_start, f_end
                    short = short and full_score < th.pass_score
            if short:
                score = min(score, th.pass_score - 1)
            elif term.kind == "name" and score >= th.pass_score and _coverage(term.tokens, win) < th.min_coverage:
                score = min(score, th.pass_score - 1)  # the letters are there but some words are not
            if term.kind == "vat" and score < 100:
                score = min(score, th.uncertain_score - 1)  # a VAT number is exact or nothing
            key = score - penalty
            # Ties: the shorter stretch of text (one line before three), then reading order.
            if best is None or key > best.key or (key == best.key and len(win.text) < len(best.win.text)):
                best = _Hit(key, win, term, start, end, short)
    return best


def _mean_conf(words: Sequence[Word]) -> float:
    chars = sum(len(w.text) for w in words)
    return sum(w.conf * len(w.text) for w in words) / chars if chars else 0.0


# ----------------------------------------------------------------------------- who sold it

def _starts_with(words: Sequence[str], labels: tuple[tuple[str, ...], ...]) -> int:
    """Length of the (longest) label the words start with, 0 if none."""
    for label in labels:
        if tuple(words[:len(label)]) == label:
            return len(label)
    return 0


def _contains(words: Sequence[str], labels: tuple[tuple[str, ...], ...]) -> int:
    """Index of the first word where one of the labels starts, or -1."""
    for i in range(len(words)):
        if _starts_with(words[i:], labels):
            return i
    return -1


def buyer_lines(page: Page, data: RetailerData, max_lines: int = 6) -> set[int]:
    """Indices of the lines in the buyer's blocks: a line starting with a buyer label ("Bill to",
    "Kunde", "Billing Address") and the lines right below it in the same column, until a gap of
    more than two line heights or ``max_lines`` lines."""
    out: set[int] = set()
    lines = page.lines
    for i, line in enumerate(lines):
        if not line.words or not _starts_with(normalise_text(line.text).split(), data.buyer_labels):
            continue
        out.add(i)
        box = line.bbox
        last = box
        for j in range(i + 1, min(len(lines), i + 1 + max_lines)):
            other = lines[j].bbox
            if other is None or box is None or last is None:
                continue
            height = max(1, last[3] - last[1])
            if other[1] - last[3] > 2 * height:
                break
            if other[2] < box[0] or other[0] > max(box[2], box[0] + 12 * height):
                continue  # another column
            if _starts_with(normalise_text(lines[j].text).split(), data.buyer_labels):
                break
            out.add(j)
            last = other
    return out


def _split_columns(page: Page) -> Page:
    """The page with each line cut where its words are far apart (more than 1.5 word heights): an
    OCR line may run across two columns ("Magdalena Wójcik    Morele.net sp. z o.o."), the buyer's
    on the left and the seller's on the right."""
    lines = []
    for line in page.lines:
        part: list[Word] = []
        for w in line.words:
            if part:
                prev = part[-1]
                if w.bbox[0] - prev.bbox[2] > 1.5 * max(1, prev.bbox[3] - prev.bbox[1]):
                    lines.append(Line(tuple(part)))
                    part = []
            part.append(w)
        if part:
            lines.append(Line(tuple(part)))
    return replace(page, lines=tuple(lines))


def _segments(words: Sequence[Word]) -> list[list[Word]]:
    """A line cut where its words are far apart (two columns read as one line) or at a separator
    ("Mindfactory AG · Preussenstrasse 14", "Komplett AS, Postboks 2094")."""
    out: list[list[Word]] = [[]]
    for k, w in enumerate(words):
        if w.text in {"·", "|", "•", "-", "–", "—"}:
            out.append([])
            continue
        if k and out[-1]:
            prev = words[k - 1]
            height = max(1, prev.bbox[3] - prev.bbox[1])
            if w.bbox[0] - prev.bbox[2] > 1.5 * height:
                out.append([])
        out[-1].append(w)
        if w.text.endswith((",", "·", "|", ";")):
            out.append([])
    return [s for s in out if s]


def _legal_name(words: Sequence[Word], data: RetailerData) -> tuple[Word, ...] | None:
    """The words of a company name ending in a company form ("Komplett AS", "MR D.I.Y. (M) SDN BHD")
    or starting with one ("PT Tokopedia"), from the start of the segment; None if none."""
    for end in range(len(words), 0, -1):
        head = words[:end]
        norm = normalise_text(" ".join(w.text for w in head))
        for suffix in data.legal_suffixes:
            if norm.endswith(" " + suffix):
                core = norm[: -len(suffix) - 1]
                raw_last = head[-1].text.strip(".,;:()")
                if len(suffix) <= 2 and raw_last.islower():
                    continue  # "same as", "co" in running text: a form is written as one ("AS", "Co.")
                if _has_name_word(core, data):
                    return tuple(head)
    norm = normalise_text(" ".join(w.text for w in words)).split()
    if len(norm) >= 2 and norm[0] in data.legal_prefixes and words[0].text.isupper():
        if _has_name_word(" ".join(norm[1:]), data):
            return tuple(words)
    return None


def is_shop_name(name: str, data: RetailerData | None = None) -> bool:
    """Whether a name can be a shop's: a word of three letters or more that is no company form,
    qualifier or document word ("TAX INVOICE", "SDN BHD" are not), and mostly letters.

    >>> is_shop_name("Komplett AS"), is_shop_name("Tax Invoice"), is_shop_name("SDN BHD")
    (True, False, False)
    """
    data = data or load_retailers()
    return _has_name_word(normalise_text(name), data)


def _has_name_word(text: str, data: RetailerData) -> bool:
    """Whether a name (normalised) holds a word of three letters or more once its company forms
    and qualifiers are stripped, and is mostly letters: "CO. (M)" or "14 Mar 2018 18:40" is no name."""
    core = _strip_forms(text, data, True)
    letters = sum(c.isalpha() for c in core)
    digits = sum(c.isdigit() for c in core)
    return letters >= 2 * digits and any(sum(c.isalpha() for c in w) >= 3 and w not in data.form_words
                                         and w not in data.document_words for w in core.split())


def _registration(line_text: str, data: RetailerData) -> bool:
    words = normalise_text(line_text).split()
    return bool(_starts_with(words, data.registration_labels)) or any(
        p.search(line_text.strip()) for p in data.registration_patterns)


def _registered_names(page: Page, data: RetailerData, buyer: set[int], top_fraction: float) -> list[tuple[Word, ...]]:
    """Company names the issuer prints as its own, at the top of page 1 outside the buyer's block: a
    name with a company form before a registration label on its line or on one of the two lines
    below it, or on one of the first three lines of the page that are not all lower case (a
    letterhead; a handwritten note is lower case); and any name (company form or not) just above a
    line that is only a registration number ("(867388-U)")."""
    lines = [(i, ln) for i, ln in enumerate(page.lines) if ln.words and _is_top(page, ln.bbox, top_fraction)
             and i not in buyer]
    out = []
    letterhead = [i for i, ln in lines if any(c.isalpha() for c in ln.text) and not ln.text.islower()][:3]
    for pos, (i, line) in enumerate(lines):
        below = [ln for _, ln in lines[pos + 1:pos + 3]]
        reg_below = any(_registration(ln.text, data) for ln in below)
        for seg in _segments(line.words):
            text = normalise_text(" ".join(w.text for w in seg)).split()
            at = _contains(text, data.registration_labels)
            name_part = list(seg) if at < 0 else list(seg[:_word_index(seg, at)])
            legal = _legal_name(name_part, data) if name_part else None
            if legal and (reg_below or 0 < at or i in letterhead):
                out.append(legal)
            elif (not legal and name_part and below and any(p.search(below[0].text.strip())
                                                             for p in data.registration_patterns)
                  and _has_name_word(normalise_text(" ".join(w.text for w in name_part)), data) and at < 0
                  and not _registration(line.text, data)):
                out.append(tuple(name_part))
    return out


def _word_index(seg: Sequence[Word], norm_index: int) -> int:
    """The index in ``seg`` of the word holding the ``norm_index``-th normalised word."""
    count = 0
    for k, w in enumerate(seg):
        n = len(normalise_text(w.text).split())
        if count + n > norm_index:
            return k
        count += n
    return len(seg)


def _header_names(pages: Sequence[Page], buyer: set[tuple[int, int]], top_fraction: float) -> list[tuple[Word, ...]]:
    """What may be a shop's name at the top of page 1 (outside the buyer's block): each segment of
    a line, each whole line, and each two consecutive lines (a name broken over two lines)."""
    out: list[tuple[Word, ...]] = []
    for page in pages:
        if page.number != 1:
            continue
        lines = [ln for i, ln in enumerate(page.lines) if ln.words and (page.number, i) not in buyer
                 and _is_top(page, ln.bbox, top_fraction)]
        for k, line in enumerate(lines):
            segments = _segments(line.words)
            out += [tuple(seg) for seg in segments]
            if len(segments) > 1:
                out.append(tuple(line.words))
            if k + 1 < len(lines):
                out.append(tuple(line.words) + tuple(lines[k + 1].words))
    return out


def _is_name(words: Sequence[Word], names: Sequence[tuple[str, str]], pass_score: int, min_core_chars: int) -> int:
    """How well the words are, as a whole, one of the names ((core, full) compact forms): the best
    ratio of the words' compact text to either form (look-alike characters folded, 2 points less),
    0 when under ``pass_score``. A core shorter than ``min_core_chars`` counts only with its form."""
    text = "".join(_compact(w.text) for w in words)
    if not text:
        return 0
    folded = fold_confusables(text)
    best = 0
    for core, full in names:
        forms = [full] if len(core) < min_core_chars else [core, full]
        for form in forms:
            if not form or abs(len(form) - len(text)) > len(form) // 4 + 1:
                continue
            score = max(fuzz.ratio(text, form), fuzz.ratio(folded, fold_confusables(form)) - 2)
            best = max(best, round(score))
    return best if best >= pass_score else 0


def _name_forms(name: str, data: RetailerData) -> tuple[str, str]:
    return strip_legal_form(name, data).replace(" ", ""), _compact(name)


_IN_FULL = 98
"""A legal name, domain or VAT number identifies a seller only in full: exact, or exact once OCR
look-alikes are folded (``_partial`` scores that 98)."""


def identify_sellers(pages: Sequence[Page], data: RetailerData | None = None, *,
                     known_shops: Sequence[str] = (), sold_by: Sequence[tuple[str, int, BBox | None]] = (),
                     exclude: Sequence[str] = (), top_fraction: float = 0.3, max_window_lines: int = 3,
                     pass_score: int = 90, min_core_chars: int = 6, min_coverage: float = 0.8,
                     full_name_gate: int = 70) -> list[Seller]:
    """Every seller the invoice names (see the module docstring), in the order: retailers of the alias
    file, known shops, "sold by" lines, registered company names.

    - a retailer of the alias file: its legal name, domain or VAT number anywhere outside the buyer's
      block (found as ``match_retailer`` finds a claimed one), or a line at the top of page 1 that is,
      as a whole, one of its names;
    - known_shops (names the caller knows, e.g. the claim store's): a line at the top of page 1 that
      is, as a whole, the shop's name ("Discount: 0.00" is not the shop "Discount");
    - sold_by: (name, page, bbox) of "sold by" lines, as the caller found them;
    - a registered company name (``_registered_names``).

    exclude: retailer ids not to report (the claimed shop's own).
    """
    data = data or load_retailers()
    th = _Thresholds(pass_score, pass_score, min_core_chars, min_coverage, full_name_gate, 0)
    pages = [_split_columns(p) for p in pages]
    buyer = {(p.number, i) for p in pages for i in buyer_lines(p, data)}
    windows = [w for w in _windows(pages, max_window_lines, top_fraction)
               if not any((w.page, i) in buyer for i in w.lines)]
    header = _header_names(pages, buyer, top_fraction)
    out: list[Seller] = []

    def named(words: Sequence[Word], how: str, rid: str | None) -> Seller:
        return Seller(" ".join(w.text for w in words), how, rid, 1, union_bbox(w.bbox for w in words),
                      _mean_conf(words))

    skip = set(exclude)
    for r in data.retailers.values():
        if r.id in skip:
            continue
        # The whole legal name, company form included ("Cdiscount SA", not "Discount:"), a domain or a
        # VAT number: each in full inside a window.
        strong = [t for t in _terms(r.id, [r], data) if t.kind != "name"]
        strong += [_Term(n, "name", _compact(n), "", tuple(normalise_text(n).split()), True)
                   for n in r.legal_names if _compact(n) != strip_legal_form(n, data).replace(" ", "")]
        hit = _scan(strong, [w for w in windows if len(w.text) >= min(len(t.core) for t in strong)], th,
                    cutoff=_IN_FULL) if strong else None
        if hit is not None and hit.key >= _IN_FULL and hit.words:
            words = hit.words
            out.append(Seller(" ".join(w.text for w in words), "alias", r.id, hit.win.page,
                              union_bbox(w.bbox for w in words), _mean_conf(words)))
            continue
        forms = [_name_forms(n, data) for n in r.names + r.legal_names]
        line = max(header, key=lambda ws: _is_name(ws, forms, pass_score, min_core_chars), default=None)
        if line is not None and _is_name(line, forms, pass_score, min_core_chars):
            out.append(named(line, "alias", r.id))
    for shop in dict.fromkeys(known_shops):
        forms = [_name_forms(shop, data)]
        line = max(header, key=lambda ws: _is_name(ws, forms, pass_score, min_core_chars), default=None)
        if line is not None and _is_name(line, forms, pass_score, min_core_chars):
            out.append(named(line, "known_shop", None))
    for name, page_no, bbox in sold_by:
        page = next((p for p in pages if p.number == page_no), None)
        words = [w for ln in page.lines for w in ln.words if bbox and _inside(w.bbox, bbox)] if page else []
        out.append(Seller(name, "sold_by", None, page_no, bbox, _mean_conf(words) if words else 0.0))
    for page in pages:
        if page.number != 1:
            continue
        for words in _registered_names(page, data, {i for p, i in buyer if p == page.number}, top_fraction):
            out.append(Seller(" ".join(w.text for w in words), "legal_name", None, page.number,
                              union_bbox(w.bbox for w in words), _mean_conf(words)))
    return out


def _inside(box: BBox, outer: BBox) -> bool:
    return box[0] >= outer[0] - 2 and box[2] <= outer[2] + 2 and box[1] >= outer[1] - 2 and box[3] <= outer[3] + 2


def _partial_name(claimed: str, pages: Sequence[Page], sellers: Sequence[Seller], data: RetailerData,
                  top_fraction: float, min_core_chars: int) -> str | None:
    """A name on the invoice that the claimed name holds with other words, or that holds the claimed
    name ("Acme Supplies - for testing" against an invoice headed "ACME SUPPLIES"): the text as
    read, or None. Looked for in the sellers identified and in each line at the top of page 1."""
    claim_words = strip_entity(claimed, data).split()
    if not claim_words:
        return None
    candidates = [s.name for s in sellers]
    for page in pages:
        if page.number == 1:
            candidates += [ln.text for ln in page.lines if ln.words and _is_top(page, ln.bbox, top_fraction)]
    for text in candidates:
        words = strip_entity(text, data).split()
        if not words or len("".join(words)) < min_core_chars:
            continue
        short, long_ = (words, claim_words) if len(words) <= len(claim_words) else (claim_words, words)
        if len("".join(short)) >= min_core_chars and _holds(long_, short):
            return text
    return None


def _holds(long_: Sequence[str], short: Sequence[str]) -> bool:
    """Whether the words ``long_`` hold ``short`` as a run (each word at ratio 90: OCR slips)."""
    n = len(short)
    return n > 0 and any(all(fuzz.ratio(a, b) >= 90 for a, b in zip(short, long_[k:k + n]))
                         for k in range(len(long_) - n + 1))


def _seller_in_claim(claimed: str, sellers: Sequence[Seller], data: RetailerData, min_conf: float,
                     min_core_chars: int) -> Seller | None:
    """The seller the invoice names as a registered company, a "sold by" line or a shop of earlier
    claims, read with ``min_conf``, whose name the claimed one holds with other words ("Acme
    Supplies - for testing" against "ACME SUPPLIES SDN BHD"): the claimant named that seller."""
    claim_words = strip_entity(claimed, data).split()
    for s in sellers:
        words = strip_entity(s.name, data).split()
        if (s.how != "alias" and s.conf >= min_conf and len(words) < len(claim_words)
                and len("".join(words)) >= min_core_chars and _holds(claim_words, words)):
            return s
    return None


def match_retailer(
    claimed: str,
    pages: Sequence[Page],
    aliases: RetailerData | Mapping[str, RetailerAliases] | None = None,
    *,
    pass_score: int = 90,
    uncertain_score: int = 80,
    min_core_chars: int = 6,
    short_name_min_mentions: int = 2,
    min_coverage: float = 0.8,
    full_name_gate: int = 70,
    max_window_lines: int = 3,
    top_fraction: float = 0.3,
    outside_top_penalty: int = 2,
    seller_min_conf: float = 85.0,
    known_seller_min_conf: float = 50.0,
    known_shops: Sequence[str] = (),
    sold_by: Sequence[tuple[str, int, BBox | None]] = (),
) -> RetailerMatch:
    """Find the claimed retailer on the invoice pages; fail only where the invoice names another.

    aliases: the alias data (``load_retailers()`` by default) or a mapping id -> RetailerAliases.
    pass_score: lowest score that passes.
    uncertain_score: lowest score that is uncertain ("near") whatever else the invoice shows.
    min_core_chars: a name shorter than this (company form stripped, spaces removed) cannot pass
        alone; its full legal name, a domain or a VAT number must match.
    short_name_min_mentions: a short name written as a whole word on at least this many lines
        passes on its own (the issuer repeating its brand: "OYO", "LDLC").
    min_coverage: share of the name's letters (word by word, any order) that must be found in the
        window for a pass; guards against generic words aligning ("RESTAURANT SIN DU").
    full_name_gate: the name with its company form ("AEON CO. (M) BHD") is scored only where the
        bare name already scores this much, so a shared "SDN BHD" cannot carry a match.
    max_window_lines: names are searched in windows of 1..this many consecutive lines.
    top_fraction: the top part of page 1 (as a share of its height) where the retailer is expected.
    outside_top_penalty: points taken from matches outside that part.
    seller_min_conf: mean OCR word confidence another seller's name needs for a fail.
    known_seller_min_conf: the same for a name that is, as read, a retailer of the alias file or a
        known shop (the match confirms the reading).
    known_shops: shop names known to be real (the claim store's), recognised as other sellers.
    sold_by: (seller name, page, bbox) of the invoice's "sold by" lines.
    """
    if aliases is None:
        data = load_retailers()
    elif isinstance(aliases, RetailerData):
        data = aliases
    else:
        data = replace(load_retailers(), retailers=dict(aliases), source="custom").with_index()
    if not normalise_text(claimed or ""):
        return RetailerMatch("uncertain", 0, None, None, None, None, None, "empty_claim")
    known = resolve_retailer(claimed, data)
    if len(known) == 1:
        retailer_id: str | None = known[0].id
    else:  # "Amazon": several shops share the name; report one only when the claim spells its id
        exact = [k.id for k in known if _compact(k.id) == _compact(claimed)]
        retailer_id = exact[0] if exact else None
    th = _Thresholds(pass_score, uncertain_score, min_core_chars, min_coverage, full_name_gate, outside_top_penalty)
    best = _scan(_terms(claimed, known, data), _windows(pages, max_window_lines, top_fraction), th)

    def near(hit: _Hit, status: str, score: int, reason: str, detail: str = "") -> RetailerMatch:
        words = hit.words
        return RetailerMatch(status, score, " ".join(w.text for w in words) or None, hit.win.page,
                             union_bbox(w.bbox for w in words), retailer_id, hit.term.alias, reason, detail)

    score = max(0, min(100, round(best.key))) if best is not None else 0
    if best is not None and score >= pass_score:
        if best.term.brand:
            return near(best, "pass", score, "brand", f"the brand of {claimed!r} ({best.term.alias!r} less its "
                                                      "company form and qualifiers) is on the invoice")
        return near(best, "pass", score, "match")
    if best is not None and best.short and score >= uncertain_score \
            and _standalone_mentions(best.term.core, pages) >= short_name_min_mentions:
        # A short brand ("OYO", "LDLC") written as a word of its own on several lines is the
        # issuer talking about itself, not a few letters inside someone else's words.
        return near(best, "pass", pass_score, "repeated_short_name")
    heading = (_heading_line(best.term.core, pages, top_fraction, seller_min_conf)
               if best is not None and best.short and score >= uncertain_score else None)
    if heading is not None:
        # ... or as the whole of a line at the top of page 1, read with confidence: the shop's heading
        # or logo ("POWER" over the address of a receipt whose name is only in its logo).
        number, line = heading
        return RetailerMatch("pass", pass_score, line.text, number, line.bbox, retailer_id, best.term.alias,
                             "short_name_heading", f"{best.term.alias!r} stands alone as the invoice's heading")
    if best is not None and score >= uncertain_score:
        return near(best, "uncertain", score, "short_name_only" if best.short else "near",
                    "only a short form of the name was found" if best.short else "a name close to the claimed one")

    # Not found. That alone proves nothing (a logo, a bad scan, a brand under its legal name):
    # the claim fails only where the invoice names another seller, read with confidence.
    exclude = {r.id for r in known} | {r.id for r in data.retailers.values()
                                       if not all(names_differ(claimed, n, data) for n in r.names)}
    sellers = identify_sellers(pages, data, known_shops=[s for s in known_shops if names_differ(claimed, s, data)],
                               sold_by=sold_by, exclude=sorted(exclude), top_fraction=top_fraction,
                               max_window_lines=max_window_lines, pass_score=pass_score,
                               min_core_chars=min_core_chars, min_coverage=min_coverage,
                               full_name_gate=full_name_gate)
    held = None if known else _seller_in_claim(claimed, sellers, data, seller_min_conf, min_core_chars)
    if held is not None:
        return RetailerMatch("pass", pass_score, held.name, held.page, held.bbox, None, None, "claim_holds_name",
                             f"the claimed name holds the invoice's seller {held.name!r} "
                             f"({_HOW[held.how]}) with other words", held)
    partial = _partial_name(claimed, pages, sellers, data, top_fraction, min_core_chars)
    if partial is not None:
        return RetailerMatch("uncertain", min(score, pass_score - 1), partial, None, None, retailer_id, None,
                             "partial_name", f"the claimed name holds the invoice's {partial!r} with other "
                                             "words, or the other way round")
    # The claimed shop's own names and legal names (alias table) are never "another seller": a claim
    # "Blibli.com - for testing" resolves to no retailer by its whole name, but the invoice's
    # "PT Global Digital Niaga" is Blibli's registered company.
    # Strictly that name (OCR look-alikes aside), not a sister brand sharing a word of it: a
    # "Media-Saturn-Holding GmbH" of MediaMarkt's does not make Saturn's invoice MediaMarkt's.
    own = {fold_confusables(strip_legal_form(n, data).replace(" ", ""))
           for rid in sorted(exclude) for n in (*data.retailers[rid].names, *data.retailers[rid].legal_names)}
    other = [s for s in sellers if names_differ(claimed, s.name, data)
             and not _is_one_of(fold_confusables(strip_legal_form(s.name, data).replace(" ", "")), own)]
    # A name read as a whole as a retailer or shop we know is confirmed by that match, and needs less
    # of the OCR's own confidence than a company name known from nowhere else.
    sure = [s for s in other
            if s.conf >= (known_seller_min_conf if s.how in ("alias", "known_shop") else seller_min_conf)]
    if sure:
        s = sure[0]
        return RetailerMatch("fail", min(score, uncertain_score - 1), s.name, s.page, s.bbox, retailer_id,
                             None, "other_seller", f"the invoice is from {s.name} ({_HOW[s.how]})", s)
    if other:
        s = other[0]
        return RetailerMatch("uncertain", min(score, uncertain_score - 1), s.name, s.page, s.bbox, retailer_id,
                             None, "not_found", f"the invoice may be from {s.name} ({_HOW[s.how]}), but it "
                                                f"was read with confidence {s.conf:.0f} only", s)
    return RetailerMatch("uncertain", min(score, uncertain_score - 1), None, None, None, retailer_id, None,
                         "not_found", "the claimed name is not on the invoice, and no other seller was read")


def _is_one_of(name: str, names: set[str], min_ratio: int = 90) -> bool:
    """Whether a compacted, folded name is one of ``names`` (rapidfuzz ratio, OCR slips allowed)."""
    return bool(name) and any(fuzz.ratio(name, n) >= min_ratio for n in names if n)


_HOW = {"alias": "a retailer we know", "known_shop": "a shop named in earlier claims",
        "sold_by": "its 'sold by' line", "legal_name": "the registered company name it prints"}
