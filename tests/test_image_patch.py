"""``image_patch``: a value pasted onto a photographed invoice, on pages rendered here with real
text, blur, noise and JPEG (OpenCV and Pillow, nothing mocked)."""
from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image, ImageDraw

from pipeline.decision import Check, Evidence
from pipeline.errors import ConfigError
from pipeline.integrity.knowledge import default_integrity, load_integrity
from pipeline.integrity.patches import image_patch_check, patch_findings, patch_stats
from pipeline.lab.sheet import pil_font
from pipeline.records import DocumentRead, Line, Page, Word

LINES = [["Invoice", "no:", "RE-2020-37643"], ["Invoice", "date:", "17.02.2020", "Customer", "no:", "551568"],
         ["MSI", "MEG", "X570", "ACE", "motherboard", "1", "4.999,00"], ["AMD", "Ryzen", "9", "3900X", "1", "4.290,00"]]
DATE = (1, 2)  # line, word of the date


def _jpeg(a: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("L")).copy()


def _ink_box(a: np.ndarray, box) -> tuple[int, int, int, int]:
    """The box of the ink inside ``box`` (as an OCR engine gives a word's box)."""
    x0, y0, x1, y1 = box
    ys, xs = np.nonzero(a[y0:y1, x0:x1] < 128)
    return x0 + int(xs.min()), y0 + int(ys.min()), x0 + int(xs.max()) + 1, y0 + int(ys.max()) + 1


def photographed(seed: int, *, blur: float = 0.9, noise: float = 3.0, quality: int = 80):
    """(grey page, word boxes by line): an invoice's lines photographed: blurred, noisy, JPEG."""
    rng = np.random.default_rng(seed)
    page = Image.new("L", (1000, 330), 232)
    draw = ImageDraw.Draw(page)
    font = pil_font("sans", False, 24)
    boxes = []
    for n, words in enumerate(LINES):
        x, y = 40, 60 + 60 * n
        row = []
        for word in words:
            draw.text((x, y), word, fill=30, font=font, anchor="ls")
            row.append(draw.textbbox((x, y), word, font=font, anchor="ls"))
            x = row[-1][2] + 16
        boxes.append(row)
    clean = np.asarray(page)
    boxes = [[_ink_box(clean, b) for b in row] for row in boxes]
    a = clean.astype(np.float32)
    import cv2

    a = cv2.GaussianBlur(a, (0, 0), blur) + rng.normal(0, noise, a.shape)
    return _jpeg(np.clip(a, 0, 255).astype(np.uint8), quality), boxes


