"""OCR with the real Tesseract (nothing mocked): boxes, turned pages, languages, probe, timeout, receipts."""
from __future__ import annotations

import json
import re

import cv2
import numpy as np
import pytest

from pipeline.config import default_config
from pipeline.errors import EngineError
from pipeline.ocr import tesseract
from pipeline.ocr.preprocess import prepare_for_ocr, read_upright, rotate_quarter

from .conftest import TEST_DATA

SROIE = TEST_DATA / "sroie"

pytestmark = pytest.mark.skipif(not tesseract.probe()["available"], reason="Tesseract is not installed")

WORDS = [["INVOICE", "40211"], ["CASHBACK", "PROMOTION"], ["TOTAL", "3990.00"], ["DELIVERED", "17/02/2020"]]


def word_page(font_scale: float = 0.6, thickness: int = 1) -> tuple[np.ndarray, dict[str, tuple[int, int, int, int]]]:
    """A white RGB page with small words at known places, and each word's true box."""
    img = np.full((420, 760, 3), 255, np.uint8)
    boxes = {}
    for row, words in enumerate(WORDS):
        x, y = 40 + 25 * row, 80 + 85 * row
        for word in words:
            (w, h), base = cv2.getTextSize(word, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thickness)
            cv2.putText(img, word, (x, y), cv2.FONT_HERSHEY_SIMPLEX, font_scale, (0, 0, 0), thickness,
                        cv2.LINE_AA)
            boxes[word] = (x, y - h, x + w, y + base)
            x += w + 60
    return img, boxes


def _iou(a, b) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0


def _inside(point, box, pad: int = 3) -> bool:
    return box[0] - pad <= point[0] <= box[2] + pad and box[1] - pad <= point[1] <= box[3] + pad


def _center(box):
    return ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.upper()).strip()


def test_boxes_land_on_the_words_true_positions_after_scaling():
    img, truth = word_page()
    cfg = default_config()
    prepared = prepare_for_ocr(img, cfg.preprocess.model_copy(update={"steps": ["scale"]}))
    assert prepared.scale > 1.5  # small text was enlarged, so boxes had to be mapped back
    page = tesseract.ocr_image(prepared.image, ["eng"], cfg.ocr, scale=prepared.scale, size=prepared.size)
    assert (page.width, page.height) == (img.shape[1], img.shape[0])
    found = {w.text: w for w in page.words}
    for word, box in truth.items():
        assert word in found, f"{word} not read; got {sorted(found)}"
        got = found[word].bbox
        assert _inside(_center(box), got) and _inside(_center(got), box), (word, got, box)
        assert _iou(got, box) > 0.5, (word, got, box)
        assert found[word].conf > 50


def test_boxes_without_scaling_are_in_image_pixels():
    img, truth = word_page(font_scale=1.0, thickness=2)
    page = tesseract.ocr_image(img, ["eng"])
    found = {w.text: w.bbox for w in page.words}
    assert _iou(found["CASHBACK"], truth["CASHBACK"]) > 0.5


@pytest.mark.parametrize("degrees", [-4.0, 6.0])
def test_boxes_land_on_the_words_of_a_skewed_photo_after_deskew(degrees):
    # The page photographed a few degrees off: deskew straightens it for Tesseract, and each
    # word's box must be turned back onto the word in the photo a reviewer sees.
    img, truth = word_page(font_scale=1.0, thickness=2)
    h, w = img.shape[:2]
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    photo = cv2.warpAffine(img, turn, (w, h), borderValue=(255, 255, 255))

    def turned(box):
        x0, y0, x1, y1 = box
        pts = np.array([[x0, y0, 1], [x1, y0, 1], [x1, y1, 1], [x0, y1, 1]], float) @ turn.T
        return (pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max())

    cfg = default_config()
    prepared = prepare_for_ocr(photo, cfg.preprocess.model_copy(update={"steps": ["deskew", "scale"]}))
    assert "deskew" in prepared.steps and abs(abs(prepared.skew) - abs(degrees)) < 1.0
    page = tesseract.ocr_image(prepared.image, ["eng"], cfg.ocr, scale=prepared.scale, size=prepared.size,
                               skew=prepared.skew)
    found = {w.text: w.bbox for w in page.words}
    for word in ("CASHBACK", "PROMOTION", "DELIVERED"):
        want = turned(truth[word])
        assert word in found, sorted(found)
        assert _inside(_center(found[word]), want) and _iou(found[word], want) > 0.5, (word, found[word], want)


