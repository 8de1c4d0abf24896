"""Text and model-name normalisation shared by the matchers, and the model vocabulary.

``normalise_text`` is for free text (retailer names, invoice lines): NFKC, casefold,
accents stripped, dotted abbreviations joined ("D.I.Y." -> "diy", "S.A.R.L." -> "sarl"),
every other run of punctuation and whitespace collapsed to one space.

``normalise_model`` is for product model names: the same, then every letter/digit
boundary split ("RTX3060Ti" -> "rtx 3060 ti", so "3060TI" and "3060 Ti" agree) and brand
words dropped wherever they stand ("MSI", "AMD", "NVIDIA": they never tell two models apart).

"GeForce" and "Radeon" are *kept*: they are product-line words printed in official
names ("GeForce RTX 3060 Ti", "Radeon RX 5700 XT"), not makers. Invoices drop them
often, so the vocabulary lists them as ``optional_words``: ``match_model`` does not
require them and ``models_equivalent`` ignores them. MSI's series prefixes MAG/MPG/MEG
are optional words for the same reason.

>>> normalise_model("MSI GeForce RTX3060TI Gaming Trio")
'geforce rtx 3060 ti gaming trio'
>>> model_tokens("AMD Ryzen 5 3600X")
('ryzen', '5', '3600', 'x')
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..datafiles import read_toml
from ..errors import ConfigError
from .folding import fold_words

__all__ = [
    "CONFUSABLE_CLASSES",
    "ConfusionEdits",
    "Confusions",
    "ModelVocabulary",
    "confusion_edits",
    "fold_confusables",
    "load_confusions",
    "load_model_vocabulary",
    "model_tokens",
    "normalise_model",
    "normalise_text",
    "sequence_variants",
    "split_alnum",
]

@dataclass(frozen=True)
class Confusions:
    """What OCR confuses (``pipeline/data/confusions.toml``): character classes and letter sequences."""

    classes: tuple[frozenset[str], ...]
    """Characters read for one another, casefolded; at most one digit per class."""
    sequences: tuple[tuple[str, str], ...]
    """(read, meant) letter groups of printed model names: ("vv", "w"), ("rn", "m"), ("cl", "d")."""
    smudges: str = ""
    """Characters OCR prints for a glyph it could not read ("500%" for "500X")."""
    source: str = "confusions.toml"

    @property
    def fold_table(self) -> dict[int, str]:
        return str.maketrans({c: sorted(cls)[0] for cls in self.classes for c in cls})


def _parse_confusions(data: dict, source: str) -> Confusions:
    unknown = sorted(set(data) - {"classes", "sequences", "smudges"})
    if unknown:
        raise ConfigError(message=f"{source}: unknown field(s) {', '.join(unknown)}; "
                                  "expected classes, sequences, smudges")
    raw = data.get("classes")
    if not isinstance(raw, list) or not raw or not all(isinstance(c, str) for c in raw):
        raise ConfigError(message=f"{source}: 'classes' must be a non-empty list of strings")
    classes, seen = [], set()
    for cls in raw:
        chars = set(cls)
        if len(chars) < 2 or len(chars) != len(cls) or cls != cls.casefold() or any(c.isspace() for c in cls):
            raise ConfigError(message=f"{source}: class {cls!r} must hold two or more distinct lower-case characters")
        if sum(c.isdigit() for c in cls) > 1:
            raise ConfigError(message=f"{source}: class {cls!r} holds two digits; two different digits are "
                                      "never a misreading")
        if chars & seen:
            raise ConfigError(message=f"{source}: {''.join(sorted(chars & seen))!r} is in two classes")
        seen |= chars
        classes.append(frozenset(cls))
    seqs = data.get("sequences", [])
    if not isinstance(seqs, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) and x and x == x.casefold()
                                                         and x.isalpha() for x in p) and p[0] != p[1]
            for p in seqs):
        raise ConfigError(message=f"{source}: 'sequences' must be a list of [read, meant] pairs of different "
                                  "lower-case letter groups")
    smudges = data.get("smudges", "")
    if not isinstance(smudges, str) or any(c.isalnum() or c.isspace() for c in smudges):
        raise ConfigError(message=f"{source}: 'smudges' must be a string of symbols (no letters, digits or spaces)")
    return Confusions(tuple(classes), tuple((a, b) for a, b in seqs), smudges, source)


def load_confusions(path: str | Path | None = None) -> Confusions:
    """The confusion table from ``path``, or the packaged ``confusions.toml``; validated."""
    if path is None:
        return _default_confusions()
    return _parse_confusions(*read_toml(path, packaged="confusions.toml"))


@lru_cache(maxsize=1)
def _default_confusions() -> Confusions:
    return _parse_confusions(*read_toml(None, packaged="confusions.toml"))


CONFUSABLE_CLASSES: tuple[frozenset[str], ...] = _default_confusions().classes
"""Characters OCR confuses, casefolded (the packaged table's classes). Each class holds at most
one digit, so two different digits are never confusable."""

_FOLD = _default_confusions().fold_table

# A run of single letters each followed by a dot: "d.i.y.", "s.a.r.l", "b.v."
_ABBREVIATION = re.compile(r"(?<![^\W_])(?:[^\W\d_]\.)+[^\W\d_](?![^\W_])")
_NON_WORD = re.compile(r"[\W_]+")
_ALNUM_RUN = re.compile(r"\d+|[^\W\d_]+")


def normalise_text(s: str) -> str:
    """Casefolded, accent-free words separated by single spaces.

    >>> normalise_text("  Elkjøp  Nordic AS, MR.D.I.Y(M)SDN BHD ")
    'elkjop nordic as mr diy m sdn bhd'
    """
    s = s or ""
    if s.isascii():  # the common case: NFKC and accent stripping change nothing
        s = s.lower()
    else:
        s = fold_words(s)
    s = _ABBREVIATION.sub(lambda m: m.group(0).replace(".", ""), s)
    return " ".join(_NON_WORD.sub(" ", s).split())


def split_alnum(chunk: str) -> list[str]:
    """A normalised alphanumeric chunk cut at every letter/digit boundary.

    >>> split_alnum("rtx3060ti")
    ['rtx', '3060', 'ti']
    """
    return _ALNUM_RUN.findall(chunk)


def fold_confusables(s: str) -> str:
    """Every confusable character replaced by its class's representative ('o' -> '0', 'l' -> '1')."""
    return s.translate(_FOLD)


def sequence_variants(s: str, confusions: Confusions | None = None) -> frozenset[str]:
    """``s`` with confusable letter groups swapped, either way, one place at a time and everywhere:
    "tomahavvk" -> {"tomahawk"}, "modem" -> {..., "modern"}. ``s`` itself is not included.

    >>> "tomahawk" in sequence_variants("tomahavvk"), "modern" in sequence_variants("modem")
    (True, True)
    """
    return _sequence_variants(s, confusions or _default_confusions())


@lru_cache(maxsize=65536)
def _sequence_variants(s: str, table: Confusions) -> frozenset[str]:
    out = set()
    for read, meant in table.sequences:
        for a, b in ((read, meant), (meant, read)):
            start = s.find(a)
            if start < 0:
                continue
            out.add(s.replace(a, b))
            while start >= 0:
                out.add(s[:start] + b + s[start + len(a):])
                start = s.find(a, start + 1)
    return frozenset(out - {s})


@dataclass(frozen=True)
class ConfusionEdits:
    """How two strings differ, edit by edit, when confusable characters count as near-equal."""

    distance: float
    confusable: int
    """Substitutions within a confusion class (0/O, 1/l, ...)."""
    digit_subs: int
    """Real substitutions of one digit for another: a different value, not a misread."""
    letter_subs: int
    """Other real substitutions (a letter involved, not confusable)."""
    indels: int
    """Characters missing or extra."""

    @property
    def real(self) -> int:
        return self.digit_subs + self.letter_subs + self.indels


def confusion_edits(a: str, b: str, confusable_cost: float = 0.25) -> ConfusionEdits:
    """Weighted Levenshtein of two casefolded strings: a swap inside a confusion class costs
    ``confusable_cost``, any other edit 1; with the kinds of edit used (ties prefer fewer digit edits).

    >>> e = confusion_edits("b55o", "b550"); (e.distance, e.confusable, e.real)
    (0.25, 1, 0)
    """
    fa, fb = fold_confusables(a), fold_confusables(b)
    n, m = len(a), len(b)
    # Each cell: (cost, digit_subs, letter_subs, indels, confusable).
    prev = [(float(j), 0, 0, j, 0) for j in range(m + 1)]
    for i in range(1, n + 1):
        cur = [(float(i), 0, 0, i, 0)] + [(0.0, 0, 0, 0, 0)] * m
        for j in range(1, m + 1):
            x, y = a[i - 1], b[j - 1]
            d = prev[j - 1]
            if x == y:
                sub = d
            elif fa[i - 1] == fb[j - 1]:
                sub = (d[0] + confusable_cost, d[1], d[2], d[3], d[4] + 1)
            elif x.isdigit() and y.isdigit():
                sub = (d[0] + 1, d[1] + 1, d[2], d[3], d[4])
            else:
                sub = (d[0] + 1, d[1], d[2] + 1, d[3], d[4])
            up, left = prev[j], cur[j - 1]
            cur[j] = min(sub, (up[0] + 1, up[1], up[2], up[3] + 1, up[4]),
                         (left[0] + 1, left[1], left[2], left[3] + 1, left[4]))
        prev = cur
    cost, digit, letter, indel, conf = prev[m]
    return ConfusionEdits(round(cost, 6), conf, digit, letter, indel)


# ---------------------------------------------------------------------------- model vocabulary

@dataclass(frozen=True)
class ModelVocabulary:
    """Word lists that drive model matching; loaded from ``pipeline/data/models.toml``."""

    brands: frozenset[str]
    """Maker names dropped from model names wherever they stand."""
    optional_words: frozenset[str]
    """Product-line words an invoice may leave out (geforce, radeon, mag, ...)."""
    hard_suffixes: frozenset[str]
    """Tier suffixes that make a different model when added after a number (ti, super, xt, x, g, ...)."""
    variant_words: frozenset[str]
    """Variant words that must agree but whose absence may be an abbreviation (max, plus, pro, wifi)."""
    neutral_words: frozenset[str]
    """Words that never count for or against a match (oc)."""
    capacity_units: frozenset[str]
    """Units after a memory size ("8G", "12GB"): the size is a variant, the unit neutral."""
    glue_words: frozenset[str] = frozenset()
    """Words of invoice product lines ("box", "mainboard") that a recognizer which drops spaces
    glues to a model's name ("AMDRyzen53400GBox"): with the catalogue's words, where glued text is
    cut apart. Optional in a vocabulary file."""
    source: str = "models.toml"


_VOCAB_FIELDS = ("brands", "optional_words", "hard_suffixes", "variant_words", "neutral_words",
                 "capacity_units", "glue_words")
_OPTIONAL_VOCAB_FIELDS = ("glue_words",)


def _parse_vocabulary(data: dict, source: str) -> ModelVocabulary:
    unknown = sorted(set(data) - set(_VOCAB_FIELDS))
    if unknown:
        raise ConfigError(message=f"{source}: unknown field(s) {', '.join(unknown)}; "
                                  f"expected {', '.join(_VOCAB_FIELDS)}")
    values: dict[str, frozenset[str]] = {}
    for field in _VOCAB_FIELDS:
        raw = data.get(field, [] if field in _OPTIONAL_VOCAB_FIELDS else None)
        if raw is None:
            raise ConfigError(message=f"{source}: field '{field}' is missing (a list of words)")
        if not isinstance(raw, list) or not all(isinstance(w, str) for w in raw):
            raise ConfigError(message=f"{source}: field '{field}' must be a list of strings")
        words = set()
        for word in raw:
            norm = normalise_text(word)
            if not norm or " " in norm or norm != word:
                raise ConfigError(message=f"{source}: field '{field}': {word!r} must be one lower-case "
                                          f"word without punctuation (normalised: {norm!r})")
            if field != "capacity_units" and len(split_alnum(norm)) != 1:
                raise ConfigError(message=f"{source}: field '{field}': {word!r} mixes letters and digits; "
                                          "model names are split at letter/digit boundaries")
            words.add(norm)
        values[field] = frozenset(words)
    return ModelVocabulary(**values, source=source)


def load_model_vocabulary(path: str | Path | None = None) -> ModelVocabulary:
    """The vocabulary from ``path``, or the packaged ``models.toml``; validated.

    Raises ConfigError naming the file and the field at fault.
    """
    if path is None:
        return _default_vocabulary()
    return _parse_vocabulary(*read_toml(path, packaged="models.toml"))


@lru_cache(maxsize=1)
def _default_vocabulary() -> ModelVocabulary:
    return _parse_vocabulary(*read_toml(None, packaged="models.toml"))


def _brand_set(brands: Iterable[str] | None) -> frozenset[str]:
    if brands is None:
        return load_model_vocabulary().brands
    return frozenset(normalise_text(b) for b in brands)


def normalise_model(s: str, brands: Iterable[str] | None = None) -> str:
    """A model name as space-separated tokens: normalised, split at letter/digit boundaries,
    brand words dropped. ``brands`` defaults to the packaged vocabulary's list.

    >>> normalise_model("3060TI") == normalise_model("3060 Ti")
    True
    """
    drop = _brand_set(brands)
    tokens = [t for chunk in normalise_text(s).split() for t in split_alnum(chunk)]
    return " ".join(t for t in tokens if t not in drop)


def model_tokens(s: str, brands: Iterable[str] | None = None) -> tuple[str, ...]:
    """The tokens of ``normalise_model(s)``."""
    return tuple(normalise_model(s, brands).split())