def paste(grey: np.ndarray, box, text: str, *, paper: float | None = None, blur: float = 0.0,
          noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """A patch over ``box`` (flat paper, or ``paper``), ``text`` typed on it, softened by ``blur``,
    ``noise`` added."""
    import cv2

    x0, y0, x1, y1 = box
    pad = 5
    level = float(np.percentile(grey[y0 - 20:y1 + 20, x0 - 40:x1 + 40], 75)) if paper is None else paper
    patch = Image.new("L", (x1 - x0 + 2 * pad, y1 - y0 + 2 * pad), int(round(level)))
    ImageDraw.Draw(patch).text((pad, y1 - y0 + pad), text, fill=40, font=pil_font("sans", False, 24), anchor="ls")
    p = np.asarray(patch).astype(np.float32)
    if blur:
        p = cv2.GaussianBlur(p, (0, 0), blur)
    if noise:
        p = p + np.random.default_rng(seed).normal(0, noise, p.shape)
    out = grey.copy()
    out[y0 - pad:y1 + pad, x0 - pad:x1 + pad] = np.clip(p, 0, 255).astype(np.uint8)
    return out


def _words(boxes):
    return [b for row in boxes for b in row]


def _findings(grey, boxes, where=DATE, kb=None, measure_all=False):
    kb = kb or default_integrity().patch
    s = patch_stats(grey, boxes[where[0]][where[1]], _words(boxes), kb=kb, measure_all=measure_all)
    return s, patch_findings(s, kb)


@pytest.mark.parametrize("seed", range(6))
def test_a_genuine_photo_raises_nothing(seed):
    grey, boxes = photographed(seed, blur=0.6 + 0.15 * seed, noise=2 + seed, quality=70 + 3 * seed)
    for where in (DATE, (2, 2), (3, 3)):
        s, found = _findings(grey, boxes, where)
        assert found == [], (where, s)


def test_a_sharp_date_typed_on_a_blurred_photo_is_flagged():
    grey, boxes = photographed(1, blur=1.1)
    edited = _jpeg(paste(grey, boxes[1][2], "23.02.2020"), 90)
    s, found = _findings(edited, boxes)
    assert any("sharper" in f for f in found), s
    assert s.page_z >= default_integrity().patch.page_z  # beyond how the page's own words differ


def test_a_soft_date_pasted_from_another_picture_is_flagged():
    grey, boxes = photographed(2, blur=0.5)
    edited = _jpeg(paste(grey, boxes[1][2], "23.02.2020", blur=1.8), 88)
    s, found = _findings(edited, boxes)
    assert any("softer" in f for f in found), s


def test_a_patch_brighter_than_the_paper_is_flagged():
    grey, boxes = photographed(3)
    edited = _jpeg(paste(grey, boxes[1][2], "23.02.2020", paper=250, blur=0.9), 85)
    s, found = _findings(edited, boxes)
    assert any("brighter" in f for f in found), s
    assert s.level > 0


def test_a_noisier_patch_is_measured_and_flagged_when_noise_is_a_finding():
    grey, boxes = photographed(4, noise=1.5, quality=92)
    edited = _jpeg(paste(grey, boxes[1][2], "23.02.2020", blur=0.9, noise=14, seed=4), 92)
    assert _findings(edited, boxes)[0].noise is None  # not measured where no finding uses it (it costs)
    s, found = _findings(edited, boxes, measure_all=True)
    assert s.noise > 3 * s.noise_around
    # measured on the lab's photos, paper noise by the words does not tell a paste (README): it
    # raises nothing by default, and does when [patch].findings names it
    assert not any("noise" in f for f in found)
    kb = default_integrity().patch.model_copy(update={"findings": ["noise"]})
    assert any("rougher" in f for f in _findings(edited, boxes, kb=kb)[1])
    assert _findings(grey, boxes, kb=kb)[1] == []


RECEIPT_WORDS = ["TOTAL", "CASH", "13:58", "SH01", "CHANGE", "4.50", "OPERATOR"]


def thermal_receipt(seed: int):
    """(grey page, word boxes, the date's box): a scanned thermal receipt - each word printed a little
    sharper or softer than the next (the head's dots, the paper's grain), the date bold, the scan
    sharpened (a bright halo along dark strokes: lighter than the paper between bold letters)."""
    import cv2

    rng = np.random.default_rng(seed)
    page = np.full((560, 700), 225, np.float32)
    boxes, date = [], None
    for n in range(9):
        x, y = 30, 50 + 55 * n
        for k in range(4):
            is_date = (n, k) == (4, 0)
            word = "18-11-18" if is_date else RECEIPT_WORDS[(n + k) % len(RECEIPT_WORDS)]
            im = Image.new("L", (200, 50), 0)
            ImageDraw.Draw(im).text((5, 38), word, fill=255, font=pil_font("mono", is_date, 24), anchor="ls")
            ink = cv2.GaussianBlur(np.asarray(im).astype(np.float32) / 255, (0, 0), float(rng.uniform(0.5, 1.3)))
            page[y - 38:y + 12, x - 5:x + 195] -= 190 * ink
            ys, xs = np.nonzero(ink > 0.5)
            boxes.append((x - 5 + int(xs.min()), y - 38 + int(ys.min()), x - 5 + int(xs.max()) + 1,
                          y - 38 + int(ys.max()) + 1))
            date = boxes[-1] if is_date else date
            x = boxes[-1][2] + 25
    page += rng.normal(0, 2, page.shape)
    page += 1.5 * (page - cv2.GaussianBlur(page, (0, 0), 2.0))
    return _jpeg(np.clip(page, 0, 255).astype(np.uint8), 85), boxes, date


def test_a_genuine_thermal_receipt_raises_nothing():
    """Real SROIE receipts were flagged so (a bold date 'sharper' than its words, a date's paper
    'brighter' from the scan's halo): a value is compared with how the page's own words differ from
    theirs, and the paper's level is its paper pixels', away from ink."""
    kb = default_integrity().patch
    beyond = 0
    for seed in range(12):
        grey, boxes, date = thermal_receipt(seed)
        s = patch_stats(grey, date, boxes, kb=kb)
        ratio = s.sharpness / s.sharpness_around
        beyond += ratio >= kb.lone_sharp_ratio or ratio <= kb.lone_soft_ratio  # what a fixed ratio would flag
        assert patch_findings(s, kb) == [], (seed, s)
        assert abs(s.page_z) < kb.page_z and s.page_words >= kb.page_min_words and abs(s.level) < kb.level_min
    assert beyond >= 6


def test_too_few_words_on_the_page_fall_back_to_the_fixed_ratios():
    grey, boxes = photographed(1, blur=1.1)
    edited = _jpeg(paste(grey, boxes[1][2], "23.02.2020"), 90)
    kb = default_integrity().patch.model_copy(update={"page_min_words": 500})
    s, found = _findings(edited, boxes, kb=kb)
    assert s.page_z is None and s.sharpness / s.sharpness_around >= kb.lone_sharp_ratio
    assert any("sharper" in f and "spreads" not in f for f in found), s


def _claim_folder(tmp_path, grey, boxes, name="invoice.png"):
    Image.fromarray(grey).convert("RGB").save(tmp_path / name)
    lines = tuple(Line(tuple(Word(t, 95.0, b) for t, b in zip(words, row))) for words, row in zip(LINES, boxes))
    doc = DocumentRead(name, "png", "0", (Page(1, grey.shape[1], grey.shape[0], "ocr", lines),))
    date = Check(name="purchase_date", product=None, status="pass", score=100, expected="2020-02-17",
                 found="17.02.2020", evidence=Evidence(name, 1, boxes[1][2], "ocr"))
    model = Check(name="product_on_invoice", product=0, status="pass", score=100, expected="MEG X570 ACE",
                  found="MSI MEG X570 ACE", evidence=Evidence(name, 1, (boxes[2][0][0], boxes[2][0][1],
                                                                        boxes[2][3][2], boxes[2][3][3]), "ocr"))
    return [(name, doc)], [date, model]


def test_the_check_names_the_pasted_region_and_what_differs(tmp_path):
    from pipeline.config import default_config

    grey, boxes = photographed(5, blur=1.1)
    edited = paste(grey, boxes[1][2], "23.02.2020")
    invoices, checks = _claim_folder(tmp_path, edited, boxes)
    c = image_patch_check(tmp_path, invoices, checks, ["MEG X570 ACE"], default_config())
    assert (c.status, c.reason) == ("uncertain", "INVOICE_PATCH_SUSPECTED")
    x0, y0, x1, y1 = boxes[1][2]
    ex0, ey0, ex1, ey1 = c.evidence.bbox
    assert (c.evidence.document, c.evidence.page) == ("invoice.png", 1)
    assert ex0 <= x0 and ey0 <= y0 and ex1 >= x1 and ey1 >= y1 and ex1 - ex0 < 2 * (x1 - x0)
    assert "sharp" in c.detail and c.found.startswith("date")
    json.dumps(c.to_dict()) if hasattr(c, "to_dict") else None


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_a_page_the_reader_turned_is_measured_where_its_words_were_read(tmp_path, rotation):
    """The upload is saved turned; the reader turned it back by ``rotation`` before reading, so the
    boxes are on the turned page (a landscape phone photo read upright)."""
    from pipeline.config import default_config
    from pipeline.ocr.preprocess import rotate_quarter

    grey, boxes = photographed(5, blur=1.1)
    edited = paste(grey, boxes[1][2], "23.02.2020")
    invoices, checks = _claim_folder(tmp_path, edited, boxes)
    Image.fromarray(rotate_quarter(edited, (360 - rotation) % 360)).convert("RGB").save(tmp_path / "invoice.png")
    name, doc = invoices[0]
    p = doc.pages[0]
    turned = [(name, DocumentRead(name, "png", "0", (Page(1, p.width, p.height, "ocr", p.lines, rotation=rotation),)))]
    c = image_patch_check(tmp_path, turned, checks, ["MEG X570 ACE"], default_config())
    assert (c.status, c.reason) == ("uncertain", "INVOICE_PATCH_SUSPECTED"), c
    assert c.found.startswith("date")


def test_a_value_the_second_engine_found_on_a_turned_page_is_not_measured_in_the_wrong_frame(tmp_path):
    """Lab seed 47, C-47-0083: Tesseract read the page turned 180 degrees, PP-OCR found the date in
    the upload's own pixels; measured against the turned page's words, a genuine date was 'softer'."""
    from dataclasses import replace

    from pipeline.config import default_config

    grey, boxes = photographed(5, blur=1.1)
    invoices, checks = _claim_folder(tmp_path, paste(grey, boxes[1][2], "23.02.2020"), boxes)
    name, doc = invoices[0]
    p = doc.pages[0]
    turned = [(name, DocumentRead(name, "png", "0", (Page(1, p.width, p.height, "ocr", p.lines, rotation=180),)))]
    by_ppocr = [replace(c, evidence=replace(c.evidence, engine="ppocr")) for c in checks]
    c = image_patch_check(tmp_path, turned, by_ppocr, ["MEG X570 ACE"], default_config())
    assert c.status == "skipped" and "no date or model" in c.detail


def test_the_check_passes_a_genuine_photo_and_skips_a_text_layer(tmp_path):
    from pipeline.config import default_config

    grey, boxes = photographed(6)
    invoices, checks = _claim_folder(tmp_path, grey, boxes)
    c = image_patch_check(tmp_path, invoices, checks, ["MEG X570 ACE"], default_config())
    assert c.status == "pass" and "date" in c.found and "model X570" in c.found
    name, doc = invoices[0]
    text_layer = DocumentRead(name, "pdf", "0", (Page(1, doc.pages[0].width, doc.pages[0].height, "pdf_text",
                                                      doc.pages[0].lines),))
    assert image_patch_check(tmp_path, [(name, text_layer)], checks, [], default_config()).status == "skipped"



def _write(tmp_path, patch: dict) -> str:
    from pipeline.datafiles import read_toml

    data, _ = read_toml(None, packaged="integrity.toml")
    data["patch"].update(patch)
    lines = []
    for section, values in data.items():
        lines += _section(section, values)
    path = tmp_path / "integrity.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def _section(name, values):
    out, subs = [f"[{name}]"], []
    for k, v in values.items():
        if isinstance(v, dict):
            subs += _section(f"{name}.{k}", v)
        else:
            out.append(f"{json.dumps(k) if not k.isidentifier() else k} = {json.dumps(v)}")
    return out + subs


@pytest.mark.parametrize("bad", [{"gap": 0.05, "pad": 0.5}, {"sharp_ratio": 0.9}, {"noise_flat_ratio": 1.5},
                                 {"unknown": 1}, {"lone_sharp_ratio": 1.1}, {"lone_soft_ratio": 0.9},
                                 {"page_z": 0}, {"page_min_words": 1}])
def test_bad_thresholds_are_refused(tmp_path, bad):
    with pytest.raises(ConfigError):
        load_integrity(_write(tmp_path, bad))
    assert load_integrity(_write(tmp_path, {})).patch == default_integrity().patch


def test_the_fast_percentiles_are_numpys():
    from pipeline.integrity.patches import _percentiles

    rng = np.random.default_rng(0)
    for n in (1, 2, 7, 100, 1001):
        a = rng.normal(size=n).astype(np.float32)
        for qs in ((3, 97), (95,), (0, 100), (50,)):
            assert np.allclose(_percentiles(a, qs), np.percentile(a, qs), atol=1e-6)
