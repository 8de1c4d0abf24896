"""Dates on invoices and receipts, found in read text by pure functions.

Knowledge (month names per language, date labels, which countries write numeric
dates month-first) lives in ``pipeline/data/dates.toml`` and is validated on load.
Text is matched after folding: accents stripped (``März`` -> ``Marz``), case ignored
for names, one folded character per original one, so offsets stay those of the text.

Forms, tried on every line and merged (leftmost, then longest, wins an overlap):

1. ``iso``: year first, ``2020-03-17``, ``2020/03/17``, ``2020.3.17``; a compact
   ``20200317`` when it is a valid date in the year range and stands alone.
2. ``numeric``: ``25/12/2018``, ``25.12.18``, ``25 - 12 - 2018``, glued to a time
   (``25/12/201814:32``) or a label (``Date:25/12/2018``). Day and month are read by
   the ``day_first`` convention; when only the other reading is a valid date it is
   used, but only with a four-digit year (``12/28/2017``; ``11-22-31`` is a product
   code far more often than 22 Nov 2031). Two-digit years: 00-68 -> 20xx, 69-99 -> 19xx
   (the POSIX ``%y`` pivot), then the year range applies.
3. ``month_name``: ``17. mars 2020``, ``18-Mar-2018``, ``Dec 25, 2018``,
   ``December 25th, 2018``, ``25 de marzo de 2020``, ``2018-Mar-18``, in every
   language of the data file.

Repairs (``repaired=True``), accepted only when they give exactly one date (after
the same day/month convention as clean text):

- OCR letters inside a date: O/o/Q -> 0, l/I/|/i -> 1, S/s -> 5, B -> 8, Z -> 2, G -> 6,
  when every part keeps at least one real digit and the date has at least four;
- a missing separator (``1202/2018``, ``12/022018``, ``12022018``) only right after
  a date label (``Date: 1202/2018``): alone, ``1202/2018`` is an invoice number.

Never dates: digits inside longer digit runs or number chains (``01.23.45.67.89``,
``GST REG NO: 000306020352``), amounts (``12.50``, ``1.234,56``), times, phone
numbers, and codes glued to letters (``HC03-7 - 15``, ``INV-10-11-12``). A date
glued to digits by a hyphen is kept only as one end of a range of two dates
(``01.03.2020-31.03.2020``). Not handled: CJK ``2020年3月17日``, space-only separators
(``25 12 2018``), a month and year without a day (``03/2018``, ``March 2020``).

>>> [m.date.isoformat() for m in find_dates_in_text("DATE : 25/12/2018 8:13:39 PM")]
['2018-12-25']
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from ..datafiles import read_toml
from ..errors import ConfigError
from ..records import BBox, Page, union_bbox
from .folding import fold

__all__ = [
    "unread_date_labels",
    "DateMatch",
    "FoundDate",
    "DateKnowledge",
    "load_date_knowledge",
    "default_date_knowledge",
    "find_dates_in_text",
    "find_dates",
    "day_first_for",
    "parse_claimed_date",
]

_PACKAGED = "dates.toml"

# Year-2-digit pivot as in POSIX strptime %y: 00-68 -> 2000s, 69-99 -> 1900s.
_TWO_DIGIT_PIVOT = 69




# ----------------------------------------------------------------------------- records


@dataclass(frozen=True)
class DateMatch:
    """One date found in a text.

    >>> find_dates_in_text("Dato: 17. mars 2020")[0].kind
    'month_name'
    """

    date: dt.date
    raw: str
    """The text as found: ``text[start:end]``."""
    start: int
    """Character offset of the first character in the text searched."""
    end: int
    """Offset one past the last character."""
    kind: str
    """'numeric' (25/12/2018), 'iso' (2018-12-25, 20181225) or 'month_name' (25 Dec 2018)."""
    ambiguous: bool
    """Day and month could be swapped and both readings are valid dates; the
    ``day_first`` convention chose."""
    repaired: bool
    """OCR confusions (O->0, l->1, ...) or a missing separator were repaired."""


@dataclass(frozen=True)
class FoundDate:
    """A date found on a page, with the box of the words it was read from.

    >>> FoundDate(dt.date(2018, 12, 25), "25/12/2018", 1, (0, 0, 90, 20), False, False, "numeric").page
    1
    """

    date: dt.date
    raw: str
    page: int
    """1-based page number."""
    bbox: BBox | None
    """Union of the boxes of the words the date spans, in page pixels."""
    ambiguous: bool
    repaired: bool
    kind: str
    role: str | None = None
    """'invoice' (labelled as the invoice's or purchase's date), 'other' (an order, delivery, due
    ... date) or None (no label, or one of no known role); see ``[roles]`` in dates.toml."""
    label: str | None = None
    """The label that gave the role, as read."""

    def to_dict(self) -> dict:
        return {
            "date": self.date.isoformat(),
            "raw": self.raw,
            "page": self.page,
            "bbox": list(self.bbox) if self.bbox else None,
            "ambiguous": self.ambiguous,
            "repaired": self.repaired,
            "kind": self.kind,
            "role": self.role,
            "label": self.label,
        }


# ----------------------------------------------------------------------------- knowledge


def _fold(text: str) -> str:
    """Accents stripped, case kept, one character out per character in (offsets survive)."""
    return fold(text, lower=False)


def _fold_lower(text: str) -> str:
    return fold(text)


_Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, pattern=r"^[^\W\d_]+$")]
_Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _NumericSection(_Strict):
    month_first_countries: list[_Country]
    ambiguous_countries: list[_Country] = Field(default_factory=list)


class _LabelsSection(_Strict):
    words: list[_Name] = Field(min_length=1)


_Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, pattern=r"^[^\W\d_]+(?: [^\W\d_]+)*$")]


class _RolesSection(_Strict):
    invoice: list[_Label] = Field(default_factory=list)
    other: list[_Label] = Field(default_factory=list)
    before_invoice: list[_Label] = Field(default_factory=list)
    after_invoice: list[_Label] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_role_per_label(self) -> _RolesSection:
        both = {_fold_lower(x) for x in self.invoice} & {_fold_lower(x) for x in self.other}
        if both:
            raise ValueError(f"labels with two roles: {', '.join(sorted(both))}")
        other = {_fold_lower(x) for x in self.other}
        for field in ("before_invoice", "after_invoice"):
            stray = sorted({_fold_lower(x) for x in getattr(self, field)} - other)
            if stray:
                raise ValueError(f"{field}: not labels of 'other': {', '.join(stray)}")
        both = {_fold_lower(x) for x in self.before_invoice} & {_fold_lower(x) for x in self.after_invoice}
        if both:
            raise ValueError(f"labels both before and after the invoice date: {', '.join(sorted(both))}")
        return self


class _MonthsSection(_Strict):
    four_digit_year_only: list[_Name] = Field(default_factory=list)


class _Language(_Strict):
    name: str = Field(min_length=1)
    months: list[Annotated[list[_Name], Field(min_length=1)]] = Field(min_length=12, max_length=12)


def _ocr_digits_ok(table: dict[str, str]) -> dict[str, str]:
    seen: dict[str, str] = {}
    for digit, letters in table.items():
        if len(digit) != 1 or not digit.isdigit() or not digit.isascii():
            raise ValueError(f"ocr_digits: {digit!r} is not a digit")
        for c in letters:
            if c.isdigit() or c.isspace():
                raise ValueError(f"ocr_digits.{digit}: {c!r} is a digit or a space, not a misread")
            if c in seen:
                raise ValueError(f"ocr_digits: {c!r} is read for both {seen[c]} and {digit}")
            seen[c] = digit
    return table


class _DatesFile(_Strict):
    numeric: _NumericSection
    labels: _LabelsSection
    ocr_digits: Annotated[dict[str, str], AfterValidator(_ocr_digits_ok)] = Field(default_factory=dict)
    roles: _RolesSection = Field(default_factory=_RolesSection)
    months: _MonthsSection = Field(default_factory=_MonthsSection)
    languages: dict[str, _Language] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_month_per_name(self) -> _DatesFile:
        seen: dict[str, tuple[int, str]] = {}
        for code, lang in self.languages.items():
            for index, names in enumerate(lang.months):
                for name in names:
                    key = _fold_lower(name)
                    where = f"languages.{code}.months.{index}"
                    if key in seen and seen[key][0] != index + 1:
                        raise ValueError(
                            f"{where}: {name!r} is month {index + 1} here but month "
                            f"{seen[key][0]} in {seen[key][1]}"
                        )
                    seen.setdefault(key, (index + 1, where))
        for name in self.months.four_digit_year_only:
            if _fold_lower(name) not in seen:
                raise ValueError(f"months.four_digit_year_only: {name!r} is not a month name of any language")
        return self


@dataclass(frozen=True)
class DateKnowledge:
    """The validated content of a dates data file, folded for matching.

    >>> default_date_knowledge().month_of("März")
    3
    """

    month_first_countries: frozenset[str]
    ambiguous_countries: frozenset[str]
    label_words: tuple[str, ...]
    """Folded, lower case."""
    month_names: tuple[tuple[str, int], ...]
    """(folded lower-case name, month 1-12), longest names first."""
    four_digit_year_only: frozenset[str]
    source: str
    label_roles: tuple[tuple[str, str], ...] = ()
    """(folded label, role), longest first: [roles], and the [labels] words as 'invoice'."""
    ocr_digits: tuple[tuple[str, str], ...] = ()
    """(character OCR prints, the digit it stands for) inside a numeric date: [ocr_digits]."""
    label_sequence: tuple[tuple[str, str], ...] = ()
    """(folded label, 'before' or 'after'): dates that never come after the invoice's own date (an
    order) or never before it (a payment due): [roles] before_invoice, after_invoice."""

    def sequence_of(self, label: str | None) -> str | None:
        """'before', 'after' or None for a date label as read ("Bestelldatum", "Due date:").

        >>> default_date_knowledge().sequence_of("Order Date:"), default_date_knowledge().sequence_of("Dato")
        ('before', None)
        """
        if not label:
            return None
        key = " ".join(w for w in re.split(r"[\s.\-/:]+", _fold_lower(label)) if w)
        return dict(self.label_sequence).get(key)

    def month_of(self, name: str) -> int | None:
        """The month a name means, in any language of the file, or None."""
        key = _fold_lower(name).rstrip(".")
        return next((m for n, m in self.month_names if n == key), None)


def load_date_knowledge(path: str | Path | None = None) -> DateKnowledge:
    """Read and validate a dates data file (default: the packaged ``dates.toml``).

    A broken file raises ``ConfigError`` whose message names the file and the field.

    >>> load_date_knowledge().month_of("stycznia")
    1
    """
    raw, source = read_toml(path, packaged=_PACKAGED)
    try:
        parsed = _DatesFile(**raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(file)'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(message=f"{source}: {problems}") from exc

    names: dict[str, int] = {}
    for lang in parsed.languages.values():
        for index, forms in enumerate(lang.months):
            for form in forms:
                names[_fold_lower(form)] = index + 1
    return DateKnowledge(
        month_first_countries=frozenset(parsed.numeric.month_first_countries),
        ambiguous_countries=frozenset(parsed.numeric.ambiguous_countries),
        label_words=tuple(sorted({_fold_lower(w) for w in parsed.labels.words}, key=lambda w: (-len(w), w))),
        month_names=tuple(sorted(names.items(), key=lambda kv: (-len(kv[0]), kv[0]))),
        four_digit_year_only=frozenset(_fold_lower(n) for n in parsed.months.four_digit_year_only),
        source=source,
        label_roles=_label_roles(parsed),
        ocr_digits=tuple(sorted((c, digit) for digit, letters in parsed.ocr_digits.items() for c in letters)),
        label_sequence=tuple(sorted([(_fold_lower(w), "before") for w in parsed.roles.before_invoice]
                                    + [(_fold_lower(w), "after") for w in parsed.roles.after_invoice])),
    )


def _label_roles(parsed: _DatesFile) -> tuple[tuple[str, str], ...]:
    roles = {_fold_lower(w): "invoice" for w in parsed.labels.words}
    roles.update({_fold_lower(w): "invoice" for w in parsed.roles.invoice})
    roles.update({_fold_lower(w): "other" for w in parsed.roles.other})
    return tuple(sorted(roles.items(), key=lambda kv: (-len(kv[0]), kv[0])))


@lru_cache(maxsize=1)
def default_date_knowledge() -> DateKnowledge:
    """The packaged knowledge, loaded once."""
    return load_date_knowledge()


def day_first_for(country: str | None, *, knowledge: DateKnowledge | None = None) -> bool:
    """Whether numeric dates of a country (ISO alpha-2) are day-first; None/unknown -> True.

    >>> day_first_for("US"), day_first_for("NO"), day_first_for(None)
    (False, True, True)
    """
    if not country:
        return True
    kb = knowledge or default_date_knowledge()
    return country.strip().upper() not in kb.month_first_countries


def parse_claimed_date(value: str) -> dt.date:
    """The date a claim gives, which must be ISO ``YYYY-MM-DD``.

    >>> parse_claimed_date("2020-03-17")
    datetime.date(2020, 3, 17)
    """
    if not isinstance(value, str):
        raise ValueError(f"claimed date must be a string YYYY-MM-DD, got {type(value).__name__}")
    text = value.strip()
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        raise ValueError(f"claimed date {value!r} is not in the form YYYY-MM-DD")
    try:
        return dt.date(int(text[:4]), int(text[5:7]), int(text[8:]))
    except ValueError as exc:
        raise ValueError(f"claimed date {value!r} is not a calendar date: {exc}") from None


# ----------------------------------------------------------------------------- patterns


@dataclass(frozen=True)
class _Patterns:
    numeric4: re.Pattern
    numeric2: re.Pattern
    iso: re.Pattern
    compact: re.Pattern
    short_daymonth: re.Pattern
    short_monthyear: re.Pattern
    dmy: re.Pattern
    mdy: re.Pattern
    ymd: re.Pattern
    label_end: re.Pattern
    months: dict
    four_digit_year_only: frozenset
    ocr_digits: dict
    """Character -> the digit it was misread for (``[ocr_digits]``)."""


_SEP = r"[ \t]?(?P<sep>[./-])[ \t]?"
_SEP_AGAIN = r"[ \t]?(?P=sep)[ \t]?"
_TIME_AHEAD = r"(?=[0-9]{1,2}[:.][0-9]{2})"
_HHMM = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]"
_HOUR_AHEAD = rf"(?={_HHMM})"
"""A recognizer that drops spaces glues the time to the date: "18/03/1815:17", "2025-02-0514:03"."""
_YEAR4 = rf"(?:[0-9]{{4}}{_TIME_AHEAD}|[0-9]{{4}}(?![0-9]))"
_YEAR = rf"(?P<y>{_YEAR4}|[0-9]{{2}}(?![0-9]))"
_LETTER_AHEAD = r"(?![^\W\d_])"
_WORD_THEN_TIME = re.compile(r"[^\W\d_]{1,4}\.?[ \t]*[0-9]{1,2}:[0-9]{2}")
_YEAR_FOLLOWS = re.compile(r"[ \t]*,?[ \t]*[0-9]{4}(?![0-9])")


@lru_cache(maxsize=8)
def _patterns(kb: DateKnowledge) -> _Patterns:
    names = "|".join(re.escape(n) for n, _ in kb.month_names)
    mon = rf"(?P<mon>{names}){_LETTER_AHEAD}\.?"
    # Between day and month: "17. mars", "18-Mar", "25 de marzo", "18MAR", "25th of December".
    day = r"(?<![0-9])(?P<d>[0-9]{1,2})(?:st|nd|rd|th|er|o|°|\.)?"
    gap_dm = r"(?:[ \t]*[-/.,][ \t]*|[ \t]*)(?:(?:de|del|di|du|of)[ \t]+)?"
    gap_my = r"(?:[ \t]*[-/.,'][ \t]*|[ \t]*)(?:(?:de|del|di)[ \t]+)?"
    labels = "|".join(re.escape(w) for w in kb.label_words)
    dl = "[0-9" + re.escape("".join(c for c, _ in kb.ocr_digits)) + "]"  # a digit, or a letter read for one
    return _Patterns(
        numeric4=re.compile(
            rf"(?<![0-9])(?P<a>{dl}{{1,2}}){_SEP}(?P<b>{dl}{{1,2}}){_SEP_AGAIN}"
            # "01/01/2020:15" is 01/01/20 at 20:15 (a space dropped), not 2020 and ":15"
            rf"(?P<y>{dl}{{4}}{_TIME_AHEAD}|{dl}{{2}}(?!{_HHMM}){dl}{{2}}(?![0-9]))"
        ),
        numeric2=re.compile(
            rf"(?<![0-9])(?P<a>{dl}{{1,2}}){_SEP}(?P<b>{dl}{{1,2}}){_SEP_AGAIN}"
            rf"(?P<y>{dl}{{2}}(?![0-9])|[0-9]{{2}}{_HOUR_AHEAD})"
        ),
        iso=re.compile(
            rf"(?<![0-9])(?P<y>{dl}{{4}}){_SEP}(?P<b>{dl}{{1,2}}){_SEP_AGAIN}"
            rf"(?P<a>{dl}{{1,2}}(?![0-9])|[0-9]{{2}}{_HOUR_AHEAD})"
        ),
        compact=re.compile(r"(?<![0-9])(?P<c>[0-9]{8})(?![0-9])"),
        short_daymonth=re.compile(rf"(?<![0-9])(?P<dm>[0-9]{{3,4}}){_SEP}(?P<y>[0-9]{{4}})(?![0-9])"),
        short_monthyear=re.compile(rf"(?<![0-9])(?P<a>[0-9]{{1,2}}){_SEP}(?P<my>[0-9]{{5,6}})(?![0-9])"),
        dmy=re.compile(rf"{day}{gap_dm}{mon}{gap_my}{_YEAR}"),
        mdy=re.compile(
            rf"(?<![^\W\d_])(?P<mon>{names}){_LETTER_AHEAD}\.?(?:[ \t]*[-/.][ \t]*|[ \t]*)"
            rf"(?P<d>[0-9]{{1,2}})(?:st|nd|rd|th)?(?![0-9])[ \t]*,?[ \t]*(?:[-/.][ \t]*)?"
            rf"(?P<y>[0-9]{{4}})(?![0-9])"
        ),
        ymd=re.compile(
            rf"(?<![0-9])(?P<y>[0-9]{{4}})(?:[ \t]*[-/.,][ \t]*|[ \t]+)(?P<mon>{names}){_LETTER_AHEAD}\.?"
            rf"(?:[ \t]*[-/.,][ \t]*|[ \t]+)(?P<d>[0-9]{{1,2}})(?:st|nd|rd|th)?(?![0-9])"
        ),
        label_end=re.compile(rf"(?:{labels})[ \t]*[:.#-]?[ \t]*\Z"),
        months=dict(kb.month_names),
        four_digit_year_only=kb.four_digit_year_only,
        ocr_digits=dict(kb.ocr_digits),
    )


# ----------------------------------------------------------------------------- readings


def _valid(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def _full_year(digits: str) -> int:
    yy = int(digits)
    if len(digits) == 4:
        return yy
    return 2000 + yy if yy < _TWO_DIGIT_PIVOT else 1900 + yy


def _unconfuse(raw: str, table: dict) -> tuple[str, int]:
    """Digits for a part read with OCR letters, and how many real digits it had."""
    return "".join(table.get(c, c) for c in raw), sum(c.isdigit() for c in raw)


def _read_day_month(
    a: int, b: int, year_digits: str, day_first: bool, min_year: int, max_year: int
) -> tuple[dt.date, bool] | None:
    """(date, ambiguous) for the parts ``a sep b sep year`` by the convention, or None."""
    y = _full_year(year_digits)
    if not min_year <= y <= max_year:
        return None
    day, month = (a, b) if day_first else (b, a)
    usual = _valid(y, month, day)
    other = _valid(y, day, month)
    if usual is not None:
        return usual, other is not None and other != usual
    # Only the other reading is a date: trusted with a four-digit year only.
    if other is not None and len(year_digits) == 4:
        return other, False
    return None


@dataclass(frozen=True)
class _Candidate:
    start: int
    end: int
    date: dt.date
    kind: str
    ambiguous: bool
    repaired: bool
    link_before: bool = False
    """Glued by a hyphen to the digits before it (the second date of a range)."""
    link_after: bool = False


def _is_letter(c: str) -> bool:
    return c.isalpha()


class _Text:
    """A text with its folded forms and the context checks every form shares."""

    def __init__(self, text: str, pats: _Patterns) -> None:
        self.text = text
        self.folded = _fold(text)
        self.lower = _fold_lower(text)
        self.pats = pats

    def label_before(self, pos: int) -> bool:
        return self.pats.label_end.search(self.lower, max(0, pos - 40), pos) is not None

    def context_ok(self, start: int, end: int, sep: str = "") -> bool:
        """No glue to letters (other than a date label), no part of a number chain.

        A hyphen to a digit is let through when the date's own separator is not a
        hyphen: it may join a range (``01.03.2020-31.03.2020``), which ``_linked``
        checks once every candidate is known.
        """
        f = self.folded
        n = len(f)
        if start > 0:
            before = f[start - 1]
            prev2 = f[start - 2] if start > 1 else ""
            if _is_letter(before) and not self.label_before(start):
                return False
            if before in "./-," and not (before == "-" != sep and prev2.isdigit()):
                if prev2.isdigit():
                    return False
                if _is_letter(prev2) and not self.label_before(start):
                    return False
        if end < n:
            after = f[end]
            nxt = f[end + 1] if end + 1 < n else ""
            if _is_letter(after):
                iso_time = after in "Tt" and nxt.isdigit()
                polish_rok = after == "r" and nxt in ("", ".", " ")
                # PP-OCR drops spaces: "07.12.2024Kl.14:03", "2024um14:03" (a short word, then a time)
                glued_time = _WORD_THEN_TIME.match(f, end) is not None
                if not (iso_time or polish_rok or glued_time):
                    return False
            if after in "./-," and nxt.isalnum() and not (after == "-" != sep and nxt.isdigit()):
                return False
        return True

    def candidate(
        self, m: re.Match, date: dt.date, kind: str, ambiguous: bool, repaired: bool, sep: str = ""
    ) -> _Candidate | None:
        start, end = m.start(), m.end()
        if not self.context_ok(start, end, sep):
            return None
        f = self.folded
        link_before = start > 1 and f[start - 1] == "-" and f[start - 2].isdigit()
        link_after = end + 1 < len(f) and f[end] == "-" and f[end + 1].isdigit()
        return _Candidate(start, end, date, kind, ambiguous, repaired, link_before, link_after)


def _linked(candidates: list[_Candidate]) -> list[_Candidate]:
    """Candidates glued to digits by a hyphen survive only as the two ends of a range."""
    ends = {c.end for c in candidates if c.link_after}
    starts = {c.start for c in candidates if c.link_before}
    return [
        c for c in candidates
        if (not c.link_before or c.start - 1 in ends) and (not c.link_after or c.end + 1 in starts)
    ]


def _scan(pattern: re.Pattern, text: str):
    """Every match, one per start position (a rejected match must not hide a later one)."""
    pos = 0
    while pos <= len(text):
        m = pattern.search(text, pos)
        if m is None:
            return
        yield m
        pos = m.start() + 1


def _numeric_parts(m: re.Match, table: dict) -> tuple[str, str, str, bool] | None:
    """Digits of a, b, y after OCR repair, and whether any was repaired; None if too little is digit."""
    parts = [m.group("a"), m.group("b"), m.group("y")]
    fixed = [_unconfuse(p, table) for p in parts]
    repaired = any(f != p for (f, _), p in zip(fixed, parts))
    if repaired:
        real = [r for _, r in fixed]
        if min(real) < 1 or sum(real) < 4:
            return None
    return fixed[0][0], fixed[1][0], fixed[2][0], repaired


def _numeric(t: _Text, day_first: bool, min_year: int, max_year: int):
    for pattern in (t.pats.numeric4, t.pats.numeric2):
        for m in _scan(pattern, t.folded):
            parts = _numeric_parts(m, t.pats.ocr_digits)
            if parts is None:
                continue
            a, b, y, repaired = parts
            reading = _read_day_month(int(a), int(b), y, day_first, min_year, max_year)
            if reading:
                yield t.candidate(m, reading[0], "numeric", reading[1], repaired, m["sep"])


def _iso(t: _Text, min_year: int, max_year: int):
    for m in _scan(t.pats.iso, t.folded):
        parts = _numeric_parts(m, t.pats.ocr_digits)
        if parts is None:
            continue
        d, mo, y, repaired = parts
        date = _valid(int(y), int(mo), int(d))
        if date and min_year <= date.year <= max_year:
            yield t.candidate(m, date, "iso", False, repaired, m["sep"])


def _compact(t: _Text, day_first: bool, min_year: int, max_year: int):
    for m in _scan(t.pats.compact, t.folded):
        s, c = m.start(), m["c"]
        if s > 0 and t.folded[s - 1] in "#+":
            continue
        date = _valid(int(c[:4]), int(c[4:6]), int(c[6:]))
        if date and min_year <= date.year <= max_year:
            yield t.candidate(m, date, "iso", False, False)
        elif t.label_before(s):
            reading = _read_day_month(int(c[:2]), int(c[2:4]), c[4:], day_first, min_year, max_year)
            if reading:
                yield t.candidate(m, reading[0], "numeric", reading[1], True)


def _missing_separator(t: _Text, day_first: bool, min_year: int, max_year: int):
    """``Date: 1202/2018`` and ``Date: 12/022018``: only right after a date label."""
    found = []
    for m in _scan(t.pats.short_daymonth, t.folded):
        dm = m["dm"]
        splits = [(dm[:k], dm[k:]) for k in (1, 2) if len(dm) - k <= 2]
        found.append((m, splits, m["y"]))
    for m in _scan(t.pats.short_monthyear, t.folded):
        found.append((m, [(m["a"], m["my"][:-4])], m["my"][-4:]))
    for m, splits, year in found:
        if not t.label_before(m.start()):
            continue
        readings = set()
        for a, b in splits:
            reading = _read_day_month(int(a), int(b), year, day_first, min_year, max_year)
            if reading:
                readings.add(reading)
        # Exactly one date from every way of cutting the digits, or no repair.
        if len({date for date, _ in readings}) == 1:
            date, ambiguous = readings.pop()
            yield t.candidate(m, date, "numeric", ambiguous, True, m["sep"])


def _month_named(t: _Text, min_year: int, max_year: int):
    months = t.pats.months
    for pattern in (t.pats.dmy, t.pats.mdy, t.pats.ymd):
        for m in _scan(pattern, t.lower):
            name, y = m["mon"], m["y"]
            if len(y) == 2 and (
                name in t.pats.four_digit_year_only
                # "July 1 - July 31, 2014": the two digits are a day, the year follows.
                or _YEAR_FOLLOWS.match(t.lower, m.end())
            ):
                continue
            year = _full_year(y)
            date = _valid(year, months[name], int(m["d"]))
            if date and min_year <= year <= max_year:
                yield t.candidate(m, date, "month_name", False, False)


def find_dates_in_text(
    text: str,
    *,
    day_first: bool = True,
    min_year: int = 1990,
    max_year: int = 2100,
    knowledge: DateKnowledge | None = None,
) -> list[DateMatch]:
    """Every date in a text, left to right, without overlaps.

    ``day_first`` resolves numeric dates whose day and month could be swapped (see
    ``day_first_for``); years outside ``min_year..max_year`` are not dates.

    >>> [(m.raw, m.date.isoformat()) for m in find_dates_in_text("Tarikh:25-12-18 TOTAL 12.50")]
    [('25-12-18', '2018-12-25')]
    """
    if not isinstance(text, str) or not text:
        return []
    kb = knowledge or default_date_knowledge()
    t = _Text(text, _patterns(kb))
    found = [
        *_iso(t, min_year, max_year),
        *_numeric(t, day_first, min_year, max_year),
        *_compact(t, day_first, min_year, max_year),
        *_missing_separator(t, day_first, min_year, max_year),
        *_month_named(t, min_year, max_year),
    ]
    candidates = _linked([c for c in found if c is not None])
    # Leftmost first; at one start the longest, then a clean reading before a repaired one.
    candidates.sort(key=lambda c: (c.start, -(c.end - c.start), c.repaired))
    out: list[DateMatch] = []
    last_end = -1
    for c in candidates:
        if c.start < last_end:
            continue
        out.append(DateMatch(c.date, text[c.start:c.end], c.start, c.end, c.kind, c.ambiguous, c.repaired))
        last_end = c.end
    return out


# ----------------------------------------------------------------------------- pages


def _word_spans(line) -> list[tuple[int, int, BBox]]:
    spans, pos = [], 0
    for word in line.words:
        spans.append((pos, pos + len(word.text), word.bbox))
        pos += len(word.text) + 1
    return spans


def _bbox_of(spans: list[tuple[int, int, BBox]], start: int, end: int) -> BBox | None:
    return union_bbox(b for s, e, b in spans if s < end and e > start and e > s)


def find_dates(
    pages: Sequence[Page],
    *,
    day_first: bool = True,
    min_year: int = 1990,
    max_year: int = 2100,
    knowledge: DateKnowledge | None = None,
) -> list[FoundDate]:
    """Every date on the pages, line by line, with the box of the words it spans.

    A line is also joined with the next one, for a date split over two lines
    ("25 December" / "2018") or a label on the line above ("DATE:" / "12022018");
    such a date is kept only if neither line alone gave a date there.

    >>> from pipeline.records import Line, Word
    >>> line = Line((Word("DATE:", 90, (0, 0, 50, 10)), Word("25/12/2018", 90, (60, 0, 150, 10))))
    >>> [(f.date.isoformat(), f.bbox) for f in find_dates([Page(1, 200, 100, "ocr", (line,))])]
    [('2018-12-25', (60, 0, 150, 10))]
    """
    opts = {"day_first": day_first, "min_year": min_year, "max_year": max_year, "knowledge": knowledge}
    kb = knowledge or default_date_knowledge()
    out: list[FoundDate] = []
    for page in pages:
        lines = page.lines
        texts = [line.text for line in lines]
        spans = [_word_spans(line) for line in lines]
        alone = [find_dates_in_text(text, **opts) for text in texts]
        labels = [_role_labels(text, kb) for text in texts]

        for i, matches in enumerate(alone):
            for m in matches:
                bbox = _bbox_of(spans[i], m.start, m.end)
                out.append(FoundDate(m.date, m.raw, page.number, bbox, m.ambiguous, m.repaired, m.kind,
                                     *_role(i, m.start, bbox, texts, spans, alone, labels)))
            if i + 1 >= len(lines) or not texts[i] or not texts[i + 1]:
                continue
            cut = len(texts[i]) + 1
            taken = [(m.start, m.end) for m in matches]
            taken += [(m.start + cut, m.end + cut) for m in alone[i + 1]]
            for m in find_dates_in_text(texts[i] + " " + texts[i + 1], **opts):
                if m.end <= cut or any(m.start < e and s < m.end for s, e in taken):
                    continue
                next_spans = [(s + cut, e + cut, b) for s, e, b in spans[i + 1]]
                bbox = _bbox_of(spans[i] + next_spans, m.start, m.end)
                out.append(FoundDate(m.date, m.raw, page.number, bbox, m.ambiguous, m.repaired, m.kind,
                                     *_role(i, min(m.start, cut), _bbox_of(spans[i], m.start, cut), texts, spans,
                                            alone, labels)))
    return out


def _role(i: int, start: int, bbox: BBox | None, texts: list[str], spans: list, alone: list[list[DateMatch]],
          labels: list[list[tuple[int, int, str]]]) -> tuple[str | None, str | None]:
    """(role, label) of a date starting at ``start`` on line ``i``: the nearest label before it on
    its line; else a column heading on one of the two lines above (a label standing over the date,
    with no date of its own after it on its line)."""
    before = [hit for hit in labels[i] if hit[1] <= start]
    if before:
        s0, e0, r = max(before, key=lambda hit: hit[1])
        return r, texts[i][s0:e0]
    for j in (i - 1, i - 2):
        if j < 0 or bbox is None:
            continue
        heads = []
        for s0, e0, r in labels[j]:
            if any(m.start >= e0 for m in alone[j]):
                continue
            box = _bbox_of(spans[j], s0, e0)
            if box is not None:
                overlap = min(box[2], bbox[2]) - max(box[0], bbox[0])
                if overlap > 0:
                    heads.append((overlap, r, texts[j][s0:e0]))
        if heads:
            _, r, text = max(heads)
            return r, text
    return None, None


@lru_cache(maxsize=8)
def _role_pattern(kb: DateKnowledge) -> re.Pattern:
    alts = [r"[\s.\-/]*".join(re.escape(w) for w in label.split()) for label, _ in kb.label_roles]
    return re.compile(r"(?<![^\W_])(?:" + "|".join(alts) + r")(?![^\W\d_])")


def _role_labels(text: str, kb: DateKnowledge) -> list[tuple[int, int, str]]:
    """(start, end, role) of each date label in a line's text (see ``[roles]`` in dates.toml)."""
    if not kb.label_roles:
        return []
    roles = dict(kb.label_roles)
    out = []
    for m in _role_pattern(kb).finditer(_fold_lower(text)):
        key = " ".join(re.split(r"[\s.\-/]+", m.group(0).strip(" .-/")))
        if key in roles:
            out.append((m.start(), m.end(), roles[key]))
    return out


