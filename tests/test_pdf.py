"""PDF reading: the text layer path, the scanned (render + OCR) path, mixed PDFs page by page."""
from __future__ import annotations

from pypdf import PdfReader, PdfWriter

from pipeline.config import load_config
from pipeline.ocr.pdf import usable_text
from pipeline.read import read_document

from .conftest import TEST_DATA, digital_pdf, scanned_pdf, text_image


def test_text_layer_gives_words_with_boxes_in_pixels_at_the_pipeline_dpi(tmp_path, invoice_lines):
    path = digital_pdf(tmp_path / "digital.pdf", [invoice_lines])
    doc = read_document(path)
    assert doc.kind == "pdf" and len(doc.pages) == 1
    page = doc.pages[0]
    assert page.source == "pdf_text"
    dpi = load_config().ingest.pdf_dpi
    assert (page.width, page.height) == (round(595.2756 * dpi / 72), round(841.8898 * dpi / 72))
    assert [line.text for line in page.lines] == invoice_lines
    first = page.lines[0].words[0]
    # reportlab drew the first line's baseline at y=800 pt from the bottom, x=60 pt
    assert abs(first.bbox[0] - 60 * dpi / 72) < 3
    assert first.bbox[1] < (841.89 - 800) * dpi / 72 < first.bbox[3] + 5


def test_scanned_pdf_is_rendered_and_ocred(tmp_path, invoice_lines):
    path = scanned_pdf(tmp_path / "scan.pdf", [text_image(invoice_lines)])
    page = read_document(path).pages[0]
    assert page.source == "ocr"
    assert "FACTURE" in page.text and "17/02/2020" in page.text


def test_mixed_pdf_works_page_by_page(tmp_path, invoice_lines):
    digital = digital_pdf(tmp_path / "d.pdf", [invoice_lines])
    scan = scanned_pdf(tmp_path / "s.pdf", [text_image(["RECHNUNG 7781", "Datum 03.03.2020"])])
    writer = PdfWriter()
    for src in (digital, scan):
        for p in PdfReader(src).pages:
            writer.add_page(p)
    mixed = tmp_path / "mixed.pdf"
    with open(mixed, "wb") as fh:
        writer.write(fh)
    doc = read_document(mixed)
    assert [p.source for p in doc.pages] == ["pdf_text", "ocr"]
    assert "RECHNUNG" in doc.pages[1].text


def test_real_invoice_pdf_text_layer():
    doc = read_document(TEST_DATA / "invoice2data" / "oyo.pdf")
    assert doc.pages[0].source == "pdf_text"
    assert "IBZY2087" in doc.text


def test_usable_text_rejects_cid_garbage_and_near_empty_layers():
    assert not usable_text("", min_chars=20, max_garbage_ratio=0.3)
    assert not usable_text("(cid:3)(cid:4)(cid:5) abc" * 5, min_chars=5, max_garbage_ratio=0.3)
    assert usable_text("INVOICE 2020-03-17 total 100.00", min_chars=20, max_garbage_ratio=0.3)


def test_a_shop_named_only_in_its_logo_is_read_from_the_picture(tmp_path):
    """A digital invoice whose text layer never names the shop: its logo (an embedded picture) is read
    by OCR and its words join the page, where the retailer check finds them."""
    import datetime as dt

    from pipeline.lab.invoice import InvoiceDoc, InvoiceLine, invoice_sheet
    from pipeline.lab.locales import LOCALES
    from pipeline.lab.sheet import render_pdf
    from pipeline.matching.retailer import match_retailer

    shop = next(r for r in LOCALES["IT"].retailers if r.id == "mediamarkt")
    doc = InvoiceDoc("IT", shop, "IT208709724", dt.date(2020, 5, 24),
                     lines=(InvoiceLine("MSI MEG X570 ACE", 1, 399.9),), shop_in_logo=True)
    path = tmp_path / "fattura.pdf"
    path.write_bytes(render_pdf(invoice_sheet(doc)))
    config = load_config()
    page = read_document(path, config=config).pages[0]
    assert page.source == "pdf_text"
    logo = [line for line in page.lines if any(w.conf < 100 for w in line.words)]
    assert logo and "MEDIAWORLD" in " ".join(line.text for line in logo).upper()
    assert logo[0].bbox[1] < page.height * 0.2  # where the logo is drawn, in the page's pixels
    assert match_retailer("MediaWorld", [page]).status == "pass"
    # off: the text layer alone, which does not name the shop
    off = config.model_copy(update={"pdf": config.pdf.model_copy(update={"pictures": False})})
    bare = read_document(path, config=off).pages[0]
    assert all(w.conf == 100 for line in bare.lines for w in line.words)
    assert match_retailer("MediaWorld", [bare]).status != "pass"
    # what only the picture says never rejects: another shop's claim on it is a question (one engine
    # read the logo; the cascade does not read a text page again), not RETAILER_MISMATCH
    from pipeline.checks import check_retailer, document_checks
    from pipeline.claim import load_claim

    other, _ = load_claim({"claim_id": "c1", "purchase": {"date": "2020-05-24", "retailer": "Komplett.no"},
                           "products": [], "documents": {"invoices": ["fattura.pdf"]}})
    doc = read_document(path, config=config)
    assert check_retailer(other, [("fattura.pdf", doc)], config).status == "fail"  # the logo names MediaWorld
    shop = next(c for c in document_checks(other, [("fattura.pdf", doc)], [], config) if c.name == "retailer")
    assert (shop.status, shop.reason) == ("uncertain", "RETAILER_NOT_FOUND")
    # a picture Tesseract cannot read in time costs its words, never the page's text layer
    hurried = config.model_copy(update={"ocr": config.ocr.model_copy(update={"timeout_s": 0.001})})
    rushed = read_document(path, config=hurried).pages[0]
    assert [line.text for line in rushed.lines] == [line.text for line in bare.lines]
