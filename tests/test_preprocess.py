"""Preprocessing: each pure step on synthetic pages rendered at a known size and angle."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from pipeline.config import default_config
from pipeline.ocr.preprocess import (
    Prepared,
    binarise,
    deskew,
    estimate_background,
    estimate_skew,
    estimate_text_height,
    looks_turned,
    normalise_background,
    page_confidence,
    prepare_for_ocr,
    read_upright,
    resize,
    rotate_quarter,
    scale_for_text,
    shaded_paper_share,
    to_gray,
    turn_prepared,
)
from pipeline.records import Line, Page, Word

LINES = ["TAX INVOICE NO 40211", "DATE 17/02/2020 10:15", "MSI MEG X570 ACE 3990.00",
         "SUB TOTAL RM 15.00", "GST 6% RM 0.90", "TOTAL INCL GST RM 15.90", "CASH RM 20.00",
         "CHANGE RM 4.10", "THANK YOU COME AGAIN"]


def page(font_scale: float = 1.0, lines: list[str] = LINES, thickness: int = 2) -> np.ndarray:
    """A white grayscale page with receipt-like capitals and digits."""
    (_, h), _ = cv2.getTextSize("H", cv2.FONT_HERSHEY_SIMPLEX, font_scale, thickness)
    pitch = int(h * 2.2)
    width = max(cv2.getTextSize(t, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thickness)[0][0] for t in lines)
    img = np.full((pitch * (len(lines) + 2), width + 2 * pitch), 255, np.uint8)
    for i, text in enumerate(lines):
        cv2.putText(img, text, (pitch, pitch * (i + 1) + h), cv2.FONT_HERSHEY_SIMPLEX, font_scale, 0,
                    thickness, cv2.LINE_AA)
    return img


def cap_height(font_scale: float, thickness: int = 2) -> int:
    """Ink height of a rendered 'H': what a glyph blob of a capital measures."""
    img = np.full((400, 400), 255, np.uint8)
    cv2.putText(img, "H", (50, 300), cv2.FONT_HERSHEY_SIMPLEX, font_scale, 0, thickness, cv2.LINE_AA)
    rows = np.flatnonzero((img < 128).any(axis=1))
    return int(rows[-1] - rows[0] + 1)


def rotated(img: np.ndarray, degrees: float) -> np.ndarray:
    """Rotated counter-clockwise by ``degrees`` on a canvas big enough to keep the corners."""
    h, w = img.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * sin + w * cos), int(h * cos + w * sin)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    return cv2.warpAffine(img, m, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=255)


def test_to_gray_keeps_gray_and_converts_rgb():
    rgb = np.zeros((5, 7, 3), np.uint8)
    rgb[..., 0] = 255
    assert to_gray(rgb).shape == (5, 7)
    gray = np.ones((5, 7), np.uint8)
    assert to_gray(gray) is gray


@pytest.mark.parametrize("font_scale", [0.5, 0.8, 1.2, 2.0])
def test_estimate_text_height_is_the_cap_height(font_scale):
    expected = cap_height(font_scale)
    got = estimate_text_height(page(font_scale))
    assert got == pytest.approx(expected, rel=0.2)


def test_estimate_text_height_ignores_a_speckled_background():
    # A photo of an invoice lying on a textured table: far more small specks than glyphs.
    rng = np.random.default_rng(3)
    img = np.full((900, 1400), 120, np.uint8)
    for _ in range(3000):
        x, y = int(rng.integers(0, 1395)), int(rng.integers(0, 895))
        img[y:y + int(rng.integers(4, 7)), x:x + int(rng.integers(2, 5))] = int(rng.integers(20, 60))
    sheet = page(1.0)
    img[100:100 + sheet.shape[0], 300:300 + sheet.shape[1]] = sheet[:800, :1100]
    assert estimate_text_height(img) == pytest.approx(cap_height(1.0), rel=0.2)


def test_estimate_text_height_is_none_without_text():
    assert estimate_text_height(np.full((300, 300), 255, np.uint8)) is None


@pytest.mark.parametrize("font_scale,target", [(0.5, 23), (0.8, 23), (2.0, 23), (3.0, 30)])
def test_scale_for_text_brings_glyphs_to_the_target_height(font_scale, target):
    img = page(font_scale)
    factor = scale_for_text(img, target, 10_000)
    if factor == 1.0:  # within the keep-as-is band
        assert 0.8 <= target / estimate_text_height(img) <= 1.25
    else:
        assert estimate_text_height(resize(img, factor)) == pytest.approx(target, rel=0.2)


def test_scale_for_text_bounds():
    tiny = page(0.3, thickness=1)
    assert scale_for_text(tiny, 200, 100_000) == 4.0  # max_factor
    assert scale_for_text(page(3.0), 2, 100_000) == 0.5  # min_factor
    side = max(tiny.shape)
    assert scale_for_text(tiny, 200, side * 2) == pytest.approx(2.0)  # max_side wins
    assert scale_for_text(np.full((200, 200), 255, np.uint8), 23, 5000) == 1.0  # no text: leave it


@settings(max_examples=30, deadline=None)
@given(st.floats(min_value=0.85, max_value=1.2))
def test_scale_for_text_leaves_near_target_pages_alone(ratio):
    img = page(1.0)
    target = int(round(estimate_text_height(img) * ratio))
    factor = scale_for_text(img, target, 10_000)
    assert factor == 1.0 or not 0.8 <= factor <= 1.25


@pytest.mark.parametrize("skew", [-6.0, -3.0, 2.5, 5.0])
def test_estimate_skew_recovers_sign_and_magnitude(skew):
    img = rotated(page(0.8), skew)
    angle = estimate_skew(img, max_degrees=10)
    assert angle == pytest.approx(-skew, abs=0.4)
    straight = deskew(img, angle)
    assert abs(estimate_skew(straight, max_degrees=10)) <= 0.4


def test_estimate_skew_of_a_straight_page_is_about_zero():
    assert abs(estimate_skew(page(0.8), max_degrees=10)) <= 0.2


def test_deskew_ignores_tiny_angles():
    img = page(0.8)
    assert deskew(img, 0.1) is img
    assert deskew(img, 2.0, min_degrees=3.0) is img
    assert deskew(img, 2.0).shape == img.shape


def test_rotate_quarter_turns_and_round_trips():
    img = np.arange(6, dtype=np.uint8).reshape(2, 3)
    assert rotate_quarter(img, 90).tolist() == [[3, 0], [4, 1], [5, 2]]
    assert rotate_quarter(img, 0) is img
    assert rotate_quarter(img, 45) is img
    for k in (90, 180, 270):
        assert np.array_equal(rotate_quarter(rotate_quarter(img, k), 360 - k), img)


@settings(max_examples=50, deadline=None)
@given(arrays(np.uint8, st.tuples(st.integers(1, 9), st.integers(1, 9))),
       st.sampled_from([0, 90, 180, 270, -90, 450]), st.sampled_from([0, 90, 180, 270, 360]))
def test_rotate_quarter_composes_like_addition(img, a, b):
    assert np.array_equal(rotate_quarter(rotate_quarter(img, a), b), rotate_quarter(img, a + b))
    assert np.array_equal(rotate_quarter(rotate_quarter(img, a), -a), img)


def test_looks_turned_tells_vertical_text_from_horizontal():
    img = page(0.8)
    assert not looks_turned(img)
    assert looks_turned(rotate_quarter(img, 90))
    assert looks_turned(rotate_quarter(img, 270))
    assert not looks_turned(rotate_quarter(img, 180))
    assert not looks_turned(np.full((100, 100), 255, np.uint8))


def test_normalise_background_flattens_a_lighting_gradient():
    img = page(0.8)
    h, w = img.shape
    light = np.linspace(1.0, 0.35, w, dtype=np.float32)[None, :] * np.linspace(1.0, 0.7, h)[:, None]
    shaded = (img.astype(np.float32) * light).astype(np.uint8)
    paper = img > 250
    assert np.ptp(shaded[paper]) > 120  # the shadow really is there
    flat = normalise_background(shaded)
    assert np.percentile(flat[paper], 5) > 225  # paper is white again, edge to edge
    ink = img < 60
    assert np.median(flat[ink]) < 100  # and the text is still dark


def test_shaded_paper_share_sees_paper_that_otsu_would_call_ink():
    img = page(0.8)
    assert shaded_paper_share(img, estimate_background(img)) == 0.0
    h, w = img.shape
    light = np.linspace(1.0, 0.35, w, dtype=np.float32)[None, :].repeat(h, axis=0)
    shaded = (img.astype(np.float32) * light).astype(np.uint8)
    assert shaded_paper_share(shaded, estimate_background(shaded)) > 0.2


def test_prepare_divides_out_the_light_only_on_shaded_pages():
    img = page(0.8)
    config = _config(steps=["background"])
    assert prepare_for_ocr(img, config).steps == ()
    light = np.linspace(1.0, 0.35, img.shape[1], dtype=np.float32)[None, :]
    shaded = (img.astype(np.float32) * light).astype(np.uint8)
    prepared = prepare_for_ocr(shaded, config)
    assert prepared.steps == ("background",)
    assert np.percentile(prepared.image[img > 250], 5) > 225


def test_normalise_background_keeps_a_clean_page_clean():
    img = page(0.8)
    flat = normalise_background(img)
    assert np.mean(np.abs(flat.astype(int) - img.astype(int))) < 3


def test_binarise_gives_black_and_white():
    out = binarise(page(0.8))
    assert set(np.unique(out)) <= {0, 255}


def _config(**update):
    return default_config().preprocess.model_copy(update={"enabled": True, **update})


def test_prepare_disabled_is_the_gray_upload():
    rgb = np.dstack([page(0.8)] * 3)
    prepared = prepare_for_ocr(rgb, _config(enabled=False))
    assert prepared.scale == 1.0 and prepared.rotation == 0 and prepared.steps == ()
    assert prepared.size == (rgb.shape[1], rgb.shape[0])


def test_prepare_scales_and_reports_the_page_size_before_scaling():
    img = page(0.5)
    prepared = prepare_for_ocr(img, _config(steps=["scale"], target_text_height_px=24))
    assert prepared.steps == ("scale",) and prepared.scale > 1.5
    assert prepared.size == (img.shape[1], img.shape[0])
    assert prepared.image.shape[1] == pytest.approx(img.shape[1] * prepared.scale, abs=1)


def test_prepare_deskews_a_skewed_page():
    prepared = prepare_for_ocr(rotated(page(0.8), 4.0), _config(steps=["deskew"]))
    assert prepared.steps == ("deskew",)
    assert abs(estimate_skew(prepared.image, 10)) <= 0.4


def test_prepare_asks_the_orientation_detector_only_for_turned_pages():
    calls = []

    def detector(gray):
        calls.append(gray.shape)
        return 270, 5.0

    upright = page(0.8)
    assert prepare_for_ocr(upright, _config(steps=["orient"]), detect_orientation=detector).rotation == 0
    assert calls == []
    turned = rotate_quarter(upright, 90)
    prepared = prepare_for_ocr(turned, _config(steps=["orient"]), detect_orientation=detector)
    assert len(calls) == 1
    assert prepared.rotation == 270 and prepared.image.shape == upright.shape
    assert prepared.size == (upright.shape[1], upright.shape[0])


def test_prepare_orient_trusts_only_a_confident_quarter_turn():
    turned = rotate_quarter(page(0.8), 90)
    for answer in [(180, 9.0), (0, 9.0), (270, 0.1)]:
        prepared = prepare_for_ocr(turned, _config(steps=["orient"], osd_min_confidence=2.0),
                                   detect_orientation=lambda gray, a=answer: a)
        assert prepared.rotation == 0 and prepared.steps == ()


def test_prepare_rejects_an_unknown_step():
    with pytest.raises(ValueError, match="sharpen"):
        prepare_for_ocr(page(0.8), _config(steps=["sharpen"]))


def test_turn_prepared_turns_image_size_and_rotation_together():
    img = np.zeros((20, 50), np.uint8)
    p = Prepared(img, 2.0, 90, (25, 10), ("scale",))
    q = turn_prepared(p, 180)
    assert q.rotation == 270 and q.size == (25, 10) and q.image.shape == (20, 50) and q.scale == 2.0
    r = turn_prepared(p, 90)
    assert r.rotation == 180 and r.size == (10, 25) and r.image.shape == (50, 20)
    assert turn_prepared(p, 360) is p


def _page(*words: tuple[str, float]) -> Page:
    return Page(1, 100, 100, "ocr", (Line(tuple(Word(t, c, (0, 0, 1, 1)) for t, c in words)),))


def test_page_confidence_weights_words_by_length():
    assert page_confidence(_page()) == 0.0
    assert page_confidence(_page(("TOTAL", 90.0), ("X", 30.0))) == pytest.approx((5 * 90 + 30) / 6)


def test_read_upright_reads_once_when_the_engine_is_sure():
    seen = []

    def read(p):
        seen.append(p.rotation)
        return _page(("TOTAL", 80.0))

    prepared = Prepared(np.zeros((10, 20), np.uint8), 1.0, 0, (20, 10), ())
    assert page_confidence(read_upright(prepared, read, below_conf=40)) == 80.0
    assert seen == [0]


def test_read_upright_keeps_the_surer_of_two_readings():
    answers = {0: _page(("SJ", 20.0)), 180: _page(("TOTAL", 85.0))}
    prepared = Prepared(np.zeros((10, 20), np.uint8), 1.0, 0, (20, 10), ())
    page = read_upright(prepared, lambda p: answers[p.rotation], below_conf=40)
    assert page.words[0].text == "TOTAL"
    # A blank page stays what it was: the second reading is no surer.
    answers = {0: _page(("~", 10.0)), 180: _page(("-", 5.0))}
    assert read_upright(prepared, lambda p: answers[p.rotation], below_conf=40).words[0].text == "~"
