"""Does the claimed product model appear on the invoice, or a different one?

``match_model`` decides, on every invoice line (and every pair of adjacent lines: product
names wrap), between *hypotheses*: the claimed model, each of its siblings in the product
catalogue (``catalogue.toml``: "RTX 5060" vs "RTX 5060 Ti", "B550" vs "B450 TOMAHAWK"), any
other catalogue model the line names, and "unreadable". A sibling hypothesis is the claim with
its catalogue model swapped ("GeForce RTX 5060 8G GAMING TRIO" -> "... 5060 Ti 8G GAMING TRIO"),
so both are judged on the same words. Each hypothesis is aligned with the line's tokens by a
small dynamic programme that lets invoices add words ("MSI ... SIG ... OC"), drop optional
product-line words ("GeForce"), glue or split tokens ("3060TI", "321URXQD-OLED") and misread
letters ("TOMAHAVVK"), then judged the same way for every hypothesis:

- *code* tokens (anything with a digit, a letter glued to a number, tier suffixes ti, super, xt,
  ...) are compared with the OCR confusion classes of ``confusions.toml``: equal, *repaired*
  (only confusable characters differ: "B55O", "Tl" for "Ti"), *near* (one letter more, less or
  different, or a number cut short: "MAG27COQ", "1URX"), *garbled* (letters mostly wrong, the
  same digits), or different (another digit: 3060 vs 3070 is never a misreading; except that on
  an OCR read of a catalogued model one digit read into a number no model has, "3608" for
  3600, is near: blurred photos turn 0 into 8);
- *variant* words (max, plus, pro, wifi, memory sizes) must agree when both sides show one;
- plain *words* are compared by rapidfuzz ratio; *optional* and *neutral* words never count.

A hypothesis's *fit* is the weight of what it explains minus what it leaves unexplained: its
tokens not found, extra codes inside it, a tier suffix right after its number that it lacks
(read exactly, through a confusion, or nearly: "Supe", "XI"), a suffix it claims in the place
of which the invoice shows something else. The best hypothesis wins by its *margin* over the
next one (in token weights: a code counts 2).

- **pass**: the claimed model wins by at least ``min_margin`` and is found cleanly (score
  at least ``pass_score``, nothing doubtful).
- **fail**: a sibling or another model wins clearly and is found cleanly, on words read with
  OCR confidence of at least ``fail_min_conf`` ("the invoice shows GeForce RTX 5060 Ti"); or,
  for a model no catalogue knows, a distinguishing token disagrees on words read with that
  confidence (another number, a tier suffix added or missing before a clearly read word, not a
  smudge like "500%"). Nothing close on an invoice read with confidence: fail, not found.
- **uncertain** otherwise: a garbled or doubtful read goes to a reviewer, never a reject; so
  does "nothing close" beside a line read below ``fail_min_conf`` (the model may be in it).

>>> from pipeline.records import Line, Page, Word
>>> line = Line(tuple(Word(t, 90.0, (i * 60, 0, i * 60 + 50, 20)) for i, t in
...             enumerate("MSI GEFORCE RTX 3060TI SIG GAMING TRIO OC 1049,00".split())))
>>> m = match_model("GeForce RTX 3060 Ti Gaming Trio", [Page(1, 800, 600, "ocr", (line,))])
>>> m.status, m.found
('pass', 'GEFORCE RTX 3060TI SIG GAMING TRIO')
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from ..datafiles import only_keys, read_toml
from ..errors import ConfigError
from ..extract.normalise import (
    ModelVocabulary,
    confusion_edits,
    fold_confusables,
    load_confusions,
    load_model_vocabulary,
    model_tokens,
    normalise_text,
    sequence_variants,
    split_alnum,
)
from ..records import BBox, Line, Page, Word, union_bbox
from .catalogue import Catalogue, CatalogueModel, load_catalogue

__all__ = ["ModelMatch", "match_model", "models_equivalent"]

CODE, VARIANT, SIZE, WORD, OPTIONAL, NEUTRAL = "code", "variant", "size", "word", "optional", "neutral"
_STRICT = (CODE, VARIANT, SIZE)
"""Kinds compared exactly (up to confusable misreads)."""
_KINDS = (CODE, VARIANT, SIZE, WORD, OPTIONAL, NEUTRAL)
_QUALITIES = ("exact", "repaired", "near", "garbled")
_COSTS = ("conflict", "issue", "substitution")


@dataclass(frozen=True)
class ModelScoring:
    """``data/model_scoring.toml``: what each kind of token is worth, validated."""
    weight: dict[str, float]
    missing: dict[str, float]
    extra: dict[str, float]
    gain: dict[str, float]
    cost: dict[str, float]
    source: str


def _numbers(data: dict, table: str, keys: tuple[str, ...], source: str, *, low: float, high: float) -> dict:
    section = data.get(table)
    if not isinstance(section, dict) or set(section) != set(keys):
        raise ConfigError(message=f"{source}: [{table}] must give exactly {', '.join(keys)}")
    bad = [k for k, v in section.items()
           if isinstance(v, bool) or not isinstance(v, (int, float)) or not low <= v <= high]
    if bad:
        raise ConfigError(message=f"{source}: [{table}] {', '.join(bad)}: a number from {low} to {high}")
    return {k: float(v) for k, v in section.items()}


def load_model_scoring(path: str | Path | None = None) -> ModelScoring:
    """The token weights from ``path``, or the packaged ``model_scoring.toml``; validated."""
    data, source = read_toml(path, packaged="model_scoring.toml")
    only_keys(data, ("weight", "missing", "extra", "gain", "cost"), source)
    return ModelScoring(_numbers(data, "weight", _KINDS, source, low=0, high=10),
                        _numbers(data, "missing", _KINDS, source, low=0, high=10),
                        _numbers(data, "extra", _KINDS, source, low=0, high=10),
                        _numbers(data, "gain", _QUALITIES, source, low=0, high=1),
                        _numbers(data, "cost", _COSTS, source, low=-10, high=10), source)


@lru_cache(maxsize=1)
def model_scoring() -> ModelScoring:
    return load_model_scoring()


_WEIGHT = model_scoring().weight
_DEL_PENALTY = model_scoring().missing
_INS_PENALTY = model_scoring().extra
_GAIN = model_scoring().gain
"""Share of a strict token's weight a match of that quality earns."""
_CONFLICT_COST = model_scoring().cost["conflict"]
"""What a conflict (a token that says "another model") costs a hypothesis's fit: one code."""
_ISSUE_COST = model_scoring().cost["issue"]
_SUBSTITUTION = model_scoring().cost["substitution"]
_NEG = float("-inf")


@dataclass(frozen=True)
class ModelMatch:
    """How well the claimed model was found on the invoice."""

    status: str
    """'pass', 'fail' or 'uncertain'."""
    score: int
    """0..100: share of the claimed model found, weighted (codes count double)."""
    found: str | None
    """The invoice words that matched (or the best candidate), as read."""
    page: int | None
    """1-based page of ``found``."""
    bbox: BBox | None
    """Union of the matched words' boxes, in page pixels."""
    reason: str
    """'match', 'near' (uncertain), 'different_model' (a distinguishing token disagrees),
    'not_found' or 'empty_claim'."""
    detail: str = ""
    """What made it not a pass, for a reviewer: "the invoice shows GeForce RTX 5060 Ti"."""
    hypothesis: str | None = None
    """What the invoice line shows, as decided: the claimed model as claimed, a catalogue model's
    name (a sibling or another model), or 'unreadable' (nothing read clearly enough)."""
    margin: float | None = None
    """How far ``hypothesis`` beat the next hypothesis (token weights: a code counts 2); None when
    no other hypothesis was weighed."""

    def to_dict(self) -> dict:
        return {"status": self.status, "score": self.score, "found": self.found, "page": self.page,
                "bbox": list(self.bbox) if self.bbox else None, "reason": self.reason,
                "detail": self.detail, "hypothesis": self.hypothesis, "margin": self.margin}


@dataclass(frozen=True)
class _Atom:
    text: str
    kind: str
    chunk: int
    """Atoms of one chunk were written together ("3060ti" -> 3060, ti)."""
    word: int
    """Index of the source word in the window (-1 for the claim)."""
    alone: bool = False
    """Its chunk holds nothing else (a digit written apart is never a letter misread: "6-Core")."""
    role: str = ""
    """For letters glued to a number: 'pre' (the B of B550) or 'post' (the X of 3600X)."""
    smudged: bool = False
    """Its word holds a glyph OCR could not read ("500%"): what follows it in the word is unknown."""

    @property
    def has_digit(self) -> bool:
        return self.text[:1].isdigit()


