"""``image_screen``: a screen capture uploaded as the invoice goes to a person."""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from pipeline.config import load_config, with_overrides
from pipeline.errors import ConfigError
from pipeline.integrity.knowledge import load_integrity
from pipeline.integrity.screens import image_screen_check, screen_findings
from pipeline.lab.invoice import invoice_sheet
from pipeline.lab.tamper import screen_capture

from .test_duplicates_same_template import komplett_invoice

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sheet():
    return invoice_sheet(komplett_invoice(0))


@pytest.mark.parametrize("phone, says", [(False, ["screen's size"]), (True, ["Screenshot", "screen's size"])])
def test_a_capture_of_a_viewer_or_a_phone_screen_is_flagged(tmp_path, sheet, phone, says):
    (tmp_path / "faktura.png").write_bytes(screen_capture(sheet, phone=phone))
    check = image_screen_check("faktura.png", tmp_path / "faktura.png")
    assert (check.status, check.reason) == ("uncertain", "INVOICE_SCREEN_CAPTURE")
    assert all(s in check.detail for s in says), check.detail
    assert check.evidence.document == "faktura.png"


def test_a_capture_cropped_to_the_page_without_metadata_is_not_told_from_an_export(tmp_path, sheet):
    with Image.open(io.BytesIO(screen_capture(sheet, phone=False))) as im:
        im.crop((400, 80, 1500, 1060)).save(tmp_path / "crop.png")
    assert screen_findings(tmp_path / "crop.png") == []


def _noisy(size, seed=0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(np.clip(rng.normal(200, 6, (size[1], size[0], 3)), 0, 255).astype(np.uint8))


def test_a_camera_photo_of_a_screens_size_is_not_flagged(tmp_path, sheet):
    _noisy((1920, 1080)).save(tmp_path / "photo.jpg", quality=85)  # sensor noise: no flat colour
    assert screen_findings(tmp_path / "photo.jpg") == []
    flat = Image.open(io.BytesIO(screen_capture(sheet, phone=False)))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "samsung", "SM-G991B"  # Make, Model: a camera took it
    flat.save(tmp_path / "camera.jpg", quality=92, exif=exif.tobytes())
    assert screen_findings(tmp_path / "camera.jpg") == []


def test_metadata_naming_a_capture_is_enough_at_any_size(tmp_path):
    image = _noisy((900, 1300))
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = b"ASCII\0\0\0Screenshot"
    image.save(tmp_path / "a.jpg", exif=exif.tobytes())
    assert "Screenshot" in screen_findings(tmp_path / "a.jpg")[0]
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", "Greenshot")
    image.save(tmp_path / "b.png", pnginfo=info)
    assert "greenshot" in screen_findings(tmp_path / "b.png")[0]
    image.save(tmp_path / "c.png")
    assert screen_findings(tmp_path / "c.png") == []


def test_real_exported_invoices_and_scans_are_not_flagged():
    for path in [*ROOT.glob("sample_invoices/*/*.png"), *ROOT.glob("sample_invoices/sroie-*/*.jpg")]:
        assert screen_findings(path) == [], path


def test_the_screen_data_is_validated(tmp_path):
    text = (ROOT / "pipeline" / "data" / "integrity.toml").read_text()
    (tmp_path / "bad.toml").write_text(text.replace('"1280x720",', '"1280 by 720",'), encoding="utf-8")
    with pytest.raises(ConfigError, match="1280 by 720"):
        load_integrity(tmp_path / "bad.toml")


def test_a_claim_with_a_screen_capture_goes_to_review(tmp_path):
    from pipeline.lab.tamper import make_set
    from pipeline.verify import verify_claim

    _, tampered = make_set(tmp_path / "set", 0, 1, 5, kinds=("screenshot",))
    config = with_overrides(load_config(), store_url=str(tmp_path / "s.sqlite3"))
    decision = verify_claim(tampered[0].folder, config).to_dict()
    assert decision["decision"] != "approve"
    assert "INVOICE_SCREEN_CAPTURE" in [r["code"] for r in decision["reasons"]]
    assert json.dumps(decision)
