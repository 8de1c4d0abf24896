"""``image_patch``: a value pasted onto a photographed or scanned invoice.

A forger who changes the date or the model on a photo covers the old value with a patch (blank
paper, or a piece cut from elsewhere) and types or pastes the new one. The patch was not shot with
the rest of the page: its paper can be flatter or noisier than around it (noise), its text sharper
or softer than the words of its line (sharpness), its paper a step brighter or darker than the
paper around (level), and its pixels not on the JPEG 8x8 grid of the rest of the photo (grid).

``patch_stats(grey, box, words)`` measures them around one box (page pixels, the box where the
date or the model was read) against the nearest words of its height and the paper around it;
``patch_findings`` says which of ``[patch].findings`` (``integrity.toml``) differ beyond their
thresholds. Measured on the lab and on real scanned receipts (README, "Pasted values on photos"):
the text's sharpness - against its nearest words, and more so than the page's own words against
theirs (``page_sharpness``: a thermal receipt's print varies more than a laser print's) - and a
patch's paper level tell a paste; paper noise by the words and the JPEG grid of a word-sized region do
not (they vary more among genuine words), so they are measured only when named there. A couple
of milliseconds per value; decoding the page again costs more.

>>> import numpy as np
>>> rng = np.random.default_rng(1)
>>> page = np.clip(rng.normal(225, 4, (120, 400)), 0, 255).astype(np.uint8)
>>> page[40:60, 150:250] = 235                      # a flat patch of paper pasted over a value
>>> s = patch_stats(page, (160, 44, 240, 56), [])
>>> round(s.level), s.noise_around is None    # brighter than every side (its paper: median 225); no words around
(10, True)
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..decision import Check, Evidence
from ..records import BBox
from .knowledge import PatchKnowledge

__all__ = ["PatchStats", "PageSharpness", "page_sharpness", "patch_stats", "patch_findings", "patch_measurements",
           "image_patch_check", "page_grey", "read_pixels"]


@dataclass(frozen=True)
class PatchStats:
    """What the region of one value shows against its surroundings (page pixels, grey levels)."""
    box: BBox
    """The region compared: the value's box and a margin."""
    noise: float | None
    """Paper noise in and just around the value's box (``strip``): 1.4826 x MAD of the residual after
    a Gaussian blur of sigma 1, grey levels (None: too few pixels, or not measured)."""
    noise_around: float | None
    """The same in and around the nearest words of its height."""
    sharpness: float | None
    """The value's text: its steepest steps over its ink-to-paper contrast (``_sharpness``)."""
    sharpness_around: float | None
    """The median of the same over the other words of its lines (None: fewer than ``min_words``)."""
    level: float
    """The paper's level inside minus around, where it differs from every side the same way (grey
    levels; the paper's pixels only, away from ink: a scan's sharpening lights the paper between
    bold letters)."""
    grid: float | None
    """Blocking on the surroundings' JPEG 8x8 grid phase in the value's box (excess over the other
    phases; None: too few pixels, or not measured)."""
    grid_around: float | None
    words_around: int = 0
    page_z: float | None = None
    """The value's sharpness ratio (``sharpness / sharpness_around``) against the same ratio of every
    word of its height on the page (``PageSharpness``), in the page's robust spreads (None: fewer than
    ``page_min_words`` such words)."""
    page_words: int = 0

    def to_dict(self) -> dict:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def _clip(box: Sequence[float], w: int, h: int) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    return max(0, int(x0)), max(0, int(y0)), min(w, int(np.ceil(x1))), min(h, int(np.ceil(y1)))


def _grow(box: Sequence[float], dx: float, dy: float) -> tuple[float, float, float, float]:
    return box[0] - dx, box[1] - dy, box[2] + dx, box[3] + dy


def _mad(values: np.ndarray) -> float:
    if values.size == 0:
        return 0.0
    return float(1.4826 * np.median(np.abs(values - np.median(values))))


def _percentiles(values: np.ndarray, qs: Sequence[float]) -> list[float]:
    """``np.percentile(values, qs)`` (its linear method), without its overhead: one partial sort
    (every word of a page is measured, a few hundred calls a page). ``values``: not empty."""
    flat = values.ravel()
    at = [q / 100 * (flat.size - 1) for q in qs]
    lows = [int(a) for a in at]
    highs = [min(flat.size - 1, lo + 1) for lo in lows]
    part = np.partition(flat, sorted(set(lows + highs)))
    return [float(part[lo] + (a - lo) * (part[hi] - part[lo])) for a, lo, hi in zip(at, lows, highs)]