@dataclass(frozen=True)
class _Lexicon:
    """The vocabulary with what matching derives from it, once per vocabulary."""

    vocab: ModelVocabulary
    suffix_folds: frozenset[str]
    """Tier suffixes with OCR confusables folded ('ti' -> 't1')."""
    near_suffixes: tuple[str, ...]
    """Tier suffixes of two letters or more: a word one edit from one of these, right after a number,
    may be that suffix misread ("Supe", "XI")."""
    plain: frozenset[str]
    """Words that are never a misread suffix: capacity units, variant, neutral and optional words."""
    glue: frozenset[str] = frozenset()
    """Whole words (letters, 3 or more) where text glued by a recognizer that drops spaces is cut
    apart: the vocabulary's words, its ``glue_words`` and the catalogue's (``_unglue_words``)."""
    glue_pairs: frozenset[str] = frozenset()
    """Words of one or two letters in model names ("ac", "ti", "x"), cut out of glued text after a ``glue`` word."""
    glue_loose: frozenset[str] = frozenset()
    """``glue`` words that no model name glues to a number ("box", "arctic"; not "urx" of "321URX"
    nor a tier suffix): glued after a number, they are cut off it."""


_LEXICONS: dict[tuple[int, int], tuple[ModelVocabulary, Catalogue | None, _Lexicon]] = {}


def _glue_words(vocab: ModelVocabulary, cat: Catalogue | None) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """Where glued text is cut (``_Lexicon.glue``, ``glue_pairs``, ``glue_loose``)."""
    words = set(vocab.brands | vocab.optional_words | vocab.variant_words | vocab.neutral_words | vocab.glue_words
                | vocab.hard_suffixes)
    coded = set(vocab.hard_suffixes | vocab.capacity_units)
    for model in (cat.models.values() if cat is not None else ()):
        for name in (model.name, *model.aliases):
            for chunk in normalise_text(name).split():
                parts = split_alnum(chunk)
                words.update(p for p in parts if p.isalpha())
                coded.update(p for k, p in enumerate(parts) if k and p.isalpha() and parts[k - 1].isdigit())
    return (frozenset(w for w in words if len(w) >= _GLUE_MIN),
            frozenset(w for w in words if len(w) <= _GLUE_SHORT),
            frozenset(w for w in words if len(w) >= _GLUE_MIN and w not in coded))


def _lexicon(vocab: ModelVocabulary, cat: Catalogue | None = None) -> _Lexicon:
    key = (id(vocab), id(cat))
    hit = _LEXICONS.get(key)
    if hit is None or hit[0] is not vocab or hit[1] is not cat:
        lex = _Lexicon(vocab, frozenset(fold_confusables(s) for s in vocab.hard_suffixes),
                       tuple(sorted(s for s in vocab.hard_suffixes if len(s) >= 2)),
                       vocab.capacity_units | vocab.variant_words | vocab.neutral_words | vocab.optional_words,
                       *_glue_words(vocab, cat))
        hit = _LEXICONS[key] = (vocab, cat, lex)
    return hit[2]


def _classify_chunk(parts: list[str], lex: _Lexicon, next_chunk: list[str] | None, capacity: bool = True) -> list[str]:
    """The kind of each letter/digit run of one chunk. ``capacity``: may a number and a unit be a
    memory size ("8G")? Not inside a catalogue model's name ("SEKIRA 500G" is a case)."""
    vocab = lex.vocab
    kinds = []
    for k, part in enumerate(parts):
        prev = parts[k - 1] if k > 0 else None
        nxt = parts[k + 1] if k + 1 < len(parts) else None
        if part in vocab.brands:
            kinds.append(NEUTRAL)
        elif part.isdigit():
            unit = nxt if nxt is not None else (
                next_chunk[0] if len(parts) == 1 and next_chunk and len(next_chunk) == 1 else None)
            kinds.append(SIZE if capacity and unit in vocab.capacity_units and len(part) <= 3 else CODE)
        elif prev is not None:  # a letter run glued after a number: 3600X, 8GB, 321URX
            size = capacity and prev.isdigit() and len(prev) <= 3 and part in vocab.capacity_units
            kinds.append(NEUTRAL if size else CODE)
        elif nxt is not None:  # a letter run glued before a number: B550, AM242, RTX3060
            if len(part) <= 2:
                kinds.append(CODE)
            else:
                kinds.append(OPTIONAL if part in vocab.optional_words else WORD)
        elif part in vocab.optional_words:
            kinds.append(OPTIONAL)
        elif part in vocab.neutral_words:
            kinds.append(NEUTRAL)
        elif part in vocab.hard_suffixes or fold_confusables(part) in lex.suffix_folds:
            kinds.append(CODE)  # "Ti", and "Tl", "TI" read for it
        elif part in vocab.variant_words or len(part) == 1:
            kinds.append(VARIANT)
        else:
            kinds.append(WORD)
    return kinds


_GLUED_WORD_MIN = 4
"""Letters after a memory size's unit that make a word of their own: PP-OCR drops spaces ("10Gvideokaart"
for "10G videokaart"); no model code glued to a number is that long (the catalogue's longest: 4 letters)."""


def _unglue_size(parts: list[str], units: frozenset[str]) -> list[list[str]]:
    """A chunk's parts, cut after a memory size glued to the next word: "10gvideokaart" is "10g" and
    "videokaart", not 10 with a tier code "gvideokaart" that the claimed 10G would lack.

    >>> _unglue_size(["10", "gvideokaart"], frozenset({"g", "gb"})), _unglue_size(["3600", "xt"], frozenset({"g"}))
    ([['10', 'g'], ['videokaart']], [['3600', 'xt']])
    """
    for k in range(1, len(parts)):
        prev, part = parts[k - 1], parts[k]
        if not (prev.isdigit() and len(prev) <= 3 and part.isalpha()):
            continue
        for unit in sorted(units, key=len, reverse=True):
            if part.startswith(unit) and len(part) - len(unit) >= _GLUED_WORD_MIN:
                return [parts[:k] + [unit], *_unglue_size([part[len(unit):], *parts[k + 1:]], units)]
    return [parts]


_GLUE_MIN = 3
"""Letters a word needs to be cut out of glued text ("amd" of "AMDRyzen")."""
_GLUE_LONG = 5
"""Letters a known word needs to be cut out of a run whose rest no word explains
("godlike" of "GODLIKEplytaglowna")."""
_GLUE_SHORT = 2
"""Letters of a code glued to a number at the edge of a glued run: the B of "MSIB550", the G of
"3400GBox"."""


