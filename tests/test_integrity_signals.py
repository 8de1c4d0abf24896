"""Integrity signals (issue #17): edited PDFs (revisions, an editor after another application,
text hidden under a box or drawn over other text, a value in a font the document does not use),
sums that do not add up, an image saved by an editor. Real files: the lab's invoice layouts
rendered to PDF and edited the way an editor does it, and the real invoice2data PDFs for what
must not be flagged."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from pipeline.config import load_config, with_overrides
from pipeline.integrity.documents import pdf_checks
from pipeline.integrity.sums import sum_findings
from pipeline.lab.invoice import InvoiceLine, invoice_sheet
from pipeline.lab.sheet import render_pdf
from pipeline.ocr.pdf import pdf_forensics
from pipeline.records import Line, Page, Word

from .conftest import TEST_DATA
from .test_duplicates_same_template import komplett_invoice

CFG = load_config()


def _page(*rows: str, conf: float = 100.0, source: str = "pdf_text") -> Page:
    lines = tuple(Line(tuple(Word(t, conf, (60 * i, 20 * y, 60 * i + 50, 20 * y + 12))
                             for i, t in enumerate(r.split()))) for y, r in enumerate(rows))
    return Page(1, 1000, 1000, source, lines)


GOOD = ("1 MSI MEG X570 ACE 3 990,00 3 990,00", "1 AMD Ryzen 9 3900X 5 490,00 5 490,00", "Sum eks. mva 7 584,00",
        "MVA 25 % 1 896,00", "Totalt inkl. mva kr 9 480,00")


@pytest.mark.parametrize("rows, kinds", [
    (GOOD, []),
    # the total lowered: neither net + VAT nor the items make it
    (GOOD[:4] + ("Totalt inkl. mva kr 8 480,00",), ["net + VAT", "items"]),
    # a line's amount raised without its unit price
    (("1 MSI MEG X570 ACE 3 990,00 4 990,00",) + GOOD[1:], ["line", "items"]),
    # VAT that is no Norwegian rate
    (GOOD[:3] + ("MVA 25 % 2 296,00", "Totalt inkl. mva kr 9 880,00"), ["VAT rate", "items"]),
    # the rate printed is not what the amounts give (15 % is a Norwegian rate, 25 % was printed)
    (GOOD[:2] + ("Sum eks. mva 8 243,48", "MVA 25 % 1 236,52", "Totalt inkl. mva kr 9 480,00"), ["printed rate"]),
    # shipping printed on its own line closes the gap
    (GOOD[:2] + ("Frakt 99,00", "Sum eks. mva 7 663,20", "MVA 25 % 1 915,80", "Totalt inkl. mva kr 9 579,00"), []),
])
def test_sums_that_do_not_add_up(rows, kinds):
    assert [f.kind for f in sum_findings([_page(*rows)], "NO")] == kinds


def test_genuine_lines_the_reader_runs_together_are_not_edits():
    # a model number before the price reads as a thousands group ("100 109,90"); a price glued to
    # the description ("Motherboard169.90") is not read as money, so the items are not all known
    case = ("1 Gehäuse MSI MPG GUNGNIR 100 109,90 109,90", "Nettobetrag 92,35 €", "MwSt. 19 % 17,55 €",
            "Gesamtbetrag 109,90 €")
    assert sum_findings([_page(*case)], "DE") == []
    glued = ("1 MSI MPG X570 GAMING EDGE WIFI Motherboard169.90 169.90", "1 AMD Ryzen 9 3900X 381.90 381.90",
             "Delivery 8.99", "Subtotal (ex. VAT) £467.33", "VAT 20 % £93.46", "Total (inc. VAT) £560.79")
    assert sum_findings([_page(*glued)], "GB") == []


def test_sums_read_without_confidence_or_dropped_by_ocr_are_not_edits():
    lowered = GOOD[:4] + ("Totalt inkl. mva kr 8 480,00",)
    assert sum_findings([_page(*lowered, conf=62)], "NO") == []  # a misread digit is not an edit
    # OCR drops lines: the items are not held against the total on a photo ...
    assert [f.kind for f in sum_findings([_page(*GOOD[1:], source="ocr", conf=95)], "NO")] == []
    # ... and a stray digit from the next column ("25 % 3 780,00") is read both ways
    merged = GOOD[:3] + ("MVA 25 % 3 1 896,00",) + GOOD[4:]
    assert sum_findings([_page(*merged, source="ocr", conf=95)], "NO") == []
    # ... and on a photo a figure one digit off is misread, not edited (Tesseract, confidently)
    misread = ("1 MSI MEG X570 ACE 3 990,00 3 996,00",) + GOOD[1:]
    assert sum_findings([_page(*misread, source="ocr", conf=95)], "NO") == []
    assert [f.kind for f in sum_findings([_page(*misread)], "NO")] == ["line", "items"]  # a PDF is exact


def test_real_receipt_row_numbers_and_totals_naming_the_tax_are_not_edits():
    # SROIE receipts (genuine, flagged before): a row number and an item code stand before the
    # quantity ("5 130 PLAIN RICE 4 1.80 7.20" is 4 x 1.80) ...
    rice = ("5 130 PLAIN RICE 4 1.80 7.20", "6 113 COCONUT 1 6.50 6.50")
    assert sum_findings([_page(*rice, source="ocr", conf=95)], "MY") == []
    # ... but a line that none of its numbers makes add up is still found
    wrong = ("5 130 PLAIN RICE 4 1.80 10.80", "6 113 COCONUT 1 6.50 6.50")
    assert [f.kind for f in sum_findings([_page(*wrong, source="ocr", conf=95)], "MY")] == ["line"]
    # a total that names the tax ("Total After Adj Incl GST") is a total, not the GST
    aeon = ("Sub-total 17.70", "Total Sales Incl GST 17.70", "Total After Adj Incl GST 17.70", "CASH 50.70",
            "SR @ 6% 16.71 0.99", "Total 16.71 0.99")
    assert sum_findings([_page(*aeon, source="ocr", conf=95)], "MY") == []
    # "Total TVA" is the VAT, not the total: its rate is still held against the country's
    fr = ("Total HT 1 000,00", "Total TVA 150,00", "Total TTC 1 150,00")
    assert [f.kind for f in sum_findings([_page(*fr)], "FR")] == ["VAT rate"]


def _lab_pdf(**changes) -> tuple[bytes, str]:
    doc = komplett_invoice(0, lines=(InvoiceLine("MSI MEG X570 ACE hovedkort", 1, 3990.0),
                                     InvoiceLine("AMD Ryzen 9 3900X prosessor", 1, 5490.0)))
    return render_pdf(invoice_sheet(doc)), doc.date_text()


def _checks(data: bytes) -> dict:
    f = pdf_forensics(data, "faktura.pdf", dpi=100)
    return {c.name: c for c in pdf_checks("faktura.pdf", f, dpi=200, models=["MEG X570 ACE", "AMD Ryzen 9 3900X"])}


def _columns(rows: list[tuple[str, ...]], xs: list[int], conf: float = 95.0) -> Page:
    """A table as OCR reads a photo's table column by column: each column one line, top to bottom
    (the words where the rows put them, 30 px apart)."""
    lines = []
    for c, x in enumerate(xs):
        words = []
        for y, row in enumerate(rows):
            for i, t in enumerate(row[c].split()):
                words.append(Word(t, conf, (x + 45 * i, 100 + 30 * y, x + 45 * i + 40, 114 + 30 * y)))
        lines.append(Line(tuple(words)))
    return Page(1, 1200, 1600, "ocr", tuple(lines))


def test_a_table_read_column_by_column_is_read_as_rows():
    # Tesseract read a tampered set's Komplett photo this way (its amounts a column of lines of their
    # own, its total apart from its label): no line held an item, so a raised amount went unseen.
    rows = [("1", "MSI MEG X570 ACE", "3 990,00", "4 640,00"), ("1", "AMD Ryzen 9 3900X", "5 490,00", "5 490,00")]
    page = _columns(rows, [60, 120, 700, 900])
    assert [f.kind for f in sum_findings([page], "NO")] == ["line"]
    genuine = [("1", "MSI MEG X570 ACE", "3 990,00", "3 990,00"), ("1", "AMD Ryzen 9 3900X", "5 490,00", "5 490,00")]
    assert sum_findings([_columns(genuine, [60, 120, 700, 900])], "NO") == []


def test_a_tilted_photos_table_read_column_by_column_is_read_as_rows():
    # Tampered-set seed 83: a phone photo turned ~1.5 degrees, its prices a block of lines apart from
    # the descriptions; 450 px right of its description a price stands 12 px higher than it.
    rows = [("1", "MSI MEG X570 ACE hovedkort", "4 170,00", "3 660,00"),
            ("1", "AMD Ryzen 7 3800X prosessor", "3 760,00", "3 760,00")]
    lines = []
    for c, x in enumerate([60, 120, 880, 1060]):
        words = []
        for y, row in enumerate(rows):
            for i, t in enumerate(row[c].split()):
                x0 = x + 45 * i
                top = 100 + 30 * y - round(0.025 * x0)  # the row climbs 2.5 px per 100 px
                words.append(Word(t, 95, (x0, top, x0 + 40, top + 14)))
        lines.append(Line(tuple(words)))
    page = Page(1, 1200, 1600, "ocr", tuple(lines))
    assert [f.kind for f in sum_findings([page], "NO")] == ["line"]


def _line_photo(tmp_path, printed: str, read: str, conf: float):
    """A photographed item line printing ``printed`` as its unit price, and OCR's reading of it with
    the unit price read as ``read`` at ``conf``."""
    import cv2
    import numpy as np
    from PIL import ImageDraw

    from pipeline.lab.sheet import pil_font
    from pipeline.records import DocumentRead

    texts = ["1", "MSI", "MEG", "X570", "ACE", printed, "3 660,00"]
    image = Image.new("L", (1200, 160), 235)
    draw = ImageDraw.Draw(image)
    font = pil_font("sans", False, 26)
    words, x = [], 40
    for t in texts:
        draw.text((x, 90), t, fill=35, font=font, anchor="ls")
        words.append(draw.textbbox((x, 90), t, font=font, anchor="ls"))
        x = words[-1][2] + (140 if t == "ACE" else 60 if t == printed else 18)
    a = cv2.GaussianBlur(np.asarray(image, np.float32), (0, 0), 0.8)
    Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).save(tmp_path / "faktura.jpg", quality=88)
    ocr = []
    for t, box in zip(texts, words):
        for i, part in enumerate(t.split() if t != printed else read.split()):
            ocr.append(Word(part, conf if t == printed else 95.0, (box[0] + 30 * i, box[1], box[2], box[3])))
    page = Page(1, 1200, 160, "ocr", (Line(tuple(ocr)),))
    return [("faktura.jpg", DocumentRead("faktura.jpg", "jpeg", "0", (page,)))]


class _Claim:
    country = "NO"
    product_list = ()


@pytest.mark.parametrize("printed, read, status", [
    ("4 170,00", "4 170,00", "uncertain"),  # PP-OCR reads the same digits: the raised price is there
    ("3 660,00", "4 170,00", "pass"),       # PP-OCR reads other digits: Tesseract misread it
])
def test_a_figure_read_without_confidence_is_read_again_by_the_second_engine(tmp_path, printed, read, status):
    from functools import partial

    from pipeline.integrity.checks import _read_again
    from pipeline.integrity.sums import check_invoice_sums

    invoices = _line_photo(tmp_path, printed, read, conf=11)
    assert check_invoice_sums(_Claim(), invoices, min_conf=CFG.duplicates.read_min_conf).status == "pass"
    check = check_invoice_sums(_Claim(), invoices, min_conf=CFG.duplicates.read_min_conf,
                               read_again=partial(_read_again, tmp_path, CFG))
    assert check.status == status, check
    if status == "uncertain":
        assert check.reason == "INVOICE_SUMS_MISMATCH" and "4 170,00 read again as 4" in check.detail


def test_a_dash_of_the_description_glued_to_the_price_is_not_a_negative_price():
    # A lab PDF's text layer: "... ATX Motherboard - used" wrapped, its dash taken into the unit price.
    rows = ("1 MSI MAG X570 TOMAHAWK WIFI AMD Socket AM4 ATX Motherboard -219.90 219.90", "used",
            "1 AMD Ryzen 5 3400G Processor, AM4, boxed 149.90 149.90")
    assert [f.kind for f in sum_findings([_page(*rows)], "IE")] == []
    assert [f.kind for f in sum_findings([_page("1 Rabatt Gutschein -50,00 -50,00")], "DE")] == []
    assert [f.kind for f in sum_findings([_page("2 MSI MAG X570 TOMAHAWK -219.90 219.90")], "IE")] == ["line"]


def test_a_described_line_whose_quantity_was_not_read_still_needs_a_whole_quantity():
    # Tampered-set seed 101: a photo's "1" of the memory kit's line unread, its unit price raised.
    rows = ("Kit mémoire Corsair Vengeance LPX 16 Go DDR4 130,80 79,90",
            "1 MSI MEG X570 UNIFY - Carte mère socket AM4 299,90 299,90")
    assert [f.kind for f in sum_findings([_page(*rows, source="ocr", conf=95)], "FR")] == ["line"]
    # two of them, or the quantity's column unread on every line (no item line: nothing to say)
    fine = ("Kit mémoire Corsair Vengeance LPX 16 Go DDR4 79,90 159,80",) + rows[1:]
    assert sum_findings([_page(*fine, source="ocr", conf=95)], "FR") == []
    assert sum_findings([_page(rows[0], "Total HT 130,80 79,90", source="ocr", conf=95)], "FR") == []
    # a label with its figures is not a description ("Total HT 541,33 TVA 108,27")
    labelled = ("Total HT 541,33 € 108,27",) + rows[1:]
    assert sum_findings([_page(*labelled, source="ocr", conf=95)], "FR") == []


def test_a_vat_larger_than_the_net_on_a_photo_is_a_misreading():
    # A genuine till-receipt photo (MediaWorld, Italy) read "IVA 22% 739,79" and "Imponibile 133,39".
    misread = ("1 MSI MEG X570 UNIFY 606,31 606,31", "IVA 22 % 739,79", "Imponibile 133,39", "Totale 739,70")
    assert sum_findings([_page(*misread, source="ocr", conf=95)], "IT") == []
    edited = ("1 MSI MEG X570 UNIFY 606,31 606,31", "IVA 22 % 196,97", "Imponibile 542,73", "Totale 739,70")
    assert "VAT rate" in [f.kind for f in sum_findings([_page(*edited, source="ocr", conf=95)], "IT")]


def test_a_genuine_lab_pdf_raises_no_pdf_signal():
    data, _ = _lab_pdf()
    assert {n: c.status for n, c in _checks(data).items()} == {n: "pass" for n in
                                                               ("pdf_revisions", "pdf_editor", "pdf_hidden_text",
                                                                "pdf_fonts")}


@pytest.mark.parametrize("name", ["AmazonWebServices.pdf", "free_fiber.pdf", "oyo.pdf"])
def test_real_invoices_raise_no_pdf_signal(name):
    path = TEST_DATA / "invoice2data" / name
    flagged = {n: c.detail for n, c in _checks(path.read_bytes()).items() if c.status != "pass"}
    assert flagged == {}


def test_a_date_retyped_over_a_white_box_in_an_update_is_revised_edited_hidden_and_in_another_font():
    from pipeline.lab.tamper import _overlay_edit

    data, old = _lab_pdf()
    edited = _overlay_edit(data, old, "24.02.2020", incremental=True)
    checks = _checks(edited)
    assert {n: c.reason for n, c in checks.items() if c.status != "pass"} == {
        "pdf_revisions": "PDF_REVISED", "pdf_editor": "PDF_EDITOR", "pdf_hidden_text": "PDF_HIDDEN_TEXT",
        "pdf_fonts": "PDF_FONT_MISMATCH"}
    hidden = checks["pdf_hidden_text"]
    assert "2020-02-17" in hidden.detail and hidden.evidence.page == 1 and hidden.evidence.bbox  # the date under it
    assert checks["pdf_fonts"].found == "24.02.2020"
    rewritten = _checks(_overlay_edit(data, old, "24.02.2020", incremental=False))
    assert rewritten["pdf_revisions"].status == "pass" and rewritten["pdf_hidden_text"].reason == "PDF_HIDDEN_TEXT"


def test_a_pdf_whose_visible_date_differs_from_the_hidden_one_is_never_approved(tmp_path):
    from pipeline.lab.tamper import _overlay_edit
    from pipeline.samples import save_png, sticker_image
    from pipeline.verify import verify_claim

    data, old = _lab_pdf()
    folder = tmp_path / "C-PDF"
    folder.mkdir()
    (folder / "faktura.pdf").write_bytes(_overlay_edit(data, old, "24.02.2020", incremental=False))
    save_png(sticker_image("602-7C35-010B1912000555", "A1C", "MEG X570 ACE"), folder / "sticker.png")
    claim = {"claim_id": "C-PDF", "promotion_id": "amd-msi-cashback-2020", "submitted_at": "2020-03-30T10:00:00+02:00",
             "claimant": {"email": "p@example.no", "country": "NO"},
             "purchase": {"date": "2020-02-24", "retailer": "Komplett.no", "country": "NO"},
             "products": [{"model": "MEG X570 ACE", "serial": "602-7C35-010B1912000555", "chk": "A1C",
                           "category": "motherboard"},
                          {"model": "AMD Ryzen 9 3900X", "serial": None, "chk": None, "category": "cpu"}],
             "documents": {"invoices": ["faktura.pdf"], "serial_photos": ["sticker.png"]}}
    (folder / "claim.json").write_text(json.dumps(claim), encoding="utf-8")
    decision = verify_claim(folder, with_overrides(CFG, store_url=str(tmp_path / "s.sqlite3"))).to_dict()
    assert decision["decision"] != "approve"
    assert "PDF_HIDDEN_TEXT" in [r["code"] for r in decision["reasons"]]


@pytest.mark.parametrize("style, typed", [(0, "21.02.2020"), (1, "21. februar 2020")])
def test_a_date_replaced_in_another_font_is_found(style, typed):
    # a date of several words is drawn without space glyphs: its words are found by their gaps
    from dataclasses import replace

    from pipeline.lab.sheet import Text

    doc = replace(komplett_invoice(0), date_style=style)
    sheet = invoice_sheet(doc)
    items = tuple(replace(i, text=typed, family="serif") if isinstance(i, Text) and i.text == doc.date_text()
                  else i for i in sheet.items)
    check = _checks(render_pdf(replace(sheet, items=items)))["pdf_fonts"]
    assert (check.status, check.reason, check.found) == ("uncertain", "PDF_FONT_MISMATCH", typed)
    assert _checks(render_pdf(sheet))["pdf_fonts"].status == "pass"


@pytest.mark.parametrize("software, status", [("Adobe Photoshop 24.1 (Windows)", "uncertain"),
                                              ("GIMP 2.10.34", "uncertain"), ("Android RKQ1.201217.002", "pass"),
                                              (None, "pass")])
def test_an_image_saved_by_an_editor(tmp_path, software, status):
    from pipeline.integrity.documents import image_editor_check

    image = Image.new("RGB", (64, 64), "white")
    exif = image.getexif()
    if software:
        exif[0x0131] = software
    buf = io.BytesIO()
    image.save(buf, format="JPEG", exif=exif.tobytes())
    (tmp_path / "x.jpg").write_bytes(buf.getvalue())
    check = image_editor_check("x.jpg", tmp_path / "x.jpg")
    assert check.status == status
    assert (check.reason == "IMAGE_EDITOR") == (status == "uncertain")


def test_the_integrity_data_is_validated(tmp_path):
    from pipeline.errors import ConfigError
    from pipeline.integrity.knowledge import load_integrity

    text = (Path(__file__).resolve().parents[1] / "pipeline" / "data" / "integrity.toml").read_text()
    (tmp_path / "bad.toml").write_text(text.replace("NO = [25, 15, 12, 0]", "NOR = [25]"), encoding="utf-8")
    with pytest.raises(ConfigError, match="NOR"):
        load_integrity(tmp_path / "bad.toml")


def test_every_signal_is_listed_for_the_reviewer_page():
    from pipeline.integrity import INTEGRITY_CHECKS
    from pipeline.integrity.checks import SIGNALS

    assert set(SIGNALS) <= set(INTEGRITY_CHECKS)
    assert set(CFG.integrity.checks) <= set(SIGNALS)


def test_a_misread_quantity_on_a_scan_is_not_a_line_that_does_not_add_up():
    # Tesseract reads the lone "1" at a line's start as "2" or "4" (lab scans and photos, issue #13)
    for first in ("2", "4"):
        misread = (f"{first} MSI MEG X570 ACE 3 990,00 3 990,00",) + GOOD[1:]
        assert sum_findings([_page(*misread, source="ocr", conf=95)], "NO") == [], first
        # in a PDF's text layer the same line is what was written: it does not add up
        assert [f.kind for f in sum_findings([_page(*misread)], "NO")][:1] == ["line"]
    # a raised amount on a scan is still found: the unit price is not the amount
    raised = ("1 MSI MEG X570 ACE 3 990,00 4 490,00",) + GOOD[1:]
    assert "line" in [f.kind for f in sum_findings([_page(*raised, source="ocr", conf=95)], "NO")]


def test_a_price_read_with_its_leading_digits_lost_on_a_photo_is_a_misreading():
    # "199.90" read as "9.90" beside its amount (lab photo, issue #13)
    rows = ("1 MSI MPG X570 GAMING EDGE WIFI 9.90 199.90",)
    assert sum_findings([_page(*rows, source="ocr", conf=95)], "GB") == []
    assert [f.kind for f in sum_findings([_page(*rows)], "GB")][:1] == ["line"]  # a PDF says what it says


def test_a_big_heading_running_into_small_text_is_a_layout_collision_not_text_typed_over():
    from pipeline.integrity.documents import hidden_text
    from pipeline.ocr.pdf import PdfChar, PdfForensics

    def glyphs(text, x0, size, top):
        return [PdfChar(ch, "Helvetica", size, (x0 + k * size // 2, top, x0 + (k + 1) * size // 2, top + size), 200)
                for k, ch in enumerate(text)]
    # a genuine lab PDF: "Newcastle-under-Lyme" (22 pt) drawn over "overclockers.co.uk" (9 pt)
    heading = glyphs("overclockers.co.uk", 460, 9, 30) + glyphs("Newcastle-under-Lyme", 300, 22, 25)
    assert hidden_text(PdfForensics({}, (), (tuple(heading),))) == []
    # a date typed over another of the same size is drawn over
    typed = glyphs("17.02.2020", 100, 10, 100) + glyphs("27.03.2020", 100, 10, 100)
    assert [how for _, _, how in hidden_text(PdfForensics({}, (), (tuple(typed),)))] == ["overdrawn"]


def test_a_vat_read_without_its_decimals_on_a_scan_is_a_misreading():
    # "55.12" read as "55" on a scanned PDF (lab, issue #13)
    rows = ("1 MSI X570-A PRO 330.70 330.70", "Subtotal (ex. VAT) 275.58", "VAT 20 % 55", "Total 330.70")
    assert sum_findings([_page(*rows, source="ocr", conf=95)], "GB") == []
    lowered = ("1 MSI X570-A PRO 330.70 330.70", "Subtotal (ex. VAT) 275.58", "VAT 20 % 55.12", "Total 280.70")
    assert "net + VAT" in [f.kind for f in sum_findings([_page(*lowered, source="ocr", conf=95)], "GB")]


def test_reading_again_a_box_off_the_page_or_of_a_missing_upload_reads_nothing(tmp_path):
    from pipeline.integrity.checks import _read_again

    name, doc = _line_photo(tmp_path, "4 170,00", "4 170,00", conf=11)[0]
    assert _read_again(tmp_path, CFG, name, doc, 1, [(1500, 300, 1600, 320), (0, 0, 2, 2)]) == [("", 0.0)] * 2
    (tmp_path / name).unlink()
    assert _read_again(tmp_path, CFG, name, doc, 1, [(895, 60, 975, 90)]) == [("", 0.0)]
