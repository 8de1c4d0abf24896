"""Text folding: one place that says how accents and case are dropped before text is compared.

Two folds, both from the tables in ``data/folding.toml``:

- ``fold(text)``: lower case, accents stripped, **one character out per character in**, so a match
  found in the folded text has the same offsets in the original (dates, labels, invoice numbers,
  "sold by" lines are found in folded text and boxed in the original). ``fold(text, lower=False)``
  keeps the case.
- ``fold_words(text)``: the compare-only fold of names (retailers, models, sellers: ``normalise_text``):
  compatibility forms settled (NFKC), casefolded, accents stripped, two-letter expansions ("æ" -> "ae")
  and OCR look-alikes ("¥" -> "y") applied. Offsets are not kept.

OCR confusions between letters and digits are another matter: ``data/confusions.toml`` and
``extract.normalise`` (models, serials) and ``data/dates.toml [ocr_digits]`` (dates).

>>> fold("Numéro de Facture N°"), fold("Kjøpsdato 17.02.2020"), fold("Ærø", lower=False)
('numero de facture n°', 'kjopsdato 17.02.2020', 'Æro')
>>> fold_words("Ærøskøbing Straße ¥")
'aeroskobing strasse y'
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..datafiles import only_keys, read_toml
from ..errors import ConfigError

__all__ = ["FoldingTable", "load_folding", "folding_table", "fold", "fold_char", "fold_words"]

_PACKAGED = "folding.toml"


@dataclass(frozen=True)
class FoldingTable:
    letters: dict[str, str]
    """One letter for one letter (offsets kept)."""
    expansions: dict[str, str]
    """A letter for several (compare-only)."""
    lookalikes: dict[str, str]
    """A symbol OCR prints for a letter (compare-only)."""
    source: str

    @property
    def words_table(self) -> dict[int, str]:
        return str.maketrans({**self.letters, **self.expansions, **self.lookalikes})


def _parse(data: dict, source: str) -> FoldingTable:
    only_keys(data, ("letters", "expansions", "lookalikes"), source)
    out = {}
    for key in ("letters", "expansions", "lookalikes"):
        table = data.get(key, {})
        if not isinstance(table, dict):
            raise ConfigError(message=f"{source}: '{key}' must be a table of character = replacement")
        for c, r in table.items():
            if len(c) != 1 or not isinstance(r, str) or not r or not r.isascii():
                raise ConfigError(message=f"{source}: {key}: {c!r} = {r!r}: one character for plain ASCII text")
            if key == "letters" and len(r) != 1:
                raise ConfigError(message=f"{source}: letters: {c!r} = {r!r}: one letter for one letter "
                                          "(put longer ones in 'expansions')")
        out[key] = dict(table)
    return FoldingTable(out["letters"], out["expansions"], out["lookalikes"], source)


def load_folding(path: str | Path | None = None) -> FoldingTable:
    """The folding table from ``path``, or the packaged ``folding.toml``; validated."""
    if path is None:
        return folding_table()
    return _parse(*read_toml(path, packaged=_PACKAGED))


@lru_cache(maxsize=1)
def folding_table() -> FoldingTable:
    return _parse(*read_toml(None, packaged=_PACKAGED))


@lru_cache(maxsize=4096)
def _fold_char(c: str, lower: bool) -> str:
    letters = folding_table().letters
    if c in letters:
        base = letters[c]
    else:
        base = "".join(ch for ch in unicodedata.normalize("NFKD", c) if not unicodedata.combining(ch))
        if len(base) != 1:
            base = c
    if lower:
        low = base.lower()
        return low if len(low) == 1 else base
    return base


def fold_char(c: str, *, lower: bool = True) -> str:
    """One character folded to one character (itself when it has no one-letter fold)."""
    if c < "\x80":
        return c.lower() if lower else c
    return _fold_char(c, lower)


def fold(text: str, *, lower: bool = True) -> str:
    """Accents stripped (and lower case unless ``lower=False``), one character out per character in."""
    if text.isascii():
        return text.lower() if lower else text
    return "".join(fold_char(c, lower=lower) for c in text)


def _words_once(s: str) -> str:
    s = unicodedata.normalize("NFKC", s).casefold()
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c))
    return unicodedata.normalize("NFKC", s.translate(folding_table().words_table)).casefold()


def fold_words(s: str) -> str:
    """The compare-only fold of names (see the module docstring); settled to a fixed point, as
    casefolding can expose new combining marks or compatibility forms."""
    s = _words_once(s)
    for _ in range(3):
        again = _words_once(s)
        if again == s:
            break
        s = again
    return s