@lru_cache(maxsize=65536)
def _segment(run: str, glue: frozenset[str], short_start: bool, short_end: bool,
             pairs: frozenset[str] = frozenset()) -> tuple[tuple[str, str], ...] | None:
    """A letter run cut into words: [(piece, 'word' | 'pair' | 'short' | 'rest')], or None when it is
    not glued.

    Pieces are known words (``glue``, 3 letters or more); a word of one or two letters of model
    names (``pairs``: "ac", "ti", "x") only after a known word, before another known word or at the
    end of the run ("carbon|ac|box", "trident|x"); at most one *rest*
    no word explains (only beside a known word of ``_GLUE_LONG`` letters, and holding no known
    word); a *short* code of up to 2 letters at the start (``short_start``: a number is glued before
    the run, "3400|G|Box") or at the end (``short_end``: a number follows, "MSI|B|550"). The cut
    covering the most letters with known words wins, then the one with fewer pieces. A run that is
    itself a known word is never cut.

    >>> g = frozenset({"amd", "ryzen", "box", "msi", "godlike", "pro", "carbon"})
    >>> _segment("amdryzen", g, False, True), _segment("gbox", g, True, False)
    ((('amd', 'word'), ('ryzen', 'word')), (('g', 'short'), ('box', 'word')))
    >>> _segment("msib", g, False, True), _segment("apro", g, True, False), _segment("tomahawk", g, False, False)
    ((('msi', 'word'), ('b', 'short')), (('a', 'short'), ('pro', 'word')), None)
    >>> _segment("godlikeplytaglowna", g, True, False), _segment("ryzen", g, False, False)
    ((('godlike', 'word'), ('plytaglowna', 'rest')), None)
    >>> ac = frozenset({"ac"})
    >>> _segment("carbonacbox", g, False, False, ac), _segment("carbonac", g, False, False, ac)
    ((('carbon', 'word'), ('ac', 'pair'), ('box', 'word')), (('carbon', 'word'), ('ac', 'pair')))
    """
    n = len(run)
    if n < _GLUE_MIN + 1 or run in glue:
        return None
    # letters no word explains must not hide a word (the "II" of "MAXIIBox" before "Box")
    inner = [w for w in glue if len(w) < n and w in run]
    # state (end, rests used, last piece's kind) -> (known letters, -pieces, longest known word, pieces)
    best: dict[tuple[int, int, str], tuple] = {(0, 0, ""): (0, 0, 0, ())}
    for i in range(n):
        for (_at, r, last), here in [item for item in best.items() if item[0][0] == i]:
            known, neg, longest, pieces = here
            for j in range(i + 1, n + 1):
                piece = run[i:j]
                if last == "pair" and piece not in glue:
                    continue  # a letter or two stand after a known word, before another or at the end
                if piece in glue and len(piece) >= _GLUE_MIN:
                    kind, r2, gain = "word", r, len(piece)
                elif piece in pairs and last == "word":
                    kind, r2, gain = "pair", r, len(piece)
                elif len(piece) <= _GLUE_SHORT and ((i == 0 and short_start) or (j == n and short_end)):
                    kind, r2, gain = "short", r, 0
                elif r == 0 and len(piece) >= _GLUE_MIN and not any(w in piece for w in inner):
                    kind, r2, gain = "rest", 1, 0
                else:
                    continue
                cand = (known + gain, neg - 1, max(longest, gain if kind == "word" else 0),
                        pieces + ((piece, kind),))
                key = (j, r2, kind)
                if key not in best or cand[:2] > best[key][:2]:
                    best[key] = cand
    found = [state for (at, r, last), state in best.items()
             if at == n and len(state[3]) >= 2 and state[0] > 0 and (not r or state[2] >= _GLUE_LONG)]
    if not found:
        return None
    return tuple(max(found, key=lambda s: s[:2])[3])


@lru_cache(maxsize=8)
def _coded_words(glue: frozenset[str], loose: frozenset[str]) -> tuple[str, ...]:
    """The known words model names glue to a number, longest first (computed once per lexicon)."""
    return tuple(sorted(glue - loose, key=lambda w: (-len(w), w)))


def _unglue_words(parts: list[str], glue: frozenset[str], loose: frozenset[str] = frozenset(),
                  pairs: frozenset[str] = frozenset()) -> list[list[str]]:
    """A chunk's letter/digit runs cut where a recognizer glued words together (``_segment``):
    "amdryzen53400gbox" is "amd", "ryzen", "53400g" and "box"; "msib550" is "msi" and "b550".
    A short code stays glued to its number; known words and a rest become chunks of their own. A
    whole run that is a known word stays glued to the number before it ("7900xtx", "321urx"), unless
    it is an invoice's word (``loose``: "3box" is "3" and "box")."""
    if not glue or len(parts) == 1 and len(parts[0]) <= _GLUE_MIN:
        return [parts]
    chunks: list[list[str]] = [[]]
    for k, part in enumerate(parts):
        before = k > 0 and parts[k - 1].isdigit()
        after = k + 1 < len(parts) and parts[k + 1].isdigit()
        code = next((w for w in _coded_words(glue, loose) if part.startswith(w)), "") if before else ""
        if part.isdigit():
            pieces = None
        elif code:
            # a run after a number that starts as a model's code does ("7900GREBox", "14NUCS" of
            # "14NUC5"): the code stays with its number, only whole known words are cut after it
            rest = part[len(code):]
            seg = _segment(rest, glue, True, after, pairs) if rest not in glue else ((rest, "word"),)
            pieces = ((code, "short"), *seg) if rest and seg and all(k != "rest" for _, k in seg) else None
        else:
            pieces = _segment(part, glue, before or len(parts) == 1, after, pairs)
        if pieces is None and before and part in loose:
            pieces = [(part, "word")]  # "3" + "box": an invoice's word glued after a number is no tier suffix
        if pieces is None:
            chunks[-1].append(part)
            continue
        for m, (piece, kind) in enumerate(pieces):
            if kind == "short" and m == 0 and before:
                chunks[-1].append(piece)  # "3400" + "g": the tier suffix stays with its number
            else:
                chunks.append([piece])
        if after and pieces[-1][1] != "short":
            chunks.append([])  # the number after a whole word is a chunk of its own
    return [c for c in chunks if c]


def _atoms_of(texts: Sequence[str], lex: _Lexicon, *, drop_brands: bool, chunk_base: int = 0,
              capacity: bool = True) -> list[_Atom]:
    """Atoms of a sequence of words (each word index kept), classified."""
    vocab = lex.vocab
    smudges = load_confusions().smudges
    chunks: list[tuple[int, list[str]]] = []
    smudged = [any(c in smudges for c in text) for text in texts]
    for w, text in enumerate(texts):
        if text and not text.strip("|¦!"):
            continue  # a table's column rule read on its own ("RYZEN 7 | 3800X"), no letter
        # '|' is OCR's reading of an l or a 1 ("27|CQR"): a letter here, not a separator
        for chunk in normalise_text(text.replace("|", "l")).split():
            for glued in _unglue_words(split_alnum(chunk), lex.glue, lex.glue_loose, lex.glue_pairs):
                chunks.extend((w, parts) for parts in _unglue_size(glued, vocab.capacity_units))
    atoms: list[_Atom] = []
    for c, (w, parts) in enumerate(chunks):
        following = chunks[c + 1][1] if c + 1 < len(chunks) else None
        for k, (part, kind) in enumerate(zip(parts, _classify_chunk(parts, lex, following, capacity))):
            if drop_brands and part in vocab.brands:
                continue
            role = "" if part[:1].isdigit() else "pre" if k + 1 < len(parts) else "post" if k > 0 else ""
            atoms.append(_Atom(part, kind, chunk_base + c, w, len(parts) == 1, role, smudged[w]))
    # Capacity units written apart from their size ("8 GB") are neutral, not variants.
    for k in range(1, len(atoms)):
        a, prev = atoms[k], atoms[k - 1]
        if (a.kind in (VARIANT, CODE) and a.text in vocab.capacity_units and prev.kind == SIZE
                and a.chunk != prev.chunk):
            atoms[k] = replace(a, kind=NEUTRAL)
    return atoms


def _digits(s: str) -> str:
    return "".join(c for c in s if c.isdigit())


def _cut_short(claimed: str, found: str) -> bool:
    """``found`` is ``claimed`` with digits cut off its start (a line cut at the photo's edge: "1URX"
    for "321URX"). Digits missing at the end are another model ("MAG27" is not "MAG271")."""
    return 0 < len(found) < len(claimed) and claimed.endswith(found) and claimed[:len(claimed) - len(found)].isdigit()


