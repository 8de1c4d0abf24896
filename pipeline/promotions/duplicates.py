"""Is a look-alike upload the same document? What each upload says, kept for that question
(``DocumentIdentity``), and the answer for two of them (``compare``).

A perceptual hash finds earlier uploads that *look* alike; one shop's invoices all look alike.
So an image match is only a candidate, and what the documents say decides:

- the same invoice number (read with confidence on both): the same invoice;
- a number that could not be read with confidence on either side: a person decides (never a
  rejection on the picture alone). A number read on one side only counts as the same when the
  other side shows it among its words (its label was misread), and as another when the other
  side, read with confidence, shows it nowhere;
- another number and another date (each read with confidence): another invoice, whatever
  else they share (one shop's invoices without a printed buyer differ in nothing else);
- another number, the same or an unread date, and other words (buyer, address, lines, order
  number) on both sides that the other does not show: another invoice;
- another number, the same date, and nothing else that differs: what an edited copy looks like,
  a person decides with both claims linked.

An earlier invoice that neither looks alike nor shares a shop, date and total (a copy
photographed again, whose original was read with no number, date or total) is found by the
words rare at the claimed shop that both show (``DocumentIdentity.shop``, the store's word index);
``compare(..., by="words")`` then sends it to a person unless what both read says another invoice.

A serial photo that looks like an earlier claim's is another sticker when the serials decoded
from both differ; else (the same serial, or none decoded) a person looks.

What is kept per document is small and says no more than needed: invoice number keys and dates
read with confidence, and a 32-bit hash of each other word read (``words``; the confident ones in
``sure_words``), so "which words only one side shows" can be counted without storing the text.

>>> a = DocumentIdentity("a.jpg", "invoice", numbers=("204417811",), dates=("2020-02-17",))
>>> b = DocumentIdentity("b.jpg", "invoice", numbers=("204436052",), dates=("2020-02-18",))
>>> compare(a, b).relation
'different'
>>> compare(a, DocumentIdentity("c.jpg", "invoice", dates=("2020-02-17",))).relation
'unreadable'
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from ..checks import _read_confidence
from ..extract.facts import invoice_facts
from ..extract.folding import fold
from ..extract.invoice_numbers import InvoiceNumber, invoice_number_key
from ..records import BBox, DocumentRead

__all__ = ["DocumentIdentity", "Comparison", "compare", "invoice_identity", "photo_identity", "word_hash", "merged",
           "ROLES", "RELATIONS"]

ROLES = ("invoice", "serial_photo")
RELATIONS = ("same", "different", "edited", "unreadable")
"""What ``compare`` concludes: the same document, another one, an edited copy, cannot tell."""


def word_hash(word: str) -> str:
    """8 hex digits standing for a normalised word (its case, accents and OCR look-alikes folded)."""
    return hashlib.blake2b(word.encode(), digest_size=4).hexdigest()


def _token(text: str) -> str:
    """A word as compared: accents dropped, then as an invoice number key (so a number found on one
    side compares with the same number among the other side's words)."""
    return invoice_number_key(fold(text, lower=False))


@dataclass(frozen=True)
class DocumentIdentity:
    """What one upload of a claim says, as kept in the claim store for later comparisons."""

    name: str
    """The document's name in its claim."""
    role: str
    """'invoice' or 'serial_photo'."""
    image_hash: str | None = None
    """``pipeline.imagehash`` pHash (images only)."""
    numbers: tuple[str, ...] = ()
    """Invoice number keys (``invoice_number_key``) read with confidence."""
    dates: tuple[str, ...] = ()
    """ISO dates read with confidence."""
    serials: tuple[str, ...] = ()
    """Serial keys decoded from a serial photo's barcodes."""
    words: tuple[str, ...] = ()
    """``word_hash`` of every other word read (numbers and dates left out)."""
    sure_words: tuple[str, ...] = ()
    """... of those read with confidence."""
    plain: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
    """Hash -> the word as read: only for this claim's own documents (for the reviewer), never stored."""
    number_bbox: tuple[int, BBox] | None = field(default=None, compare=False, repr=False)
    """(page, box) of the first number read, for evidence; not stored."""
    content: tuple[str, ...] = field(default=(), compare=False)
    """What the invoice is about, as index keys: 'shop|date|total' for each date read with confidence,
    when the claimed shop is known and a total was read. An upload that does not
    *look* like an earlier one (cropped, turned, photographed again) is still found by these, and
    compared by what both say (``compare(..., by="content")``). Kept in the store's index only."""
    shop: str | None = field(default=None, compare=False)
    """The claimed shop's key (invoices): the store indexes the invoice's words per shop, and finds
    earlier invoices of the shop sharing several words rare in that shop (a buyer's name, street,
    order lines), whatever number, date or total was read (``compare(..., by="words")``). Kept in
    the store's index only."""
    unsure_numbers: tuple[str, ...] = field(default=(), compare=False)
    """Invoice number keys read without confidence (their box is left out of ``words``): another
    document's number a few characters from one of them may be this one, misread ('near')."""

    def anchors(self) -> tuple[str, ...]:
        """Index anchors: the dates (invoice) or serials (photo) read with confidence, else ('',).

        A look-up for an upload with anchors asks only for earlier look-alikes sharing one, or
        having none: two invoices dated differently with confidence are two invoices (an edited
        date is the number's business: the same shop and number is found exactly), two stickers
        decoding to different serials are two stickers. So one shop's template, claimed on every
        day of a promotion, is compared day by day, not all at once."""
        found = self.serials if self.role == "serial_photo" else self.dates
        return found or ("",)

    def to_json(self) -> str:
        data = {"numbers": list(self.numbers), "dates": list(self.dates), "serials": list(self.serials),
                "words": list(self.words), "sure_words": list(self.sure_words)}
        if self.shop:
            data["shop"] = self.shop  # whose word index holds its words (taken out again on re-recording)
        if self.unsure_numbers:
            data["unsure_numbers"] = list(self.unsure_numbers)
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, name: str, role: str, image_hash: str | None, text: str | None) -> DocumentIdentity:
        data = json.loads(text) if text else {}
        return cls(name, role, image_hash, tuple(data.get("numbers", ())), tuple(data.get("dates", ())),
                   tuple(data.get("serials", ())), tuple(data.get("words", ())), tuple(data.get("sure_words", ())),
                   shop=data.get("shop"), unsure_numbers=tuple(data.get("unsure_numbers", ())))


