"""Signals that an uploaded file was edited, read from the file itself (not from its text):

- ``pdf_revisions``: the PDF was saved again after it was made (incremental updates), and which
  objects the later saves wrote (``PDF_REVISED``);
- ``pdf_editor``: an editing tool (``[editors].pdf``) wrote the file after another application
  made it: it is named in a later save, or in /Producer while /Creator names another application
  or the file was modified after it was created (``PDF_EDITOR``);
- ``pdf_hidden_text``: text in the PDF that does not show - drawn under an opaque box, in the
  paper's colour - or text drawn over other text (``PDF_HIDDEN_TEXT``). The hidden text is the
  evidence; a hidden date that is not the visible one is named;
- ``pdf_fonts``: a date, amount or the claimed model drawn in a font (or size) no other word of
  its line, and no other word of the document, uses - what a replaced value looks like
  (``PDF_FONT_MISMATCH``);
- ``image_editor``: an image's EXIF Software or XMP CreatorTool names an editing tool
  (``[editors].image``; ``IMAGE_EDITOR``).

Each is a reason for a person to look (review), with evidence: page, box, what was found.
PDFs are read only through ``pipeline.ocr.pdf``.

>>> from pipeline.ocr.pdf import PdfChar, PdfForensics, PdfRevision
>>> visible = [PdfChar(c, "Helvetica", 10, (10 * i, 0, 10 * i + 8, 12), 200) for i, c in enumerate("17.02.2020")]
>>> hidden = [PdfChar(c, "Helvetica", 10, (10 * i, 20, 10 * i + 8, 32), 0) for i, c in enumerate("14.01.2020")]
>>> f = PdfForensics({}, (PdfRevision((1, 2)),), (tuple(visible + hidden),), 100)
>>> [c.text for c in hidden_text(f, min_chars=3)[0][1]][:3]
['1', '4', '.']
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..decision import Check, Evidence
from ..extract.dates import find_dates_in_text
from ..extract.normalise import normalise_text
from ..ocr.pdf import PdfChar, PdfForensics
from ..records import BBox, union_bbox
from .knowledge import IntegrityKnowledge, default_integrity

__all__ = ["pdf_checks", "hidden_text", "font_outliers", "image_editor_check", "PDF_CHECKS"]

PDF_CHECKS = ("pdf_revisions", "pdf_editor", "pdf_hidden_text", "pdf_fonts")


def _scaled(box: BBox | None, factor: float) -> BBox | None:
    return None if box is None else tuple(int(round(v * factor)) for v in box)  # type: ignore[return-value]


def _overlap(a: BBox, b: BBox) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1])) or 1
    return w * h / smaller


def _runs(chars: Sequence[PdfChar]) -> list[list[PdfChar]]:
    """Glyphs grouped into words: the same line, each close to the last."""
    out: list[list[PdfChar]] = []
    for c in chars:
        if out:
            last = out[-1][-1]
            height = max(1, last.bbox[3] - last.bbox[1])
            same_line = abs(c.bbox[1] - last.bbox[1]) <= height / 3
            if same_line and -height / 2 <= c.bbox[0] - last.bbox[2] <= height / 3:
                out[-1].append(c)
                continue
        out.append([c])
    return out


def _size_ratio(a: PdfChar, b: PdfChar) -> float:
    ha, hb = max(a.size, 0.1), max(b.size, 0.1)
    return max(ha, hb) / min(ha, hb)


def hidden_text(f: PdfForensics, *, max_contrast: int = 24, overlap: float = 0.5,
                min_chars: int = 3, max_size_ratio: float = 1.5) -> list[tuple[int, list[PdfChar], str]]:
    """(page, glyphs, how) of each run of glyphs that does not show ('hidden') or is drawn over
    other text of about its size ('overdrawn': at most ``max_size_ratio`` times taller or smaller),
    in the forensic render's pixels."""
    out = []
    for number, chars in enumerate(f.pages, start=1):
        kind: dict[int, str] = {}
        for i, c in enumerate(chars):
            if c.contrast < 0:
                continue  # off the page
            if c.contrast <= max_contrast:
                kind[i] = "hidden"
                continue
            # drawn first, then covered by a glyph drawn later at the same place: by another character
            # (text typed over text), or by the same one (a retyped value keeps some of its characters)
            later = [d for d in chars[i + 1:] if d.contrast > max_contrast and _overlap(c.bbox, d.bbox) >= overlap
                     and _size_ratio(c, d) <= max_size_ratio]
            if later:
                kind[i] = "overdrawn" if any(d.text != c.text for d in later) else "retyped"
        run: list[int] = []
        for i in sorted(kind) + [None]:
            if i is not None and run and i == run[-1] + 1 and len(_runs([chars[run[-1]], chars[i]])) == 1:
                run.append(i)
                continue
            # a run counts when something in it is hidden or overdrawn (not only glyphs drawn twice: fake bold)
            how = [kind[j] for j in run]
            if len(run) >= min_chars and ("hidden" in how or "overdrawn" in how):
                out.append((number, [chars[j] for j in run], "hidden" if "hidden" in how else "overdrawn"))
            run = [i] if i is not None else []
    return out


