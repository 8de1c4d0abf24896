"""A product's condition read from its invoice line, against the conditions the terms accept:
the AMD cashback pays for new products only, so "MSI MEG X570 ACE hovedkort - B-vare, brukt" is
not approved (issue #17); a condition read without confidence goes to a person."""
from __future__ import annotations

import pytest

from pipeline.checks import document_checks
from pipeline.decision import Check, Evidence
from pipeline.extract.labels import load_knowledge
from pipeline.promotions import load_promotions
from pipeline.promotions.condition import check_product_condition, conditions_on
from pipeline.promotions.terms import load_terms
from pipeline.records import DocumentRead, Line, Page, Word

from .test_promotions_rules import CASHBACK, CONFIG, CPU, claim, get, invoice, komplett, run


def _line(text: str, conf: float = 93.0) -> Line:
    return Line(tuple(Word(t, conf, (40 * i, 0, 40 * i + 35, 12)) for i, t in enumerate(text.split())))


@pytest.mark.parametrize("text, found", [
    ("MSI MEG X570 ACE hovedkort - B-vare, brukt 3 990,00", ["used", "b_stock"]),
    ("Carte mère MSI MEG X570 ACE reconditionnée", ["refurbished"]),
    ("Mainboard MSI MEG X570 ACE (generalüberholt)", ["refurbished"]),
    ("MSI MEG X570 ACE B-Ware", ["b_stock"]),
    ("Scheda madre MSI MEG X570 ACE usata", ["used"]),
    ("Płyta główna MSI MEG X570 ACE używana", ["used"]),
    ("MSI MEG X570 ACE Open Box", ["open_box"]),
    ("MSI MEG X570 ACE Vorführware", ["demo"]),
    ("MSI MEG X570 ACE ex-display", ["ex_display"]),
    ("Carte mère MSI MEG X570 ACE d'occasion", ["used"]),
    # not conditions: the product's own name, words that merely contain a condition word
    ("MSI MEG X570 ACE hovedkort 3 990,00", []),
    ("AMD Ryzen 9 3900X prosessor, brukerveiledning", []),
    ("Gebrauchsanweisung MSI MEG X570 ACE", []),
])
def test_conditions_are_read_in_the_languages_of_the_territories(text, found):
    assert [c.condition for c in conditions_on([_line(text)])] == found


def test_a_b_stock_used_board_is_not_approved_under_the_cashback():
    out = run(claim(), [komplett("19.02.2020", "MSI MEG X570 ACE hovedkort - B-vare, brukt 3990,00",
                                 "AMD Ryzen 9 3900X 5490,00")])
    check = get(out, "product_condition", 0)
    assert (check.status, check.reason, check.found) == ("fail", "PRODUCT_CONDITION_EXCLUDED", "used")
    assert check.evidence.document == "faktura.jpg" and check.evidence.bbox is not None
    assert get(out, "product_condition", 1).status == "pass"
    assert out.reward is None


def test_a_condition_on_the_line_under_the_model_counts_when_it_continues_the_description():
    out = run(claim(), [komplett("19.02.2020", "MSI MEG X570 ACE 3990,00", "(refurbished)",
                                 "AMD Ryzen 9 3900X 5490,00")])
    assert get(out, "product_condition", 0).reason == "PRODUCT_CONDITION_EXCLUDED"
    assert get(out, "product_condition", 1).status == "pass"  # the CPU's own line says nothing


def test_a_new_product_passes_and_terms_without_conditions_skip_the_check(tmp_path):
    out = run(claim())
    assert {get(out, "product_condition", i).status for i in (0, 1)} == {"pass"}
    text = open(CASHBACK.file, encoding="utf-8").read().replace('conditions = ["new"]\n', "")
    (tmp_path / "amd-msi-cashback-2020.toml").write_text(text, encoding="utf-8")
    terms = load_terms(tmp_path / "amd-msi-cashback-2020.toml")
    used = run(claim(), [komplett("19.02.2020", "MSI MEG X570 ACE brukt 3990,00", "AMD Ryzen 9 3900X 5490,00")],
               terms=terms)
    assert get(used, "product_condition", 0).status == "skipped" and used.reward is not None


def test_a_condition_read_without_confidence_goes_to_review():
    name, doc = komplett("19.02.2020", "MSI MEG X570 ACE brukt 3990,00", "AMD Ryzen 9 3900X 5490,00")
    page = doc.pages[0]
    lines = tuple(Line(tuple(Word(w.text, 41.0 if w.text == "brukt" else w.conf, w.bbox) for w in line.words))
                  for line in page.lines)
    doc = DocumentRead(name, doc.kind, doc.sha256, (Page(1, page.width, page.height, "ocr", lines),))
    check = get(run(claim(), [(name, doc)]), "product_condition", 0)
    assert (check.status, check.reason) == ("uncertain", "PRODUCT_CONDITION_UNCLEAR")


