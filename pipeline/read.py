"""Read a document: ingest, then per page the PDF text layer or OpenCV clean-up + OCR,
and barcodes where asked. The only stage that touches the engine wrappers.

>>> # read_document("invoice.pdf", languages=["fra", "eng"]).pages[0].source
"""
from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from .config import Config, default_config
from .errors import DocumentError, EngineError
from .ingest import iter_image_pages, load_upload
from .ocr import pdf as pdf_engine
from .ocr import tesseract
from .ocr.preprocess import page_confidence, prepare_for_ocr, read_upright, rotate_quarter
from .records import DocumentRead, Line, Page

__all__ = ["read_document", "ocr_page_image"]


def ocr_page_image(image: np.ndarray, languages: list[str], config: Config, *, page: int = 1,
                   known: Page | None = None) -> Page:
    """Clean up one page image and OCR it; boxes land in the page's own pixels.

    ``[ocr].engine`` = "ppocr": PP-OCR reads the page as uploaded (its own detector and direction
    classifier take the place of the clean-up; it reads Latin script whatever the languages).
    ``known``: the first engine's reading of this page (the cascade's second reading recognises only
    the text lines it read badly or missed; see ``pipeline.ocr.ppocr``)."""
    if config.ocr.engine == "ppocr":
        from .ocr import ppocr  # onnxruntime loads only where PP-OCR reads

        return ppocr.ocr_image(image, config.ppocr, page=page, known=known)
    orient = None
    if "orient" in config.preprocess.steps:
        def orient(gray):
            return tesseract.detect_orientation(gray, config.ocr)
    prepared = prepare_for_ocr(image, config.preprocess, detect_orientation=orient)

    def read(p):
        return tesseract.ocr_image(p.image, languages, config.ocr, page=page, scale=p.scale,
                                   size=p.size, rotation=p.rotation, skew=p.skew)

    if "orient" not in config.preprocess.steps or not config.preprocess.enabled:
        return read(prepared)
    # Nothing cheap tells an upside-down page before reading it; a low-confidence first
    # reading is read again turned 180 degrees and the surer reading kept.
    return read_upright(prepared, read, below_conf=config.preprocess.upside_down_below_conf)


def _decode(image: np.ndarray, config: Config, page: int) -> list:
    from .ocr import barcodes as barcode_engine  # only serial photos need the barcode engines

    return barcode_engine.decode_barcodes(image, config.barcodes, page=page)


def _with_barcodes(page: Page, image: np.ndarray, config: Config, found: list | None = None) -> Page:
    # Decode on the page as read (after any quarter turn) so barcode and word boxes share one frame.
    if found is None or page.rotation:
        found = _decode(rotate_quarter(image, page.rotation), config, page.number)
    return Page(page.number, page.width, page.height, page.source, page.lines, tuple(found),
                page.rotation, page.languages)


def mask_barcodes(image: np.ndarray, boxes, *, margin: int = 4) -> np.ndarray:
    """A copy of ``image`` with each box painted the paper's colour (a bright percentile of the page).

    Bars next to printed text make Tesseract find no text lines at all; once the barcode has
    been decoded, its bars carry nothing more for OCR.
    """
    if not boxes:
        return image
    out = image.copy()
    paper = np.percentile(image[::4, ::4].reshape(-1, *image.shape[2:]), 90, axis=0).astype(image.dtype)
    h, w = image.shape[:2]
    for x0, y0, x1, y1 in boxes:
        out[max(0, y0 - margin):min(h, y1 + margin), max(0, x0 - margin):min(w, x1 + margin)] = paper
    return out


def _read_sticker(image: np.ndarray, languages: list[str], config: Config, number: int, ocr: bool,
                  known: Page | None = None) -> Page:
    """A serial photo: barcodes first, then OCR of the photo with the decoded barcodes masked."""
    found = _decode(image, config, number)
    if not ocr:
        return _with_barcodes(Page(number, image.shape[1], image.shape[0], "none"), image, config, found)
    if config.ocr.sticker_mask_barcodes:
        image_for_ocr = mask_barcodes(image, [b.bbox for b in found if b.bbox])
    else:
        image_for_ocr = image
    page = ocr_page_image(image_for_ocr, languages, config, page=number, known=known)
    for steps in config.ocr.sticker_reads[1:] if config.ocr.engine == "tesseract" else ():
        if has_label(page, config.ocr.sticker_labels):
            break
        if list(steps) == list(config.preprocess.steps):
            continue  # the same reading again would read the same
        again = config.model_copy(update={"preprocess": config.preprocess.model_copy(update={"steps": list(steps)})})
        page = merge_readings(page, ocr_page_image(image_for_ocr, languages, again, page=number))
    return _with_barcodes(page, image, config, found)


def has_label(page: Page, labels) -> bool:
    """Whether a word of the page starts with one of ``labels`` (case-insensitive)."""
    wanted = tuple(label.upper() for label in labels)
    return any(w.text.upper().startswith(wanted) for w in page.words)


