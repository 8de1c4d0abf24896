"""The one module that imports the PP-OCR engine (rapidocr-onnxruntime: PP-OCRv4 on ONNX Runtime).

The detection, direction and recognition models ship inside the wheel: nothing is downloaded at
run time, so it reads with the network off. One engine per process (loading the three models
takes ~0.3 s and ~150 MB), built on first use with ``[ppocr]``'s ONNX Runtime threads (one per
batch worker: two workers on two cores do not fight).

Records are Tesseract's: a Page of Lines of Words, boxes in the pixels of the page as given,
confidence 0..100. The recognizer reads a detected text line as one string and drops many spaces
("321URXQD-OLED", "05.02.202520:21"); the words of a line are its text split at the spaces it did
read, each given its share of the line's box by its characters.

A timeout is ``EngineError(OCR_TIMEOUT)``: ONNX Runtime cannot be interrupted, so the page is read
in a worker thread that is left to finish while the caller gets the error (the batch's watchdog ends
a worker that stays stuck); the next page waits for it, within its own timeout.

>>> sorted(probe())[:3]
['available', 'models', 'onnxruntime']
"""
from __future__ import annotations

import hashlib
import threading
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from importlib.util import find_spec
from pathlib import Path

import numpy as np

from ..config import PpocrConfig, default_config
from ..errors import EngineError
from ..records import Line, Page, Word

__all__ = ["probe", "model_version", "ocr_image", "DISTRIBUTION"]

DISTRIBUTION = "rapidocr-onnxruntime"

_engine = None
_engine_settings: tuple | None = None
_busy = threading.Lock()


def _package_dir() -> Path | None:
    spec = find_spec("rapidocr_onnxruntime")
    return Path(spec.origin).parent if spec and spec.origin else None


@lru_cache(maxsize=1)
def probe() -> dict:
    """What is installed: {'available', 'version', 'onnxruntime', 'models'} (model file names and
    sizes); never raises, never loads the models."""
    def dist(name):
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    folder = _package_dir()
    models = sorted((folder / "models").glob("*.onnx")) if folder else []
    return {"available": bool(folder and models and dist("onnxruntime")), "version": dist(DISTRIBUTION),
            "onnxruntime": dist("onnxruntime"),
            "models": [{"file": m.name, "bytes": m.stat().st_size} for m in models]}


@lru_cache(maxsize=1)
def model_version() -> str:
    """The engine's version and a hash of its model files: part of a PP-OCR read's cache key."""
    info = probe()
    digest = hashlib.sha256()
    folder = _package_dir()
    for m in info["models"]:
        digest.update(m["file"].encode() + b"\0" + (folder / "models" / m["file"]).read_bytes())
    return f"{info['version']}+{info['onnxruntime']}+{digest.hexdigest()[:16]}"


def _get_engine(config: PpocrConfig):
    global _engine, _engine_settings
    settings = (config.intra_op_threads, config.inter_op_threads, config.max_side_px, config.text_score,
                config.use_direction_classifier)
    if _engine is not None and _engine_settings == settings:
        return _engine
    if not probe()["available"]:
        raise EngineError("ENGINE_MISSING", f"The PP-OCR engine ({DISTRIBUTION}) is not installed (run `make setup`).")
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as exc:  # e.g. cv2 missing or two OpenCV builds over each other
        raise EngineError("ENGINE_MISSING", f"The PP-OCR engine cannot be loaded: {exc}") from exc
    try:
        _engine = RapidOCR(intra_op_num_threads=config.intra_op_threads,
                           inter_op_num_threads=config.inter_op_threads, max_side_len=config.max_side_px,
                           text_score=config.text_score, use_cls=config.use_direction_classifier)
    except Exception as exc:  # noqa: BLE001 - ONNX Runtime raises its own exception types
        raise EngineError("ENGINE_FAILED", f"The PP-OCR engine could not start: {exc}") from exc
    _engine_settings = settings
    return _engine


def _run(engine, image: np.ndarray, timeout: float, what: str):
    """``engine(image)`` within ``timeout`` seconds, or EngineError(OCR_TIMEOUT)."""
    if not _busy.acquire(timeout=timeout):
        raise EngineError("OCR_TIMEOUT", f"Reading {what} waited {timeout:g} s for the PP-OCR engine.")
    out: dict = {}

    def work():
        try:
            out["result"] = engine(image)
        except Exception as exc:  # noqa: BLE001 - passed on to the caller as ENGINE_FAILED
            out["error"] = exc
        finally:
            _busy.release()

    worker = threading.Thread(target=work, name="ppocr", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise EngineError("OCR_TIMEOUT", f"Reading {what} took longer than {timeout:g} s and was stopped.")
    if "error" in out:
        raise EngineError("ENGINE_FAILED", f"PP-OCR failed on {what}: {out['error']}") from out["error"]
    return out["result"]


def _words(text: str, conf: float, box: tuple[float, float, float, float]) -> tuple[Word, ...]:
    """The line's words with their share of its box, by characters (spaces count as one)."""
    x0, y0, x1, y1 = box
    per_char = (x1 - x0) / max(1, len(text))
    words, start = [], 0
    for part in text.split(" "):
        if part:
            wx0 = x0 + start * per_char
            words.append(Word(part, conf, (int(round(wx0)), int(round(y0)),
                                           int(round(wx0 + len(part) * per_char)), int(round(y1)))))
        start += len(part) + 1
    return tuple(words)


def ocr_image(image: np.ndarray, config: PpocrConfig | None = None, *, page: int = 1) -> Page:
    """Read one page image (RGB or grey, as uploaded) into a Page; boxes in its own pixels.

    A page where nothing is detected is an empty Page, not an error.
    """
    config = config or default_config().ppocr
    engine = _get_engine(config)
    bgr = image[:, :, ::-1].copy() if image.ndim == 3 and image.shape[2] == 3 else image
    result, _ = _run(engine, bgr, config.timeout_s, f"page {page}")
    height, width = image.shape[:2]
    lines = []
    for quad, text, score in result or ():
        text = " ".join(str(text).split())
        if not text:
            continue
        xs, ys = [p[0] for p in quad], [p[1] for p in quad]
        box = (max(0.0, min(xs)), max(0.0, min(ys)), min(float(width), max(xs)), min(float(height), max(ys)))
        words = _words(text, max(0.0, min(100.0, float(score) * 100)), box)
        if words:
            lines.append(Line(words))
    return Page(number=page, width=width, height=height, source="ocr", lines=tuple(lines), rotation=0,
                languages="ppocr")