def _centre_in(a: BBox | None, b: BBox | None) -> bool:
    """Whether box ``a``'s centre lies in box ``b`` (a word read where a number or date was: not a word
    beside it whose box the next line's touches)."""
    if a is None or b is None:
        return False
    x, y = (a[0] + a[2]) / 2, (a[1] + a[3]) / 2
    return b[0] <= x <= b[2] and b[1] <= y <= b[3]


def invoice_identity(name: str, doc: DocumentRead, numbers: Sequence[InvoiceNumber], *, country: str | None,
                     image_hash: str | None, min_conf: float, shop: str | None = None) -> DocumentIdentity:
    """The identity of one invoice read: numbers and dates at ``min_conf`` or more, the other words;
    with ``shop`` (the claimed shop's key), the shop (its words are indexed per shop) and, with a
    total read, its content keys."""
    sure_numbers, unsure, taken = [], [], []
    for n in numbers:
        taken.append((n.page, n.bbox))
        if _read_confidence(doc, n) >= min_conf:
            if n.key not in sure_numbers:
                sure_numbers.append(n.key)
        elif n.key not in unsure:
            unsure.append(n.key)
    dates = []
    for d in invoice_facts(doc, country=country).dates:
        taken.append((d.page, d.bbox))
        if _read_confidence(doc, d) >= min_conf and d.date.isoformat() not in dates:
            dates.append(d.date.isoformat())
    words, sure, plain = set(), set(), {}
    for page in doc.pages:
        boxes = [b for p, b in taken if p == page.number]
        for w in page.words:
            token = _token(w.text)
            if len(token) < 2 or any(_centre_in(w.bbox, b) for b in boxes):
                continue
            h = word_hash(token)
            words.add(h)
            plain.setdefault(h, w.text)
            if w.conf >= min_conf:
                sure.add(h)
    first = next(((n.page, n.bbox) for n in numbers if n.bbox), None)
    content: tuple[str, ...] = ()
    # a photo's table may be read column by column: its total stands apart from its label
    facts = invoice_facts(doc, country=country)
    total = facts.total or facts.row_total
    # Only a key to find candidates by, never evidence: a total read without confidence is used too
    # (a misread one only misses a candidate; what both documents say decides, ``compare``).
    if shop and total is not None and total.value > 0:
        content = tuple(f"{shop}|{d}|{total.value.normalize():f}" for d in sorted(dates))
    return DocumentIdentity(name, "invoice", image_hash, tuple(sure_numbers), tuple(sorted(dates)), (),
                            tuple(sorted(words)), tuple(sorted(sure)), plain, first, content, shop or None,
                            tuple(k for k in unsure if k not in sure_numbers))