def _sharpness(g: np.ndarray, box: tuple[int, int, int, int]) -> float | None:
    """The steepest steps between neighbouring pixels in ``box`` (95th percentile over the ink's
    edges) over its ink-to-paper contrast: 1 for a sharp edge, about 0.4 for a blur of one pixel."""
    x0, y0, x1, y1 = box
    part = g[y0:y1, x0:x1].astype(np.float32)
    if part.shape[0] < 4 or part.shape[1] < 4:
        return None
    lo, hi = _percentiles(part, (3, 97))
    contrast = float(hi - lo)
    if contrast < 20:
        return None
    steps = np.concatenate([np.abs(np.diff(part, axis=1)).ravel(), np.abs(np.diff(part, axis=0)).ravel()])
    edges = steps[steps > 0.1 * contrast]
    if edges.size < 8:
        return None
    return _percentiles(edges, (95,))[0] / contrast


class _Paper:
    """The paper in and just around some words' boxes: its noise residuals and its steps per JPEG
    grid phase (columns and rows), accumulated word by word (each cut from the page with a margin)."""

    def __init__(self) -> None:
        self.residuals: list[np.ndarray] = []
        self.steps = np.zeros((2, 8))
        self.counts = np.zeros((2, 8))

    def add(self, grey: np.ndarray, box: Sequence[float], strip: float, ink_step: float) -> None:
        H, W = grey.shape
        x0, y0, x1, y1 = _clip(_grow(box, strip + 3, strip + 3), W, H)
        g8 = np.ascontiguousarray(grey[y0:y1, x0:x1])
        if g8.shape[0] < 8 or g8.shape[1] < 8:
            return
        g = g8.astype(np.float32)
        paper = _paper(g8, ink_step)
        paper[:3, :], paper[-3:, :], paper[:, :3], paper[:, -3:] = False, False, False, False  # the margin
        self.residuals.append((g - cv2.GaussianBlur(g, (0, 0), 1.0))[paper])
        for axis, (gg, off) in enumerate(((g, x0), (g.T, y0))):
            dx = np.abs(np.diff(gg, axis=1))
            phase = np.broadcast_to((np.arange(dx.shape[1]) + off + 1) % 8, dx.shape)
            inside = np.ones(dx.shape, bool)
            inside[:3, :], inside[-3:, :], inside[:, :3], inside[:, -3:] = False, False, False, False
            self.steps[axis] += np.bincount(phase[inside], weights=dx[inside], minlength=8)
            self.counts[axis] += np.bincount(phase[inside], minlength=8)

    def noise(self, min_pixels: int) -> float | None:
        values = np.concatenate(self.residuals) if self.residuals else np.zeros(0)
        return _mad(values) if values.size >= min_pixels else None

    def blocking(self, phase: tuple[int, int] | None, min_pixels: int) -> tuple[float | None, tuple[int, int] | None]:
        """(blocking at ``phase`` (its own strongest when None), the phases): the mean step across
        the 8x8 grid's lines over the median step at the other phases, minus 1, columns and rows averaged."""
        if self.counts.sum() < 16 * min_pixels:
            return None, None
        mean = self.steps / np.maximum(1.0, self.counts)
        phase = phase or (int(np.argmax(mean[0])), int(np.argmax(mean[1])))
        out = []
        for axis in (0, 1):
            others = float(np.median(np.delete(mean[axis], phase[axis])))
            if others < 0.5:
                return None, None  # no steps to speak of: nothing to compare
            out.append(mean[axis][phase[axis]] / others - 1)
        return float(np.mean(out)), phase


def _level(g: np.ndarray, paper: np.ndarray, inner: tuple[int, int, int, int], sides: list[np.ndarray],
           percentile: float, min_pixels: int) -> float:
    """The paper's level inside minus around (the ``percentile`` of the ``paper`` pixels: away from
    ink and its edges, so neither how much text a side holds nor a scan's bright halo around bold
    letters moves it), as the smallest difference to any side (left, right, above, below) when all
    measured sides (three at least) differ the same way; 0 otherwise. A patch differs from all its
    surroundings; a shaded cell, a shadow's edge or a glare spot from some."""
    x0, y0, x1, y1 = inner
    part = g[y0:y1, x0:x1][paper[y0:y1, x0:x1]]
    if part.size < min_pixels:
        return 0.0
    level = float(np.percentile(part, percentile))
    diffs = [level - float(np.percentile(g[m & paper], percentile)) for m in sides if (m & paper).sum() >= min_pixels]
    if len(diffs) < 3 or not (all(d > 0 for d in diffs) or all(d < 0 for d in diffs)):
        return 0.0
    return min(diffs, key=abs)


