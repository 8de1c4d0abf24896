"""Does the claimed serial number (or CHK code) appear on the serial photo?

Serials are compared with ``serial_distance``: a Levenshtein distance, case-insensitive,
ignoring separators ('-', '/', '.', '_' and whitespace), where substituting one character
for another of the same OCR confusion class costs ``confusable_cost`` (0.25) instead of 1:

    {0 O D Q}  {1 l I i |}  {5 S}  {8 B}  {2 Z}  {6 G}  {U V}

Each class holds at most one digit: two different digits are never confusable ('7' is not
with '1'), so "...000123" against "...000124" costs a full 1.

``match_serial`` looks first at the decoded barcodes (exact: a field equal to the serial
passes with score 100), then at the OCR words and joins of adjacent words:

- only confusable substitutions, few of them -> pass (score 100 - 20 x distance);
- one real edit that is not digit-for-digit, in a serial of 8+ characters -> uncertain;
- a serial-shaped string (about the same length and letter/digit pattern) that differs by
  a digit or by more -> fail (another serial is on the photo), unless the OCR engine was
  unsure of that word (under ``low_confidence``; for a one-character difference, under
  ``one_edit_min_conf``), then uncertain;
- a decoded barcode is an exact read: a serial-shaped field that differs fails whatever
  the OCR read;
- nothing serial-shaped readable -> uncertain, ``found`` None, reason 'unreadable'.

Reject rule (SERIAL_MISMATCH / CHK_MISMATCH): the code is read where a barcode, or an OCR
reading the engine is sure of, disagrees beyond the confusion classes. One character off in
an OCR reading is only a fail at ``one_edit_min_conf``: Tesseract reads a 3 for an 8.

>>> serial_distance("602-7C35-010B1912000123", "6027C3501OB1912000123")
0.25
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..datafiles import only_keys, read_toml
from ..errors import ConfigError
from ..extract.normalise import ConfusionEdits as _Edits
from ..extract.normalise import confusion_edits as _align
from ..extract.normalise import fold_confusables
from ..records import Barcode, BBox, Page, Word, union_bbox

__all__ = ["SerialMatch", "match_chk", "match_serial", "normalise_serial", "same_reading", "same_serial",
           "serial_distance", "serial_key"]

_SEPARATORS = re.compile(r"[\s\-/._\u2010-\u2015\u2212\u2043\ufe58\ufe63\u00ad\u200b\u2060\ufeff]+")
"""Spaces, hyphens and the dashes a keyboard or a word processor puts for one (U+2010-2015, the
minus sign, the soft hyphen), slashes, dots, underscores, and invisible zero-width characters."""
_FIELD_SPLIT = re.compile(r"[;,|\r\n\t\x1d\x1e\x04:=]+|\(\d{2,4}\)")


@dataclass(frozen=True)
class StickerLabels:
    """``data/stickers.toml``: the label patterns of a sticker's serial and CHK code, compiled."""
    serial: re.Pattern
    chk: re.Pattern
    source: str


def _label_pattern(patterns, key: str, source: str, separators: str) -> re.Pattern:
    if not isinstance(patterns, list) or not patterns or not all(isinstance(p, str) and p for p in patterns):
        raise ConfigError(message=f"{source}: '{key}' must be a non-empty list of regular expressions")
    for p in patterns:
        try:
            re.compile(p)
        except re.error as exc:
            raise ConfigError(message=f"{source}: {key}: {p!r} is not a regular expression: {exc}") from exc
    return re.compile(r"^(?:" + "|".join(patterns) + r")\s*[" + separators + r"]*\s*", re.I)


def load_sticker_labels(path: str | Path | None = None) -> StickerLabels:
    """The sticker label patterns from ``path``, or the packaged ``stickers.toml``; validated."""
    data, source = read_toml(path, packaged="stickers.toml")
    only_keys(data, ("serial_labels", "chk_labels"), source)
    return StickerLabels(_label_pattern(data.get("serial_labels"), "serial_labels", source, ".:#="),
                         _label_pattern(data.get("chk_labels"), "chk_labels", source, ".:#=\\-"), source)


@lru_cache(maxsize=1)
def default_sticker_labels() -> StickerLabels:
    return load_sticker_labels()


_LABEL = default_sticker_labels().serial
_CHK_LABEL = default_sticker_labels().chk


