"""The document checks as pure functions over read pages (no engine involved)."""
from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from pipeline.checks import (
    check_invoice_readable,
    check_product_on_invoice,
    check_purchase_date,
    check_retailer,
    check_serial_number,
    document_checks,
    reading_confirms_fail,
)
from pipeline.claim import load_claim
from pipeline.config import load_config
from pipeline.decide import decide
from pipeline.errors import ConfigError, DocumentError
from pipeline.records import Barcode, DocumentRead, Line, Page, Word

CFG = load_config()


def page(*lines: str, conf: float = 95.0) -> Page:
    out = []
    for i, text in enumerate(lines):
        x, words = 10, []
        for token in text.split():
            words.append(Word(token, conf, (x, 20 + 30 * i, x + 12 * len(token), 40 + 30 * i)))
            x += 12 * len(token) + 10
        out.append(Line(tuple(words)))
    return Page(1, 800, 1200, "ocr", tuple(out))


HEADER = ("TAX INVOICE", "Thank you for shopping with us, goods sold are not returnable")


def doc(*lines: str, **kw) -> tuple[str, DocumentRead]:
    """An invoice page: the given lines under a header, so it is long enough to count as readable."""
    return ("invoice.jpg", DocumentRead("invoice.jpg", "jpeg", "0" * 64, (page(*HEADER, *lines, **kw),)))


def claim(date="2020-02-19", retailer="Komplett.no", country="NO", products=(), submitted=None):
    return load_claim({"claim_id": "C-1", "submitted_at": submitted,
                       "purchase": {"date": date, "retailer": retailer, "country": country},
                       "products": list(products), "documents": {"invoices": ["invoice.jpg"]}})[0]


INVOICE = ("Komplett AS", "Org.nr. 980 284 158 MVA", "FAKTURA 204417811", "Fakturadato: 19.02.2020",
           "MSI MEG X570 ACE hovedkort 3 990,00", "AMD Ryzen 9 3900X prosessor 5 490,00", "Totalt NOK 9 480,00")


def test_date_on_the_invoice_passes_with_evidence():
    c = check_purchase_date(claim(), [doc(*INVOICE)], CFG)
    assert (c.status, c.found, c.evidence.document, c.evidence.page) == ("pass", "19.02.2020", "invoice.jpg", 1)
    assert c.evidence.bbox is not None


def test_another_date_clearly_there_fails():
    c = check_purchase_date(claim(date="2020-02-21"), [doc(*INVOICE)], CFG)
    assert c.status == "fail" and c.reason == "DATE_MISMATCH" and c.found == "19.02.2020"


def test_no_readable_date_is_uncertain():
    c = check_purchase_date(claim(), [doc("Komplett AS", "MSI MEG X570 ACE")], CFG)
    assert c.status == "uncertain" and c.reason == "DATE_NOT_FOUND"


def test_day_month_swap_is_only_uncertain():
    # 03/05/2020 in Norway is 3 May; a claim of 5 March matches only with the fields swapped
    c = check_purchase_date(claim(date="2020-03-05"), [doc("Dato 03/05/2020")], CFG)
    assert c.status == "uncertain"


def test_a_misread_future_year_is_not_evidence_against_the_claim():
    c = check_purchase_date(claim(date="2018-03-18", country="MY", submitted="2018-04-01T10:00:00+08:00"),
                            [doc("DATE 18 Mar 2078 12:01")], CFG)
    assert c.status == "uncertain"


def test_unreadable_invoice_fails_readability_with_the_document_error_code():
    err = DocumentError("DOCUMENT_UNREADABLE", "damaged")
    c = check_invoice_readable([("invoice.jpg", err)], CFG)
    assert c.status == "fail" and c.reason == "DOCUMENT_UNREADABLE"
    assert check_purchase_date(claim(), [("invoice.jpg", err)], CFG).status == "skipped"


def test_near_empty_invoice_is_not_readable():
    tiny = ("invoice.jpg", DocumentRead("invoice.jpg", "jpeg", "0" * 64, (page("x"),)))
    assert check_invoice_readable([tiny], CFG).status in ("uncertain", "fail")
    assert check_invoice_readable([doc(*INVOICE)], CFG).status == "pass"