def _paper(g8: np.ndarray, ink_step: float) -> np.ndarray:
    """Paper: the pixels whose 5x5 neighbourhood spans less than ``ink_step`` once smoothed (away
    from ink and its edges, whatever the paper's own noise)."""
    spread = cv2.morphologyEx(cv2.GaussianBlur(g8, (0, 0), 1.2), cv2.MORPH_GRADIENT,
                              cv2.getStructuringElement(cv2.MORPH_RECT, (5, 5)))
    return spread < ink_step


def _neighbours(target: Sequence[float], boxes: np.ndarray, h: float, kb: PatchKnowledge) -> np.ndarray:
    """The indices in ``boxes`` (n x 4) of the nearest words of about ``target``'s height ``h`` (its
    line first: blur changes across a page), none inside or overlapping ``target``."""
    if not len(boxes):
        return np.zeros(0, int)
    x0, y0, x1, y1 = target
    bx0, by0, bx1, by1 = boxes.T
    inside = (bx0 >= x0 - 2) & (bx1 <= x1 + 2) & (by0 >= y0 - 2) & (by1 <= y1 + 2)  # one of the value's own words
    overlaps = (np.minimum(bx1, x1) - np.maximum(bx0, x0) > 0) & (np.minimum(by1, y1) - np.maximum(by0, y0) > 0)
    dx = np.maximum(0.0, np.maximum(bx0 - x1, x0 - bx1))
    dy = np.abs((by0 + by1) / 2 - (y0 + y1) / 2)
    ok = (~inside & ~overlaps & (by1 - by0 >= 0.6 * h) & (by1 - by0 <= 1.6 * h)
          & (dx <= kb.words_reach * h) & (dy <= kb.words_reach * h))
    idx = np.flatnonzero(ok)
    return idx[np.argsort(dx[idx] + 2 * dy[idx], kind="stable")][:kb.max_words]


def _near_words(box: BBox, words: Sequence[BBox], h: float, kb: PatchKnowledge) -> list[tuple]:
    """The nearest words of about the value's height (its line first)."""
    boxes = np.asarray(words, float).reshape(-1, 4)
    return [tuple(words[i]) for i in _neighbours(box, boxes, h, kb)]


def _word_sharpness(grey: np.ndarray, box: Sequence[float]) -> float | None:
    H, W = grey.shape[:2]
    return _sharpness(grey, _clip(_grow(box, 1, 1), W, H))


@dataclass(frozen=True)
class PageSharpness:
    """Every word of a page against the nearest words of its height, as ``patch_stats`` measures a
    value: what a genuine word's ratio looks like on this page (its print, its scan or photo)."""
    heights: np.ndarray
    """Each word's box height (words whose ratio could not be measured left out)."""
    log_ratios: np.ndarray
    """log(its sharpness / the median of its nearest words')."""


def page_sharpness(grey: np.ndarray, words: Sequence[BBox], kb: PatchKnowledge) -> PageSharpness:
    """The sharpness ratio of every word of the page against its own nearest words (``_neighbours``)."""
    boxes = np.asarray(words, float).reshape(-1, 4)
    sharp = [_word_sharpness(grey, b) for b in boxes]
    heights, ratios = [], []
    for i, b in enumerate(boxes):
        if sharp[i] is None:
            continue
        h = max(6.0, float(b[3] - b[1]))
        around = [sharp[j] for j in _neighbours(b, boxes, h, kb) if sharp[j] is not None]
        if len(around) >= kb.min_words and np.median(around) > 0:
            heights.append(float(b[3] - b[1]))
            ratios.append(float(np.log(sharp[i] / np.median(around))))
    return PageSharpness(np.asarray(heights), np.asarray(ratios))


def _page_z(ratio: float, box: Sequence[float], page: PageSharpness, kb: PatchKnowledge) -> tuple[float | None, int]:
    """(how far the value's log ratio lies from the page's words of its height, in robust spreads
    (1.4826 x MAD, at least ``page_spread_min``); None below ``page_min_words`` such words, their number)."""
    h = float(box[3] - box[1])
    mine = page.log_ratios[(page.heights >= 0.6 * h) & (page.heights <= 1.6 * h)]
    if mine.size < kb.page_min_words:
        return None, int(mine.size)
    spread = max(kb.page_spread_min, _mad(mine))
    return float((np.log(ratio) - np.median(mine)) / spread), int(mine.size)