def _words(chars: Sequence[PdfChar]) -> list[list[PdfChar]]:
    return [run for run in _runs(chars) if "".join(c.text for c in run).strip()]


def _spaced(run: Sequence[PdfChar]) -> str:
    """A run's text with a space where the gap between two glyphs is a word's (a PDF may draw no
    space glyph: "14 de marzo de 2020" is positioned glyphs only).

    >>> g = [PdfChar(t, "F", 9.5, (x, 0, x + 8, 14), 200) for t, x in (("1", 0), ("4", 8), ("d", 20), ("e", 28))]
    >>> _spaced(g)
    '14 de'
    """
    out = []
    for i, c in enumerate(run):
        if i and c.bbox[0] - run[i - 1].bbox[2] > 0.15 * max(1, c.bbox[3] - c.bbox[1]) and c.text.strip():
            out.append(" ")
        out.append(c.text)
    return "".join(out)


def _is_value(text: str, model_tokens: set[str]) -> str | None:
    if find_dates_in_text(text):
        return "date"
    if any(ch.isdigit() for ch in text) and ("," in text or "." in text) and text[-3:-2] in (",", "."):
        return "amount"
    if model_tokens and normalise_text(text) in model_tokens and any(ch.isdigit() for ch in text):
        return "model"
    return None


def font_outliers(f: PdfForensics, models: Sequence[str] = ()) -> list[tuple[int, list[PdfChar], str]]:
    """(page, glyphs, what) of each date, amount or claimed-model word drawn in a font and size that
    no other word on its line and no other word in the document uses, or in a font no other line of
    the document uses (the value retyped with its label)."""
    tokens = {t for m in models for t in normalise_text(m).split() if any(ch.isdigit() for ch in t)}
    pages = [_words(chars) for chars in f.pages]
    use: dict[tuple[str, float], int] = {}
    for words in pages:
        for w in words:
            key = (w[0].font, w[0].size)
            use[key] = use.get(key, 0) + 1
    fonts: dict[str, int] = {}
    for (font, _), n in use.items():
        fonts[font] = fonts.get(font, 0) + n
    out = []
    for number, words in enumerate(pages, start=1):
        for w in words:
            text = _spaced(w)
            what = _is_value(text, tokens)
            if what is None:
                continue
            key = (w[0].font, w[0].size)
            line = [x for x in words if x is not w and abs(x[0].bbox[1] - w[0].bbox[1]) <= 3]
            alone = use.get(key, 0) <= 1 and all((x[0].font, x[0].size) != key for x in line)
            if alone and line and (fonts.get(key[0], 0) <= 1 or all(x[0].font != key[0] for x in line)):
                out.append((number, w, what))
            elif fonts.get(key[0], 0) == 1 + sum(x[0].font == key[0] for x in line) and len(use) > 1:
                out.append((number, w, what))  # its font is on this line only
        out += _phrase_outliers(number, words, use, fonts, {id(w[0]) for _, w, _ in out})
    return out