def test_retailer_pass_and_mismatch():
    assert check_retailer(claim(), [doc(*INVOICE)], CFG).status == "pass"
    wrong = check_retailer(claim(retailer="Elkjøp"), [doc(*INVOICE)], CFG)
    assert wrong.status == "fail" and wrong.reason == "RETAILER_MISMATCH"
    assert check_retailer(claim(retailer=None), [doc(*INVOICE)], CFG).status == "skipped"


@pytest.mark.parametrize("model,status,reason", [
    ("MEG X570 ACE", "pass", None),
    ("AMD Ryzen 9 3900X", "pass", None),
    ("AMD Ryzen 9 3950X", "fail", "PRODUCT_MISMATCH"),
    ("MEG B550 UNIFY", "fail", None),
])
def test_product_on_invoice(model, status, reason):
    c = check_product_on_invoice(claim(products=[{"model": model}]), 0, [doc(*INVOICE)], CFG)
    assert c.status == status
    if reason:
        assert c.reason == reason
    if status == "pass":
        assert c.evidence.bbox is not None


def test_serial_from_barcode_and_missing_photo():
    cl = claim(products=[{"model": "MEG X570 ACE", "serial": "602-7C35-010B1912000123"}])
    sticker = DocumentRead("sticker.jpg", "jpeg", "1" * 64, (Page(1, 600, 300, "ocr", (), (
        Barcode("CODE128", "602-7C35-010B1912000123", (10, 10, 500, 80), "zxing-cpp"),)),))
    c = check_serial_number(cl, 0, [("sticker.jpg", sticker)], CFG)
    assert (c.status, c.evidence.source, c.evidence.document) == ("pass", "barcode", "sticker.jpg")
    missing = check_serial_number(cl, 0, [], CFG)
    assert missing.status == "uncertain" and missing.reason == "SERIAL_PHOTO_MISSING"


def test_serial_off_by_one_fails():
    cl = claim(products=[{"model": "X", "serial": "602-7C35-010B1912000124"}])
    sticker = DocumentRead("s.jpg", "jpeg", "1" * 64, (Page(1, 600, 300, "ocr", (), (
        Barcode("CODE128", "602-7C35-010B1912000123", (10, 10, 500, 80), "zxing-cpp"),)),))
    assert check_serial_number(cl, 0, [("s.jpg", sticker)], CFG).status == "fail"


def test_dates_are_dates():
    assert claim().purchase.date == dt.date(2020, 2, 19)


def test_an_invoice_read_as_nothing_is_never_evidence_against_the_claim():
    empty = ("invoice.jpg", DocumentRead("invoice.jpg", "jpeg", "0" * 64, (Page(1, 800, 1200, "ocr", ()),)))
    cl = claim(products=[{"model": "MEG X570 ACE"}])
    assert check_invoice_readable([empty], CFG).reason == "INVOICE_UNREADABLE"
    assert check_retailer(cl, [empty], CFG).status == "skipped"
    assert check_purchase_date(cl, [empty], CFG).status == "skipped"
    assert check_product_on_invoice(cl, 0, [empty], CFG).status == "skipped"


def test_a_low_confidence_date_one_digit_from_the_claim_is_unclear_not_a_mismatch():
    # "22/12/2017" misread as "29/12/2017": a reviewer decides; a clear read still fails
    c = check_purchase_date(claim(date="2017-12-22", country="MY"), [doc("Date: 29/12/2017", conf=70)], CFG)
    assert c.status == "uncertain" and c.reason == "DATE_UNCLEAR"
    clear = check_purchase_date(claim(date="2017-12-22", country="MY"), [doc("Date: 29/12/2017", conf=96)], CFG)
    assert clear.status == "fail"
    far = check_purchase_date(claim(date="2017-11-22", country="MY"), [doc("Date: 29/12/2017", conf=70)], CFG)
    assert far.status == "fail"