def merged(first: DocumentIdentity, *more: DocumentIdentity) -> DocumentIdentity:
    """One upload's identity from several readings of it (the reading cascade's engines): what any
    reading read, with confidence where any did. A page Tesseract read in part (no number, date,
    total nor buyer) is often read whole by the next engine; kept from the first reading alone,
    its copy photographed again was linked to nothing (lab seed 41: C-41-0089, C-41-0174)."""
    if not more:
        return first
    every = (first, *more)

    def union(field_name: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v for d in every for v in getattr(d, field_name)))

    plain = {}
    for d in reversed(every):
        plain.update(d.plain)
    return DocumentIdentity(first.name, first.role, first.image_hash, union("numbers"), tuple(sorted(union("dates"))),
                            union("serials"), tuple(sorted(union("words"))), tuple(sorted(union("sure_words"))),
                            plain, next((d.number_bbox for d in every if d.number_bbox), None),
                            tuple(sorted(union("content"))), first.shop,
                            tuple(k for k in union("unsure_numbers") if k not in union("numbers")))


def photo_identity(name: str, doc: DocumentRead, *, image_hash: str | None,
                   serial_key) -> DocumentIdentity:
    """The identity of a serial photo: the serial keys its barcodes decode to."""
    serials = sorted({k for b in doc.barcodes if (k := serial_key(b.text)) and len(k) >= 6})
    return DocumentIdentity(name, "serial_photo", image_hash, serials=tuple(serials))


@dataclass(frozen=True)
class Comparison:
    relation: str
    """One of ``RELATIONS``."""
    fields: dict[str, str]
    """'number', 'date', 'words' (invoices) or 'serial' (photos) -> 'same', 'differs' or 'unknown'
    (the number also 'near': one character apart)."""
    only_mine: tuple[str, ...] = ()
    """Words only the new document shows, as read (when it is this claim's own)."""
    only_theirs: int = 0
    """How many words only the earlier document shows."""

    def describe(self) -> str:
        parts = [f"{k} {v}" for k, v in self.fields.items()]
        if self.only_mine:
            parts.append("only here: " + ", ".join(self.only_mine[:6]))
        return "; ".join(parts)


def _field(a: Sequence[str], b: Sequence[str]) -> str:
    if not a or not b:
        return "unknown"
    return "same" if set(a) & set(b) else "differs"


_KEY_CHARS = "0123456789abcdefghijklmnopqrstuvwxyz"


@lru_cache(maxsize=4096)
def _one_apart(number: str, min_chars: int) -> frozenset[str]:
    """``word_hash`` of every key one character away from ``number`` (an invoice number key of
    ``min_chars`` or more; none for a shorter one: "1" and "2" are two numbers)."""
    if len(number) < min_chars:
        return frozenset()
    return frozenset(word_hash(number[:i] + c + number[i + 1:]) for i in range(len(number)) for c in _KEY_CHARS
                     if c != number[i])


def _close(numbers: Sequence[str], read: Iterable[str], min_chars: int, most: int) -> bool:
    """Whether a key of ``read`` has a number's length (``min_chars`` or more) and is at most ``most``
    characters from one of ``numbers``."""
    read = tuple(read)
    return any(len(t) == len(n) >= min_chars and sum(a != b for a, b in zip(t, n)) <= most
               for n in numbers for t in read)


def _read_near(numbers: Sequence[str], doc: DocumentIdentity, min_chars: int, most: int) -> bool:
    """Whether ``doc`` (this claim's own, whose words are known as read) shows a word of a number's
    length at most ``most`` characters from one of ``numbers`` (a photographed copy whose number OCR
    read "133566220" for "111566220", its label garbled so that no number was found)."""
    return _close(numbers, {_token(t) for t in doc.plain.values()}, min_chars, most)


