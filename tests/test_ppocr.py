"""The PP-OCR engine (pipeline/ocr/ppocr.py), run for real on real receipts: no mock."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.config import ConfigError, default_config, load_config
from pipeline.errors import EngineError
from pipeline.extract.dates import find_dates
from pipeline.ocr import ppocr

DATA = Path(__file__).parent / "data" / "sroie"
REPO = Path(__file__).resolve().parents[1]


def _receipt(number: str) -> tuple[np.ndarray, dict]:
    image = np.array(Image.open(DATA / f"{number}.jpg").convert("RGB"))
    return image, json.loads((DATA / f"{number}.json").read_text())


@pytest.fixture(scope="module")
def read_019():
    image, key = _receipt("019")
    return image, key, ppocr.ocr_image(image)


def test_probe_names_the_version_and_the_model_files():
    info = ppocr.probe()
    assert info["available"] and info["version"] == "1.4.4"
    files = {m["file"] for m in info["models"]}
    assert any("det" in f for f in files) and any("rec" in f for f in files) and any("cls" in f for f in files)
    assert all(m["bytes"] > 100_000 for m in info["models"])
    assert ppocr.model_version().startswith("1.4.4+")


def test_reads_a_real_receipt_into_tesseract_records(read_019):
    image, key, page = read_019
    height, width = image.shape[:2]
    assert (page.width, page.height, page.source, page.languages) == (width, height, "ocr", "ppocr")
    assert len(page.lines) > 20
    for word in page.words:
        x0, y0, x1, y1 = word.bbox
        assert 0 <= x0 <= x1 <= width and 0 <= y0 <= y1 <= height
        assert 0 <= word.conf <= 100 and " " not in word.text
    assert "SHELL" in page.text.upper()
    assert key["total"] in page.text


def test_a_date_glued_to_its_time_is_found(read_019):
    _, _, page = read_019
    # the recognizer reads "18/03/1815:17...": a two-digit year glued to the time
    dates = {d.date.isoformat() for d in find_dates([page], day_first=True)}
    assert "2018-03-18" in dates


def test_a_second_receipt_and_one_engine_per_process():
    image, key = _receipt("047")
    engine = ppocr._get_engine(default_config().ppocr)
    page = ppocr.ocr_image(image)
    assert ppocr._get_engine(default_config().ppocr) is engine
    dates = {d.date.isoformat() for d in find_dates([page], day_first=True)}
    assert "2018-03-09" in dates
    assert key["total"] in page.text.replace(" ", "")


def test_a_blank_page_is_an_empty_page_not_an_error():
    page = ppocr.ocr_image(np.full((400, 300, 3), 255, np.uint8))
    assert page.lines == () and (page.width, page.height) == (300, 400)


def test_timeout_is_a_typed_error():
    image, _ = _receipt("047")
    config = default_config().ppocr.model_copy(update={"timeout_s": 0.01})
    with pytest.raises(EngineError) as err:
        ppocr.ocr_image(image, config)
    assert err.value.code == "OCR_TIMEOUT"
    ppocr.ocr_image(np.full((60, 60, 3), 255, np.uint8))  # the engine is free again after the stopped page


def test_ppocr_settings_are_validated(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[ppocr]\nintra_op_threads = 0\n")
    with pytest.raises(ConfigError, match="ppocr.intra_op_threads"):
        load_config(bad)
    bad.write_text('[cascade]\nengines = ["ppocr", "tesseract"]\n')
    with pytest.raises(ConfigError, match="cascade.engines"):
        load_config(bad)
    bad.write_text("[ppocr]\nrec_batch = 0\n")
    with pytest.raises(ConfigError, match="ppocr.rec_batch"):
        load_config(bad)


def test_the_recogniser_batch_is_the_configured_one():
    config = default_config().ppocr
    assert ppocr._get_engine(config).text_rec.rec_batch_num == config.rec_batch == 1
    six = ppocr._get_engine(config.model_copy(update={"rec_batch": 6}))
    assert six.text_rec.rec_batch_num == 6
    assert ppocr._get_engine(config).text_rec.rec_batch_num == 1  # a change of setting builds the engine again


_OFFLINE = """
import socket, sys
def refuse(*a, **k):
    raise OSError("network is off in this test")
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
import numpy as np
from PIL import Image
from pipeline.ocr import ppocr
page = ppocr.ocr_image(np.array(Image.open(sys.argv[1]).convert("RGB")))
print(page.text)
"""


def test_reads_with_the_network_off():
    out = subprocess.run([sys.executable, "-c", _OFFLINE, str(DATA / "047.jpg")], capture_output=True,
                         text=True, timeout=240, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert "170.00" in out.stdout.replace(" ", "")


def test_cli_ocr_engines():
    from typer.testing import CliRunner

    from pipeline.cli import app

    result = CliRunner().invoke(app, ["ocr", "--engine", "cascade", str(DATA / "047.jpg")])
    assert result.exit_code == 0, result.output
    assert "(tesseract) <==" in result.output and "(ppocr) <==" in result.output
    assert CliRunner().invoke(app, ["ocr", "--engine", "easyocr", str(DATA / "047.jpg")]).exit_code == 2


def test_one_opencv_build_provides_cv2():
    # rapidocr-onnxruntime asks for the GUI opencv-python; installed without its dependencies, the
    # project's opencv-python-headless stays the only cv2 (two builds would overwrite each other's files)
    from importlib.metadata import PackageNotFoundError, version

    import cv2

    builds = []
    for name in ("opencv-python", "opencv-python-headless", "opencv-contrib-python",
                 "opencv-contrib-python-headless"):
        try:
            builds.append((name, version(name)))
        except PackageNotFoundError:
            pass
    assert [name for name, _ in builds] == ["opencv-python-headless"]
    assert cv2.__version__.split(".")[0] == builds[0][1].split(".")[0]


def test_cli_cascade_reads_a_text_layer_once(tmp_path):
    from typer.testing import CliRunner

    from pipeline.cli import app

    from .conftest import digital_pdf

    pdf = digital_pdf(tmp_path / "inv.pdf", [["INVOICE 2024-05-01", "Total 12.50 EUR", "Thank you for your order"]])
    result = CliRunner().invoke(app, ["ocr", "--engine", "cascade", str(pdf)])
    assert result.exit_code == 0, result.output
    assert "(tesseract) <==" in result.output and "(ppocr)" not in result.output


def _tesseract_reading(number: str):
    from pipeline.read import read_document

    config = load_config()
    return read_document(DATA / f"{number}.jpg", languages=config.languages_for(None), config=config).pages[0]


def test_a_region_reading_recognises_only_the_lines_tesseract_read_badly_or_missed():
    # receipt 047: Tesseract reads its address, time and amounts with low confidence
    image, key = _receipt("047")
    known = _tesseract_reading("047")
    regions = default_config().ppocr.model_copy(update={"regions": True})
    whole = ppocr.ocr_image(image, regions)  # no first reading: the whole page
    part = ppocr.ocr_image(image, regions, known=known)
    assert len(part.lines) < len(whole.lines)
    assert key["total"] in part.text.replace(" ", "") and "IBRAHIM" in part.text
    words = [w for line in known.lines for w in line.words]
    for line in part.lines:  # none of the lines read again is one Tesseract read well
        assert not ppocr.known_line(line.bbox, words, regions.region_known_conf)
    for word in part.words:
        x0, y0, x1, y1 = word.bbox
        assert 0 <= x0 <= x1 <= image.shape[1] and 0 <= y0 <= y1 <= image.shape[0]
    # the switch off: the first reading is ignored, the whole page recognised
    off = ppocr.ocr_image(image, regions.model_copy(update={"regions": False}), known=known)
    assert len(off.lines) > len(part.lines) and key["total"] in off.text.replace(" ", "")


def test_detection_is_sized_by_the_measured_text_height():
    known = _tesseract_reading("047")
    config = default_config().ppocr
    height = ppocr.text_height(known)
    assert height is not None and 5 < height < 60
    scale = ppocr.detection_scale(height, 1.0, config)
    assert abs(scale * height - config.det_text_px) < 0.5 or scale in (config.det_scale_min, config.det_scale_max)
    assert ppocr.detection_scale(None, 1.0, config) is None
    assert ppocr.detection_scale(height, 1.0, config.model_copy(update={"det_text_px": 0})) is None