def patch_stats(grey: np.ndarray, box: BBox, words: Sequence[BBox], *, kb: PatchKnowledge | None = None,
                measure_all: bool = False, page: PageSharpness | None = None) -> PatchStats:
    """The statistics of the region around ``box`` (a value read on the page) against its
    surroundings. ``grey``: the page (uint8, page pixels); ``words``: the boxes of the page's other
    words (the target's own words may be among them: words inside ``box`` are left out).
    ``measure_all``: also the statistics ``[patch].findings`` does not use (noise, blocking);
    ``page``: ``page_sharpness(grey, words, kb)`` when several values of one page are measured."""
    from .knowledge import default_integrity

    kb = kb or default_integrity().patch
    H, W = grey.shape[:2]
    h = max(6.0, float(box[3] - box[1]))
    # the paper's level: the region against each side of a window around it
    wx0, wy0, wx1, wy1 = _clip(_grow(box, kb.context_x * h, kb.context_y * h), W, H)
    g = grey[wy0:wy1, wx0:wx1]
    gh, gw = g.shape

    def local(dx: float) -> tuple[int, int, int, int]:
        return _clip((box[0] - wx0 - dx, box[1] - wy0 - dx, box[2] - wx0 + dx, box[3] - wy0 + dx), gw, gh)

    def mask(b) -> np.ndarray:
        m = np.zeros(g.shape, bool)
        m[b[1]:b[3], b[0]:b[2]] = True
        return m

    inner = local(kb.pad * h)
    near = mask(local((kb.gap + kb.ring) * h)) & ~mask(local(kb.gap * h))
    bx0, by0, bx1, by1 = local(0)
    sides = [near & mask((0, by0, bx0, by1)), near & mask((bx1, by0, gw, by1)),
             near & mask((bx0, 0, bx1, by0)), near & mask((bx0, by1, bx1, gh))]
    level = _level(g, _paper(g, kb.ink_step), inner, sides, kb.level_percentile, kb.level_min_pixels)
    # the value's words against the nearest words of its height: text sharpness, and the paper in
    # and just around the words (noise, JPEG blocking), like against like - a JPEG rings near ink,
    # so paper by the letters is never as quiet as open paper
    # (noise and blocking cost most: measured only when ``findings`` names them, or ``measure_all``)
    paper = measure_all or bool({"noise", "grid"} & set(kb.findings))
    target = _sharpness(grey, _clip(_grow(box, 1, 1), W, H))
    mine, theirs = _Paper(), _Paper()
    if paper:
        mine.add(grey, box, kb.strip * h, kb.ink_step)
    around = []
    for wb in _near_words(box, words, h, kb):
        s = _sharpness(grey, _clip(_grow(wb, 1, 1), W, H))
        if s is not None:
            around.append(s)
        if paper:
            theirs.add(grey, wb, kb.strip * h, kb.ink_step)
    grid_around, phase = theirs.blocking(None, kb.min_pixels)
    grid = mine.blocking(phase, kb.min_pixels)[0] if phase else None
    sharpness_around = float(np.median(around)) if len(around) >= kb.min_words else None
    page_z, page_words = None, 0
    if target is not None and sharpness_around:
        # how this page's own words differ from their neighbours (its print, its scan): a thermal
        # receipt's words vary more than a laser print's
        page = page if page is not None else page_sharpness(grey, words, kb)
        page_z, page_words = _page_z(target / sharpness_around, box, page, kb)
    return PatchStats(box=(wx0 + inner[0], wy0 + inner[1], wx0 + inner[2], wy0 + inner[3]),
                      noise=mine.noise(kb.min_pixels), noise_around=theirs.noise(kb.min_pixels), sharpness=target,
                      sharpness_around=sharpness_around, level=level, grid=grid, grid_around=grid_around,
                      words_around=len(around), page_z=page_z, page_words=page_words)