@dataclass(frozen=True)
class SerialMatch:
    """How well a claimed serial number or CHK code was found on the serial photos."""

    status: str
    """'pass', 'fail' or 'uncertain'."""
    score: int
    """0..100; 100 for a barcode that holds the serial exactly."""
    found: str | None
    """The barcode field or OCR text that matched, or the serial-shaped text found instead."""
    page: int | None
    bbox: BBox | None
    source: str | None
    """'barcode' or 'ocr'; None when nothing was found."""
    reason: str
    """'exact', 'confusable', 'near', 'different', 'unreadable' or 'empty_claim'."""
    detail: str = ""

    def to_dict(self) -> dict:
        return {"status": self.status, "score": self.score, "found": self.found, "page": self.page,
                "bbox": list(self.bbox) if self.bbox else None, "source": self.source,
                "reason": self.reason, "detail": self.detail}


def normalise_serial(s: str) -> str:
    """The one normalisation of a serial (or CHK code) wherever one is compared or stored: NFKC
    (full-width ``６０２`` is ``602``), casefolded, separators and dashes removed. What
    ``serial_distance`` compares; ``serial_key`` adds the look-alike folding for storing.

    >>> normalise_serial(" 602-7C35 / 010B "), normalise_serial("６０２－７Ｃ３５\u2013０１０Ｂ")
    ('6027c35010b', '6027c35010b')
    """
    text = unicodedata.normalize("NFKC", s or "").casefold()
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text))


def serial_key(serial: str) -> str:
    """A serial's identity: ``normalise_serial`` with every OCR look-alike folded to its class's
    representative (O/D/Q -> 0, I/l/| -> 1, S -> 5, B -> 8, Z -> 2, G -> 6, U -> V). Two serials the
    matcher calls the same (equal, or differing only in look-alikes) share one key, so the claim
    store's duplicate check (``duplicate_serial``) sees what ``serial_number`` sees.

    >>> serial_key("602-7C35-01OB1912000123") == serial_key("６０２ ７ｃ３５ ０１０Ｂ１９１２０００１２３")
    True
    """
    return fold_confusables(normalise_serial(serial))


def serial_distance(a: str, b: str, *, confusable_cost: float = 0.25) -> float:
    """Confusion-aware edit distance between two serials (see the module docstring).

    Symmetric; 0 exactly when ``normalise_serial(a) == normalise_serial(b)``.
    """
    return _align(normalise_serial(a), normalise_serial(b), confusable_cost).distance


def same_serial(a: str, b: str, *, confusable_cost: float = 0.25) -> bool:
    """Whether the matcher takes ``a`` and ``b`` for one serial: equal once normalised, or
    differing only in look-alike characters (no real edit). Such serials share ``serial_key``.

    >>> same_serial("602-7C35-01OB", "６０２７ｃ３５０１０８"), same_serial("602-7C35", "602-7C36")
    (True, False)
    """
    return _align(normalise_serial(a), normalise_serial(b), confusable_cost).real == 0


def same_reading(a: str | None, b: str | None) -> bool:
    """Whether two readings of a sticker's code (as found: "S/N: 602-7C35", "CHK 43H") hold one value,
    labels stripped and look-alikes folded: two engines that agree on a contradicting value.

    >>> same_reading("CHK: 43H", "43H"), same_reading("43H", "4JM"), same_reading("S/N 6O2-7C35", "602 7C35")
    (True, False, True)
    """
    if not a or not b:
        return False

    def key(text: str) -> str:
        return serial_key(_LABEL.sub("", _CHK_LABEL.sub("", text.strip())))

    return bool(key(a)) and key(a) == key(b)


def _shape(s: str) -> str:
    return "".join("9" if c.isdigit() else "a" for c in s)


def _serial_shaped(candidate: str, claimed: str, length_tolerance: int) -> bool:
    """About the same length and letter/digit pattern as the claim, with digits in it."""
    if abs(len(candidate) - len(claimed)) > length_tolerance or sum(c.isdigit() for c in candidate) < 2:
        return False
    same = sum(x == y for x, y in zip(_shape(candidate), _shape(claimed)))
    return same >= 0.7 * max(len(candidate), len(claimed))


@dataclass(frozen=True)
class _Candidate:
    text: str
    """As read (words joined by spaces, or the barcode field)."""
    norm: str
    page: int | None
    bbox: BBox | None
    conf: float
    source: str
    labelled: bool = False
    words: int = 1


def _all_barcodes(barcodes: Iterable[Barcode], pages: Sequence[Page]) -> list[Barcode]:
    seen, out = set(), []
    for b in [*barcodes, *(b for p in pages for b in p.barcodes)]:
        key = (b.text, b.page, b.bbox)
        if key not in seen:
            seen.add(key)
            out.append(b)
    return out


