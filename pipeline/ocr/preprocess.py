"""OpenCV clean-up before OCR: each step a small pure function over a uint8 array.

``prepare_for_ocr`` runs the steps named in ``[preprocess].steps`` in order and
records what it did (the turn and the scale) so word boxes can be mapped back to
the page as uploaded.

>>> import numpy as np
>>> to_gray(np.zeros((4, 4, 3), np.uint8)).shape
(4, 4)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np

from ..config import PreprocessConfig, default_config

__all__ = [
    "Prepared", "prepare_for_ocr", "to_gray", "rotate_quarter", "estimate_text_height",
    "scale_for_text", "estimate_skew", "deskew", "denoise", "normalise_background", "binarise",
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


def to_gray(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def rotate_quarter(image: np.ndarray, degrees_clockwise: int) -> np.ndarray:
    turns = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    code = turns.get(degrees_clockwise % 360)
    return image if code is None else cv2.rotate(image, code)


def _ink(gray: np.ndarray) -> np.ndarray:
    """Dark-on-light foreground mask (255 = ink) by Otsu."""
    _, mask = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    return mask


def estimate_text_height(gray: np.ndarray) -> float | None:
    """Median height in pixels of character-sized blobs, or None when there are too few."""
    mask = _ink(gray)
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n < 10:
        return None
    h = stats[1:, cv2.CC_STAT_HEIGHT]
    w = stats[1:, cv2.CC_STAT_WIDTH]
    area = stats[1:, cv2.CC_STAT_AREA]
    keep = (h >= 4) & (h <= gray.shape[0] / 8) & (w <= 3 * h) & (area >= 8)
    if keep.sum() < 10:
        return None
    return float(np.median(h[keep]))


def scale_for_text(gray: np.ndarray, target_height: int, max_side: int) -> float:
    """Factor that brings the median glyph height to ``target_height``, within sane bounds."""
    height = estimate_text_height(gray)
    if not height:
        return 1.0
    # Glyph blobs are x-height-ish; Tesseract's sweet spot is measured on capitals: ~1.4x.
    factor = target_height / (height * 1.4)
    factor = min(max(factor, 0.5), 4.0)
    factor = min(factor, max_side / max(gray.shape[:2]))
    # Small changes cost an interpolation and buy nothing.
    return 1.0 if 0.8 <= factor <= 1.25 else factor


def estimate_skew(gray: np.ndarray, max_degrees: float, step: float = 0.5) -> float:
    """Skew angle in degrees by maximising the variance of row sums (projection profile)."""
    mask = _ink(gray)
    h, w = mask.shape
    small = 1000 / max(h, w)
    if small < 1:
        mask = cv2.resize(mask, (int(w * small), int(h * small)), interpolation=cv2.INTER_AREA)
    h, w = mask.shape
    center = (w / 2, h / 2)
    best, best_score = 0.0, -1.0
    for angle in np.arange(-max_degrees, max_degrees + step / 2, step):
        m = cv2.getRotationMatrix2D(center, float(angle), 1.0)
        rotated = cv2.warpAffine(mask, m, (w, h), flags=cv2.INTER_NEAREST)
        score = float(np.var(rotated.sum(axis=1, dtype=np.float64)))
        if score > best_score:
            best, best_score = float(angle), score
    return best


def deskew(gray: np.ndarray, angle: float) -> np.ndarray:
    if abs(angle) < 0.25:
        return gray
    h, w = gray.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(gray, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)


def denoise(gray: np.ndarray) -> np.ndarray:
    return cv2.fastNlMeansDenoising(gray, None, h=10, templateWindowSize=7, searchWindowSize=21)


def normalise_background(gray: np.ndarray) -> np.ndarray:
    """Divide by a blurred background estimate: evens out shadows and uneven light."""
    k = max(15, (min(gray.shape[:2]) // 20) | 1)
    background = cv2.morphologyEx(gray, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    return cv2.divide(gray, background, scale=255)


def binarise(gray: np.ndarray) -> np.ndarray:
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, 31, 15)


def prepare_for_ocr(
    image: np.ndarray,
    config: PreprocessConfig | None = None,
    *,
    detect_orientation: Callable[[np.ndarray], tuple[int, float]] | None = None,
) -> Prepared:
    """Run the configured steps; ``detect_orientation`` (Tesseract OSD) is passed in, not imported."""
    config = config or default_config().preprocess
    gray = to_gray(image)
    rotation, scale, done = 0, 1.0, []
    if not config.enabled:
        return Prepared(gray, 1.0, 0, (gray.shape[1], gray.shape[0]), ())
    for step in config.steps:
        if step == "orient" and detect_orientation is not None:
            degrees, confidence = detect_orientation(gray)
            if degrees % 360 and confidence >= config.osd_min_confidence:
                gray = rotate_quarter(gray, degrees)
                rotation = degrees % 360
                done.append(step)
        elif step == "deskew":
            angle = estimate_skew(gray, config.max_deskew_degrees)
            if abs(angle) >= 0.25:
                gray = deskew(gray, angle)
                done.append(step)
        elif step == "scale":
            scale = scale_for_text(gray, config.target_text_height_px, config.max_side_px)
            if scale != 1.0:
                done.append(step)
        elif step == "denoise":
            gray = denoise(gray)
            done.append(step)
        elif step == "background":
            gray = normalise_background(gray)
            done.append(step)
        elif step == "binarise":
            gray = binarise(gray)
            done.append(step)
    size = (gray.shape[1], gray.shape[0])
    if scale != 1.0:
        interp = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
        gray = cv2.resize(gray, (int(size[0] * scale), int(size[1] * scale)), interpolation=interp)
    return Prepared(gray, scale, rotation, size, tuple(done))
