"""Barcodes with the real engines (nothing mocked): photos, false positives, retries, boxes, errors."""
from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import zxingcpp
from PIL import Image

from pipeline.config import default_config
from pipeline.errors import ConfigError, EngineError
from pipeline.ocr import barcodes
from pipeline.ocr.barcodes import decode_barcodes, probe

from .conftest import TEST_DATA

SAMPLES = TEST_DATA / "barcodes"
IMAGE_SUFFIXES = {".png", ".webp", ".jpg", ".jpeg"}

# Every labelled photo decodes today (bench/bench_barcodes.py: 24 of 24); a photo the
# wrapper cannot read goes here as "folder/name": "why", and runs as xfail.
CANNOT_DECODE: dict[str, str] = {}


def _images(folder: str) -> list[Path]:
    d = SAMPLES / folder
    return sorted(p for p in d.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def _labelled() -> list:
    params = []
    for folder in ("code128-1", "qrcode-3"):
        for path in _images(folder):
            name = f"{folder}/{path.name}"
            marks = [pytest.mark.xfail(reason=CANNOT_DECODE[name], strict=True)] if name in CANNOT_DECODE else []
            params.append(pytest.param(path, id=name, marks=marks))
    return params


def _rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def _label(path: Path) -> str:
    # Bytes: the QR labels end in \r\n, which text mode would turn into \n.
    return path.with_suffix(".txt").read_bytes().decode("utf-8")


def _config(**changes):
    return default_config().barcodes.model_copy(update=changes)


def _code128_page(text: str, module_px: int = 2) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """An 800x600 white RGB page with a Code 128 symbol, and the symbol's box."""
    symbol = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.Code128)
    bars = np.asarray(zxingcpp.write_barcode_to_image(symbol, scale=module_px, add_quiet_zones=False))
    h, w = bars.shape
    page = np.full((600, 800, 3), 255, np.uint8)
    x, y = (800 - w) // 2, (600 - h) // 2
    page[y:y + h, x:x + w] = bars[:, :, None]
    return page, (x, y, x + w, y + h)


def _symbol(fmt: str, text: str, module_px: int = 3) -> np.ndarray:
    bars = zxingcpp.write_barcode_to_image(
        zxingcpp.create_barcode(text, getattr(zxingcpp.BarcodeFormat, fmt)), scale=module_px
    )
    return np.pad(np.asarray(bars), 40, constant_values=255)


def _contains(outer, inner, tolerance: int) -> bool:
    return (outer[0] <= inner[0] + tolerance and outer[1] <= inner[1] + tolerance
            and outer[2] >= inner[2] - tolerance and outer[3] >= inner[3] - tolerance)


def _close(box, truth, tolerance: int) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(box, truth))


@pytest.mark.parametrize("path", _labelled())
def test_real_photo_decodes_to_its_label(path: Path) -> None:
    image = _rgb(path)
    found = decode_barcodes(image, page=3)
    assert _label(path) in [b.text for b in found]
    expected_format = "CODE128" if path.parent.name.startswith("code128") else "QRCODE"
    hit = next(b for b in found if b.text == _label(path))
    assert hit.format == expected_format
    assert hit.engine in barcodes.ENGINES and hit.page == 3
    x0, y0, x1, y1 = hit.bbox
    assert 0 <= x0 < x1 <= image.shape[1] and 0 <= y0 < y1 <= image.shape[0]


@pytest.mark.parametrize("path", _images("falsepositives-1"), ids=lambda p: p.name)
def test_image_without_barcode_decodes_nothing(path: Path) -> None:
    assert decode_barcodes(_rgb(path)) == []