@lru_cache(maxsize=131072)
def _strict_quality(claimed: str, found: str, known: frozenset[str], regroup: str = "", alone: bool = False,
                    ends_differ: bool = False, ocr_digits: frozenset[str] | None = None) -> str:
    """'exact', 'repaired' (only confusable characters differ), 'near', 'garbled' or 'mismatch'.

    known: tier suffixes and variant words; two different known words are different models
    ("x" vs "xt", "plus" vs "pro"), never a misreading of one another.
    regroup: non-empty for strings made of a different number of atoms on each side ("b13vfk" vs
    "bisver"): such a near or garbled match may misread characters but not lose or add any
    ("katanaa15" vs "katana15" is another laptop, not a misread).
    alone: ``found`` is a number written apart ("00" of a price): never a number cut short.
    ends_differ: the two end with different tier suffixes ("500x" vs "500g"): different models
    unless a confusion explains it.
    ocr_digits: given when ``found`` was read by OCR for a model the catalogue knows: the numbers of
    the catalogue's model names. One digit of a number of three or more read as another is then
    near, not another model, if the number read names no model ("3608" for 3600 on a blurred
    photo); "B650" for a claimed B550 stays another board.
    """
    if claimed == found:
        return "exact"
    folded = fold_confusables(claimed)
    if len(claimed) == len(found) and folded == fold_confusables(found):
        return "repaired"
    for variant in sequence_variants(found):
        if variant == claimed or (len(variant) == len(claimed) and fold_confusables(variant) == folded):
            return "repaired"
    if (claimed in known and found in known) or ends_differ:
        return "mismatch"
    if regroup and len(claimed) != len(found):
        return "mismatch"
    dc, df = _digits(claimed), _digits(found)
    one_digit = (ocr_digits is not None and len(dc) == len(df) >= 3 and df not in ocr_digits
                 and sum(a != b for a, b in zip(dc, df)) == 1)
    if dc and df and dc != df and not one_digit and (alone or not _cut_short(dc, df)):
        return "mismatch"  # another number: 3060 vs 3070, 3060 vs 3600
    if bool(dc) != bool(df) and len(claimed) != len(found):
        return "mismatch"  # digits read as letters keep their places ("B13VFK" as "BISVER"); "16" is no "g"
    if abs(len(claimed) - len(found)) > max(2, max(len(claimed), len(found)) // 2):
        return "mismatch"  # too far apart for any of the reads below
    edits = confusion_edits(claimed, found)
    if one_digit and edits.digit_subs == 1 and edits.letter_subs + edits.indels == 0:
        return "near"
    if edits.digit_subs:
        return "mismatch"
    if edits.letter_subs + edits.indels <= 1 and (edits.indels or min(len(claimed), len(found)) >= 2):
        return "near"
    if not regroup and not alone and edits.letter_subs == 0 and edits.indels <= 2 and _cut_short(claimed, found):
        return "near"  # a number cut at the edge of the photo: "1URX" for "321URX"
    if len(claimed) >= 4 and edits.real <= max(len(claimed), len(found)) // 2 and (not dc or not df or dc == df):
        return "garbled"
    return "mismatch"


def _is_suffix(atom: _Atom, lex: _Lexicon) -> bool:
    """A tier suffix, as written or through OCR confusions ("ti", "Tl")."""
    return atom.kind == CODE and atom.text.isalpha() and (
        atom.text in lex.vocab.hard_suffixes or fold_confusables(atom.text) in lex.suffix_folds)


def _suffix_end(atoms: Sequence[_Atom], lex: _Lexicon) -> str:
    """The tier suffix a group of atoms ends with, confusables folded ("" for none)."""
    last = atoms[-1]
    if len(atoms) > 1 and last.text.isalpha():
        f = fold_confusables(last.text)
        if f in lex.suffix_folds:
            return f
    return ""


@lru_cache(maxsize=65536)
def _word_ratio(claimed: str, found: str) -> float:
    if claimed == found:
        return 100.0
    best = fuzz.ratio(claimed, found)
    for variant in sequence_variants(found):
        best = max(best, fuzz.ratio(claimed, variant))
    if found.isdigit() and not any(c.isdigit() for c in claimed):
        # a number standing for a word: only all of it, letter for letter ("11" for "II"; "1" is no "II")
        return 95.0 if fold_confusables(claimed) == found else 0.0
    # Digits read for letters (GAM1NG, TR1O): compare with confusables folded, a little lower.
    return max(best, fuzz.ratio(fold_confusables(claimed), fold_confusables(found)) - 3)


@dataclass
class _Step:
    op: str  # 'match', 'del', 'ins'
    ci: tuple[int, int] = (0, 0)
    tj: tuple[int, int] = (0, 0)
    quality: str = ""  # for matches: 'exact', 'repaired', 'near', 'garbled', 'fuzzy', 'weak', 'mismatch'
    ratio: float = 0.0


def _group_key(atoms: Sequence[_Atom], lex: _Lexicon, claimed: bool) -> tuple:
    """What ``_gain`` needs to know of a group of atoms (hashable: gains are cached by it)."""
    text = "".join(a.text for a in atoms)
    first = atoms[0]
    role = first.role if len(atoms) == 1 else ""
    if claimed:
        return (text, sum(_WEIGHT[a.kind] for a in atoms), any(a.kind in _STRICT for a in atoms),
                any(a.kind == WORD for a in atoms), len(atoms), first.has_digit, first.kind in _STRICT,
                first.kind == WORD, _suffix_end(atoms, lex), role)
    return (text, len(atoms), first.has_digit, first.kind in _STRICT,
            len(atoms) == 1 and first.alone and first.has_digit, _suffix_end(atoms, lex), first.alone, role)


@lru_cache(maxsize=262144)
def _gain(c: tuple, t: tuple, word_min: float, word_pass: float, known: frozenset[str],
          ocr_digits: frozenset[str] | None = None) -> tuple[float, str, float]:
    """Gain of aligning a claimed group with a candidate group (``_group_key``s), the match quality
    and word ratio. ``ocr_digits``: see ``_strict_quality``."""
    c_str, weight, strict, wordish, c_n, c_digit, c_strict0, c_word0, c_end, c_role = c
    t_str, t_n, t_digit, t_strict0, t_alone_digit, t_end, t_alone, t_role = t
    # A one-for-one substitution is only considered between tokens of the same sort.
    single = c_n == 1 and t_n == 1 and c_digit == t_digit and (c_strict0 == t_strict0 or c_word0)
    if strict:
        if (t_alone_digit and not _digits(c_str)) or (c_role and t_role and c_role != t_role):
            # "6" of "6-Core" is no 'G'; the X of "X570" is not the X of "3700X"
            return (_SUBSTITUTION if single else _NEG), "mismatch", 0.0
        quality = _strict_quality(c_str, t_str, known, "" if c_n == t_n else "regroup", t_alone,
                                  (c_n > 1 or t_n > 1) and c_end != t_end, ocr_digits)
        if quality == "mismatch":
            return (_SUBSTITUTION if single else _NEG), "mismatch", 0.0
        return weight * _GAIN[quality], quality, 100.0
    ratio = _word_ratio(c_str, t_str)
    if not wordish:  # optional and neutral words: absorb if present
        return (0.3, "exact", ratio) if ratio >= word_pass else (_NEG, "", 0.0)
    if ratio < word_min:
        return (_SUBSTITUTION if single else _NEG), "mismatch", ratio
    return weight * ratio / 100.0, ("fuzzy" if ratio >= word_pass else "weak"), ratio


def _claim_groups(claim: Sequence[_Atom], lex: _Lexicon) -> list[list[tuple]]:
    """For each claimed atom, the keys of the groups of 1..3 atoms starting there."""
    return [[_group_key(claim[i:i + a], lex, True) for a in range(1, min(3, len(claim) - i) + 1)]
            for i in range(len(claim))]


def _cand_groups(cand: Sequence[_Atom], lex: _Lexicon) -> list[list[tuple]]:
    """For each candidate atom, the keys of the groups of 1..4 atoms starting there: atoms of one
    chunk, or two plain words (a word split in two)."""
    out = []
    for j in range(len(cand)):
        groups = []
        for b in range(1, min(4, len(cand) - j) + 1):
            if b > 1 and not (cand[j + b - 1].chunk == cand[j].chunk
                              or (b == 2 and cand[j].kind == WORD and cand[j + 1].kind == WORD)):
                break
            groups.append(_group_key(cand[j:j + b], lex, False))
        out.append(groups)
    return out


def _align(claim: Sequence[_Atom], cand: Sequence[_Atom], word_min: float, word_pass: float,
           known: frozenset[str], lex: _Lexicon, c_groups: list[list[tuple]] | None = None,
           t_groups: list[list[tuple]] | None = None, ocr_digits: frozenset[str] | None = None) -> list[_Step]:
    """Best semi-global alignment: the whole claim against any stretch of the candidate.

    Groups of up to 3 claimed atoms may meet up to 4 candidate atoms of one chunk, so that
    misreads which move letter/digit boundaries ("39OOX" for 3900X) still line up. The groups'
    keys (``_claim_groups``, ``_cand_groups``) may be given: a window's serve every hypothesis.
    """
    n, m = len(claim), len(cand)
    c_groups = c_groups if c_groups is not None else _claim_groups(claim, lex)
    t_groups = t_groups if t_groups is not None else _cand_groups(cand, lex)
    best = [[_NEG] * (m + 1) for _ in range(n + 1)]
    back: list[list[tuple | None]] = [[None] * (m + 1) for _ in range(n + 1)]
    for j in range(m + 1):
        best[0][j] = 0.0
    for i in range(n + 1):
        row, nxt_row = best[i], best[i + 1] if i < n else None
        for j in range(m + 1):
            here = row[j]
            if here == _NEG:
                continue
            if i < n:  # the claimed atom is missing here
                v = here - _DEL_PENALTY[claim[i].kind]
                if v > nxt_row[j]:
                    nxt_row[j], back[i + 1][j] = v, (i, j, "del", 0, 0, "", 0.0)
            # an extra candidate atom inside the matched stretch, but never inside a claimed chunk:
            # the X of "500X" is not the "x" of a quantity two words on ("500G caja 1 x")
            if 0 < i < n and j < m and claim[i - 1].chunk != claim[i].chunk:
                v = here - _INS_PENALTY[cand[j].kind]
                if v > row[j + 1]:
                    row[j + 1], back[i][j + 1] = v, (i, j, "ins", 0, 1, "", 0.0)
            if i >= n or j >= m:
                continue
            for a, c in enumerate(c_groups[i], 1):
                target = best[i + a]
                for b, t in enumerate(t_groups[j], 1):
                    gain, quality, ratio = _gain(c, t, word_min, word_pass, known, ocr_digits)
                    if gain == _NEG:
                        continue
                    v = here + gain - 0.05 * (b - 1 + a - 1)
                    if v > target[j + b]:
                        target[j + b] = v
                        back[i + a][j + b] = (i, j, "match", a, b, quality, ratio)
    end_j = max(range(m + 1), key=lambda j: best[n][j])
    steps: list[_Step] = []
    i, j = n, end_j
    while back[i][j] is not None:
        pi, pj, op, a, b, quality, ratio = back[i][j]
        ci = (pi, pi + (1 if op == "del" else a)) if op != "ins" else (pi, pi)
        steps.append(_Step(op, ci, (pj, pj + b), quality, ratio))
        i, j = pi, pj
    return steps[::-1]


def _suffix_at(cand: Sequence[_Atom], k: int, lex: _Lexicon, after: _Atom | None = None) -> tuple[str | None, int]:
    """Do the candidate atoms at ``k`` spell a tier suffix? ('exact' | 'repaired' | 'near' | None, atoms used).

    A suffix is a letter run, maybe with one confusable digit glued after it ("T1" for Ti); a
    run of digits is never one ("6-Core" after "3600" is not a misread G). ``k == len(cand)``
    looks at ``after`` (the first atom of the next line).
    """
    a = cand[k] if k < len(cand) else after
    if a is None or not a.text.isalpha() or a.kind not in (CODE, WORD):
        return None, 0  # capacity units ("12G") and variant words are no tier suffix
    texts = [(a.text, 1)]
    if k + 1 < len(cand) and cand[k + 1].chunk == a.chunk and len(cand[k + 1].text) == 1 and cand[k + 1].has_digit:
        texts.append((a.text + cand[k + 1].text, 2))
    best: tuple[str | None, int] = (None, 0)
    for text, n in texts:
        if text in lex.vocab.hard_suffixes:
            return "exact", n
        if fold_confusables(text) in lex.suffix_folds:
            best = ("repaired", n)
        elif best[0] is None and text not in lex.plain and len(text) >= 2 and any(
                s[0] == text[0] and Levenshtein.distance(s, text) == 1 for s in lex.near_suffixes):
            best = ("near", n)
    return best


@dataclass
class _Verdict:
    score: int
    fit: float
    conflicts: list[tuple[str, tuple[int, ...]]]
    """What says "another model", with the candidate atoms that show it (len(cand): the next line)."""
    issues: list[str]
    span: tuple[int, int] | None  # candidate atom range [start, end)
    matched: list[tuple[tuple[int, int], tuple[int, int], str]] = field(default_factory=list)
    """(claimed atom range, candidate atom range, quality) of each match."""
    matched_chars: int = 0
    """Characters of the claim's own tokens (not optional or neutral words) that were found."""

    @property
    def conflict(self) -> str:
        return "; ".join(c for c, _ in self.conflicts)

    def clean(self, pass_score: int) -> bool:
        return self.score >= pass_score and not self.conflicts and not self.issues


def _judge(claim: Sequence[_Atom], cand: Sequence[_Atom], after: _Atom | None, steps: list[_Step],
           lex: _Lexicon, max_extra_words: int) -> _Verdict:
    """Score an alignment, its fit, and name what disagrees (conflicts) or is doubtful (issues)."""
    vocab = lex.vocab
    total = sum(_WEIGHT[a.kind] for a in claim)
    got = lost = penalty = 0.0
    conflicts: list[tuple[str, tuple[int, ...]]] = []
    issues: list[str] = []
    matched = [s for s in steps if s.op == "match"]
    span = (matched[0].tj[0], matched[-1].tj[1]) if matched else None
    good = [s for s in matched if s.quality != "mismatch"]
    agreed = (good[0].tj[0], good[-1].tj[1]) if good else None

    prev_matched: _Atom | None = None
    prev_end = -1  # candidate index after the last matched atom
    prev_claim_digit = False
    extra_words = inserted = 0
    for s in steps:
        c_atoms = claim[s.ci[0]:s.ci[1]]
        t_atoms = cand[s.tj[0]:s.tj[1]]
        if s.op == "del":
            c = c_atoms[0]
            lost += _WEIGHT[c.kind]
            shown = prev_end if prev_end < len(cand) else len(cand)
            nxt = cand[shown].text if shown < len(cand) else (after.text if after else "")
            if (_is_suffix(c, lex) and prev_claim_digit and prev_matched is not None
                    and fold_confusables(nxt) != fold_confusables(c.text) and not prev_matched.smudged):
                # "RTX 5060" where "RTX 5060 Ti" is claimed: what stands in the suffix's place?
                conflicts.append((f"the invoice shows '{prev_matched.text}' without '{c.text}'"
                                  + (f" (then '{nxt}')" if nxt else ""), (prev_end - 1, shown)))
            elif c.kind in _STRICT or c.kind == WORD:
                issues.append(f"'{c.text}' not found")
        elif s.op == "match" and s.quality in _GAIN:
            weight = sum(_WEIGHT[a.kind] for a in c_atoms)
            got += weight * _GAIN[s.quality]
            if s.quality in ("near", "garbled"):
                issues.append(f"'{''.join(a.text for a in c_atoms)}' read as '{''.join(a.text for a in t_atoms)}'")
        elif s.op == "match" and s.quality in ("fuzzy", "weak"):
            got += sum(_WEIGHT[a.kind] for a in c_atoms) * s.ratio / 100.0
            if s.quality == "weak":
                issues.append(f"'{' '.join(a.text for a in c_atoms)}' read as '{t_atoms[0].text}'")
        elif s.op == "match":  # a single claimed atom against a different single atom
            c, t = c_atoms[0], t_atoms[0]
            lost += _WEIGHT[c.kind]
            if c.kind in _STRICT and t.kind in _STRICT and c.has_digit == t.has_digit:
                conflicts.append((f"claimed '{c.text}', invoice shows '{t.text}'", (s.tj[0],)))
            elif c.kind in _STRICT or c.kind == WORD:
                issues.append(f"'{c.text}' not found")
        else:  # an extra candidate atom inside the matched stretch
            t = t_atoms[0]
            k = s.tj[0]
            inserted += t.kind in (CODE, VARIANT, WORD)
            penalty += _INS_PENALTY[t.kind]
            right_after_number = prev_matched is not None and prev_matched.has_digit and prev_end == k
            suffix, n = _suffix_at(cand, k, lex) if right_after_number else (None, 0)
            if right_after_number and t.kind == CODE and t.chunk == prev_matched.chunk:
                conflicts.append((f"the invoice adds '{t.text}' after '{prev_matched.text}'", (k,)))
            elif suffix in ("exact", "repaired"):
                shown = "".join(a.text for a in cand[k:k + n])
                conflicts.append((f"the invoice adds '{shown}' after '{prev_matched.text}'", tuple(range(k, k + n))))
            elif suffix == "near":
                issues.append(f"the invoice adds '{t.text}' after '{prev_matched.text}' (a tier suffix misread?)")
            elif t.kind in (CODE, VARIANT):
                issues.append(f"the invoice adds '{t.text}'")
            elif t.kind == WORD:
                extra_words += 1
        if s.op == "match":
            if s.quality != "mismatch":
                prev_matched, prev_end = t_atoms[-1], s.tj[1]
                prev_claim_digit = c_atoms[-1].has_digit or _is_suffix(c_atoms[-1], lex)  # "4070 Ti" + Super
            else:
                prev_matched, prev_claim_digit = None, False
        elif s.op == "del":
            prev_claim_digit = False
    if extra_words > max_extra_words:
        issues.append(f"{extra_words} extra words between the claimed ones")
    if agreed is not None:  # what stands right before and after the agreeing stretch
        first, last = cand[agreed[0]], cand[agreed[1] - 1]
        k = agreed[1]
        nxt = cand[k] if k < len(cand) else after
        if nxt is not None:
            suffix, n = _suffix_at(cand, k, lex, after) if last.has_digit else (None, 0)
            if nxt.chunk == last.chunk and last.kind in _STRICT and nxt.kind in (CODE, VARIANT):
                conflicts.append((f"the invoice shows '{last.text}' followed by '{nxt.text}'", (k,)))
            elif suffix in ("exact", "repaired"):
                shown = "".join(a.text for a in cand[k:k + n]) if k < len(cand) else nxt.text
                conflicts.append((f"the invoice shows '{last.text}' followed by '{shown}'", tuple(range(k, k + n))))
            elif suffix == "near":
                issues.append(f"the invoice shows '{last.text}' followed by '{nxt.text}' (a tier suffix misread?)")
            elif nxt.kind == VARIANT and nxt.text in vocab.variant_words:
                issues.append(f"the invoice adds '{nxt.text}'")
        if agreed[0] > 0:
            before = cand[agreed[0] - 1]
            claimed_first = claim[good[0].ci[0]]
            # "5TEALTH" is Stealth misread, not a code; a "5" claimed on its own, found at the end
            # of "E2K5", says nothing of the letters before it
            if (before.chunk == first.chunk and before.kind == CODE and first.kind == CODE
                    and claimed_first.kind != WORD and not claimed_first.alone):
                conflicts.append((f"the invoice shows '{before.text}' before '{first.text}'", (agreed[0] - 1,)))
    if total > 0:
        score = round(100.0 * got / total) - min(inserted, 10)
    else:  # the claim holds only optional words
        score = 100 if good else 0
    fit = got - lost - penalty - _CONFLICT_COST * len(conflicts) - _ISSUE_COST * sum(
        not i.endswith("not found") for i in issues)
    chars = sum(len(a.text) for s in good for a in claim[s.ci[0]:s.ci[1]] if a.kind not in (OPTIONAL, NEUTRAL))
    return _Verdict(max(0, min(100, score)), fit, conflicts, issues, span,
                    [(s.ci, s.tj, s.quality) for s in good], chars)


# ------------------------------------------------------------------------------ hypotheses

@dataclass(frozen=True)
class _Hypothesis:
    name: str
    """The claimed model as claimed, or the catalogue model's official name."""
    atoms: tuple[_Atom, ...]
    rival: bool
    extra: tuple[str, ...] = ()
    """Its atoms (confusables folded) that the claim lacks."""
    cues: tuple[str, ...] = ()
    """Its chunks (confusables folded) holding those atoms: it can only beat the claim on a line
    showing every one of them ("x5705" of X570S, "t1" of Ti)."""
    groups: list = field(default_factory=list, compare=False)
    """``_claim_groups`` of its atoms, filled on first use (``_groups``)."""


@dataclass
class _Plan:
    """What ``match_model`` weighs for one claim, built once per claim, vocabulary and catalogue."""

    claim: _Hypothesis
    model: CatalogueModel | None
    """The catalogue model the claim names, if any."""
    around: tuple[str, str]
    """The claim's text before and after that model's name: a rival is "before + rival + after"."""
    siblings: tuple[_Hypothesis, ...]
    keys: frozenset[str]
    words: tuple[str, ...]
    catalogue: Catalogue | None
    rivals: dict[str, _Hypothesis | None] = field(default_factory=dict)
    """Other catalogue models met on the invoice, built on first sight."""


def _chunks_text(atoms: Sequence[_Atom]) -> str:
    out: list[str] = []
    last = None
    for a in atoms:
        if out and a.chunk == last:
            out[-1] += a.text
        else:
            out.append(a.text)
        last = a.chunk
    return " ".join(out)


def _model_in_claim(atoms: list[_Atom], cat: Catalogue, lex: _Lexicon) -> tuple[CatalogueModel, int, int] | None:
    """The catalogue model named in the claim, and the claim atoms [i0, i1) its name spans (whole
    chunks). The longest name wins; it must start and end at chunk boundaries and not be followed
    by a tier suffix ("RTX 5060" is not named in "RTX 5060 Ti")."""
    skip = lex.vocab.optional_words | lex.vocab.neutral_words
    keyed = [(i, a) for i, a in enumerate(atoms) if a.text not in skip]
    texts = [a.text for _, a in keyed]
    best = None
    for start in range(len(keyed)):
        if start > 0 and keyed[start - 1][1].chunk == keyed[start][1].chunk:
            continue
        for end in range(len(keyed), start, -1):
            if end < len(keyed) and keyed[end][1].chunk == keyed[end - 1][1].chunk:
                continue
            if best is not None and end - start <= best[0]:
                break
            model = cat.by_key.get(tuple(texts[start:end]))
            if model is None:
                continue
            if end < len(keyed) and _is_suffix(keyed[end][1], lex):
                continue
            best = (end - start, model, keyed[start][0], keyed[end - 1][0] + 1)
            break
    if best is None:
        return None
    _, model, i0, i1 = best
    # whole chunks: an optional word glued to the name ("mag" of "mag27cq") goes with it
    while i0 > 0 and atoms[i0 - 1].chunk == atoms[i0].chunk:
        i0 -= 1
    while i1 < len(atoms) and atoms[i1].chunk == atoms[i1 - 1].chunk:
        i1 += 1
    return model, i0, i1


def _name_text(name: str, lex: _Lexicon) -> str:
    """A catalogue name as a rival's words: normalised, brands and lone optional words dropped."""
    drop = lex.vocab.brands | lex.vocab.optional_words | lex.vocab.neutral_words
    return " ".join(c for c in normalise_text(name).split() if c not in drop)


def _hypothesis_atoms(before: str, name: str, after: str, lex: _Lexicon) -> tuple[_Atom, ...]:
    """Atoms of "before + name + after": the name part with no memory sizes ("500G" of a case is a code)."""
    return _piece(before, 0, True, lex) + _piece(name, 1000, False, lex) + _piece(after, 2000, True, lex)


@lru_cache(maxsize=16384)
def _piece(text: str, chunk_base: int, capacity: bool, lex: _Lexicon) -> tuple[_Atom, ...]:
    return tuple(_atoms_of([text], lex, drop_brands=True, chunk_base=chunk_base, capacity=capacity))


def _groups(hyp: _Hypothesis, lex: _Lexicon) -> list[list[tuple]]:
    """``hyp.groups``, computed on first use (most siblings are never aligned)."""
    if not hyp.groups and hyp.atoms:
        hyp.groups.extend(_claim_groups(hyp.atoms, lex))
    return hyp.groups


def _rival(plan: _Plan, model: CatalogueModel, lex: _Lexicon) -> _Hypothesis:
    before, after = plan.around
    atoms = _hypothesis_atoms(before, _name_text(model.name, lex), after, lex)
    claimed = [fold_confusables(a.text) for a in plan.claim.atoms]
    extra, cues = [], {}
    chunks = _chunk_texts(atoms)
    for a in atoms:
        f = fold_confusables(a.text)
        if f in claimed:
            claimed.remove(f)
        elif a.kind != NEUTRAL and a.kind != OPTIONAL:
            extra.append(f)
            cues[a.chunk] = fold_confusables(chunks[a.chunk])
    return _Hypothesis(model.name, atoms, True, tuple(extra), tuple(cues.values()))


_PLANS: dict[tuple, tuple[ModelVocabulary, Catalogue | None, _Plan]] = {}


def _plan(claimed: str, lex: _Lexicon, cat: Catalogue | None) -> _Plan:
    key = (claimed, id(lex.vocab), id(cat))
    hit = _PLANS.get(key)
    if hit is not None and hit[0] is lex.vocab and hit[1] is cat:
        return hit[2]
    atoms = _atoms_of([claimed or ""], lex, drop_brands=True)
    claim = _Hypothesis(claimed, tuple(atoms), False)
    found = _model_in_claim(atoms, cat, lex) if cat is not None and atoms else None
    model, around = None, ("", "")
    if found is not None:
        model, i0, i1 = found
        around = (_chunks_text(atoms[:i0]), _chunks_text(atoms[i1:]))
        atoms = list(_hypothesis_atoms(around[0], _chunks_text(atoms[i0:i1]), around[1], lex))
        claim = _Hypothesis(claimed, tuple(atoms), False)
    keys = {fold_confusables(a.text) for a in atoms if a.kind != NEUTRAL}
    keys.update(fold_confusables(c) for c in _chunk_texts(atoms).values() if any(ch.isdigit() for ch in c))
    plan = _Plan(claim, model, around, (), frozenset(keys),
                 tuple(a.text for a in atoms if a.kind == WORD and len(a.text) >= 4), cat)
    if model is not None:
        plan.siblings = tuple(h for h in (_rival(plan, s, lex) for s in cat.siblings(model))
                              if [a.text for a in h.atoms] != [a.text for a in atoms])
    if len(_PLANS) > 4096:
        _PLANS.clear()
    _PLANS[key] = (lex.vocab, cat, plan)
    return plan


@dataclass
class _Window:
    cand: list[_Atom]
    words: list[Word]
    after: _Atom | None
    after_conf: float
    chunks: set[str]
    """The window's chunks, confusables folded: where a rival's cues are looked up."""
    anchors: set[str]
    """Its chunks that hold a digit, confusables folded: where other catalogue models are looked up."""
    ocr: bool = True
    """Read by OCR (digits may be misread), not a PDF's text layer or typed text."""
    groups: list = field(default_factory=list)
    """``_cand_groups`` of ``cand``: the same for every hypothesis."""


def _shows(hyp: _Hypothesis, window: _Window) -> bool:
    """Could ``hyp`` beat the claim here? Only where each chunk of it that the claim lacks is on the
    line, as a chunk or inside a longer one (words run together: "5060t18g"), confusables folded;
    a rival with nothing the claim lacks (a shorter name) always could."""
    return all(cue in window.chunks or (len(cue) > 1 and any(cue in c for c in window.chunks))
               for cue in hyp.cues)


def _rivals_on(plan: _Plan, window: _Window, lex: _Lexicon) -> list[_Hypothesis]:
    """The claim's siblings that could fit here, and the other catalogue models of its category the
    line names (a board's line read next to a CPU's is no misreading of one for the other)."""
    out = [h for h in plan.siblings if _shows(h, window)]
    if plan.model is None or plan.catalogue is None:
        return out
    names = {h.name for h in plan.siblings} | {plan.model.name}
    for anchor in window.anchors:
        for model in plan.catalogue.anchors.get(anchor, ()):
            if model.name in names or model.category != plan.model.category:
                continue
            names.add(model.name)
            hyp = plan.rivals.get(model.name)
            if hyp is None and model.name not in plan.rivals:
                hyp = plan.rivals[model.name] = _rival(plan, model, lex)
            if hyp is not None and _shows(hyp, window):
                out.append(hyp)
    return out


def _conf(window: _Window, k: int) -> float:
    """OCR confidence of candidate atom ``k`` (len(cand): the next line's first atom)."""
    if k >= len(window.cand):
        return window.after_conf if window.after is not None else 100.0
    return window.words[window.cand[k].word].conf


def _evidence_conf(window: _Window, verdict: _Verdict, hyp: _Hypothesis, claim: _Hypothesis) -> float:
    """The lowest OCR confidence of the words that tell ``hyp`` from the claim: those matched to its
    extra atoms; for a shorter rival, its matched codes and the word after them."""
    extra = list(hyp.extra)
    ks: list[int] = []
    for ci, tj, _ in verdict.matched:
        atoms = hyp.atoms[ci[0]:ci[1]]
        if any(fold_confusables(a.text) in extra for a in atoms) or (
                not extra and any(a.kind in _STRICT for a in atoms)):
            ks.extend(range(*tj))
    if not extra and verdict.span is not None:
        ks.append(verdict.span[1])
    return min((_conf(window, k) for k in ks), default=0.0)


@dataclass
class _Outcome:
    status: str
    score: int
    reason: str
    detail: str
    hypothesis: str
    margin: float | None
    verdict: _Verdict
    rank: tuple


def _decide(plan: _Plan, window: _Window, lex: _Lexicon, th: dict) -> _Outcome | None:
    """Weigh the claim and its rivals on one window."""
    word_min, word_pass = th["word_min_ratio"], th["word_pass_ratio"]
    known = lex.vocab.hard_suffixes | lex.vocab.variant_words
    claim = plan.claim
    window.groups = window.groups or _cand_groups(window.cand, lex)
    ocr_digits = plan.catalogue.numbers if window.ocr and plan.model is not None else None
    steps = _align(claim.atoms, window.cand, word_min, word_pass, known, lex, _groups(claim, lex), window.groups,
                   ocr_digits)
    verdict = _judge(claim.atoms, window.cand, window.after, steps, lex, th["max_extra_words"])
    rivals = []
    if verdict.score >= th["conflict_min_score"] or verdict.conflicts:
        for hyp in _rivals_on(plan, window, lex):
            v = _judge(hyp.atoms, window.cand, window.after,
                       _align(hyp.atoms, window.cand, word_min, word_pass, known, lex, _groups(hyp, lex), window.groups,
                              ocr_digits),
                       lex, th["max_extra_words"])
            rivals.append((v.fit, hyp, v))
    top = max(rivals, key=lambda r: r[0]) if rivals else None
    margin = round(verdict.fit - top[0], 6) if top else None
    pass_score, uncertain_score = th["pass_score"], th["uncertain_score"]
    min_margin, min_conf = th["min_margin"], th["fail_min_conf"]
    if verdict.conflicts and (verdict.score < th["conflict_min_score"] or verdict.matched_chars < 3):
        # a disagreeing token on a line that matches little else (a "5" or an "x"): unrelated
        verdict.conflicts = []
        verdict.score = min(verdict.score, uncertain_score - 1)

    def outcome(status, score, reason, detail, hypothesis, margin_, v) -> _Outcome:
        rank = {"pass": 3, "uncertain": 2}.get(status, 1 if reason == "different_model" else 0)
        return _Outcome(status, score, reason, detail, hypothesis, margin_, v,
                        (rank, v.score if status == "fail" else score))

    if verdict.clean(pass_score) and (margin is None or margin >= min_margin):
        return outcome("pass", verdict.score, "match", "", claim.name, margin, verdict)
    # A rival wins on what it shows that the claim lacks ("Ti" read), or where the claim's own
    # reading disagrees (its "Ti" missing before a clearly read word); a shorter rival that merely
    # lacks a word of the claim ("... PLUS" for "... PLUS MAX") may be an abbreviation: a question.
    if top is not None and -margin >= min_margin and top[2].clean(pass_score) and (
            top[1].extra or verdict.conflicts):
        fit, hyp, v = top
        shows = f"the invoice shows {hyp.name}"
        if _evidence_conf(window, v, hyp, claim) >= min_conf:
            return outcome("fail", min(verdict.score, uncertain_score - 1), "different_model", shows, hyp.name,
                           round(-margin, 2), v)
        return outcome("uncertain", min(max(verdict.score, uncertain_score), pass_score - 1), "near",
                       shows + ", read with low confidence", hyp.name, round(-margin, 2), v)
    if verdict.conflicts:
        confident = all(_conf(window, k) >= min_conf for _, ks in verdict.conflicts for k in ks)
        if confident:  # whatever else fits better is another model too
            # a model the catalogue does not know: named after the words read (see match_model)
            return outcome("fail", min(verdict.score, uncertain_score - 1), "different_model",
                           verdict.conflict, "", margin, verdict)
        return outcome("uncertain", min(max(verdict.score, uncertain_score), pass_score - 1), "near",
                       verdict.conflict + ("" if confident else ", read with low confidence"), "unreadable",
                       margin, verdict)
    doubt = "; ".join(verdict.issues) or "only part of the model was found"
    if top is not None and margin < min_margin:
        doubt = f"{doubt}; the invoice may show {top[1].name}" if margin > -min_margin else \
            f"the invoice may show {top[1].name} ({'; '.join(top[2].issues) or 'read in part'})"
    if verdict.score >= uncertain_score:
        return outcome("uncertain", min(verdict.score, pass_score - 1), "near", doubt,
                       claim.name if verdict.clean(pass_score) else "unreadable", margin, verdict)
    return outcome("fail", min(verdict.score, uncertain_score - 1), "not_found",
                   "nothing close to the claimed model on the invoice", "unreadable", margin, verdict)


def _worth_aligning(plan: _Plan, cand: list[_Atom], chunks: set[str], word_min: float) -> bool:
    """A window sharing no token or chunk with the claim (confusables folded), not even a fuzzy
    word, cannot come close."""
    texts = [a.text for a in cand]
    if plan.keys & chunks or plan.keys & {fold_confusables(t) for t in texts}:
        return True
    return any(_word_ratio(w, t) >= word_min for w in plan.words for t in texts if not t.isdigit())


def _chunk_texts(atoms: Sequence[_Atom]) -> dict[int, str]:
    chunks: dict[int, str] = {}
    for a in atoms:
        chunks[a.chunk] = chunks.get(a.chunk, "") + a.text
    return chunks


def _line_views(atoms: list[_Atom]) -> tuple[set[str], set[str]]:
    """A line's chunks (and their letter-sequence variants), confusables folded, and its anchors
    (``Catalogue.anchors``)."""
    texts = _chunk_texts(atoms).values()
    anchors = {fold_confusables(c) for c in texts if any(ch.isdigit() for ch in c)}
    # "RNAX" and "VVIFI" show MAX and WIFI to a rival looking for them
    chunks = {fold_confusables(v) for c in texts for v in (c, *sequence_variants(c))}
    anchors.update(a.text for a in atoms if a.has_digit and len(a.text) >= 3)
    return chunks, anchors


def _garbled_line(pages: Sequence[Page], min_conf: float) -> tuple[int, Line] | None:
    """The first line read below ``min_conf`` with room for a model name (six letters or digits)."""
    for page in pages:
        for line in page.lines:
            if line.words and line.conf < min_conf and sum(c.isalnum() for w in line.words for c in w.text) >= 6:
                return page.number, line
    return None


def match_model(
    claimed: str,
    pages: Sequence[Page],
    *,
    pass_score: int = 85,
    uncertain_score: int = 50,
    word_pass_ratio: float = 80.0,
    word_min_ratio: float = 60.0,
    max_extra_words: int = 2,
    conflict_min_score: int = 40,
    min_margin: float = 1.0,
    fail_min_conf: float = 60.0,
    max_window_lines: int = 3,
    vocabulary: ModelVocabulary | None = None,
    catalogue: Catalogue | None = None,
) -> ModelMatch:
    """Find ``claimed`` on the invoice pages, weighed against its siblings (see the module docstring).

    pass_score: lowest score that passes (no conflicts or issues allowed either).
    uncertain_score: lowest score that is uncertain rather than fail.
    word_pass_ratio: rapidfuzz ratio at which a letter word counts as read correctly.
    word_min_ratio: below this a word counts as missing.
    max_extra_words: more words than this inside the matched stretch make it uncertain.
    conflict_min_score: a disagreeing token means "a different model" only on a line that
        matches at least this much otherwise; below it the line is just unrelated.
    min_margin: how much better (token weights, a code counts 2) the winning hypothesis must fit
        than the next one to pass or fail.
    fail_min_conf: OCR confidence (0..100) every word showing "a different model" needs for a fail.
    max_window_lines: the name is looked for in windows of 1 up to this many consecutive lines (a
        wrapped name: a till receipt's narrow column, a line PP-OCR cut into boxes).
    vocabulary: word lists; the packaged ``models.toml`` by default.
    catalogue: the product catalogue; the packaged ``catalogue.toml`` by default.
    """
    vocab = vocabulary or load_model_vocabulary()
    if catalogue is None:
        catalogue = load_catalogue() if vocabulary is None else load_catalogue(vocabulary=vocab)
    lex = _lexicon(vocab, catalogue)
    plan = _plan(claimed or "", lex, catalogue)
    if not any(a.kind != NEUTRAL for a in plan.claim.atoms):
        return ModelMatch("uncertain", 0, None, None, None, "empty_claim",
                          "the claimed model has no words to look for", "unreadable")
    th = {"pass_score": pass_score, "uncertain_score": uncertain_score, "word_pass_ratio": word_pass_ratio,
          "word_min_ratio": word_min_ratio, "max_extra_words": max_extra_words,
          "conflict_min_score": conflict_min_score, "min_margin": min_margin, "fail_min_conf": fail_min_conf}
    best: tuple | None = None
    for page in pages:
        line_words = [list(line.words) for line in page.lines]
        line_atoms = [_atoms_of([w.text for w in words], lex, drop_brands=False, chunk_base=k * 10_000)
                      for k, words in enumerate(line_words)]
        views = [_line_views(atoms) for atoms in line_atoms]
        for size in range(1, max_window_lines + 1):
            for k in range(len(page.lines) - size + 1):
                words: list[Word] = []
                cand: list[_Atom] = []
                for line in range(k, k + size):
                    base = len(words)
                    if base:
                        cand.extend(_Atom(a.text, a.kind, a.chunk, a.word + base, a.alone, a.role, a.smudged)
                                    for a in line_atoms[line])
                    else:
                        cand.extend(line_atoms[line])
                    words.extend(line_words[line])
                lines = range(k, k + size)
                chunks = set().union(*(views[i][0] for i in lines))
                if not cand or not _worth_aligning(plan, cand, chunks, word_min_ratio):
                    continue
                following = line_atoms[k + size] if k + size < len(line_atoms) else []
                after = following[0] if following else None
                after_conf = line_words[k + size][after.word].conf if after is not None else 100.0
                window = _Window(cand, words, after, after_conf, chunks, set().union(*(views[i][1] for i in lines)),
                                 page.source == "ocr")
                outcome = _decide(plan, window, lex, th)
                if best is None or outcome.rank > best[0].rank:
                    best = (outcome, window, page.number)
    if best is None or best[0].reason == "not_found":
        garbled = _garbled_line(pages, fail_min_conf)
        if garbled is not None:
            # Nothing close was read, but a line was read too poorly to tell: no proof of absence.
            page_no, line = garbled
            text = " ".join(w.text for w in line.words)
            return ModelMatch("uncertain", uncertain_score, text, page_no, union_bbox(w.bbox for w in line.words),
                              "near", f"the model may be on a line read with low confidence ('{text}')",
                              "unreadable")
    if best is None:
        return ModelMatch("fail", 0, None, None, None, "not_found",
                          "nothing close to the claimed model on the invoice", "unreadable")
    outcome, window, page_no = best
    verdict = outcome.verdict
    found = bbox = None
    if verdict.span is not None and verdict.score > 0:
        w0 = window.cand[verdict.span[0]].word
        w1 = window.cand[verdict.span[1] - 1].word
        chosen = window.words[w0:w1 + 1]
        found = " ".join(w.text for w in chosen)
        bbox = union_bbox(w.bbox for w in chosen)
    if outcome.reason == "not_found" and verdict.score < 25:
        found = bbox = None
    margin = round(outcome.margin, 2) if outcome.margin is not None else None
    hypothesis, detail = outcome.hypothesis, outcome.detail
    if outcome.reason == "different_model" and not hypothesis:
        hypothesis = found or "unreadable"
        detail = f"the invoice shows {found} ({detail})" if found else detail
    return ModelMatch(outcome.status, outcome.score, found, page_no if found else None, bbox, outcome.reason,
                      detail, hypothesis, margin)


def models_equivalent(a: str, b: str, *, vocabulary: ModelVocabulary | None = None) -> bool:
    """Whether two model names name the same product: same tokens once brands, optional and
    neutral words are dropped ("MSI MPG X570 GAMING PLUS" == "X570 Gaming Plus").

    >>> models_equivalent("RTX 3060TI", "GeForce RTX 3060 Ti"), models_equivalent("RTX 3060", "RTX 3060 Ti")
    (True, False)
    """
    vocab = vocabulary or load_model_vocabulary()
    ignore = vocab.optional_words | vocab.neutral_words

    def key(s: str) -> tuple[str, ...]:
        return tuple(t for t in model_tokens(s, vocab.brands) if t not in ignore)

    ka = key(a)
    return bool(ka) and ka == key(b)
