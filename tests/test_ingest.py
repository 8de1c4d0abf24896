"""Ingest: type from bytes, limits, EXIF, and one typed error for every bad input."""
from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from pipeline.config import load_config
from pipeline.errors import DocumentError
from pipeline.ingest import decode_image_pages, load_upload, sniff_type
from pipeline.read import read_document

from .conftest import png_header_only, text_image


def _save(tmp_path, name: str, image: np.ndarray, fmt: str, **kw) -> str:
    path = tmp_path / name
    Image.fromarray(image).save(path, format=fmt, **kw)
    return str(path)


@pytest.mark.parametrize("fmt,kind", [
    ("JPEG", "jpeg"), ("PNG", "png"), ("GIF", "gif"), ("WEBP", "webp"), ("TIFF", "tiff"), ("BMP", "bmp"),
])
def test_every_common_image_type_is_detected_from_bytes_and_decoded(tmp_path, fmt, kind):
    image = text_image(["HELLO"], width=300)
    # The extension lies on purpose: the type must come from the bytes.
    path = _save(tmp_path, "upload.dat", image, fmt)
    upload = load_upload(path)
    assert upload.kind == kind
    pages = decode_image_pages(upload)
    assert len(pages) == 1 and pages[0].shape == image.shape and pages[0].dtype == np.uint8


def test_heic_is_read(tmp_path):
    import pillow_heif

    image = text_image(["HEIC"], width=200)
    heif = pillow_heif.from_pillow(Image.fromarray(image))
    path = tmp_path / "photo.heic"
    heif.save(path, quality=90)
    upload = load_upload(path)
    assert upload.kind == "heic"
    assert decode_image_pages(upload)[0].shape[:2] == image.shape[:2]


def test_multipage_tiff_gives_every_page(tmp_path):
    a, b = text_image(["PAGE ONE"], width=300), text_image(["PAGE TWO", "X"], width=300)
    path = tmp_path / "scan.tif"
    Image.fromarray(a).save(path, save_all=True, append_images=[Image.fromarray(b)])
    pages = decode_image_pages(load_upload(path))
    assert [p.shape for p in pages] == [a.shape, b.shape]


def test_exif_orientation_is_applied(tmp_path):
    image = np.zeros((100, 200, 3), np.uint8)  # landscape as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display": a phone held upright
    path = tmp_path / "phone.jpg"
    Image.fromarray(image).save(path, exif=exif)
    page = decode_image_pages(load_upload(path))[0]
    assert page.shape[:2] == (200, 100)


def test_transparent_png_is_composited_on_white(tmp_path):
    rgba = np.zeros((20, 20, 4), np.uint8)  # fully transparent
    path = tmp_path / "t.png"
    Image.fromarray(rgba, "RGBA").save(path)
    assert decode_image_pages(load_upload(path))[0].min() == 255


# --- bad input: one typed error each, with a code and a message for people ---

def _code(fn) -> DocumentError:
    with pytest.raises(DocumentError) as info:
        fn()
    assert info.value.message and "Traceback" not in info.value.message
    return info.value


def test_zero_bytes(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    assert _code(lambda: load_upload(path)).code == "DOCUMENT_UNREADABLE"


def test_missing_file(tmp_path):
    assert _code(lambda: load_upload(tmp_path / "nope.jpg")).code == "DOCUMENT_MISSING"


def test_truncated_jpeg(tmp_path):
    full = io.BytesIO()
    Image.fromarray(text_image(["TRUNCATED"], width=400)).save(full, format="JPEG")
    path = tmp_path / "cut.jpg"
    path.write_bytes(full.getvalue()[: len(full.getvalue()) // 2])
    err = _code(lambda: decode_image_pages(load_upload(path)))
    assert err.code == "DOCUMENT_UNREADABLE" and "damaged" in err.message


def test_html_renamed_jpg(tmp_path):
    path = tmp_path / "invoice.jpg"
    path.write_text("<!DOCTYPE html><html><body>Your order</body></html>")
    assert _code(lambda: load_upload(path)).code == "UNSUPPORTED_TYPE"


def test_pdf_that_is_not_one(tmp_path):
    path = tmp_path / "invoice.pdf"
    path.write_bytes(b"%PDF-1.4\n this is not really a pdf \n%%EOF")
    err = _code(lambda: read_document(path))
    assert err.code == "DOCUMENT_UNREADABLE"


def test_encrypted_pdf(tmp_path):
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt(user_password="secret", owner_password="owner")
    path = tmp_path / "locked.pdf"
    with open(path, "wb") as fh:
        writer.write(fh)
    assert _code(lambda: read_document(path)).code == "DOCUMENT_ENCRYPTED"


def test_decompression_bomb_is_refused_from_the_header(tmp_path):
    path = tmp_path / "huge.png"
    path.write_bytes(png_header_only(20000, 20000))
    err = _code(lambda: decode_image_pages(load_upload(path)))
    assert err.code == "DOCUMENT_TOO_LARGE" and "20000x20000" in err.message


def test_file_size_limit_from_config(tmp_path):
    cfg = load_config()
    small = cfg.ingest.model_copy(update={"max_file_bytes": 100})
    path = tmp_path / "big.png"
    Image.fromarray(text_image(["X"], width=300)).save(path)
    assert _code(lambda: load_upload(path, limits=small)).code == "DOCUMENT_TOO_LARGE"


def test_page_limit_from_config(tmp_path):
    limits = load_config().ingest.model_copy(update={"max_pages": 1})
    path = tmp_path / "two.tif"
    img = Image.fromarray(text_image(["A"], width=100))
    img.save(path, save_all=True, append_images=[img])
    assert _code(lambda: decode_image_pages(load_upload(path), limits)).code == "DOCUMENT_TOO_LARGE"


@given(st.binary(max_size=64))
def test_sniff_never_raises_and_only_names_known_kinds(head):
    assert sniff_type(head) in (None, "jpeg", "png", "gif", "webp", "tiff", "bmp", "heic", "pdf")


@given(st.binary(min_size=1, max_size=2048))
def test_arbitrary_bytes_never_escape_as_anything_but_a_document_error(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "upload.bin"
    path.write_bytes(data)
    try:
        upload = load_upload(path)
        if upload.kind != "pdf":
            decode_image_pages(upload)
    except DocumentError:
        pass
