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

>>> from pipeline.records import Line, Page, Word
>>> line = Line((Word("Vendu", 99, (0, 0, 50, 10)), Word("par", 99, (55, 0, 80, 10)),
...              Word("Amazon", 99, (85, 0, 150, 10)), Word("EU", 99, (155, 0, 175, 10)),
...              Word("S.a", 99, (180, 0, 200, 10)), Word("r.l.", 99, (205, 0, 230, 10))))
>>> m = match_retailer("amazon.fr", [Page(1, 600, 800, "pdf_text", (line,))])
>>> m.status, m.found
('pass', 'Amazon EU S.a r.l.')
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz

from ..datafiles import read_toml
from ..errors import ConfigError
from ..records import BBox, Page, union_bbox
from .normalise import fold_confusables, normalise_text

__all__ = [
    "RetailerAliases",
    "RetailerMatch",
    "RetailerData",
    "load_retailers",
    "match_retailer",
    "resolve_retailer",
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
    """The retailer alias file: retailers by id and the company-form words to strip."""

    retailers: Mapping[str, RetailerAliases]
    legal_suffixes: tuple[str, ...]
    """Normalised, longest first."""
    legal_prefixes: tuple[str, ...]
    source: str = "retailers.toml"
    keys: Mapping[str, frozenset[str]] = field(default_factory=dict, compare=False, repr=False)
    """Per retailer id, the compact forms a claim may name it by (filled by ``with_index``)."""

    def with_index(self) -> RetailerData:
        keys = {}
        for r in self.retailers.values():
            k = {_compact(r.id)}
            for name in r.names + r.legal_names + r.domains:
                k.add(_compact(name))
                k.add(strip_legal_form(name, self).replace(" ", ""))
            keys[r.id] = frozenset(k - {""})
        return RetailerData(self.retailers, self.legal_suffixes, self.legal_prefixes, self.source, keys)


@dataclass(frozen=True)
class RetailerMatch:
    """How well the claimed retailer was found on the invoice."""

    status: str
    """'pass', 'fail' or 'uncertain'."""
    score: int
    """0..100: rapidfuzz partial ratio of the best alias in the best window, less penalties."""
    found: str | None
    """The invoice words that matched best, as read; None when nothing came close."""
    page: int | None
    bbox: BBox | None
    retailer_id: str | None
    """The known retailer the claim resolved to, None for a name not in the alias file."""
    matched_alias: str | None
    """Which alias matched ("Amazon EU S.à r.l.", "amazon.fr", a VAT number)."""
    reason: str
    """'match', 'near', 'short_name_only' (only a short core name was found), 'not_found',
    'empty_claim'."""

    def to_dict(self) -> dict:
        return {"status": self.status, "score": self.score, "found": self.found, "page": self.page,
                "bbox": list(self.bbox) if self.bbox else None, "retailer_id": self.retailer_id,
                "matched_alias": self.matched_alias, "reason": self.reason}


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


def _parse_retailers(data: dict, source: str) -> RetailerData:
    unknown = sorted(set(data) - {"legal_forms", "retailers"})
    if unknown:
        raise ConfigError(message=f"{source}: unknown section(s) {', '.join(unknown)}")
    forms = data.get("legal_forms", {})
    if not isinstance(forms, dict) or set(forms) - {"suffixes", "prefixes"}:
        raise ConfigError(message=f"{source}: [legal_forms] may hold only 'suffixes' and 'prefixes'")
    suffixes = _string_list(forms.get("suffixes"), f"{source}: legal_forms.suffixes", required=False)
    prefixes = _string_list(forms.get("prefixes"), f"{source}: legal_forms.prefixes", required=False)
    table = data.get("retailers")
    if not isinstance(table, dict) or not table:
        raise ConfigError(message=f"{source}: section [retailers] is missing or empty")
    retailers: dict[str, RetailerAliases] = {}
    for rid, entry in table.items():
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
        country = entry.get("country")
        if country is not None and not (isinstance(country, str) and len(country) == 2 and country.isupper()):
            raise ConfigError(message=f"{where}.country: {country!r} must be an ISO 3166-1 alpha-2 code")
        for name in names + legal:
            if not normalise_text(name):
                raise ConfigError(message=f"{where}: name {name!r} has no letters or digits")
        retailers[rid] = RetailerAliases(rid, names, legal, domains, vat, country)
    norm_suffixes = tuple(sorted({normalise_text(s) for s in suffixes} - {""}, key=len, reverse=True))
    norm_prefixes = tuple(sorted({normalise_text(s) for s in prefixes} - {""}, key=len, reverse=True))
    return RetailerData(retailers, norm_suffixes, norm_prefixes, source).with_index()


def load_retailers(path: str | Path | None = None) -> RetailerData:
    """The alias file at ``path``, or the packaged ``retailers.toml``; validated.

    Raises ConfigError naming the file and the field at fault.
    """
    if path is None:
        return _default_retailers()
    return _parse_retailers(*read_toml(path, packaged="retailers.toml"))


@lru_cache(maxsize=1)
def _default_retailers() -> RetailerData:
    return _parse_retailers(*read_toml(None, packaged="retailers.toml"))


# -------------------------------------------------------------------------------- name handling

def strip_legal_form(name: str, data: RetailerData | None = None) -> str:
    """The normalised name without company-form words at its end or start; never empty
    when the name has words.

    >>> strip_legal_form("POPULAR BOOK CO. (M) SDN BHD")
    'popular book'
    """
    data = data or load_retailers()
    words = normalise_text(name)
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
    return core or words


def _compact(s: str) -> str:
    return normalise_text(s).replace(" ", "")


def resolve_retailer(claimed: str, data: RetailerData | None = None) -> list[RetailerAliases]:
    """Every known retailer whose id, name, legal name or domain is the claimed name
    (normalised, company form ignored); empty for an unknown name."""
    data = data or load_retailers()
    if not data.keys and data.retailers:
        data = data.with_index()
    want = {_compact(claimed), strip_legal_form(claimed, data).replace(" ", "")} - {""}
    return [r for r in data.retailers.values() if want & data.keys.get(r.id, frozenset())]


@dataclass(frozen=True)
class _Term:
    alias: str
    kind: str  # 'name', 'domain', 'vat'
    core: str  # compact text that must be found
    full: str  # compact text with the company form, "" when the same as core
    tokens: tuple[str, ...] = ()  # the core's words


def _terms(claimed: str, known: list[RetailerAliases], data: RetailerData) -> list[_Term]:
    terms: dict[tuple[str, str], _Term] = {}

    def add_name(name: str) -> None:
        core = strip_legal_form(name, data).replace(" ", "")
        full = _compact(name)
        tokens = tuple(strip_legal_form(name, data).split())
        if core and (core, "name") not in terms:
            terms[(core, "name")] = _Term(name, "name", core, full if full != core else "", tokens)
        elif core and full != core and terms[(core, "name")].full == "":
            terms[(core, "name")] = _Term(name, "name", core, full, tokens)

    # Exact identifiers first: on a tie they are the stronger evidence.
    for r in known:
        for v in r.vat:
            terms[(_compact(v), "vat")] = _Term(v, "vat", _compact(v), "")
        for domain in r.domains:
            terms[(_compact(domain), "domain")] = _Term(domain, "domain", _compact(domain), "")
    if not known:
        add_name(claimed)
    for r in known:
        for name in r.legal_names + r.names:
            add_name(name)
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

    @property
    def folded(self) -> str:
        return fold_confusables(self.text)


def _windows(pages: Sequence[Page], max_lines: int, top_fraction: float) -> list[_Window]:
    out = []
    for page in pages:
        lines = [line for line in page.lines if line.words]
        prepared = []
        for line in lines:
            chars, owner = [], []
            for k, w in enumerate(line.words):
                c = _compact(w.text)
                chars.append(c)
                owner.extend([k] * len(c))
            box = line.bbox
            top = page.number == 1 and box is not None and box[1] <= top_fraction * max(page.height, 1)
            prepared.append(("".join(chars), owner, line.words, top))
        for size in range(1, max_lines + 1):
            for k in range(len(prepared) - size + 1):
                text, owner, words, top = "", [], [], True
                for t, o, w, is_top in prepared[k:k + size]:
                    owner.extend(x + len(words) for x in o)
                    text += t
                    words.extend(w)
                    top = top and is_top
                if text:
                    out.append(_Window(page.number, text, tuple(owner), tuple(words), top))
    return out


def _partial(needle: str, window: _Window) -> tuple[float, int, int]:
    """How well ``needle`` occurs in the window: score and the window's matching character range."""
    hay = window.text
    if not needle or not hay:
        return 0.0, 0, 0
    if len(hay) <= len(needle):  # partial_ratio would look for the window inside the name
        return max(fuzz.ratio(needle, hay), fuzz.ratio(fold_confusables(needle), window.folded) - 2), 0, len(hay)
    if needle in hay:
        start = hay.index(needle)
        return 100.0, start, start + len(needle)
    al = fuzz.partial_ratio_alignment(needle, hay)
    if al.score < 100:
        # OCR look-alikes (0/O, 1/I, 5/S, 8/B): score the folded text too, a little lower.
        folded = fuzz.partial_ratio_alignment(fold_confusables(needle), window.folded)
        if folded.score - 2 > al.score:
            return folded.score - 2, folded.dest_start, folded.dest_end
    return al.score, al.dest_start, al.dest_end


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


def _standalone_mentions(core: str, pages: Sequence[Page]) -> int:
    """Lines on which ``core`` stands as a whole word (normalised, exact)."""
    count = 0
    for page in pages:
        for line in page.lines:
            if core in {_compact(w.text) for w in line.words}:
                count += 1
    return count


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
) -> RetailerMatch:
    """Find the claimed retailer on the invoice pages.

    aliases: the alias data (``load_retailers()`` by default) or a mapping id -> RetailerAliases.
    pass_score: lowest score that passes.
    uncertain_score: lowest score that is uncertain rather than fail.
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
    """
    if aliases is None:
        data = load_retailers()
    elif isinstance(aliases, RetailerData):
        data = aliases
    else:
        base = load_retailers()
        data = RetailerData(dict(aliases), base.legal_suffixes, base.legal_prefixes, "custom").with_index()
    if not normalise_text(claimed or ""):
        return RetailerMatch("uncertain", 0, None, None, None, None, None, "empty_claim")
    known = resolve_retailer(claimed, data)
    if len(known) == 1:
        retailer_id: str | None = known[0].id
    else:  # "Amazon": several shops share the name; report one only when the claim spells its id
        exact = [k.id for k in known if _compact(k.id) == _compact(claimed)]
        retailer_id = exact[0] if exact else None
    terms = _terms(claimed, known, data)
    windows = _windows(pages, max_window_lines, top_fraction)

    best: tuple | None = None
    for win in windows:
        penalty = 0 if win.top else outside_top_penalty
        for term in terms:
            score, start, end = _partial(term.core, win)
            short = term.kind == "name" and len(term.core) < min_core_chars
            # The company form only confirms a name already near: "SDN BHD" is on every receipt.
            if term.full and score >= full_name_gate:
                full_score, f_start, f_end = _partial(term.full, win)
                if full_score >= score or (short and full_score >= pass_score):
                    score, start, end = max(score, full_score), f_start, f_end
                    short = short and full_score < pass_score
            if short:
                score = min(score, pass_score - 1)
            elif term.kind == "name" and score >= pass_score and _coverage(term.tokens, win) < min_coverage:
                score = min(score, pass_score - 1)  # the letters are there but some words are not
            if term.kind == "vat" and score < 100:
                score = min(score, uncertain_score - 1)  # a VAT number is exact or nothing
            key = score - penalty
            # Ties: the shorter stretch of text (one line before three), then reading order.
            if best is None or key > best[0] or (key == best[0] and len(win.text) < len(best[1].text)):
                best = (key, win, term, start, end, short)
    if best is None:
        return RetailerMatch("fail", 0, None, None, None, retailer_id, None, "not_found")
    key, win, term, start, end, short = best
    score = max(0, min(100, round(key)))
    idx = sorted(set(win.owner[start:end])) if end > start else []
    chosen = win.words[idx[0]:idx[-1] + 1] if idx else ()
    found = " ".join(w.text for w in chosen) or None
    bbox = union_bbox(w.bbox for w in chosen)
    if score >= pass_score:
        return RetailerMatch("pass", score, found, win.page, bbox, retailer_id, term.alias, "match")
    if short and score >= uncertain_score and _standalone_mentions(term.core, pages) >= short_name_min_mentions:
        # A short brand ("OYO", "LDLC") written as a word of its own on several lines is the
        # issuer talking about itself, not a few letters inside someone else's words.
        return RetailerMatch("pass", pass_score, found, win.page, bbox, retailer_id, term.alias, "repeated_short_name")
    if score >= uncertain_score:
        return RetailerMatch("uncertain", score, found, win.page, bbox, retailer_id, term.alias,
                             "short_name_only" if short else "near")
    if score < 50:
        found, bbox = None, None
    return RetailerMatch("fail", score, found, win.page if found else None, bbox, retailer_id,
                         term.alias if found else None, "not_found")
