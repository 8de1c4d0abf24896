"""Read a document: ingest, then per page the PDF text layer or OpenCV clean-up + OCR,
and barcodes where asked. The only stage that touches the engine wrappers.

>>> # read_document("invoice.pdf", languages=["fra", "eng"]).pages[0].source
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .config import Config, default_config
from .errors import DocumentError
from .ingest import decode_image_pages, load_upload
from .ocr import pdf as pdf_engine
from .ocr import tesseract
from .ocr.preprocess import prepare_for_ocr, read_upright, rotate_quarter
from .records import DocumentRead, Page

__all__ = ["read_document", "ocr_page_image"]


def ocr_page_image(image: np.ndarray, languages: list[str], config: Config, *, page: int = 1) -> Page:
    """Clean up one page image and OCR it; boxes land in the page's own pixels."""
    orient = None
    if "orient" in config.preprocess.steps:
        def orient(gray):
            return tesseract.detect_orientation(gray, config.ocr)
    prepared = prepare_for_ocr(image, config.preprocess, detect_orientation=orient)

    def read(p):
        return tesseract.ocr_image(p.image, languages, config.ocr, page=page, scale=p.scale,
                                   size=p.size, rotation=p.rotation)

    if "orient" not in config.preprocess.steps or not config.preprocess.enabled:
        return read(prepared)
    # Nothing cheap tells an upside-down page before reading it; a low-confidence first
    # reading is read again turned 180 degrees and the surer reading kept.
    return read_upright(prepared, read, below_conf=config.preprocess.upside_down_below_conf)


def _with_barcodes(page: Page, image: np.ndarray, config: Config) -> Page:
    # Decode on the page as read (after any quarter turn) so barcode and word boxes share one frame.
    from .ocr import barcodes as barcode_engine  # only serial photos need the barcode engines

    image = rotate_quarter(image, page.rotation)
    found = barcode_engine.decode_barcodes(image, config.barcodes, page=page.number)
    return Page(page.number, page.width, page.height, page.source, page.lines, tuple(found),
                page.rotation, page.languages)


def read_document(
    path: str | Path,
    name: str | None = None,
    *,
    languages: list[str] | None = None,
    config: Config | None = None,
    barcodes: bool = False,
    ocr: bool = True,
) -> DocumentRead:
    """Read every page of an upload. Raises DocumentError / EngineError with a reason code.

    ``barcodes``: also decode barcodes (serial-sticker photos). ``ocr``: read text
    (turn off to decode barcodes only).
    """
    config = config or default_config()
    languages = languages or config.languages_for(None)
    upload = load_upload(path, name, config.ingest)
    pages: list[Page] = []
    if upload.kind == "pdf":
        deadline = time.monotonic() + config.pdf.timeout_s
        dpi = config.ingest.pdf_dpi
        with pdf_engine.open_pdf(upload.data, upload.name, config.ingest) as (plumber, rendered):
            for index in range(len(plumber.pages)):
                if time.monotonic() > deadline:
                    raise DocumentError(
                        "DOCUMENT_UNREADABLE",
                        f"Reading the PDF {upload.name} took longer than {config.pdf.timeout_s:g} s.",
                    )
                number = index + 1
                lines = pdf_engine.text_layer(plumber, index, dpi=dpi, name=upload.name, config=config.pdf)
                image = None
                if lines is None or barcodes:
                    image = pdf_engine.render_page(
                        rendered, index, dpi=dpi, max_pixels=config.ingest.max_pixels, name=upload.name
                    )
                if lines is not None:
                    w_pt, h_pt = plumber.pages[index].width, plumber.pages[index].height
                    page = Page(number, int(round(w_pt * dpi / 72)), int(round(h_pt * dpi / 72)),
                                "pdf_text", tuple(lines))
                elif ocr:
                    page = ocr_page_image(image, languages, config, page=number)
                else:
                    page = Page(number, image.shape[1], image.shape[0], "none")
                if barcodes:
                    page = _with_barcodes(page, image, config)
                pages.append(page)
    else:
        for index, image in enumerate(decode_image_pages(upload, config.ingest)):
            number = index + 1
            if ocr:
                page = ocr_page_image(image, languages, config, page=number)
            else:
                page = Page(number, image.shape[1], image.shape[0], "none")
            if barcodes:
                page = _with_barcodes(page, image, config)
            pages.append(page)
    return DocumentRead(upload.name, upload.kind, upload.sha256, tuple(pages))