def test_a_mismatch_on_a_barely_readable_invoice_is_a_question_not_a_reject():
    cl = claim(date="2020-02-21", retailer="Elkjøp", products=[{"model": "AMD Ryzen 9 3950X"}])
    poor = doc(*INVOICE, conf=40)  # long enough, but the OCR was unsure of every word
    checks = {c.name: c for c in document_checks(cl, [poor], [], CFG)}
    assert checks["invoice_readable"].status == "uncertain"
    # the model matcher itself takes a different model read at low confidence for a question
    product = checks["product_on_invoice"]
    assert (product.status, product.reason) == ("uncertain", "PRODUCT_UNCERTAIN")
    assert "low confidence" in product.detail
    # the invoice's date, read at confidence 40, is no evidence against the claimed one
    assert (checks["purchase_date"].status, checks["purchase_date"].reason) == ("uncertain", "DATE_UNCLEAR")
    # the other shop's name, read at confidence 40, is no evidence against the claimed one
    assert (checks["retailer"].status, checks["retailer"].reason) == ("uncertain", "RETAILER_NOT_FOUND")
    assert checks["retailer"].found == "Komplett AS"
    # the same invoice read clearly: the mismatches stand
    clear = {c.name: c for c in document_checks(cl, [doc(*INVOICE)], [], CFG)}
    assert [clear[n].status for n in ("purchase_date", "retailer", "product_on_invoice")] == ["fail"] * 3


def test_another_date_is_no_mismatch_when_the_invoice_date_itself_was_unreadable():
    lines = ("Invoice Date: Snerpees", "Order Date: 27 April 2021")
    c = check_purchase_date(claim(date="2021-04-29", country="GB"), [doc(*lines)], CFG)
    assert (c.status, c.reason, c.found) == ("uncertain", "DATE_UNCLEAR", "27 April 2021")
    # read, the invoice date decides: it matches, or it is a mismatch
    read = ("Invoice Date: 29 April 2021", "Order Date: 27 April 2021")
    assert check_purchase_date(claim(date="2021-04-29", country="GB"), [doc(*read)], CFG).status == "pass"
    assert check_purchase_date(claim(date="2021-04-30", country="GB"), [doc(*read)], CFG).status == "fail"


def test_a_product_mismatch_says_what_the_invoice_shows():
    cl = claim(products=[{"model": "GeForce RTX 5060 8G Gaming Trio OC"}])
    lines = ("Komplett AS", "FAKTURA 204417811", "Fakturadato: 19.02.2020",
             "MSI GeForce RTX 5060 Tl 8G GAMING TRIO OC 4 590,00", "Totalt NOK 4 590,00")
    check = check_product_on_invoice(cl, 0, [doc(*lines)], CFG)
    assert (check.status, check.reason) == ("fail", "PRODUCT_MISMATCH")
    assert check.detail == "the invoice shows GeForce RTX 5060 Ti"
    message = decide("C-1", [check], CFG).reasons[0].message
    assert "(GeForce RTX 5060 8G Gaming Trio OC)" in message and "the invoice shows GeForce RTX 5060 Ti." in message
    # without a detail, the plain message
    plain = decide("C-1", [replace(check, detail=None)], CFG).reasons[0].message
    assert plain == CFG.reasons["PRODUCT_MISMATCH"].message