def test_code128_turned_90_and_downscaled_is_read_with_its_box_in_input_pixels() -> None:
    page, (x0, y0, x1, y1) = _code128_page("CLAIM-2024-0042")
    turned = np.ascontiguousarray(np.rot90(page))  # counter-clockwise: (x, y) -> (y, W - x)
    f = 0.6
    image = cv2.resize(turned, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    truth = (y0 * f, (800 - x1) * f, y1 * f, (800 - x0) * f)

    found = decode_barcodes(image)

    assert [(b.format, b.text) for b in found] == [("CODE128", "CLAIM-2024-0042")]
    assert _contains(found[0].bbox, truth, tolerance=2)
    assert _close(found[0].bbox, truth, tolerance=4)


def test_code128_at_45_degrees_needs_the_turned_retry_and_maps_its_box_back() -> None:
    page, (x0, y0, x1, y1) = _code128_page("SN 7731-0042")
    matrix = cv2.getRotationMatrix2D((400, 300), 45, 1.0)
    image = cv2.warpAffine(page, matrix, (800, 600), borderValue=(255, 255, 255))
    corners = np.array([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], float) @ matrix[:, :2].T + matrix[:, 2]
    truth = (*corners.min(axis=0), *corners.max(axis=0))

    assert decode_barcodes(image, _config(retry=False)) == []
    found = decode_barcodes(image)

    assert [(b.format, b.text) for b in found] == [("CODE128", "SN 7731-0042")]
    assert _contains(found[0].bbox, truth, tolerance=2)
    assert _close(found[0].bbox, truth, tolerance=4)


def test_spent_deadline_stops_retries_and_returns_nothing() -> None:
    page, _ = _code128_page("SN 7731-0042")
    image = cv2.warpAffine(page, cv2.getRotationMatrix2D((400, 300), 45, 1.0), (800, 600),
                           borderValue=(255, 255, 255))
    assert decode_barcodes(image, _config(timeout_s=1e-9)) == []


def test_grayscale_input_reads_like_rgb() -> None:
    path = SAMPLES / "code128-1" / "5.png"
    with Image.open(path) as im:
        gray = np.asarray(im.convert("L"))
    found = decode_barcodes(gray)
    assert [b.text for b in found] == [_label(path)]
    assert found[0].bbox == decode_barcodes(_rgb(path))[0].bbox


def test_both_engines_read_it_once_and_engine_order_decides_who() -> None:
    image = _rgb(SAMPLES / "code128-1" / "2.webp")
    first = decode_barcodes(image)
    assert [(b.text, b.engine) for b in first] == [("Code 128", "zxing-cpp")]
    zbar_first = decode_barcodes(image, _config(engines=["pyzbar", "zxing-cpp"]))
    assert [(b.text, b.engine) for b in zbar_first] == [("Code 128", "pyzbar")]


def test_zbar_misread_at_the_same_place_is_dropped() -> None:
    # zbar has no Code 128 FNC4: it reads 'óóóó1234óóabózz' as 'ssss1234ssabszz'.
    path = SAMPLES / "code128-1" / "6.png"
    assert [b.text for b in decode_barcodes(_rgb(path))] == [_label(path)]


def test_upc_a_is_reported_once_as_its_ean13() -> None:
    found = decode_barcodes(_symbol("UPCA", "036000291452"))
    assert [(b.format, b.text) for b in found] == [("EAN13", "0036000291452")]


def test_itf14_is_read_and_short_itf_is_not() -> None:
    assert [(b.format, b.text) for b in decode_barcodes(_symbol("ITF", "15400141288763"))] == [
        ("ITF", "15400141288763")
    ]
    # Both engines read this ITF-6 cleanly; six digits without a check digit is what
    # noise decodes to, so the wrapper does not report it.
    assert decode_barcodes(_symbol("ITF", "123456")) == []


def test_qr_code_reads_with_one_engine_configured() -> None:
    image = _symbol("QRCode", "https://example.com/claim/42", module_px=4)
    for engine in barcodes.ENGINES:
        found = decode_barcodes(image, _config(engines=[engine]))
        assert [(b.format, b.text, b.engine) for b in found] == [
            ("QRCODE", "https://example.com/claim/42", engine)
        ]


def test_probe_reports_both_engines() -> None:
    info = probe()
    assert info["zxing-cpp"]["available"] and info["zxing-cpp"]["version"]
    assert info["pyzbar"]["available"] and info["pyzbar"]["version"]


@pytest.mark.parametrize(("engine", "module"), [("zxing-cpp", "zxingcpp"), ("pyzbar", "pyzbar")])
def test_missing_engine_raises_engine_missing_and_probe_says_so(monkeypatch, engine, module) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # `import` now raises ImportError
    with pytest.raises(EngineError) as err:
        decode_barcodes(np.full((64, 64), 255, np.uint8))
    assert err.value.code == "ENGINE_MISSING"
    assert isinstance(err.value.__cause__, ImportError)
    assert probe()[engine]["available"] is False


def test_engine_crash_raises_engine_failed(monkeypatch) -> None:
    class Crashing:
        TextMode = zxingcpp.TextMode
        BarcodeFormat = zxingcpp.BarcodeFormat
        barcode_formats_from_str = staticmethod(zxingcpp.barcode_formats_from_str)

        @staticmethod
        def read_barcodes(*args, **kwargs):
            raise RuntimeError("simulated crash")

    monkeypatch.setattr(barcodes, "_zxing", lambda: Crashing)
    with pytest.raises(EngineError) as err:
        decode_barcodes(np.full((64, 64), 255, np.uint8))
    assert err.value.code == "ENGINE_FAILED"
    assert isinstance(err.value.__cause__, RuntimeError)


def test_unknown_engine_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        decode_barcodes(np.full((64, 64), 255, np.uint8), _config(engines=["zbar"]))


def test_tiny_and_blank_images_decode_nothing() -> None:
    for shape in [(1, 1, 3), (1, 100, 3), (0, 0), (40, 40)]:
        assert decode_barcodes(np.full(shape, 255, np.uint8)) == []


def test_non_uint8_image_is_refused() -> None:
    with pytest.raises(ValueError):
        decode_barcodes(np.zeros((50, 50), np.float32))