def test_terms_may_name_only_known_conditions(tmp_path):
    from pipeline.errors import ConfigError

    text = open(CASHBACK.file, encoding="utf-8").read().replace('conditions = ["new"]', 'conditions = ["mint"]')
    (tmp_path / "amd-msi-cashback-2020.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="mint"):
        load_promotions(tmp_path)


def test_the_condition_words_are_validated_on_load(tmp_path):
    from pipeline.errors import ConfigError

    bad = tmp_path / "labels.toml"
    bad.write_text('[invoice_numbers]\nlabels = ["invoice"]\n[sellers]\nlabels = ["sold by"]\nstops = ["x"]\n'
                   '[conditions.new]\nwords = ["brand new"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="not 'new'"):
        load_knowledge(bad)


def test_without_the_products_line_the_check_is_skipped():
    c = claim(products=({"model": "MEG X570 ACE", "serial": None, "chk": None, "category": "motherboard"}, CPU))
    checks = [Check(name="product_on_invoice", product=0, status="fail", score=0, expected="MEG X570 ACE",
                    reason="PRODUCT_NOT_ON_INVOICE")]
    result = check_product_condition(c, 0, [invoice("x")], checks, CASHBACK, min_conf=80)
    assert result.status == "skipped"
    found = [Check(name="product_on_invoice", product=0, status="pass", score=100, expected="MEG X570 ACE",
                   found="MEG X570 ACE", evidence=Evidence("faktura.jpg", 1, (0, 0, 10, 10)))]
    assert check_product_condition(c, 0, [invoice("x", name="other.jpg")], found, CASHBACK, min_conf=80).status \
        == "skipped"


def test_a_scanned_invoice_of_a_used_b_stock_board_is_not_approved(tmp_path):
    """End to end, real OCR: the issue's line on the Komplett layout."""
    from pipeline.config import load_config, with_overrides
    from pipeline.lab.invoice import InvoiceLine
    from pipeline.verify import verify_claim

    from .test_duplicates_same_template import komplett_invoice, scanned, write_claim

    lines = (InvoiceLine("MSI MEG X570 ACE hovedkort - B-vare, brukt", 1, 2990.0),
             InvoiceLine("AMD Ryzen 9 3900X prosessor", 1, 5490.0))
    doc = komplett_invoice(0, lines=lines)
    folder = write_claim(tmp_path, "C-USED", scanned(doc, seed=3), day=doc.date, email="used@example.no",
                         serial="602-7C35-010B1912000777")
    decision = verify_claim(folder, with_overrides(load_config(), store_url=str(tmp_path / "c.sqlite3"))).to_dict()
    check = next(c for c in decision["checks"] if c["name"] == "product_condition" and c["product"] == 0)
    assert decision["decision"] != "approve", decision["reasons"]
    assert (check["status"], check["reason"]) == ("fail", "PRODUCT_CONDITION_EXCLUDED"), check


@pytest.mark.parametrize("later_text, status", [
    ("MSIMEGX570ACEhovedkort-brukt", "uncertain"),   # PP-OCR glued the words, kept the dash
    ("MSIMEGX570ACEhovedkort", "pass"),
    ("MSIMEGX570ACEhovedkortubrukt", "pass"),        # "ubrukt" (unused) is no condition
])
def test_a_condition_only_the_second_reading_shows_goes_to_review(later_text, status):
    """A hard photo Tesseract read half of: the cascade's PP-OCR reading of the board's line shows
    what the first reading missed. Never a rejection on that reading alone."""
    name, doc = komplett("19.02.2020", "MSI MEG X570 ACE hovedkort 3990,00", "AMD Ryzen 9 3900X 5490,00")
    c = claim()
    checks = document_checks(c, [(name, doc)], [], CONFIG)
    board = next(x for x in checks if x.name == "product_on_invoice" and x.product == 0)
    x0, y0, x1, y1 = board.evidence.bbox
    later = DocumentRead(name, doc.kind, doc.sha256, (Page(1, doc.pages[0].width, doc.pages[0].height, "ocr", (
        Line((Word(later_text, 96.0, (x0, y0 - 2, x1 + 200, y1 + 2)),)),)),))
    check = check_product_condition(c, 0, [(name, doc)], checks, CASHBACK, min_conf=80, later={name: [later]})
    assert check.status == status, check
    if status == "uncertain":
        assert check.reason == "PRODUCT_CONDITION_UNCLEAR" and "second reading" in check.detail
    other = check_product_condition(c, 1, [(name, doc)], checks, CASHBACK, min_conf=80, later={name: [later]})
    assert other.status == "pass"  # the processor's line is another line