def _number_field(mine: DocumentIdentity, theirs: DocumentIdentity, sure_words: int, near_min_chars: int = 6,
                  near_max_diff: int = 2) -> str:
    """Both numbers read: same or differs. One read: the same when the other document shows it among
    its words, another when the other was read with confidence (``sure_words`` words) and shows it
    nowhere; else unknown. 'near': the two differ in one character only ("236430257" and
    "238430257", each read with confidence): one misread digit or two numbers of one shop's series,
    which only a person tells apart."""
    if mine.numbers and theirs.numbers:
        found = _field(mine.numbers, theirs.numbers)
        if found == "differs" and any(word_hash(b) in _one_apart(a, near_min_chars)
                                      for a in mine.numbers for b in theirs.numbers):
            return "near"
        return found
    known, other = (mine, theirs) if mine.numbers else (theirs, mine)
    if not known.numbers:
        return "unknown"
    shown = set(other.words)
    if any(word_hash(n) in shown for n in known.numbers):
        return "same"
    if any(_one_apart(n, near_min_chars) & shown for n in known.numbers) or _read_near(
            known.numbers, other, near_min_chars, near_max_diff) or _close(
            known.numbers, other.unsure_numbers, near_min_chars, near_max_diff):
        return "near"  # ... or the number the other read without confidence is this one, misread
    return "differs" if len(other.sure_words) >= sure_words else "unknown"


def compare(mine: DocumentIdentity, theirs: DocumentIdentity, *, differing_words: int = 3,
            by: str = "image", near_min_chars: int = 6, near_max_diff: int = 2) -> Comparison:
    """Whether two look-alike uploads are one document (see the module docstring for the rules).

    differing_words: how many confidently read words each side must show that the other does not
    for "other words differ" (a buyer's name and address, other lines, another order number).
    near_min_chars, near_max_diff: when invoice numbers are 'near' (``_number_field``).
    by: how the earlier upload was found. 'image': its picture is near. 'content': only the same
    shop, date and total (one shop's bundle sells many times a day): the same number is the same
    invoice; another number read on both is another invoice; numbers not read on both sides are a
    person's question only when the words say the same too (``words`` same), else another invoice.
    'words': only words rare at the claimed shop that both show (a buyer's name, street, order lines;
    not the shop's template): the same number is the same invoice; another number (read on both,
    or read on one and shown nowhere on the other, read with confidence) or another date read on
    both is another invoice; anything else is a person's question, never a rejection.
    """
    if mine.role == "serial_photo":
        serial = _field(mine.serials, theirs.serials)
        relation = "different" if serial == "differs" else ("same" if serial == "same" else "unreadable")
        return Comparison(relation, {"serial": serial})
    number = _number_field(mine, theirs, 10 * differing_words, near_min_chars, near_max_diff)
    date = _field(mine.dates, theirs.dates)
    their_words, my_words = set(theirs.words), set(mine.words)
    only_mine = [h for h in mine.sure_words if h not in their_words]
    only_theirs = [h for h in theirs.sure_words if h not in my_words]
    if not mine.sure_words or not theirs.sure_words:
        words = "unknown"
    else:
        words = "differs" if min(len(only_mine), len(only_theirs)) >= differing_words else "same"
    fields = {"number": number, "date": date, "words": words}
    if by == "words" and number != "same":
        # Only the number and the date tell two invoices apart here, not the words each side alone
        # shows: two photos of one page read differently (lab seed 41: a re-photographed copy and its
        # original, C-41-0471 / C-41-0164, each show words the other does not).
        relation = "different" if number == "differs" or date == "differs" else "unreadable"
        return Comparison(relation, fields, tuple(mine.plain.get(h, h) for h in only_mine), len(only_theirs))
    if by == "content" and number != "same":
        relation = ("unreadable" if (number == "unknown" and words == "same") or number == "near"
                    else "different")
        return Comparison(relation, fields, tuple(mine.plain.get(h, h) for h in only_mine), len(only_theirs))
    if number == "same":
        relation = "same"
    elif number == "unknown" or (number == "near" and date != "differs"):
        relation = "unreadable"
    elif date == "differs" or words == "differs":
        relation = "different"
    elif words == "unknown":
        relation = "unreadable"
    else:
        relation = "edited"
    shown = tuple(mine.plain.get(h, h) for h in only_mine)
    return Comparison(relation, fields, shown, len(only_theirs))
