"""The one module that talks to Tesseract (through pytesseract).

Every call passes a timeout from ``[ocr]``; a timeout is ``EngineError(OCR_TIMEOUT)``,
never an empty string (invoice2data's silent "" turned timeouts into "no match").
``OMP_THREAD_LIMIT`` is set from config before each call: Tesseract's OpenMP threads
fight each other when pages run in parallel (one thread per process measured 5x
faster on 2 cores).

>>> sorted(probe())[:2]
['available', 'languages']
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from functools import lru_cache

import numpy as np
import pytesseract
from PIL import Image

from ..config import OcrConfig, default_config
from ..errors import EngineError
from ..records import Line, Page, Word

__all__ = ["probe", "installed_languages", "choose_languages", "ocr_image", "detect_orientation"]


@lru_cache(maxsize=1)
def probe() -> dict:
    """What is installed: {'available', 'path', 'version', 'languages'}; never raises."""
    path = shutil.which(pytesseract.pytesseract.tesseract_cmd) or shutil.which("tesseract")
    if not path:
        return {"available": False, "path": None, "version": None, "languages": []}
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
        first = (out.stdout or out.stderr).splitlines()[0] if (out.stdout or out.stderr) else ""
        version = first.replace("tesseract", "").strip() or None
        langs = subprocess.run([path, "--list-langs"], capture_output=True, text=True, timeout=10)
        languages = sorted(x.strip() for x in langs.stdout.splitlines()[1:] if x.strip())
    except (OSError, subprocess.SubprocessError, IndexError):
        return {"available": False, "path": path, "version": None, "languages": []}
    return {"available": True, "path": path, "version": version, "languages": languages}


def installed_languages() -> list[str]:
    return probe()["languages"]


def choose_languages(wanted: list[str]) -> list[str]:
    """The wanted languages that are installed, in order; raises when none is."""
    info = probe()
    if not info["available"]:
        raise EngineError("ENGINE_MISSING", "Tesseract is not installed (run `make setup`).")
    have = set(info["languages"])
    chosen = [lang for lang in dict.fromkeys(wanted) if lang in have]
    if not chosen:
        raise EngineError(
            "ENGINE_MISSING",
            f"None of the OCR languages {'+'.join(wanted)} is installed "
            f"(installed: {', '.join(sorted(have)) or 'none'}).",
        )
    return chosen


def _as_pil(image: np.ndarray) -> Image.Image:
    pil = Image.fromarray(image)
    # pytesseract writes the image to a temp file in `image.format`, PNG when unset;
    # BMP skips compression, which measured ~100 ms a page on receipt scans.
    pil.format = "BMP"
    return pil


def _run(fn, *args, timeout: float, what: str, **kwargs):
    try:
        return fn(*args, timeout=timeout, **kwargs)
    except pytesseract.TesseractNotFoundError as exc:
        raise EngineError("ENGINE_MISSING", "Tesseract is not installed (run `make setup`).") from exc
    except RuntimeError as exc:
        if "timeout" in str(exc).lower():
            raise EngineError(
                "OCR_TIMEOUT", f"Reading {what} took longer than {timeout:g} s and was stopped."
            ) from exc
        raise EngineError("ENGINE_FAILED", f"Tesseract failed on {what}: {exc}") from exc
    except pytesseract.TesseractError as exc:
        raise EngineError("ENGINE_FAILED", f"Tesseract failed on {what}: {exc.message}") from exc


def ocr_image(
    image: np.ndarray,
    languages: list[str] | None = None,
    config: OcrConfig | None = None,
    *,
    page: int = 1,
    scale: float = 1.0,
    size: tuple[int, int] | None = None,
    rotation: int = 0,
    skew: float = 0.0,
) -> Page:
    """OCR one page image into a Page of lines and words with confidences and boxes.

    ``scale`` is how much the image was enlarged for OCR: boxes are divided by it so
    they land in the pixels of the page as uploaded (of ``size`` = (width, height)).
    ``skew``: degrees the image was turned about its centre to straighten it; each box is
    turned back and given as the upright box around the word on the page as uploaded.
    """
    config = config or default_config().ocr
    langs = choose_languages(languages or config.always_languages)
    os.environ["OMP_THREAD_LIMIT"] = str(config.omp_thread_limit)
    data = _run(
        pytesseract.image_to_data,
        _as_pil(image),
        lang="+".join(langs),
        config=f"--psm {config.psm} --oem {config.oem}",
        output_type=pytesseract.Output.DICT,
        timeout=config.timeout_s,
        what=f"page {page}",
    )
    h_img, w_img = image.shape[:2]
    width, height = size or (int(round(w_img / scale)), int(round(h_img / scale)))
    unskew = _unskew(skew, width, height)
    lines: dict[tuple[int, int, int], list[Word]] = {}
    for i, text in enumerate(data["text"]):
        text = (text or "").strip()
        if data["level"][i] != 5 or not text:
            continue
        x, y, w, h = (data[k][i] for k in ("left", "top", "width", "height"))
        bbox = (
            int(round(x / scale)),
            int(round(y / scale)),
            int(round((x + w) / scale)),
            int(round((y + h) / scale)),
        )
        if unskew is not None:
            bbox = unskew(bbox)
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        lines.setdefault(key, []).append(Word(text, max(0.0, float(data["conf"][i])), bbox))
    return Page(
        number=page,
        width=width,
        height=height,
        source="ocr",
        lines=tuple(Line(tuple(words)) for _, words in sorted(lines.items())),
        rotation=rotation,
        languages="+".join(langs),
    )


def _unskew(angle: float, width: int, height: int):
    """A function taking a box on the straightened page to the upright box around it on the page
    as it was (``deskew`` turned it by ``angle`` about its centre); None for no turn."""
    if not angle:
        return None
    import cv2

    back = cv2.getRotationMatrix2D((width / 2, height / 2), -angle, 1.0)

    def unskew(box):
        x0, y0, x1, y1 = box
        corners = np.array([[x0, y0, 1], [x1, y0, 1], [x1, y1, 1], [x0, y1, 1]], float) @ back.T
        return (max(0, int(round(corners[:, 0].min()))), max(0, int(round(corners[:, 1].min()))),
                min(width, int(round(corners[:, 0].max()))), min(height, int(round(corners[:, 1].max()))))

    return unskew


_OSD_ROTATE = re.compile(r"Rotate:\s*(\d+)")
_OSD_CONF = re.compile(r"Orientation confidence:\s*([\d.]+)")


def detect_orientation(image: np.ndarray, config: OcrConfig | None = None) -> tuple[int, float]:
    """Tesseract OSD: (degrees to rotate clockwise to make text upright, confidence).

    A page with too little text for OSD is a neutral (0, 0.0), not an error.
    """
    config = config or default_config().ocr
    os.environ["OMP_THREAD_LIMIT"] = str(config.omp_thread_limit)
    try:
        out = _run(pytesseract.image_to_osd, _as_pil(image), config="--psm 0",
                   timeout=config.timeout_s, what="page orientation")
    except EngineError as exc:
        if exc.code == "ENGINE_FAILED" and ("Too few characters" in exc.message or "0 dpi" in exc.message):
            return 0, 0.0
        raise
    rotate = _OSD_ROTATE.search(out)
    conf = _OSD_CONF.search(out)
    return (int(rotate.group(1)) if rotate else 0, float(conf.group(1)) if conf else 0.0)
