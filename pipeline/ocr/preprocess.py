"""OpenCV clean-up before OCR: each step a small pure function over a uint8 array.

``prepare_for_ocr`` runs the steps named in ``[preprocess].steps`` in order and
records what it did (the turn and the scale) so word boxes can be mapped back to
the page as uploaded. Which steps are on by default, and why, is measured by
``bench/bench_ocr.py`` and cited in ``default.toml``.

>>> import numpy as np
>>> to_gray(np.zeros((4, 4, 3), np.uint8)).shape
(4, 4)
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import cv2
import numpy as np

from ..config import PreprocessConfig, default_config
from ..records import Page

__all__ = [
    "Prepared", "prepare_for_ocr", "turn_prepared", "to_gray", "rotate_quarter", "estimate_text_height",
    "scale_for_text", "resize", "estimate_skew", "deskew", "looks_turned", "denoise",
    "estimate_background", "shaded_paper_share", "normalise_background", "binarise",
    "page_confidence", "read_upright",
]


@dataclass(frozen=True)
class Prepared:
    image: np.ndarray
    """What goes to Tesseract (grayscale or binary)."""
    scale: float
    """OCR pixels per page pixel (page = the upload after ``rotation``)."""
    rotation: int
    """Degrees clockwise applied to the upload before reading (0, 90, 180, 270)."""
    size: tuple[int, int]
    """(width, height) of the page after the turn, before scaling: boxes are in these pixels."""
    steps: tuple[str, ...]
    """The steps that changed something, in order."""
    skew: float = 0.0
    """Degrees the page was turned about its centre by ``deskew`` (boxes are turned back by it)."""


def to_gray(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def rotate_quarter(image: np.ndarray, degrees_clockwise: int) -> np.ndarray:
    """Turn by a multiple of 90 degrees clockwise (other angles: unchanged).

    >>> rotate_quarter(np.zeros((2, 3), np.uint8), 90).shape
    (3, 2)
    """
    turns = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    code = turns.get(degrees_clockwise % 360)
    return image if code is None else cv2.rotate(image, code)


def _ink(gray: np.ndarray, *, offset: int = 12) -> np.ndarray:
    """Dark-on-light foreground mask (255 = ink): darker than the local mean by ``offset``.

    A local threshold, not Otsu: under a shadow Otsu calls the shaded paper ink, and the
    skew and glyph estimates then measure the shadow.
    """
    h, w = gray.shape[:2]
    block = max(15, (min(h, w) // 15) | 1)
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, offset)


def _glyph_boxes(gray: np.ndarray, *, offset: int = 12) -> np.ndarray:
    """(x, y, width, height) rows of the character-sized ink blobs."""
    _, _, stats, _ = cv2.connectedComponentsWithStats(_ink(gray, offset=offset), connectivity=8)
    x, y = stats[1:, cv2.CC_STAT_LEFT], stats[1:, cv2.CC_STAT_TOP]
    w, h = stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]
    area = stats[1:, cv2.CC_STAT_AREA]
    rows, cols = gray.shape[:2]
    # Specks, rules, frames and photos are not glyphs.
    keep = (h >= 4) & (w >= 2) & (area >= 8) & (h <= rows / 8) & (w <= cols / 8)
    return np.stack([x[keep], y[keep], w[keep], h[keep]], axis=1)


def _glyph_stats(gray: np.ndarray, *, offset: int = 12) -> np.ndarray:
    """(width, height) rows of the character-sized ink blobs."""
    return _glyph_boxes(gray, offset=offset)[:, 2:]


def _in_a_line(boxes: np.ndarray) -> np.ndarray:
    """Which blobs start a row of three of similar height, each just right of the last, on one line.

    Letters come in rows; the specks of a textured table, fabric or brushed metal around a
    photographed invoice do not, and on such photos they outnumbered the glyphs and halved the
    estimate (7 px for 12 px type: the page was then scaled 3x and Tesseract timed out).
    """
    x, w, h = boxes[:, 0], boxes[:, 2], boxes[:, 3]
    cy = boxes[:, 1] + h / 2
    order = np.lexsort((x, cy))
    x, w, h, cy = x[order], w[order], h[order], cy[order]
    lo = np.searchsorted(cy, cy - h / 2, side="left")
    hi = np.searchsorted(cy, cy + h / 2, side="right")
    right = x + w
    neighbours = []
    for i in range(len(h)):
        k = slice(lo[i], hi[i])
        near = (x[k] >= right[i] - 1) & (x[k] <= right[i] + 2 * h[i]) & (h[k] < 1.5 * h[i]) & (1.5 * h[k] > h[i])
        neighbours.append(np.flatnonzero(near) + lo[i])
    has_next = np.array([len(n) > 0 for n in neighbours], bool)
    # Three in a row: specks on a busy texture often have one neighbour by chance, rarely a chain.
    good = np.array([bool(has_next[n].any()) for n in neighbours], bool)
    out = np.zeros(len(h), bool)
    out[order] = good
    return out


def estimate_text_height(gray: np.ndarray) -> float | None:
    """Median height in pixels of character-sized blobs set in lines, or None when there are too few.

    On printed Latin text this is close to the cap height (digits and capitals dominate receipts).
    """
    boxes = _glyph_boxes(gray)
    boxes = boxes[boxes[:, 2] <= 3 * boxes[:, 3]]  # a blob much wider than tall is touching glyphs or a rule
    if len(boxes) < 10:
        return None
    lined = boxes[_in_a_line(boxes)]
    if len(lined) >= 10:
        boxes = lined
    return float(np.median(boxes[:, 3]))


def scale_for_text(gray: np.ndarray, target_height: int, max_side: int, *,
                   min_factor: float = 0.5, max_factor: float = 4.0,
                   keep_within: tuple[float, float] = (0.8, 1.25), text_height: float | None = None) -> float:
    """Factor that brings the median glyph height to ``target_height`` pixels, within bounds.

    Factors inside ``keep_within`` give 1.0: a small resize costs an interpolation and buys nothing.
    ``text_height``: the page's ``estimate_text_height`` when already known.
    """
    height = text_height or estimate_text_height(gray)
    if not height:
        return 1.0
    factor = min(max(target_height / height, min_factor), max_factor)
    factor = min(factor, max_side / max(gray.shape[:2]))
    return 1.0 if keep_within[0] <= factor <= keep_within[1] else factor


def resize(gray: np.ndarray, factor: float) -> np.ndarray:
    if factor == 1.0:
        return gray
    h, w = gray.shape[:2]
    interp = cv2.INTER_CUBIC if factor > 1 else cv2.INTER_AREA
    return cv2.resize(gray, (max(1, round(w * factor)), max(1, round(h * factor))), interpolation=interp)


def estimate_skew(gray: np.ndarray, max_degrees: float, step: float = 1.0, *, work_side: int = 800) -> float:
    """Skew in degrees (counter-clockwise positive, OpenCV's sense) that straightens the text lines.

    Projection profile: the angle whose rotated row sums vary most, searched at ``step`` then
    refined to a fifth of it around the best, on a copy at most ``work_side`` pixels long.
    """
    mask = _ink(gray)
    h, w = mask.shape
    small = work_side / max(h, w)
    if small < 1:
        mask = cv2.resize(mask, (max(1, int(w * small)), max(1, int(h * small))), interpolation=cv2.INTER_AREA)
    h, w = mask.shape
    center = (w / 2, h / 2)

    def score(angle: float) -> float:
        m = cv2.getRotationMatrix2D(center, float(angle), 1.0)
        rotated = cv2.warpAffine(mask, m, (w, h), flags=cv2.INTER_NEAREST)
        return float(np.var(rotated.sum(axis=1, dtype=np.float64)))

    coarse = np.arange(-max_degrees, max_degrees + step / 2, step)
    best = float(max(coarse, key=score)) if len(coarse) else 0.0
    fine = np.arange(best - step, best + step + step / 10, step / 5)
    return round(float(max(fine, key=score)), 2)


def deskew(gray: np.ndarray, angle: float, *, min_degrees: float = 0.25) -> np.ndarray:
    """Rotate by ``angle`` degrees (as ``estimate_skew`` gives it); smaller angles: unchanged."""
    if abs(angle) < min_degrees:
        return gray
    h, w = gray.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(gray, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)


def looks_turned(gray: np.ndarray, *, margin: float = 0.2) -> bool:
    """Cheap hint that text runs vertically (page turned 90 or 270 degrees).

    Upright Latin glyphs are mostly taller than wide; on a turned page they are wider
    than tall. Only the darkest ink counts, because blur merges glyphs into wide words
    (measured: 37 of 40 turned receipts flagged, 3 of 40 blurred upright ones). A hint
    only: it decides whether the costly orientation detector runs at all.
    """
    wh = _glyph_stats(gray, offset=40)
    if len(wh) < 20:
        return False
    w, h = wh[:, 0].astype(float), wh[:, 1].astype(float)
    return float(np.mean(w > 1.15 * h)) > float(np.mean(h > 1.15 * w)) + margin


def denoise(gray: np.ndarray) -> np.ndarray:
    return cv2.fastNlMeansDenoising(gray, None, h=10, templateWindowSize=7, searchWindowSize=21)


def estimate_background(gray: np.ndarray, text_height: float | None = None) -> np.ndarray:
    """The paper's brightness at every pixel: ink closed away, then smoothed.

    Made on a reduced copy (fast on 10-megapixel photos); the closing kernel spans about
    three glyph heights so strokes vanish but shadows stay.
    """
    h, w = gray.shape[:2]
    text_height = text_height or estimate_text_height(gray) or max(8.0, min(h, w) / 60)
    f = min(1.0, 8.0 / text_height)  # about 8 px glyphs in the reduced copy
    small = cv2.resize(gray, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
    k = max(3, int(3 * text_height * f) | 1)
    background = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    background = cv2.GaussianBlur(background, (0, 0), k / 2)
    return cv2.resize(background, (w, h), interpolation=cv2.INTER_LINEAR)


def shaded_paper_share(gray: np.ndarray, background: np.ndarray) -> float:
    """Share of the paper darker than the page's global Otsu threshold.

    Tesseract binarises with one global Otsu threshold: paper below it turns into ink
    and the text under it is lost (a shaded photo can read as nothing at all). On the
    40 SROIE scans this is 0, on shaded copies up to 0.6.
    """
    threshold, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return float(np.mean(background[::4, ::4] <= threshold))  # it is smooth: a sample will do


def normalise_background(gray: np.ndarray, background: np.ndarray | None = None) -> np.ndarray:
    """Divide by the background estimate: flattens shadows and light falloff to white paper."""
    background = estimate_background(gray) if background is None else background
    return cv2.divide(gray, np.maximum(background, 1), scale=255)


def binarise(gray: np.ndarray, *, block: int = 31, offset: int = 15) -> np.ndarray:
    """Local (Gaussian-weighted) threshold: ink is darker than its neighbourhood by ``offset``."""
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, block | 1, offset)


def turn_prepared(prepared: Prepared, degrees_clockwise: int) -> Prepared:
    """The same prepared page turned a further quarter turn(s): for a second reading upside down."""
    degrees = degrees_clockwise % 360
    if not degrees:
        return prepared
    w, h = prepared.size
    size = (h, w) if degrees in (90, 270) else (w, h)
    return replace(prepared, image=rotate_quarter(prepared.image, degrees), size=size,
                   rotation=(prepared.rotation + degrees) % 360, steps=(*prepared.steps, f"turn{degrees}"))


def prepare_for_ocr(
    image: np.ndarray,
    config: PreprocessConfig | None = None,
    *,
    detect_orientation: Callable[[np.ndarray], tuple[int, float]] | None = None,
) -> Prepared:
    """Run the configured steps; ``detect_orientation`` (Tesseract OSD) is passed in, not imported.

    ``orient`` asks the detector only when ``looks_turned`` says the text may run
    vertically (OSD costs about one OCR pass and takes small upright text for upside
    down), and then accepts only a quarter turn. Which way round is left to
    ``read_upright``: a page turned the wrong way reads upside down, and is read again.
    """
    config = config or default_config().preprocess
    gray = to_gray(image)
    if not config.enabled:
        return Prepared(gray, 1.0, 0, (gray.shape[1], gray.shape[0]), ())
    rotation, scale, done, skew = 0, 1.0, [], 0.0
    height: float | None = None  # glyph height, measured once the geometry is settled
    for step in config.steps:
        if step == "orient":
            if detect_orientation is not None and looks_turned(gray):
                # OSD misses small turned text; at the target glyph size it sees it.
                factor = scale_for_text(gray, config.target_text_height_px, config.max_side_px)
                degrees, confidence = detect_orientation(resize(gray, factor))
                if degrees % 180 == 90 and confidence >= config.osd_min_confidence:
                    gray = rotate_quarter(gray, degrees)
                    rotation = (rotation + degrees) % 360
                    height = None
                    done.append(step)
        elif step == "deskew":
            angle = estimate_skew(gray, config.max_deskew_degrees)
            if abs(angle) >= config.min_deskew_degrees:
                gray = deskew(gray, angle, min_degrees=config.min_deskew_degrees)
                skew += angle
                height = None
                done.append(step)
        elif step == "scale":
            height = height or estimate_text_height(gray)
            factor = scale_for_text(gray, config.target_text_height_px, config.max_side_px, text_height=height)
            if factor != 1.0:
                gray = resize(gray, factor)
                scale *= factor
                height = height * factor if height else None
                done.append(step)
        elif step == "denoise":
            gray = denoise(gray)
            done.append(step)
        elif step == "background":
            height = height or estimate_text_height(gray)
            background = estimate_background(gray, height)
            if shaded_paper_share(gray, background) >= config.min_shaded_paper_share:
                gray = normalise_background(gray, background)
                done.append(step)
        elif step == "binarise":
            gray = binarise(gray)
            done.append(step)
        else:
            raise ValueError(f"unknown preprocess step {step!r}")
    size = (round(gray.shape[1] / scale), round(gray.shape[0] / scale))
    return Prepared(gray, scale, rotation, size, tuple(done), skew)


def page_confidence(page: Page) -> float:
    """Mean word confidence weighted by word length (0 for no words): how sure the engine was."""
    words = page.words
    chars = sum(len(w.text) for w in words)
    return sum(w.conf * len(w.text) for w in words) / chars if chars else 0.0


def read_upright(prepared: Prepared, read: Callable[[Prepared], Page], *, below_conf: float) -> Page:
    """Read the page; when the engine was unsure, read it upside down too and keep the surer reading.

    Nothing cheap tells an upside-down page from an upright one, and OSD costs about one
    reading and misjudges small upright text. So the first reading decides: upright receipts
    measured 46-87 (length-weighted mean confidence), the same receipts turned 180 degrees 16-35.
    Only pages below ``below_conf`` pay for the second reading.
    """
    page = read(prepared)
    conf = page_confidence(page)
    if conf >= below_conf:
        return page
    turned = read(turn_prepared(prepared, 180))
    return turned if page_confidence(turned) > conf else page