def patch_findings(s: PatchStats, kb: PatchKnowledge) -> list[str]:
    """What differs, one phrase per statistic of ``[patch].findings`` beyond its threshold (empty: nothing)."""
    out = []
    use = set(kb.findings)
    if "noise" in use and s.noise is not None and s.noise_around is not None:
        if s.noise_around >= kb.noise_min_around and s.noise <= s.noise_around * kb.noise_flat_ratio:
            out.append(f"paper noise {s.noise:.1f} between its letters against {s.noise_around:.1f} around (flatter)")
        elif s.noise > max(s.noise_around, kb.noise_min_around) * kb.noise_rough_ratio:
            out.append(f"paper noise {s.noise:.1f} between its letters against {s.noise_around:.1f} around (rougher)")
    if "sharpness" in use and s.sharpness is not None and s.sharpness_around:
        ratio = s.sharpness / s.sharpness_around
        if s.page_z is None:  # too few words on the page to know how they vary: the wider fixed ratios
            differs = ratio >= kb.lone_sharp_ratio or ratio <= kb.lone_soft_ratio
        else:  # different from its neighbours, and more so than the page's own words from theirs
            differs = (ratio >= kb.sharp_ratio and s.page_z >= kb.page_z) or (ratio <= kb.soft_ratio
                                                                              and s.page_z <= -kb.page_z)
        if differs:
            page = "" if s.page_z is None else f", {abs(s.page_z):.1f} spreads beyond the page's {s.page_words} words"
            out.append(f"text sharpness {s.sharpness:.2f} against {s.sharpness_around:.2f} for the "
                       f"{s.words_around} words around ({'sharper' if ratio > 1 else 'softer'}{page})")
    if "level" in use and abs(s.level) >= max(kb.level_min, kb.level_noise * (s.noise_around or 0.0)):
        out.append(f"paper {abs(s.level):.1f} grey levels {'brighter' if s.level > 0 else 'darker'} than around")
    if ("grid" in use and s.grid is not None and s.grid_around is not None and s.grid_around >= kb.grid_min_around
            and s.grid <= s.grid_around * kb.grid_ratio):
        out.append(f"JPEG 8x8 blocking {s.grid:.2f} inside against {s.grid_around:.2f} around (off the grid)")
    return out


# ------------------------------------------------------------------------------ the check


def _model_like(text: str) -> bool:
    """A word that can be a model's distinguishing token: letters and digits, three characters or more."""
    t = text.strip(".,:;()")
    return len(t) >= 3 and any(ch.isdigit() for ch in t) and any(ch.isalpha() for ch in t)


def _targets(doc, checks, models: Sequence[str], max_values: int, kb_reach: float = 4.0
             ) -> list[tuple[str, int, BBox, str]]:
    """(what, page, box, text) of the values to examine on ``doc``: the box where the claimed date
    was read, and the words of the claimed models' lines that tell a model (letters and digits, what
    a forger changes: 'B550' for 'X570'; the claimed ones first; ``kb_reach`` text heights either
    side of the matched words), on OCR pages only (a text layer has its own signals)."""
    from ..extract.normalise import normalise_text

    tokens = {t for m in models for t in normalise_text(m).split()
              if len(t) >= 3 and any(ch.isdigit() for ch in t) and any(ch.isalpha() for ch in t)}
    out: list[tuple[str, int, BBox, str]] = []
    for c in checks:
        ev = c.evidence
        if ev is None or ev.document != doc.name or not ev.bbox or not ev.page or ev.page > len(doc.pages):
            continue
        page = doc.pages[ev.page - 1]
        if page.source != "ocr":
            continue
        if ev.engine == "ppocr" and page.rotation:
            continue  # PP-OCR's box is on the upload as it came, this reading's words on the page turned
        if c.name == "purchase_date":
            out.append(("date", ev.page, tuple(ev.bbox), c.found or ""))
        elif c.name == "product_on_invoice":
            # the matched words and the rest of their line: a pasted model may be the word OCR
            # misread ('X57O'), left out of the match
            bx0, by0, bx1, by1 = ev.bbox
            reach = kb_reach * max(1, by1 - by0)
            line = [w for w in page.words if by0 <= (w.bbox[1] + w.bbox[3]) / 2 <= by1
                    and bx0 - reach <= (w.bbox[0] + w.bbox[2]) / 2 <= bx1 + reach]
            for w in sorted(line, key=lambda w: normalise_text(w.text) not in tokens):
                if normalise_text(w.text) in tokens or _model_like(w.text):
                    out.append(("model", ev.page, tuple(w.bbox), w.text))
    seen, unique = set(), []
    for t in out:
        if t[2] not in seen:
            seen.add(t[2])
            unique.append(t)
    return unique[:max_values]


