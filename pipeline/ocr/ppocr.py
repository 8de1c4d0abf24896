"""The one module that imports the PP-OCR engine (rapidocr-onnxruntime: PP-OCRv4 on ONNX Runtime).

The detection, direction and recognition models ship inside the wheel: nothing is downloaded at
run time, so it reads with the network off. One engine per process (loading the three models
takes ~0.3 s and ~150 MB), built on first use with ``[ppocr]``'s ONNX Runtime threads (one per
batch worker: two workers on two cores do not fight).

Records are Tesseract's: a Page of Lines of Words, boxes in the pixels of the page as given,
confidence 0..100. The recognizer reads a detected text line as one string and drops many spaces
("321URXQD-OLED", "05.02.202520:21"); the words of a line are its text split at the spaces it did
read, each given its share of the line's box by its characters.

Region reading (``[ppocr].regions``, the cascade's second reading): given the first engine's
reading of the page (``known``, boxes in the same pixels), the detector runs once on the page and
only the detected lines the first reading read badly or missed are recognised (recognition is about
three quarters of PP-OCR's time on a receipt); a line whose every word Tesseract read at
``region_known_conf`` or more, and whose width those words cover, is left out of this reading: the
first reading already holds it, and the cascade combines the two readings check by check.

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
                config.use_direction_classifier, config.rec_batch)
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
                           text_score=config.text_score, use_cls=config.use_direction_classifier,
                           rec_batch_num=config.rec_batch)
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


_KNOWN_COVER = 0.6
"""Share of a detected line's width the first reading's words must span for the line to count as read."""


def known_line(box: tuple[float, float, float, float], words: list[Word], min_conf: float) -> bool:
    """Whether the first reading read the detected line ``box`` well: the words whose centres lie in
    it span most of its width and every one of them was read at ``min_conf`` or more.

    >>> w = [Word("TOTAL", 96, (10, 10, 60, 30)), Word("86.00", 95, (70, 10, 120, 30))]
    >>> known_line((8, 6, 122, 34), w, 90), known_line((8, 6, 122, 34), w[:1], 90)
    (True, False)
    """
    x0, y0, x1, y1 = box
    inside = [w for w in words if x0 - 2 <= (w.bbox[0] + w.bbox[2]) / 2 <= x1 + 2
              and y0 - 2 <= (w.bbox[1] + w.bbox[3]) / 2 <= y1 + 2]
    if not inside or any(w.conf < min_conf for w in inside):
        return False
    spans = sorted((max(x0, w.bbox[0]), min(x1, w.bbox[2])) for w in inside)
    covered, end = 0.0, x0
    for a, b in spans:
        a = max(a, end)
        if b > a:
            covered, end = covered + b - a, b
    return covered >= _KNOWN_COVER * max(1.0, x1 - x0)


def text_height(known: Page) -> float | None:
    """The median height in page pixels of the words the first reading read (None for too few)."""
    heights = sorted(w.bbox[3] - w.bbox[1] for line in known.lines for w in line.words
                     if len(w.text) >= 2 and w.conf >= 50)
    return float(heights[len(heights) // 2]) if len(heights) >= 5 else None


def _detect(engine, img: np.ndarray, scale: float | None):
    """The detector's boxes in ``img``'s pixels, run on ``img`` scaled by ``scale`` (None: rapidocr's own
    sizing, which enlarges the shorter side to 736 px whatever the text's size)."""
    if scale is None:
        return engine.auto_text_det(img)[0]
    import cv2

    small = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    kept = engine.text_det.limit_side_len
    engine.text_det.limit_side_len = 32  # no enlarging on top of ours (sides still rounded to 32)
    try:
        boxes = engine.auto_text_det(small)[0]
    finally:
        engine.text_det.limit_side_len = kept
    return None if boxes is None else [np.asarray(b, dtype=np.float32) / scale for b in boxes]


def detection_scale(height: float | None, img_scale: float, config: PpocrConfig) -> float | None:
    """How much to scale the page for detection so its median text is ``det_text_px`` high (within
    ``det_scale_min``..``det_scale_max``); None when the text height is unknown.

    >>> from pipeline.config import default_config
    >>> detection_scale(30.0, 1.0, default_config().ppocr) < 1 < detection_scale(8.0, 1.0, default_config().ppocr)
    True
    """
    if not height or config.det_text_px <= 0:
        return None
    return min(config.det_scale_max, max(config.det_scale_min, config.det_text_px / (height * img_scale)))


def _read_regions(engine, bgr: np.ndarray, known: Page, config: PpocrConfig):
    """Detect the page's text lines, recognise those ``known`` did not read well: [(quad, text, score)]."""
    raw_h, raw_w = bgr.shape[:2]
    img, ratio_h, ratio_w = engine.preprocess(bgr)
    img, op_record = engine.maybe_add_letterbox(img, {"preprocess": {"ratio_h": ratio_h, "ratio_w": ratio_w}})
    height = text_height(known)
    boxes = _detect(engine, img, detection_scale(height, 1 / ratio_h, config))
    if boxes is None or not len(boxes):
        return []
    quads = engine._get_origin_points(boxes, op_record, raw_h, raw_w)
    words = [w for line in known.lines for w in line.words]
    todo = [i for i, q in enumerate(quads)
            if not known_line((q[:, 0].min(), q[:, 1].min(), q[:, 0].max(), q[:, 1].max()), words,
                              config.region_known_conf)]
    if not todo:
        return []
    crops = engine.get_crop_img_list(img, [boxes[i] for i in todo])
    # The first reading kept this page unturned and read words on it (its own upside-down test read
    # it turned 180 degrees too): the direction classifier has nothing to turn.
    if config.use_direction_classifier and height is None:
        crops, _, _ = engine.text_cls(crops)
    recognised, _ = engine.text_rec(crops)
    return [(quads[i].tolist(), rec[0], rec[1]) for i, rec in zip(todo, recognised, strict=True)
            if float(rec[1]) >= config.text_score]


def recognise(crops: list[np.ndarray], config: PpocrConfig | None = None, *, what: str = "a region"
              ) -> list[tuple[str, float]]:
    """(text, confidence 0..100) of each crop (RGB or grey), each read as one text line, recognition
    only: a second engine's reading of regions another engine read without confidence."""
    config = config or default_config().ppocr
    if not crops:
        return []
    engine = _get_engine(config)
    bgr = [c[:, :, ::-1].copy() if c.ndim == 3 and c.shape[2] == 3 else np.dstack([c] * 3) for c in crops]
    recognised, _ = _run(lambda images: engine.text_rec(images), bgr, config.timeout_s, what)
    return [(" ".join(str(r[0]).split()), max(0.0, min(100.0, float(r[1]) * 100))) for r in recognised]


def ocr_image(image: np.ndarray, config: PpocrConfig | None = None, *, page: int = 1,
              known: Page | None = None) -> Page:
    """Read one page image (RGB or grey, as uploaded) into a Page; boxes in its own pixels.

    ``known``: the first engine's reading of the page; with ``config.regions`` only the lines it
    did not read well are recognised (a page it turned a quarter is read whole: other pixels).
    A page where nothing is detected is an empty Page, not an error.
    """
    config = config or default_config().ppocr
    engine = _get_engine(config)
    bgr = image[:, :, ::-1].copy() if image.ndim == 3 and image.shape[2] == 3 else image
    if config.regions and known is not None and not known.rotation:
        result = _run(lambda img: _read_regions(engine, img, known, config), bgr, config.timeout_s, f"page {page}")
    else:
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