def test_a_reason_message_names_only_fields_a_check_has(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[reasons.PRODUCT_MISMATCH]\ntemplate = "the invoice shows {shop}"\n')
    with pytest.raises(ConfigError, match="shop"):
        load_config(bad)


# ------------------------------------------------------------------------------ issue #16: a reject needs evidence

def test_another_date_on_the_invoice_is_no_mismatch_unless_it_is_the_invoice_date():
    cl = claim(date="2020-02-20", country="NO")
    # only an order and a delivery date read: neither is the purchase date
    c = check_purchase_date(cl, [doc("Ordredato: 17.02.2020", "Leveringsdato: 21.02.2020")], CFG)
    assert (c.status, c.reason) == ("uncertain", "DATE_NOT_FOUND"), c
    # two unlabelled dates: which one is the invoice's cannot be told
    c = check_purchase_date(cl, [doc("17.02.2020", "21.02.2020")], CFG)
    assert (c.status, c.reason) == ("uncertain", "DATE_NOT_FOUND")
    # the invoice's own date, labelled, decides
    c = check_purchase_date(cl, [doc("Fakturadato: 19.02.2020", "Forfallsdato: 05.03.2020")], CFG)
    assert (c.status, c.reason, c.found) == ("fail", "DATE_MISMATCH", "19.02.2020")
    # ... so does the only date, or the only one no label calls another
    assert check_purchase_date(cl, [doc("KVITTERING 19.02.2020 14:32")], CFG).status == "fail"
    c = check_purchase_date(cl, [doc("19.02.2020", "Forfallsdato: 05.03.2020")], CFG)
    assert (c.status, c.found) == ("fail", "19.02.2020")


def test_the_invoice_date_must_be_read_with_confidence_to_reject():
    cl = claim(date="2020-02-05", country="NO")
    c = check_purchase_date(cl, [doc("Fakturadato: 19.02.2020", conf=55)], CFG)
    assert (c.status, c.reason) == ("uncertain", "DATE_UNCLEAR")
    c = check_purchase_date(cl, [doc("Fakturadato: 19.O2.2020")], CFG)  # an OCR repair: O for 0
    assert (c.status, c.reason) == ("uncertain", "DATE_UNCLEAR")


def test_a_product_absent_from_an_invoice_whose_items_were_not_read_is_a_question():
    cl = claim(products=[{"model": "MSI MAG B550 TOMAHAWK"}])
    # items read: the claimed board is not among them
    c = check_product_on_invoice(cl, 0, [doc(*INVOICE)], CFG)
    assert (c.status, c.reason) == ("fail", "PRODUCT_NOT_ON_INVOICE")
    assert "MSI MEG X570 ACE hovedkort" in c.detail
    # no item line (a name and a price) could be read: nothing shows what was bought
    c = check_product_on_invoice(cl, 0, [doc("Komplett AS", "FAKTURA 204417811", "Fakturadato: 19.02.2020")], CFG)
    assert (c.status, c.reason) == ("uncertain", "PRODUCT_UNCERTAIN")
    # item lines read with low confidence: the same
    low = doc(*INVOICE, conf=60)
    assert check_product_on_invoice(cl, 0, [low], CFG).reason == "PRODUCT_UNCERTAIN"


def test_a_known_shop_turns_a_shop_not_found_into_a_mismatch():
    from pipeline.checks import recheck_retailer

    cl = claim(retailer="Corner Computers")
    invoice = doc("Brightline Store", "Receipt 123", "Fakturadato: 19.02.2020", "Widget thing 10,00")
    checks = document_checks(cl, [invoice], [], CFG)
    assert next(c for c in checks if c.name == "retailer").reason == "RETAILER_NOT_FOUND"
    again = recheck_retailer(checks, cl, [invoice], CFG, ["Brightline Store"])
    retailer = next(c for c in again if c.name == "retailer")
    assert (retailer.status, retailer.reason, retailer.found) == ("fail", "RETAILER_MISMATCH", "Brightline Store")
    assert [c for c in again if c.name != "retailer"] == [c for c in checks if c.name != "retailer"]


def test_a_few_letters_of_the_model_are_no_other_model():
    # "Aycen 7 S": the matcher found nothing close (not_found) but kept the words it compared
    cl = claim(products=[{"model": "AMD Ryzen 7 3700X"}])
    c = check_product_on_invoice(cl, 0, [doc("Komplett AS", "Fakturadato: 19.02.2020", "Aycen 7 S")], CFG)
    assert c.reason != "PRODUCT_MISMATCH" and c.found == "Aycen 7 S"
    assert (c.status, c.reason) == ("uncertain", "PRODUCT_UNCERTAIN")  # and no item line was read


def test_a_till_receipt_item_above_its_price_is_an_item_line():
    cl = claim(products=[{"model": "MPG X570 GAMING PLUS"}])
    c = check_product_on_invoice(cl, 0, [doc("CURRYS", "RECEIPT", "MSI B450 Tomahawk", "1 x 89.90  89.90",
                                             "TOTAL (INC. VAT) € 89.90")], CFG)
    # the catalogue knows the receipt's item: another board of the claimed one's sibling families
    assert (c.status, c.reason, c.detail) == ("fail", "PRODUCT_MISMATCH", "the invoice shows MAG B450 TOMAHAWK"), c
    # an item the catalogue does not know, read above its price: the model is not on the invoice
    c = check_product_on_invoice(cl, 0, [doc("CURRYS", "RECEIPT", "Logitech G502 mouse", "1 x 89.90  89.90",
                                             "TOTAL (INC. VAT) € 89.90")], CFG)
    assert (c.status, c.reason) == ("fail", "PRODUCT_NOT_ON_INVOICE"), c
    assert "Logitech G502 mouse" in c.detail
    # a generic item, read and adding up with the shipping to the total: the model is not named
    lines = ("Mindfactory AG", "1 Mainboard 159,90 159,90", "Versand 4,99", "Nettobetrag 138,56", "Gesamtbetrag 164,89")
    c = check_product_on_invoice(cl, 0, [doc(*lines)], CFG)
    assert (c.status, c.reason, c.detail) == ("fail", "PRODUCT_NOT_ON_INVOICE", "the invoice lists 1 Mainboard"), c


def test_item_lines_that_do_not_add_up_to_the_total_were_not_all_read():
    # the board's line read, the PSU's lost to the photo; the board alone is not the total
    cl = claim(products=[{"model": "Corsair RM750x"}])
    lines = ("Komplett AS", "Fakturadato: 19.02.2020", "MSI MEG X570 GODLIKE hovedkort 3 990,00", "oe S",
             "Totalt NOK 5 480,00")
    c = check_product_on_invoice(cl, 0, [doc(*lines)], CFG)
    assert (c.status, c.reason) == ("uncertain", "PRODUCT_UNCERTAIN"), c
    # both lines read, adding up with the shipping: the PSU is not on it
    lines = ("Komplett AS", "MSI MEG X570 GODLIKE hovedkort 3 990,00", "AMD Ryzen 7 2700X prosessor 1 490,00",
             "Frakt 99,00", "Totalt NOK 5 579,00")
    assert check_product_on_invoice(cl, 0, [doc(*lines)], CFG).reason == "PRODUCT_NOT_ON_INVOICE"


def test_a_second_reading_confirms_a_fail_only_where_it_holds_the_same_other_value():
    """PP-OCR loses the "Fakturadato" label and reads a second unlabelled date, so its own check is
    uncertain; its reading still shows the other date (or model) Tesseract's fail rests on: the engines
    agree. It does not where it reads the claimed date too, only a date a label calls another one, the
    date unsurely, or another model."""
    first = [doc(*INVOICE)]
    wrong = claim(date="2020-02-21", products=[{"model": "AMD Ryzen 9 3950X"}])
    fail = check_purchase_date(wrong, first, CFG)
    assert fail.status == "fail"

    def second(*dates, conf=95.0):
        return [doc(*INVOICE[:3], *dates, *INVOICE[4:], conf=conf)]

    unlabelled = second("19.02.2020", "Ref 25.02.2020")
    assert check_purchase_date(wrong, unlabelled, CFG).status == "uncertain"
    assert reading_confirms_fail(fail, wrong, first, unlabelled, CFG)
    assert not reading_confirms_fail(fail, wrong, first, second("19.02.2020", "Ref 21.02.2020"), CFG)
    assert not reading_confirms_fail(fail, wrong, first, second("Forfallsdato: 19.02.2020", "Ref 25.02.2020"), CFG)
    assert not reading_confirms_fail(fail, wrong, first, second("19.02.2020", "Ref 25.02.2020", conf=40.0), CFG)
    mismatch = check_product_on_invoice(wrong, 0, first, CFG)
    assert mismatch.reason == "PRODUCT_MISMATCH"
    assert reading_confirms_fail(mismatch, wrong, first, [doc(*INVOICE)], CFG)
    garbled = [doc(*INVOICE[:5], "AMDRyzen939OOXprosessor 5 490,00", INVOICE[6])]
    assert not reading_confirms_fail(mismatch, wrong, first, garbled, CFG)