def _barcode_fields(text: str) -> list[str]:
    """The text, its delimited fields, label-stripped fields and GS1 serial (AI 21) values."""
    fields = [text]
    for piece in _FIELD_SPLIT.split(text):
        piece = piece.strip()
        if not piece:
            continue
        fields.append(piece)
        stripped = _LABEL.sub("", piece)
        if stripped and stripped != piece:
            fields.append(stripped)
        # GS1 element strings without brackets: 01 + 14-digit GTIN, then 21 + serial.
        rest = piece[16:] if re.match(r"^01\d{14}", piece) else piece
        if rest.startswith("21") and len(rest) > 2:
            fields.append(rest[2:])
    return fields


def _ocr_candidates(pages: Sequence[Page], max_words: int, strip_label: re.Pattern[str]) -> list[_Candidate]:
    out = []
    for page in pages:
        for line in page.lines:
            words = list(line.words)
            for k in range(len(words)):
                for size in range(1, max_words + 1):
                    chosen: list[Word] = words[k:k + size]
                    if len(chosen) < size:
                        break
                    text = " ".join(w.text for w in chosen)
                    norm = normalise_serial(strip_label.sub("", text))
                    if not norm:
                        continue
                    out.append(_Candidate(text, norm, page.number, union_bbox(w.bbox for w in chosen),
                                          min(w.conf for w in chosen), "ocr", words=size))
    return out


def _score(distance: float) -> int:
    return max(0, min(100, round(100 - 20 * distance)))