@lru_cache(maxsize=8)
def _label_colon(kb: DateKnowledge) -> re.Pattern:
    labels = "|".join(re.escape(w) for w in kb.label_words)
    return re.compile(rf"(?<![0-9])(?:{labels})[ \t]*:")


def unread_date_labels(pages: Sequence[Page], *, day_first: bool = True,
                       knowledge: DateKnowledge | None = None) -> list[tuple[int, str]]:
    """(page, line text) of each "…date:" label whose value could not be read as a date.

    "Invoice Date: Snerpees" beside a clear "Order Date: 27 April 2021": the date the claim
    names may be the unreadable one, so the order date alone proves no mismatch.
    A value on the next line ("DATE:" / "12022018") counts as read.

    >>> from pipeline.records import Line, Word
    >>> def line(text): return Line(tuple(Word(t, 90, (0, 0, 10, 10)) for t in text.split()))
    >>> page = Page(1, 100, 100, "ocr", (line("Invoice Date: Snerpees"), line("Order Date: 27 April 2021")))
    >>> unread_date_labels([page])
    [(1, 'Invoice Date: Snerpees')]
    """
    kb = knowledge or default_date_knowledge()
    pattern = _label_colon(kb)
    out = []
    for page in pages:
        texts = [line.text for line in page.lines]
        for i, text in enumerate(texts):
            if not pattern.search(_fold_lower(text)):
                continue
            if find_dates_in_text(text, day_first=day_first, knowledge=kb):
                continue
            following = texts[i + 1] if i + 1 < len(texts) else ""
            if (following and not pattern.search(_fold_lower(following))
                    and find_dates_in_text(following, day_first=day_first, knowledge=kb)):
                continue  # the value on the line below its label
            out.append((page.number, text))
    return out