def merge_readings(first: Page, second: Page) -> Page:
    """Two readings of one page: every line of both when they share a frame, else the surer one."""
    if first.rotation != second.rotation:
        return first if page_confidence(first) >= page_confidence(second) else second
    return replace(first, lines=first.lines + second.lines)


def _reading_order(line: Line) -> tuple:
    box = line.bbox or (0, 0, 0, 0)
    return ((box[1] + box[3]) / 2, box[0])


def _picture_lines(plumber, rendered, index: int, languages: list[str], config: Config, name: str) -> list[Line]:
    """The text OCR reads in the embedded pictures of a page that has a text layer (a logo naming the
    shop, a stamp), as lines in the page's pixels at ``[ingest].pdf_dpi``. Read by Tesseract whatever
    the engine (a clean render needs no second engine); confidences are Tesseract's, not the text
    layer's 100; words under ``[pdf].picture_min_conf`` are left out (a photo's texture read as
    letters is no text, and a garbled line would stand for an unreadable product line)."""
    dpi = config.ingest.pdf_dpi
    boxes = pdf_engine.picture_boxes(plumber, index, dpi=dpi, min_px=config.pdf.picture_min_px,
                                     max_count=config.pdf.picture_max_count)
    if not boxes:
        return []
    try:
        image = pdf_engine.render_page(rendered, index, dpi=dpi, max_pixels=config.ingest.max_pixels, name=name)
    except DocumentError:
        return []  # the page's text layer was read: a page pdfium cannot draw still has it
    w_pt = plumber.pages[index].width
    ratio = image.shape[1] / (float(w_pt) * dpi / 72) if w_pt else 1.0  # a page lowered under max_pixels
    out: list[Line] = []
    for x0, y0, x1, y1 in boxes:
        crop = image[int(y0 * ratio):int(y1 * ratio), int(x0 * ratio):int(x1 * ratio)]
        if crop.size == 0:
            continue
        try:
            read = tesseract.ocr_image(crop, languages, config.ocr, page=index + 1)
        except EngineError as exc:
            if exc.code == "ENGINE_MISSING":
                raise
            continue  # a picture Tesseract times out on: the page's text layer stands without it
        for line in read.lines:
            words = tuple(replace(w, bbox=(x0 + int(w.bbox[0] / ratio), y0 + int(w.bbox[1] / ratio),
                                           x0 + int(w.bbox[2] / ratio), y0 + int(w.bbox[3] / ratio)))
                          for w in line.words if w.text.strip() and w.conf >= config.pdf.picture_min_conf)
            if words:
                out.append(Line(words))
    return out


def read_document(
    path: str | Path,
    name: str | None = None,
    *,
    languages: list[str] | None = None,
    config: Config | None = None,
    barcodes: bool = False,
    ocr: bool = True,
    known: DocumentRead | None = None,
) -> DocumentRead:
    """Read every page of an upload. Raises DocumentError / EngineError with a reason code.

    ``barcodes``: also decode barcodes (serial-sticker photos). ``ocr``: read text
    (turn off to decode barcodes only). ``known``: the first engine's reading of this document,
    handed to the engine page by page (its OCR pages only).
    """
    config = config or default_config()
    languages = languages or config.languages_for(None)
    upload = load_upload(path, name, config.ingest)
    pages: list[Page] = []

    def known_page(index: int) -> Page | None:
        if known is None or index >= len(known.pages) or known.pages[index].source != "ocr":
            return None
        return known.pages[index]

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
                    if ocr and not barcodes and config.pdf.pictures and index < config.pdf.picture_pages:
                        seen = _picture_lines(plumber, rendered, index, languages, config, upload.name)
                        lines = sorted(lines + seen, key=_reading_order) if seen else lines
                    page = Page(number, int(round(w_pt * dpi / 72)), int(round(h_pt * dpi / 72)),
                                "pdf_text", tuple(lines))
                elif barcodes:
                    page = _read_sticker(image, languages, config, number, ocr, known_page(index))
                elif ocr:
                    page = ocr_page_image(image, languages, config, page=number, known=known_page(index))
                else:
                    page = Page(number, image.shape[1], image.shape[0], "none")
                if barcodes and lines is not None:
                    page = _with_barcodes(page, image, config)
                pages.append(page)
    else:
        for index, image in enumerate(iter_image_pages(upload, config.ingest)):
            number = index + 1
            if barcodes:
                pages.append(_read_sticker(image, languages, config, number, ocr, known_page(index)))
                continue
            if ocr:
                page = ocr_page_image(image, languages, config, page=number, known=known_page(index))
            else:
                page = Page(number, image.shape[1], image.shape[0], "none")
            pages.append(page)
    return DocumentRead(upload.name, upload.kind, upload.sha256, tuple(pages))