def match_serial(
    claimed: str,
    *,
    barcodes: Sequence[Barcode] = (),
    pages: Sequence[Page] = (),
    pass_distance: float = 0.75,
    max_confusable_share: float = 0.25,
    uncertain_distance: float = 1.5,
    min_uncertain_length: int = 8,
    shape_length_tolerance: int = 2,
    low_confidence: float = 60.0,
    one_edit_min_conf: float = 90.0,
    max_join_words: int = 4,
    confusable_cost: float = 0.25,
) -> SerialMatch:
    """Find ``claimed`` in the barcodes and OCR text of the serial photos.

    pass_distance: largest distance that passes; with confusable_cost 0.25, 0.75 allows three
        confusable misreads and no real edit.
    max_confusable_share: at most this share of the serial's characters may be confusable misreads.
    uncertain_distance: largest distance that is uncertain rather than fail (one real edit that is
        not digit-for-digit, plus a few confusables).
    min_uncertain_length: shorter serials get no benefit of the doubt for a real edit.
    shape_length_tolerance: how many characters a different serial may differ in length and still
        count as "another serial on the photo" (a fail) rather than unreadable.
    low_confidence: OCR word confidence below which a different-looking serial is only uncertain.
    one_edit_min_conf: the same for a serial that differs in one character only.
    max_join_words: OCR may split a serial; adjacent words of a line are joined up to this many.
    confusable_cost: cost of one confusable substitution in ``serial_distance``.
    """
    c = normalise_serial(claimed)
    if not c:
        return SerialMatch("uncertain", 0, None, None, None, None, "empty_claim", "no serial claimed")
    max_confusable = max(1, int(len(c) * max_confusable_share))

    # 1. Barcodes: exact reads, so a field equal to the serial settles it.
    best_bar: tuple[_Edits, Barcode, str] | None = None
    for bar in _all_barcodes(barcodes, pages):
        for field in _barcode_fields(bar.text):
            norm = normalise_serial(field)
            if not norm or abs(len(norm) - len(c)) > uncertain_distance:
                continue
            edits = _align(c, norm, confusable_cost)
            if best_bar is None or edits.distance < best_bar[0].distance:
                best_bar = (edits, bar, field)
    if best_bar is not None:
        edits, bar, field = best_bar
        if edits.distance == 0:
            return SerialMatch("pass", 100, field, bar.page, bar.bbox, "barcode", "exact",
                               f"barcode {bar.format}")
        if edits.distance <= pass_distance and edits.real == 0 \
                and edits.confusable <= max_confusable:
            return SerialMatch("pass", _score(edits.distance), field, bar.page, bar.bbox, "barcode",
                               "confusable", "the claim differs from the barcode only in look-alike "
                                             "characters (0/O, 1/l, ...)")

    # 2. OCR text, words and joins of adjacent words.
    best: tuple[_Edits, _Candidate] | None = None
    shaped: tuple[_Edits, _Candidate] | None = None
    for cand in _ocr_candidates(pages, max_join_words, _LABEL):
        if abs(len(cand.norm) - len(c)) > max(uncertain_distance, shape_length_tolerance):
            continue
        edits = _align(c, cand.norm, confusable_cost)
        if best is None or (edits.distance, cand.words) < (best[0].distance, best[1].words):
            best = (edits, cand)
        if _serial_shaped(cand.norm, c, shape_length_tolerance) and (
                shaped is None or (edits.distance, cand.words) < (shaped[0].distance, shaped[1].words)):
            shaped = (edits, cand)

    def result(status: str, score: int, cand: _Candidate, reason: str, detail: str) -> SerialMatch:
        return SerialMatch(status, score, cand.text, cand.page, cand.bbox, cand.source, reason, detail)

    if best is not None:
        edits, cand = best
        if edits.distance == 0:
            return result("pass", 100, cand, "exact", "")
        if edits.distance <= pass_distance and edits.real == 0 \
                and edits.confusable <= max_confusable:
            return result("pass", _score(edits.distance), cand, "confusable",
                          f"{edits.confusable} look-alike character(s) (0/O, 1/l, ...)")
        if (edits.distance <= uncertain_distance and edits.digit_subs == 0 and edits.real <= 1
                and len(c) >= min_uncertain_length):
            return result("uncertain", min(84, _score(edits.distance)), cand, "near",
                          "one character differs and it is not a usual misread")
    # A barcode that holds a different serial of the same shape is strong evidence.
    if best_bar is not None and _serial_shaped(normalise_serial(best_bar[2]), c, shape_length_tolerance):
        edits, bar, field = best_bar
        if edits.real == 0 or (edits.distance <= uncertain_distance and edits.digit_subs == 0 and edits.real <= 1
                               and len(c) >= min_uncertain_length):
            return SerialMatch("uncertain", min(84, _score(edits.distance)), field, bar.page, bar.bbox,
                               "barcode", "near", "one character differs from the barcode")
        return SerialMatch("fail", min(49, _score(edits.distance)), field, bar.page, bar.bbox, "barcode",
                           "different", "the barcode holds a different serial")
    if shaped is not None:
        edits, cand = shaped
        if edits.digit_subs + edits.letter_subs == 0:
            return result("uncertain", min(84, _score(edits.distance)), cand, "near",
                          "only part of the serial could be read")
        if cand.conf < low_confidence:
            return result("uncertain", min(84, _score(edits.distance)), cand, "near",
                          "a different serial was read, but the OCR is unsure of it")
        if edits.real == 1 and cand.conf < one_edit_min_conf:
            return result("uncertain", min(84, _score(edits.distance)), cand, "near",
                          f"the serial read differs in one character, read with confidence {cand.conf:.0f} only")
        return result("fail", min(49, _score(edits.distance)), cand, "different",
                      "the photo shows a different serial")
    return SerialMatch("uncertain", 0, None, None, None, None, "unreadable",
                       "no serial number could be read on the photo")


