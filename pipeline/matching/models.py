"""Does the claimed product model appear on the invoice?

``match_model`` aligns the claimed model's tokens with the tokens of every invoice line
(and every pair of adjacent lines: product names wrap), a small dynamic programme that
lets invoices add words ("MSI ... SIG ... OC"), drop optional product-line words
("GeForce"), glue or split tokens ("3060TI"), and misread letters ("TOMAHAVVK").

Tokens come in kinds, and each kind is judged differently:

- *code*: anything with a digit (3060, b550, 3900x), a letter glued to a number (the
  'x' of 3600X, the 'b' of B550) and tier suffixes (ti, super, xt, ...). Must agree
  exactly, after repairing letter/digit misreads only ("B55O" -> b550; never 7 -> 1).
  A different code in its place, or one the claim lacks glued to or right after a claimed
  number, is a *different model*: fail ("RTX 3060 Ti" vs "RTX 3070 Ti", "3600" vs "3600X").
- *variant*: max, plus, pro, wifi, memory sizes, lone letters. A different variant in its
  place fails (GAMING PLUS vs GAMING PRO); a missing one is only uncertain.
- *word*: other letter words, compared with rapidfuzz's ratio so OCR noise is tolerated.
- *optional* and *neutral* words (geforce, mag, oc) never count against a match.

Pass: every claimed code and variant present, every word well matched, nothing
distinguishing added. Uncertain: close but a word is missing or garbled. Fail: a
distinguishing token disagrees, or nothing close is on the invoice.

>>> from pipeline.records import Line, Page, Word
>>> line = Line(tuple(Word(t, 90.0, (i * 60, 0, i * 60 + 50, 20)) for i, t in
...             enumerate("MSI GEFORCE RTX 3060TI SIG GAMING TRIO OC 1049,00".split())))
>>> m = match_model("GeForce RTX 3060 Ti Gaming Trio", [Page(1, 800, 600, "ocr", (line,))])
>>> m.status, m.found
('pass', 'GEFORCE RTX 3060TI SIG GAMING TRIO')
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

from ..records import BBox, Page, Word, union_bbox
from .normalise import (
    ModelVocabulary,
    fold_confusables,
    load_model_vocabulary,
    model_tokens,
    normalise_text,
    split_alnum,
)

__all__ = ["ModelMatch", "match_model", "models_equivalent"]

CODE, VARIANT, SIZE, WORD, OPTIONAL, NEUTRAL = "code", "variant", "size", "word", "optional", "neutral"
_STRICT = (CODE, VARIANT, SIZE)
"""Kinds compared exactly (up to confusable letter/digit misreads)."""
_WEIGHT = {CODE: 2.0, VARIANT: 1.5, SIZE: 1.5, WORD: 1.0, OPTIONAL: 0.0, NEUTRAL: 0.0}
_DEL_PENALTY = {CODE: 0.5, VARIANT: 0.3, SIZE: 0.3, WORD: 0.3, OPTIONAL: 0.0, NEUTRAL: 0.0}
_INS_PENALTY = {CODE: 0.25, VARIANT: 0.25, SIZE: 0.02, WORD: 0.15, OPTIONAL: 0.02, NEUTRAL: 0.02}
_SUBSTITUTION = -0.1
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
    """What made it not a pass, for a reviewer: "claimed '3060', invoice shows '3070'"."""

    def to_dict(self) -> dict:
        return {"status": self.status, "score": self.score, "found": self.found, "page": self.page,
                "bbox": list(self.bbox) if self.bbox else None, "reason": self.reason,
                "detail": self.detail}


@dataclass(frozen=True)
class _Atom:
    text: str
    kind: str
    chunk: int
    """Atoms of one chunk were written together ("3060ti" -> 3060, ti)."""
    word: int
    """Index of the source word in the window (-1 for the claim)."""

    @property
    def has_digit(self) -> bool:
        return self.text[:1].isdigit()


def _classify_chunk(parts: list[str], vocab: ModelVocabulary, next_chunk: list[str] | None) -> list[str]:
    """The kind of each letter/digit run of one chunk."""
    kinds = []
    for k, part in enumerate(parts):
        prev = parts[k - 1] if k > 0 else None
        nxt = parts[k + 1] if k + 1 < len(parts) else None
        if part in vocab.brands:
            kinds.append(NEUTRAL)
        elif part.isdigit():
            unit = nxt if nxt is not None else (
                next_chunk[0] if len(parts) == 1 and next_chunk and len(next_chunk) == 1 else None)
            kinds.append(SIZE if unit in vocab.capacity_units and len(part) <= 3 else CODE)
        elif prev is not None:  # a letter run glued after a number: 3600X, 8GB, 321URX
            capacity = prev.isdigit() and len(prev) <= 3 and part in vocab.capacity_units
            kinds.append(NEUTRAL if capacity else CODE)
        elif nxt is not None:  # a letter run glued before a number: B550, AM242, RTX3060
            if len(part) <= 2:
                kinds.append(CODE)
            else:
                kinds.append(OPTIONAL if part in vocab.optional_words else WORD)
        elif part in vocab.optional_words:
            kinds.append(OPTIONAL)
        elif part in vocab.neutral_words:
            kinds.append(NEUTRAL)
        elif part in vocab.hard_suffixes:
            kinds.append(CODE)
        elif part in vocab.variant_words or len(part) == 1:
            kinds.append(VARIANT)
        else:
            kinds.append(WORD)
    return kinds


def _atoms_of(texts: Sequence[str], vocab: ModelVocabulary, *, drop_brands: bool,
              chunk_base: int = 0) -> list[_Atom]:
    """Atoms of a sequence of words (each word index kept), classified."""
    chunks: list[tuple[int, list[str]]] = []
    for w, text in enumerate(texts):
        for chunk in normalise_text(text).split():
            chunks.append((w, split_alnum(chunk)))
    atoms: list[_Atom] = []
    for c, (w, parts) in enumerate(chunks):
        following = chunks[c + 1][1] if c + 1 < len(chunks) else None
        for part, kind in zip(parts, _classify_chunk(parts, vocab, following)):
            if drop_brands and part in vocab.brands:
                continue
            atoms.append(_Atom(part, kind, chunk_base + c, w))
    # Capacity units written apart from their size ("8 GB") are neutral, not variants.
    for k in range(1, len(atoms)):
        a, prev = atoms[k], atoms[k - 1]
        if (a.kind in (VARIANT, CODE) and a.text in vocab.capacity_units and prev.kind == SIZE
                and a.chunk != prev.chunk):
            atoms[k] = _Atom(a.text, NEUTRAL, a.chunk, a.word)
    return atoms


def _code_compare(claimed: str, found: str) -> str | None:
    """'exact', 'repaired' (only confusable letter/digit misreads differ), or None."""
    if claimed == found:
        return "exact"
    if len(claimed) != len(found) or fold_confusables(claimed) != fold_confusables(found):
        return None
    return "repaired"


@lru_cache(maxsize=65536)
def _word_ratio(claimed: str, found: str) -> float:
    if claimed == found:
        return 100.0
    best = fuzz.ratio(claimed, found)
    for variant in {found.replace("vv", "w"), found.replace("rn", "m")} - {found}:
        best = max(best, fuzz.ratio(claimed, variant))
    # Digits read for letters (GAM1NG, TR1O): compare with confusables folded, a little lower.
    return max(best, fuzz.ratio(fold_confusables(claimed), fold_confusables(found)) - 3)


@dataclass
class _Step:
    op: str  # 'match', 'del', 'ins'
    ci: tuple[int, int] = (0, 0)
    tj: tuple[int, int] = (0, 0)
    quality: str = ""  # for matches: 'exact', 'repaired', 'fuzzy', 'weak', 'mismatch'
    ratio: float = 0.0


def _group_gain(c_atoms: list[_Atom], t_atoms: list[_Atom], word_min: float,
                word_pass: float) -> tuple[float, str, float]:
    """Gain of aligning claimed atoms with candidate atoms, the match quality and word ratio."""
    c_str = "".join(a.text for a in c_atoms)
    t_str = "".join(a.text for a in t_atoms)
    single = len(c_atoms) == 1 and len(t_atoms) == 1
    weight = sum(_WEIGHT[a.kind] for a in c_atoms)
    # A one-for-one substitution is only considered between tokens of the same sort.
    single = single and (c_atoms[0].has_digit == t_atoms[0].has_digit) and (
        (c_atoms[0].kind in _STRICT) == (t_atoms[0].kind in _STRICT) or c_atoms[0].kind == WORD)
    if any(a.kind in _STRICT for a in c_atoms):
        quality = _code_compare(c_str, t_str)
        if quality is None:
            return (_SUBSTITUTION if single else _NEG), "mismatch", 0.0
        return weight * (1.0 if quality == "exact" else 0.95), quality, 100.0
    ratio = _word_ratio(c_str, t_str)
    if not any(a.kind == WORD for a in c_atoms):  # optional and neutral words: absorb if present
        return (0.3, "exact", ratio) if ratio >= word_pass else (_NEG, "", 0.0)
    if ratio < word_min:
        return (_SUBSTITUTION if single else _NEG), "mismatch", ratio
    return weight * ratio / 100.0, ("fuzzy" if ratio >= word_pass else "weak"), ratio


def _align(claim: list[_Atom], cand: list[_Atom], word_min: float, word_pass: float) -> list[_Step]:
    """Best semi-global alignment: the whole claim against any stretch of the candidate.

    Groups of up to 3 claimed atoms may meet up to 4 candidate atoms of one chunk, so that
    misreads which move letter/digit boundaries ("39OOX" for 3900X) still line up.
    """
    n, m = len(claim), len(cand)
    best = [[_NEG] * (m + 1) for _ in range(n + 1)]
    back: list[list[tuple | None]] = [[None] * (m + 1) for _ in range(n + 1)]
    for j in range(m + 1):
        best[0][j] = 0.0
    plain_word = [a.kind == WORD for a in cand]
    for i in range(n + 1):
        for j in range(m + 1):
            here = best[i][j]
            if here == _NEG:
                continue
            if i < n:  # the claimed atom is missing here
                v = here - _DEL_PENALTY[claim[i].kind]
                if v > best[i + 1][j]:
                    best[i + 1][j], back[i + 1][j] = v, (i, j, _Step("del", (i, i + 1), (j, j)))
            if 0 < i < n and j < m:  # an extra candidate atom inside the matched stretch
                v = here - _INS_PENALTY[cand[j].kind]
                if v > best[i][j + 1]:
                    best[i][j + 1], back[i][j + 1] = v, (i, j, _Step("ins", (i, i), (j, j + 1)))
            if i >= n:
                continue
            for a in range(1, min(3, n - i) + 1):
                c_atoms = claim[i:i + a]
                for b in range(1, min(4, m - j) + 1):
                    t_atoms = cand[j:j + b]
                    if b > 1 and not (t_atoms[-1].chunk == t_atoms[0].chunk
                                      or (b == 2 and plain_word[j] and plain_word[j + 1])):
                        break
                    gain, quality, ratio = _group_gain(c_atoms, t_atoms, word_min, word_pass)
                    if gain == _NEG:
                        continue
                    v = here + gain - 0.05 * (b - 1 + a - 1)
                    if v > best[i + a][j + b]:
                        best[i + a][j + b] = v
                        back[i + a][j + b] = (i, j, _Step("match", (i, i + a), (j, j + b), quality, ratio))
    end_j = max(range(m + 1), key=lambda j: best[n][j])
    steps: list[_Step] = []
    i, j = n, end_j
    while back[i][j] is not None:
        pi, pj, step = back[i][j]
        steps.append(step)
        i, j = pi, pj
    return steps[::-1]


@dataclass
class _Verdict:
    score: int
    conflict: str
    issues: list[str]
    span: tuple[int, int] | None  # candidate atom range [start, end)


def _judge(claim: list[_Atom], cand: list[_Atom], after: _Atom | None, steps: list[_Step],
           vocab: ModelVocabulary, max_extra_words: int) -> _Verdict:
    """Score an alignment and name what disagrees (a conflict) or is doubtful (issues)."""
    total = sum(_WEIGHT[a.kind] for a in claim)
    got = 0.0
    conflicts: list[str] = []
    issues: list[str] = []
    matched = [s for s in steps if s.op == "match"]
    span = (matched[0].tj[0], matched[-1].tj[1]) if matched else None
    good = [s for s in matched if s.quality != "mismatch"]
    agreed = (good[0].tj[0], good[-1].tj[1]) if good else None

    def missing(atom: _Atom) -> None:
        if atom.kind == CODE and not atom.has_digit:
            conflicts.append(f"'{atom.text}' of the claimed model is not on the invoice")
        elif atom.kind in _STRICT or atom.kind == WORD:
            issues.append(f"'{atom.text}' not found")

    prev_matched: _Atom | None = None
    extra_words = inserted = 0
    for s in steps:
        c_atoms = claim[s.ci[0]:s.ci[1]]
        t_atoms = cand[s.tj[0]:s.tj[1]]
        if s.op == "del":
            missing(c_atoms[0])
        elif s.op == "match" and s.quality in ("exact", "repaired"):
            got += sum(_WEIGHT[a.kind] for a in c_atoms) * (1.0 if s.quality == "exact" else 0.95)
        elif s.op == "match" and s.quality in ("fuzzy", "weak"):
            got += sum(_WEIGHT[a.kind] for a in c_atoms) * s.ratio / 100.0
            if s.quality == "weak":
                issues.append(f"'{' '.join(a.text for a in c_atoms)}' read as '{t_atoms[0].text}'")
        elif s.op == "match":  # a single claimed atom against a different single atom
            c, t = c_atoms[0], t_atoms[0]
            if c.kind in _STRICT and t.kind in _STRICT and c.has_digit == t.has_digit:
                conflicts.append(f"claimed '{c.text}', invoice shows '{t.text}'")
            else:
                missing(c)
        else:  # an extra candidate atom inside the matched stretch
            t = t_atoms[0]
            inserted += t.kind in (CODE, VARIANT, WORD)
            right_after_number = (prev_matched is not None and prev_matched.has_digit
                                  and cand[s.tj[0] - 1] is prev_matched)
            if t.kind == CODE and right_after_number and (
                    t.chunk == prev_matched.chunk or t.text in vocab.hard_suffixes):
                conflicts.append(f"the invoice adds '{t.text}' after '{prev_matched.text}'")
            elif t.kind in (CODE, VARIANT):
                issues.append(f"the invoice adds '{t.text}'")
            elif t.kind == WORD:
                extra_words += 1
        if s.op == "match":
            prev_matched = t_atoms[-1] if s.quality != "mismatch" else None
    if extra_words > max_extra_words:
        issues.append(f"{extra_words} extra words between the claimed ones")
    if agreed is not None:  # what stands right before and after the agreeing stretch
        first, last = cand[agreed[0]], cand[agreed[1] - 1]
        nxt = cand[agreed[1]] if agreed[1] < len(cand) else after
        if nxt is not None and nxt.kind in (CODE, VARIANT):
            if (nxt.chunk == last.chunk and last.kind in _STRICT) or (
                    last.has_digit and nxt.kind == CODE and nxt.text in vocab.hard_suffixes):
                conflicts.append(f"the invoice shows '{last.text}' followed by '{nxt.text}'")
            elif nxt.kind == VARIANT and nxt.text in vocab.variant_words:
                issues.append(f"the invoice adds '{nxt.text}'")
        if agreed[0] > 0:
            before = cand[agreed[0] - 1]
            if before.chunk == first.chunk and before.kind == CODE and first.kind == CODE:
                conflicts.append(f"the invoice shows '{before.text}' before '{first.text}'")
    if total > 0:
        score = round(100.0 * got / total) - min(inserted, 10)
    else:  # the claim holds only optional words
        score = 100 if good else 0
    return _Verdict(max(0, min(100, score)), "; ".join(conflicts), issues, span)


def _worth_aligning(claim_keys: set[str], claim_words: list[str], cand: list[_Atom],
                    word_min: float) -> bool:
    """A window sharing no token with the claim, not even a fuzzy word, cannot come close."""
    texts = [a.text for a in cand]
    if claim_keys & {fold_confusables(t) for t in texts}:
        return True
    return any(_word_ratio(w, t) >= word_min for w in claim_words for t in texts if not t.isdigit())


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
    vocabulary: ModelVocabulary | None = None,
) -> ModelMatch:
    """Find ``claimed`` on the invoice pages.

    pass_score: lowest score that passes (no conflicts or issues allowed either).
    uncertain_score: lowest score that is uncertain rather than fail.
    word_pass_ratio: rapidfuzz ratio at which a letter word counts as read correctly.
    word_min_ratio: below this a word counts as missing.
    max_extra_words: more words than this inside the matched stretch make it uncertain.
    conflict_min_score: a disagreeing token means "a different model" only on a line that
        matches at least this much otherwise; below it the line is just unrelated.
    vocabulary: word lists; the packaged ``models.toml`` by default.
    """
    vocab = vocabulary or load_model_vocabulary()
    claim = _atoms_of([claimed or ""], vocab, drop_brands=True)
    if not any(a.kind != NEUTRAL for a in claim):
        return ModelMatch("uncertain", 0, None, None, None, "empty_claim",
                          "the claimed model has no words to look for")
    claim_keys = {fold_confusables(a.text) for a in claim if a.kind != NEUTRAL}
    claim_words = [a.text for a in claim if a.kind == WORD and len(a.text) >= 4]
    best: tuple | None = None
    for page in pages:
        line_words = [list(line.words) for line in page.lines]
        line_atoms = [_atoms_of([w.text for w in words], vocab, drop_brands=False, chunk_base=k * 10_000)
                      for k, words in enumerate(line_words)]
        for size in (1, 2):
            for k in range(len(page.lines) - size + 1):
                words: list[Word] = []
                cand: list[_Atom] = []
                for line in range(k, k + size):
                    base = len(words)
                    cand.extend(_Atom(a.text, a.kind, a.chunk, a.word + base) for a in line_atoms[line])
                    words.extend(line_words[line])
                if not cand or not _worth_aligning(claim_keys, claim_words, cand, word_min_ratio):
                    continue
                following = line_atoms[k + size] if k + size < len(line_atoms) else []
                after = following[0] if following else None
                steps = _align(claim, cand, word_min_ratio, word_pass_ratio)
                verdict = _judge(claim, cand, after, steps, vocab, max_extra_words)
                if verdict.conflict and verdict.score < conflict_min_score:
                    verdict.conflict = ""
                    verdict.score = min(verdict.score, uncertain_score - 1)
                if verdict.conflict:
                    status, score = "fail", min(verdict.score, uncertain_score - 1)
                elif verdict.score >= pass_score and not verdict.issues:
                    status, score = "pass", verdict.score
                elif verdict.score >= uncertain_score:
                    status, score = "uncertain", min(verdict.score, pass_score - 1)
                else:
                    status, score = "fail", min(verdict.score, uncertain_score - 1)
                # A conflicting line outranks a line with hardly anything in common.
                rank = {"pass": 3, "uncertain": 2, "fail": 1 if verdict.conflict else 0}[status]
                key = (rank, verdict.score if status == "fail" else score)
                if best is None or key > best[0]:
                    best = (key, status, score, verdict, cand, words, page.number)
    if best is None:
        return ModelMatch("fail", 0, None, None, None, "not_found",
                          "nothing close to the claimed model on the invoice")
    _, status, score, verdict, cand, words, page_no = best
    found = bbox = None
    if verdict.span is not None and verdict.score > 0:
        w0 = cand[verdict.span[0]].word
        w1 = cand[verdict.span[1] - 1].word
        chosen = words[w0:w1 + 1]
        found = " ".join(w.text for w in chosen)
        bbox = union_bbox(w.bbox for w in chosen)
    if status == "pass":
        reason, detail = "match", ""
    elif verdict.conflict:
        reason, detail = "different_model", verdict.conflict
    elif status == "uncertain":
        reason, detail = "near", "; ".join(verdict.issues) or "only part of the model was found"
    else:
        reason, detail = "not_found", "nothing close to the claimed model on the invoice"
        if verdict.score < 25:
            found = bbox = None
    return ModelMatch(status, score, found, page_no if found else None, bbox, reason, detail)


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