def page_grey(path, doc, number: int, config) -> np.ndarray:
    """Page ``number`` of the upload as the reader saw it (page pixels, EXIF orientation applied),
    grey. A single-page JPEG decodes its luminance only (the cheap way); anything else decodes
    through ``pipeline.ingest`` (an image) or renders at ``[ingest].pdf_dpi`` (a scanned PDF). The
    reader's boxes are on this turned by the page's ``rotation``."""
    from ..ingest import decode_image_page, load_upload

    upload = load_upload(path, doc.name, config.ingest)
    if upload.kind == "jpeg" and number == 1:
        import io

        from PIL import Image, ImageOps

        with Image.open(io.BytesIO(upload.data)) as im:
            if im.width * im.height > config.ingest.max_pixels:
                raise ValueError(f"{doc.name} is over the pixel limit")
            im.draft("L", im.size)
            return np.asarray(ImageOps.exif_transpose(im).convert("L"))
    if upload.kind == "pdf":
        from ..ocr.pdf import open_pdf, render_page

        with open_pdf(upload.data, upload.name, config.ingest) as (_, rendered):
            rgb = render_page(rendered, number - 1, dpi=config.ingest.pdf_dpi, max_pixels=config.ingest.max_pixels,
                              name=upload.name)
    else:
        rgb = decode_image_page(upload, number, config.ingest)
    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)


def read_pixels(folder, name: str, doc, number: int, config) -> np.ndarray | None:
    """Page ``number`` of upload ``name`` grey, in the pixels its reading's boxes are in (the upload
    turned by the page's ``rotation``); None when they are not the reading's (another size)."""
    from ..ocr.preprocess import rotate_quarter

    page = doc.pages[number - 1]
    grey = rotate_quarter(page_grey((Path(folder) / name).resolve(), doc, number, config), page.rotation)
    return grey if grey.shape[:2] == (page.height, page.width) else None


def patch_measurements(folder, invoices, checks, models: Sequence[str], config,
                       kb: PatchKnowledge) -> list[tuple[str, str, int, str, PatchStats]]:
    """(document, what, page, text, statistics) of every value ``image_patch`` examines."""
    from ..records import DocumentRead

    out = []
    sharpness: dict[tuple[str, int], PageSharpness] = {}
    for name, doc in invoices:
        if not isinstance(doc, DocumentRead) or folder is None:
            continue
        targets = _targets(doc, checks, models, kb.max_values, kb.line_reach)
        pages: dict[int, np.ndarray | None] = {}
        for what, number, box, text in targets:
            page = doc.pages[number - 1]
            if number not in pages:
                pages[number] = read_pixels(folder, name, doc, number, config)
            grey = pages[number]
            if grey is None:
                continue  # not the pixels the boxes are in
            words = [w.bbox for w in page.words]
            if (name, number) not in sharpness:
                sharpness[(name, number)] = page_sharpness(grey, words, kb)
            out.append((name, what, number, text, patch_stats(grey, box, words, kb=kb, page=sharpness[(name, number)])))
    return out


def image_patch_check(folder, invoices, checks, models: Sequence[str], config, *,
                      kb: PatchKnowledge | None = None) -> Check:
    """``image_patch``: the date or a model word read on a photographed or scanned invoice looks
    pasted (``INVOICE_PATCH_SUSPECTED``, review): evidence is the page and the region's box, the
    detail the statistics that differ."""
    from ..errors import ClaimcheckError
    from .knowledge import default_integrity

    kb = kb or default_integrity().patch
    try:
        measured = patch_measurements(folder, invoices, checks, models, config, kb)
    except (ClaimcheckError, OSError, ValueError) as exc:
        return Check(name="image_patch", product=None, status="skipped", score=0,
                     detail=f"the invoice's pixels could not be read again: {exc}")
    if not measured:
        return Check(name="image_patch", product=None, status="skipped", score=0,
                     detail="no date or model read on a photographed or scanned invoice")
    for name, what, page, text, stats in measured:
        found = patch_findings(stats, kb)
        if found:
            return Check(name="image_patch", product=None, status="uncertain", score=40,
                         expected="the values' pixels like their surroundings", found=f"{what} {text}".strip(),
                         evidence=Evidence(name, page, stats.box, "ocr"), reason="INVOICE_PATCH_SUSPECTED",
                         detail=f"p.{page} the {what} {text!r}, region {list(stats.box)}: " + "; ".join(found))
    return Check(name="image_patch", product=None, status="pass", score=100,
                 expected="the values' pixels like their surroundings",
                 found=", ".join(f"{what} {text}" for _, what, _, text, _ in measured))