def _phrase_outliers(number: int, words: list[list[PdfChar]], use: dict, fonts: dict, flagged: set[int]
                     ) -> list[tuple[int, list[PdfChar], str]]:
    """The same tests for a date written in several words ("14 de marzo de 2020") drawn in one font
    and size: the run of its line's words in that font, taken as one value."""
    out = []
    done: set[int] = set()
    for w in words:
        if id(w[0]) in done:
            continue
        line = sorted((x for x in words if abs(x[0].bbox[1] - w[0].bbox[1]) <= 3), key=lambda x: x[0].bbox[0])
        done |= {id(x[0]) for x in line}
        runs: list[list[list[PdfChar]]] = []
        for x in line:
            if runs and (runs[-1][-1][0].font, runs[-1][-1][0].size) == (x[0].font, x[0].size):
                runs[-1].append(x)
            else:
                runs.append([x])
        for run in runs:
            text = " ".join(_spaced(x) for x in run)
            if len(run) < 2 or any(id(x[0]) in flagged for x in run) or _is_value(text, set()) != "date":
                continue
            key, n = (run[0][0].font, run[0][0].size), len(run)
            others = [x for x in line if all(x is not y for y in run)]
            alone = use.get(key, 0) <= n and all((x[0].font, x[0].size) != key for x in others)
            if (alone and others and (fonts.get(key[0], 0) <= n or all(x[0].font != key[0] for x in others))) or (
                    fonts.get(key[0], 0) == n + sum(x[0].font == key[0] for x in others) and len(use) > 1):
                out.append((number, [c for x in run for c in x], "date"))
    return out


def _editor_check(f: PdfForensics, kb: IntegrityKnowledge) -> tuple[str, str] | None:
    """(editor, why) when an editing tool wrote the file after another application made it."""
    later = [p for r in f.revisions[1:] for p in r.producers]
    for who in later:
        if (editor := kb.is_editor(who, "pdf")) is not None:
            return editor, f"a later save was written by {who!r}"
    producer, creator = str(f.metadata.get("Producer") or ""), str(f.metadata.get("Creator") or "")
    for mine, other in ((producer, creator), (creator, producer)):
        editor = kb.is_editor(mine, "pdf")
        if editor is None:
            continue
        if other and kb.is_editor(other, "pdf") is None and normalise_text(other) != normalise_text(mine):
            return editor, f"made by {other!r}, then written by {mine!r}"
        created, modified = f.metadata.get("CreationDate"), f.metadata.get("ModDate")
        if created and modified and str(modified)[:16] != str(created)[:16]:
            return editor, f"written by {mine!r}, modified ({modified}) after it was created ({created})"
    return None


def _visible_dates(f: PdfForensics, hidden: list[tuple[int, list[PdfChar], str]]) -> set[str]:
    gone = {id(c) for _, run, _ in hidden for c in run}
    out = set()
    for chars in f.pages:
        for run in _runs([c for c in chars if id(c) not in gone]):
            out |= {d.date.isoformat() for d in find_dates_in_text("".join(c.text for c in run))}
    return out


