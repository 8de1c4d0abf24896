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
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..datafiles import read_toml
from ..errors import ConfigError

__all__ = [
    "CONFUSABLE_CLASSES",
    "ModelVocabulary",
    "fold_confusables",
    "load_model_vocabulary",
    "model_tokens",
    "normalise_model",
    "normalise_text",
    "split_alnum",
]

CONFUSABLE_CLASSES: tuple[frozenset[str], ...] = (
    frozenset("0odq"),
    frozenset("1li|"),
    frozenset("5s"),
    frozenset("8b"),
    frozenset("2z"),
    frozenset("6g"),
    frozenset("uv"),
)
"""Characters OCR confuses, casefolded. Each class holds at most one digit, so two
different digits are never confusable: '7' is deliberately not with '1', because
"...0001" vs "...0007" is a different serial, not a misreading we may forgive."""

_FOLD = {c: sorted(cls)[0] for cls in CONFUSABLE_CLASSES for c in cls}

# Letters with no Unicode decomposition that still carry an accent-like mark; and the yen
# sign, which OCR engines print for a Y ("MR D.I.¥.").
_SPECIAL = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "đ": "d", "ł": "l", "þ": "th", "ð": "d",
                          "ı": "i", "ħ": "h", "¥": "y"})
# A run of single letters each followed by a dot: "d.i.y.", "s.a.r.l", "b.v."
_ABBREVIATION = re.compile(r"(?<![^\W_])(?:[^\W\d_]\.)+[^\W\d_](?![^\W_])")
_NON_WORD = re.compile(r"[\W_]+")
_ALNUM_RUN = re.compile(r"\d+|[^\W\d_]+")


def _fold_text(s: str) -> str:
    s = unicodedata.normalize("NFKC", s).casefold()
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c))
    return unicodedata.normalize("NFKC", s.translate(_SPECIAL)).casefold()


def normalise_text(s: str) -> str:
    """Casefolded, accent-free words separated by single spaces.

    >>> normalise_text("  Elkjøp  Nordic AS, MR.D.I.Y(M)SDN BHD ")
    'elkjop nordic as mr diy m sdn bhd'
    """
    s = s or ""
    if s.isascii():  # the common case: NFKC and accent stripping change nothing
        s = s.lower()
    else:
        s = _settle(s)
    s = _ABBREVIATION.sub(lambda m: m.group(0).replace(".", ""), s)
    return " ".join(_NON_WORD.sub(" ", s).split())


def _settle(s: str) -> str:
    s = _fold_text(s)
    # Casefolding can expose new combining marks or compatibility forms: settle to a fixed point.
    for _ in range(3):
        again = _fold_text(s)
        if again == s:
            break
        s = again
    return s


def split_alnum(chunk: str) -> list[str]:
    """A normalised alphanumeric chunk cut at every letter/digit boundary.

    >>> split_alnum("rtx3060ti")
    ['rtx', '3060', 'ti']
    """
    return _ALNUM_RUN.findall(chunk)


def fold_confusables(s: str) -> str:
    """Every confusable character replaced by its class's representative ('o' -> '0', 'l' -> '1')."""
    return "".join(_FOLD.get(c, c) for c in s)


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
    source: str = "models.toml"


_VOCAB_FIELDS = ("brands", "optional_words", "hard_suffixes", "variant_words", "neutral_words",
                 "capacity_units")


def _parse_vocabulary(data: dict, source: str) -> ModelVocabulary:
    unknown = sorted(set(data) - set(_VOCAB_FIELDS))
    if unknown:
        raise ConfigError(message=f"{source}: unknown field(s) {', '.join(unknown)}; "
                                  f"expected {', '.join(_VOCAB_FIELDS)}")
    values: dict[str, frozenset[str]] = {}
    for field in _VOCAB_FIELDS:
        raw = data.get(field)
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