def match_chk(
    claimed: str,
    *,
    barcodes: Sequence[Barcode] = (),
    pages: Sequence[Page] = (),
    pass_distance: float = 0.25,
    unlabelled_score: int = 90,
    low_confidence: float = 60.0,
    one_edit_min_conf: float = 90.0,
    confusable_cost: float = 0.25,
) -> SerialMatch:
    """Find a CHK code (3 or 5 characters) on the serial photos.

    Short codes demand exactness up to look-alike characters, and text next to a 'CHK' label
    (same word "CHK:A1C", or the next word) is preferred:

    - labelled text within ``pass_distance`` (one confusable) -> pass;
    - else the exact code anywhere on the sticker, with a digit in it -> pass, ``unlabelled_score``;
    - else labelled text that differs beyond the look-alike classes -> fail (uncertain if it was OCR read under
      ``one_edit_min_conf``: in a code of three to five characters every OCR difference is a small
      one; or if it has one character more or less); a barcode's code fails whatever;
    - else the code anywhere up to one confusable -> uncertain; else 'unreadable'.
    """
    c = normalise_serial(claimed)
    if not c:
        return SerialMatch("uncertain", 0, None, None, None, None, "empty_claim", "no CHK code claimed")
    labelled: list[_Candidate] = []
    loose: list[_Candidate] = []
    for bar in _all_barcodes(barcodes, pages):
        pieces = [p.strip() for p in _FIELD_SPLIT.split(bar.text) if p.strip()]
        for k, piece in enumerate(pieces):
            if _CHK_LABEL.match(piece):
                value = _CHK_LABEL.sub("", piece) or (pieces[k + 1] if k + 1 < len(pieces) else "")
                if value:
                    labelled.append(_Candidate(value, normalise_serial(value), bar.page, bar.bbox, 100.0,
                                               "barcode", True))
    for page in pages:
        for line in page.lines:
            words = list(line.words)
            for k, w in enumerate(words):
                label = _CHK_LABEL.match(w.text.strip())
                rest = _CHK_LABEL.sub("", w.text.strip()) if label else ""
                if label and (rest or k + 1 < len(words)):
                    chosen = [w] if rest else [words[k + 1]]
                    value = rest or words[k + 1].text
                    if len(normalise_serial(value)) < len(c) and k + 1 + (0 if rest else 1) < len(words):
                        extra = words[k + 1 + (0 if rest else 1)]
                        chosen.append(extra)
                        value = f"{value} {extra.text}"
                    labelled.append(_Candidate(value, normalise_serial(value), page.number,
                                               union_bbox(x.bbox for x in chosen), min(x.conf for x in chosen),
                                               "ocr", True))
                norm = normalise_serial(w.text)
                if len(norm) == len(c):
                    loose.append(_Candidate(w.text, norm, page.number, w.bbox, w.conf, "ocr"))

    def result(status: str, score: int, cand: _Candidate, reason: str, detail: str = "") -> SerialMatch:
        return SerialMatch(status, score, cand.text, cand.page, cand.bbox, cand.source, reason, detail)

    scored = sorted(((_align(c, cand.norm, confusable_cost), cand) for cand in labelled),
                    key=lambda t: t[0].distance)
    if scored and scored[0][0].distance <= pass_distance and scored[0][0].real == 0:
        edits, cand = scored[0]
        return result("pass", _score(edits.distance), cand, "exact" if edits.distance == 0 else "confusable")
    loose_scored = sorted(((_align(c, cand.norm, confusable_cost), cand) for cand in loose),
                          key=lambda t: t[0].distance)
    if loose_scored and loose_scored[0][0].distance == 0 and any(ch.isdigit() for ch in c):
        return result("pass", unlabelled_score, loose_scored[0][1], "exact", "found, but not next to a CHK label")
    if scored:
        edits, cand = scored[0]
        if edits.real == 0:
            # "LODNS" for L0DN5: every difference is a look-alike, so no other code is shown
            return result("uncertain", min(84, _score(edits.distance)), cand, "near",
                          "the CHK code read differs only in look-alike characters (0/O, 5/S, ...)")
        if cand.conf < low_confidence:
            return result("uncertain", min(84, _score(edits.distance)), cand, "near",
                          "the CHK code read differs, but the OCR is unsure of it")
        if edits.indels == 1 and edits.digit_subs + edits.letter_subs == 0:
            # A CHK code has a fixed length: one character more or less ("H4jJ8R" for H4J8R) is
            # the OCR doubling or dropping a glyph, not another code, which would differ in place.
            return result("uncertain", min(84, _score(edits.distance)), cand, "near",
                          "the CHK code read has one character more or less than the claimed one")
        if abs(len(cand.norm) - len(c)) >= 2:
            # "97" read after the label of a five-character code: a part of it, not another code
            return result("uncertain", min(84, _score(edits.distance)), cand, "near",
                          f"the CHK code read has {len(cand.norm)} characters, the claimed one {len(c)}: a partial "
                          "reading")
        if cand.source == "ocr" and cand.conf < one_edit_min_conf:
            # Three to five characters: any OCR difference is a small one ("SUT" for 8WT).
            return result("uncertain", min(84, _score(edits.distance)), cand, "near",
                          f"the CHK code read differs, read with confidence {cand.conf:.0f} only")
        return result("fail", min(49, _score(edits.distance)), cand, "different",
                      "the sticker shows a different CHK code")
    if loose_scored and loose_scored[0][0].distance <= pass_distance and loose_scored[0][0].real == 0:
        edits, cand = loose_scored[0]
        return result("uncertain", min(84, _score(edits.distance)), cand, "near",
                      "a look-alike of the code was read, not next to a CHK label")
    return SerialMatch("uncertain", 0, None, None, None, None, "unreadable",
                       "no CHK code could be read on the photo")
