"""What condition a claimed product was sold in, read from its invoice line ("MSI MEG X570 ACE
hovedkort - B-vare, brukt": B-stock, used), against the conditions a promotion accepts
(``conditions`` in its terms; the words are ``[conditions]`` of ``labels.toml``).

The line is the one on which ``product_on_invoice`` found the claimed model, and the line under
it when that one only continues the description (it holds no amount). A line stating no
condition is a new product. A condition the terms exclude, read with confidence, fails the
check (the terms do not pay for it); read without confidence, a person looks.

>>> from pipeline.records import Line, Word
>>> words = "MSI MEG X570 ACE hovedkort - B-vare, brukt 3 990,00".split()
>>> line = Line(tuple(Word(w, 93, (40 * i, 0, 40 * i + 35, 12)) for i, w in enumerate(words)))
>>> [(c.condition, c.text) for c in conditions_on([line])]
[('used', 'brukt'), ('b_stock', 'B-vare')]
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..checks import Read
from ..claim import Claim
from ..decision import Check, Evidence
from ..extract.labels import Knowledge, LineText, default_knowledge
from ..records import BBox, DocumentRead, Line, union_bbox
from .terms import Terms

__all__ = ["Condition", "conditions_on", "product_lines", "check_product_condition"]

_AMOUNT = re.compile(r"\d[.,]\d{2}(?!\d)")


@dataclass(frozen=True)
class Condition:
    condition: str
    """A ``[conditions]`` name: used, refurbished, b_stock, open_box, demo, ex_display."""
    text: str
    """The words as read."""
    conf: float
    """The lowest OCR confidence of those words (100 for a PDF text layer)."""
    bbox: BBox | None


def conditions_on(lines: Sequence[Line], knowledge: Knowledge | None = None) -> list[Condition]:
    """Every condition the lines state, in the order of ``[conditions]``, each once."""
    kb = knowledge or default_knowledge()
    out: dict[str, Condition] = {}
    for line in lines:
        text = LineText.of(line)
        for name, pattern in kb.conditions.items():
            m = pattern.search(text.folded)
            if m is None or name in out:
                continue
            words = [w for (s, e, _), w in zip(text.spans, line.words) if s < m.end() and e > m.start()]
            out[name] = Condition(name, text.raw[m.start():m.end()], min((w.conf for w in words), default=0.0),
                                  union_bbox(w.bbox for w in words))
    return list(out.values())


def product_lines(doc: DocumentRead, page: int, bbox: BBox) -> list[Line]:
    """The line holding ``bbox`` on ``page``, and the next one when it only continues the description
    (below it, within 1.5 text heights, no amount on it). On a turned photo a line's box is taller
    than its text and overlaps the next line's: heights are its words' (the median), and the next
    line's middle must be half a text height below this one's.

    >>> from pipeline.records import Page, Word
    >>> def line(y, *texts, tilt=0):
    ...     return Line(tuple(Word(t, 95, (100 * i, y - tilt * i, 100 * i + 90, y - tilt * i + 24))
    ...                 for i, t in enumerate(texts)))
    >>> page = Page(1, 800, 800, "ocr", (line(200, "MSI", "MAG", "X570", "TOMAHAWK", tilt=10),
    ...                                  line(222, "-", "Sockel", "AM4", "-", "B-Ware,", "gebraucht", tilt=10),
    ...                                  line(250, "1", "x", "219,90", "219,90", tilt=10)))
    >>> [ln.text for ln in product_lines(DocumentRead("r.jpg", "jpeg", "0", (page,)), 1, (0, 200, 90, 224))]
    ['MSI MAG X570 TOMAHAWK', '- Sockel AM4 - B-Ware, gebraucht']
    """
    if not 1 <= page <= len(doc.pages):
        return []
    lines = doc.pages[page - 1].lines
    middle = (bbox[1] + bbox[3]) / 2
    for i, line in enumerate(lines):
        box = line.bbox
        if box is None or not box[1] <= middle <= box[3]:
            continue
        out = [line]
        if i + 1 < len(lines) and (nxt := lines[i + 1].bbox) is not None:
            heights = sorted(w.bbox[3] - w.bbox[1] for w in line.words) or [box[3] - box[1]]
            height = heights[len(heights) // 2]
            below = (nxt[1] + nxt[3]) / 2 - (box[1] + box[3]) / 2
            if below >= 0.5 * height and nxt[1] - box[3] <= 1.5 * height and not _AMOUNT.search(lines[i + 1].text):
                out.append(lines[i + 1])
        return out
    return []


def _later_conditions(later: Sequence[DocumentRead], page: int, box: BBox | None,
                      knowledge: Knowledge | None) -> list[Condition]:
    """The conditions another engine's readings show on the product's line (``box``: its lines on the
    first reading; the later lines whose middles lie in its height and that overlap it)."""
    if box is None:
        return []
    lines = [line for doc in later if 1 <= page <= len(doc.pages) for line in doc.pages[page - 1].lines
             if line.bbox is not None and box[1] <= (line.bbox[1] + line.bbox[3]) / 2 <= box[3]
             and line.bbox[0] < box[2] and box[0] < line.bbox[2]]
    return conditions_on(lines, knowledge)


def check_product_condition(claim: Claim, index: int, invoices: Sequence[Read], doc_checks: Sequence[Check],
                            terms: Terms, *, min_conf: float, knowledge: Knowledge | None = None,
                            later: Mapping[str, Sequence[DocumentRead]] | None = None) -> Check:
    """``product_condition`` of product ``index``: is its invoice line's condition one the terms accept?
    later: invoice name -> the reading cascade's later readings of it; a condition only they show on
    the product's line (a hard photo Tesseract read half of) is for a person to look at, not a
    rejection."""
    accepted = terms.conditions
    if not accepted:
        return Check(name="product_condition", product=index, status="skipped", score=0,
                     detail="the terms set no accepted condition")
    expected = " or ".join(accepted)
    found = next((c for c in doc_checks if c.name == "product_on_invoice" and c.product == index), None)
    ev = found.evidence if found is not None else None
    doc = next((d for n, d in invoices if ev is not None and n == ev.document and isinstance(d, DocumentRead)), None)
    if doc is None or ev.page is None or ev.bbox is None:
        return Check(name="product_condition", product=index, status="skipped", score=0, expected=expected,
                     detail="the product's line was not found on the invoice")
    lines = product_lines(doc, ev.page, ev.bbox)
    stated = conditions_on(lines, knowledge)
    line_box = union_bbox(line.bbox for line in lines if line.bbox)
    if not stated and (seen := [c for c in _later_conditions((later or {}).get(ev.document, ()), ev.page, line_box,
                                                                knowledge) if c.condition not in accepted]):
        c = seen[0]
        return Check(name="product_condition", product=index, status="uncertain", score=40, expected=expected,
                     found=c.condition, evidence=Evidence(ev.document, ev.page, c.bbox or line_box, ev.source),
                     reason="PRODUCT_CONDITION_UNCLEAR",
                     detail=f"a second reading of the invoice line shows {c.text!r} ({c.condition}); the first "
                            f"reading shows no condition")
    if not stated:
        status = "pass" if "new" in accepted else "fail"
        return Check(name="product_condition", product=index, status=status, score=100 if status == "pass" else 0,
                     expected=expected, found="new", evidence=Evidence(ev.document, ev.page, line_box, ev.source),
                     reason=None if status == "pass" else
                     "PRODUCT_CONDITION_EXCLUDED", detail="the invoice line states no condition: a new product")
    excluded = [c for c in stated if c.condition not in accepted]
    if not excluded:
        c = stated[0]
        return Check(name="product_condition", product=index, status="pass", score=100, expected=expected,
                     found=c.condition, evidence=Evidence(ev.document, ev.page, c.bbox or line_box, ev.source),
                     detail=f"the invoice line says {c.text!r}")
    sure = [c for c in excluded if c.conf >= min_conf]
    c = (sure or excluded)[0]
    names = ", ".join(f"{x.condition} ({x.text!r})" for x in excluded)
    if sure:
        return Check(name="product_condition", product=index, status="fail", score=0, expected=expected,
                     found=c.condition, evidence=Evidence(ev.document, ev.page, c.bbox or line_box, ev.source),
                     reason="PRODUCT_CONDITION_EXCLUDED",
                     detail=f"the invoice line says the product is {names}; the terms accept {expected}")
    return Check(name="product_condition", product=index, status="uncertain", score=40, expected=expected,
                 found=c.condition, evidence=Evidence(ev.document, ev.page, c.bbox or line_box, ev.source),
                 reason="PRODUCT_CONDITION_UNCLEAR",
                 detail=f"the invoice line may say the product is {names} (read with confidence {c.conf:.0f})")