def pdf_checks(name: str, f: PdfForensics, *, dpi: int, models: Sequence[str] = (),
               knowledge: IntegrityKnowledge | None = None) -> list[Check]:
    """The four PDF checks of one document. ``dpi``: the pipeline's page pixels (evidence boxes)."""
    kb = knowledge or default_integrity()
    factor = dpi / f.dpi
    out = []
    if len(f.revisions) > 1:
        later = sorted({o for r in f.revisions[1:] for o in r.objects})
        who = [p for r in f.revisions[1:] for p in r.producers]
        detail = (f"saved {len(f.revisions)} times: the original, then updates writing objects "
                  f"{', '.join(map(str, later[:12]))}{' ...' if len(later) > 12 else ''}"
                  + (f" (by {', '.join(sorted(set(who)))})" if who else ""))
        out.append(Check(name="pdf_revisions", product=None, status="uncertain", score=40, expected="saved once",
                         found=f"{len(f.revisions)} saves", evidence=Evidence(name), reason="PDF_REVISED",
                         detail=detail))
    else:
        out.append(Check(name="pdf_revisions", product=None, status="pass", score=100, expected="saved once",
                         found="1 save"))
    editor = _editor_check(f, kb)
    if editor:
        out.append(Check(name="pdf_editor", product=None, status="uncertain", score=40,
                         expected="not written by an editing tool", found=editor[0], evidence=Evidence(name),
                         reason="PDF_EDITOR", detail=editor[1]))
    else:
        out.append(Check(name="pdf_editor", product=None, status="pass", score=100,
                         expected="not written by an editing tool",
                         found=str(f.metadata.get("Producer") or "") or None))
    hidden = hidden_text(f, max_contrast=kb.pdf.hidden_max_contrast, overlap=kb.pdf.overlap,
                         min_chars=kb.pdf.min_hidden_chars, max_size_ratio=kb.pdf.overdrawn_max_size_ratio)
    if hidden:
        page, run, how = hidden[0]
        texts = ["".join(c.text for c in r) for _, r, _ in hidden]
        dates = {d.date.isoformat() for t in texts for d in find_dates_in_text(t)}
        other = sorted(dates - _visible_dates(f, hidden))
        detail = (f"{len(hidden)} run(s) of text that do not show or are drawn over: "
                  + "; ".join(f"p.{p} {h} '{''.join(c.text for c in r)}'" for p, r, h in hidden[:4])
                  + (f"; a hidden date other than the visible one: {', '.join(other)}" if other else ""))
        out.append(Check(name="pdf_hidden_text", product=None, status="uncertain", score=30,
                         expected="all text visible", found=texts[0],
                         evidence=Evidence(name, page, _scaled(union_bbox(c.bbox for c in run), factor), "pdf_text"),
                         reason="PDF_HIDDEN_TEXT", detail=detail))
    else:
        out.append(Check(name="pdf_hidden_text", product=None, status="pass", score=100, expected="all text visible"))
    odd = font_outliers(f, models)
    if odd:
        page, run, what = odd[0]
        text = _spaced(run)
        detail = "; ".join(f"p.{p} {w} '{_spaced(r)}' in {r[0].font} {r[0].size:g} pt, "
                           f"a font its line and the document do not otherwise use" for p, r, w in odd[:4])
        out.append(Check(name="pdf_fonts", product=None, status="uncertain", score=40,
                         expected="values in the document's fonts", found=text,
                         evidence=Evidence(name, page, _scaled(union_bbox(c.bbox for c in run), factor), "pdf_text"),
                         reason="PDF_FONT_MISMATCH", detail=detail))
    else:
        out.append(Check(name="pdf_fonts", product=None, status="pass", score=100,
                         expected="values in the document's fonts"))
    return out


def image_editor_check(name: str, path: Path, *, knowledge: IntegrityKnowledge | None = None) -> Check:
    """``image_editor``: the image's EXIF Software / XMP CreatorTool names an editing tool."""
    from PIL import Image, UnidentifiedImageError

    kb = knowledge or default_integrity()
    found = []
    try:
        with Image.open(path) as im:
            exif = im.getexif()
            for tag in (0x0131, 0x013B):  # Software, Artist
                if exif.get(tag):
                    found.append(str(exif.get(tag)))
            xmp = im.info.get("xmp") or im.info.get("XML:com.adobe.xmp") or b""
            if isinstance(xmp, bytes):
                xmp = xmp.decode("utf-8", "replace")
            found += [part for part in str(xmp).replace(">", "<").split("<") if "creatortool" in part.lower()
                      or "softwareagent" in part.lower()]
            if im.info.get("Software"):
                found.append(str(im.info["Software"]))
    except (OSError, UnidentifiedImageError, ValueError):
        return Check(name="image_editor", product=None, status="skipped", score=0,
                     detail="the image's metadata cannot be read")
    for text in found:
        if (editor := kb.is_editor(text, "image")) is not None:
            return Check(name="image_editor", product=None, status="uncertain", score=40,
                         expected="not saved by an editing tool", found=editor, evidence=Evidence(name),
                         reason="IMAGE_EDITOR", detail=f"the image's metadata names {text.strip()[:120]!r}")
    return Check(name="image_editor", product=None, status="pass", score=100, expected="not saved by an editing tool")