@pytest.mark.parametrize("turn", [90, 270])
def test_a_page_turned_a_quarter_is_turned_upright_and_read(turn):
    img, _ = word_page(font_scale=1.0, thickness=2)
    from pipeline.read import ocr_page_image

    cfg = default_config()
    page = ocr_page_image(rotate_quarter(img, turn), ["eng"], cfg)
    assert page.rotation == (360 - turn) % 360
    assert (page.width, page.height) == (img.shape[1], img.shape[0])
    text = _norm(page.text)
    for word in ("INVOICE", "CASHBACK", "PROMOTION", "TOTAL"):
        assert word in text


def test_an_upside_down_page_is_read_again_turned_and_the_surer_reading_kept():
    img, truth = word_page(font_scale=1.0, thickness=2)
    cfg = default_config()
    prepared = prepare_for_ocr(rotate_quarter(img, 180), cfg.preprocess)
    assert prepared.rotation == 0  # nothing cheap sees that the page is upside down

    def read(p):
        return tesseract.ocr_image(p.image, ["eng"], cfg.ocr, scale=p.scale, size=p.size, rotation=p.rotation)

    page = read_upright(prepared, read, below_conf=cfg.preprocess.upside_down_below_conf)
    assert page.rotation == 180
    found = {w.text: w.bbox for w in page.words}
    for word in ("INVOICE", "CASHBACK", "PROMOTION", "TOTAL"):
        assert word in found
    # Boxes are in the page as read (the upload turned 180 degrees), which is the upright page.
    assert _iou(found["CASHBACK"], truth["CASHBACK"]) > 0.5


def test_an_upside_down_page_is_turned_and_read():
    img, _ = word_page(font_scale=1.0, thickness=2)
    from pipeline.read import ocr_page_image

    page = ocr_page_image(rotate_quarter(img, 180), ["eng"], default_config())
    assert page.rotation == 180
    text = _norm(page.text)
    for word in ("INVOICE", "CASHBACK", "PROMOTION", "TOTAL"):
        assert word in text


def test_choose_languages_drops_uninstalled_ones_and_repeats():
    assert tesseract.choose_languages(["klingon", "eng", "eng", "fra"]) == ["eng", "fra"]


def test_choose_languages_raises_when_none_is_installed():
    with pytest.raises(EngineError) as err:
        tesseract.choose_languages(["klingon", "elvish"])
    assert err.value.code == "ENGINE_MISSING"
    assert "klingon" in err.value.message


def test_probe_reports_version_and_languages():
    info = tesseract.probe()
    assert info["available"] and info["path"]
    assert re.match(r"\d+\.\d+", info["version"])
    assert {"eng", "fra", "nor"} <= set(info["languages"])


def test_a_timeout_is_an_error_never_an_empty_read():
    cfg = default_config()
    big = np.tile(word_page(font_scale=1.0, thickness=2)[0], (6, 4, 1))
    with pytest.raises(EngineError) as err:
        tesseract.ocr_image(big, ["eng"], cfg.ocr.model_copy(update={"timeout_s": 0.001}))
    assert err.value.code == "OCR_TIMEOUT"


@pytest.mark.parametrize("number", ["009", "020"])
def test_a_real_receipt_gives_its_labelled_date_and_company(number):
    from pipeline.read import read_document

    image = SROIE / "img" / f"{number}.jpg"
    key = json.loads((SROIE / "key" / f"{number}.json").read_text())
    doc = read_document(image, languages=["eng"])
    text = _norm(doc.text)
    assert _norm(key["date"]) in text
    assert _norm(key["company"]) in text
