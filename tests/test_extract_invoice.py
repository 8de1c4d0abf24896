"""Totals, currency, line items and invoice numbers from read pages."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.extract.facts import invoice_facts
from pipeline.extract.invoice import find_currency, find_line_items, find_total, parse_amount
from pipeline.records import DocumentRead, Line, Page, Word


def page(*lines: str) -> list[Page]:
    out = []
    for i, text in enumerate(lines):
        words, x = [], 10
        for t in text.split():
            words.append(Word(t, 95.0, (x, 30 * i, x + 10 * len(t), 30 * i + 20)))
            x += 10 * len(t) + 8
        out.append(Line(tuple(words)))
    return [Page(1, 1000, 1400, "ocr", tuple(out))]


@pytest.mark.parametrize("text,value", [
    ("1469,90 €", "1469.90"), ("1.234,56", "1234.56"), ("1,234.56", "1234.56"), ("3 990,00", "3990.00"),
    ("RM 9.00", "9.00"), ("Rp 500.000", "500000"), ("USD 4.11", "4.11"), ("CHF 1'299.50", "1299.50"),
    ("-12,50", "-12.50"),
])
def test_parse_amount(text, value):
    assert parse_amount(text) == Decimal(value)


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=99),
       st.sampled_from([("", "."), (",", "."), (".", ","), (" ", ","), ("", ",")]))
def test_parse_amount_round_trips_every_common_way_of_writing_money(units, cents, seps):
    thousands, decimal = seps
    digits = f"{units:,}".replace(",", thousands) if thousands else str(units)
    assert parse_amount(f"{digits}{decimal}{cents:02d}") == Decimal(units) + Decimal(cents) / 100


@given(st.text(max_size=80))
def test_parse_amount_never_raises(text):
    parse_amount(text)


INVOICE = page("Komplett.no", "FAKTURA 204417811", "Fakturadato: 19.02.2020", "Tel 080 100 444",
               "MSI MEG X570 ACE hovedkort 3 990,00", "AMD Ryzen 9 3900X prosessor 5 490,00",
               "Herav mva 1 896,00", "Totalt inkl. mva NOK 9 480,00")


def test_total_is_the_labelled_amount_not_the_tax_or_a_phone_number():
    total = find_total(INVOICE)
    assert total.value == Decimal("9480.00") and total.bbox is not None


def test_line_items_are_priced_product_lines():
    items = find_line_items(INVOICE)
    assert [(i.description, i.amount) for i in items] == [
        ("MSI MEG X570 ACE hovedkort", Decimal("3990.00")), ("AMD Ryzen 9 3900X prosessor", Decimal("5490.00"))]


def test_currency_from_signs_and_country():
    assert find_currency(INVOICE, "NO") == "NOK"
    assert find_currency(page("Total 12,00 kr"), "SE") == "SEK"
    assert find_currency(page("Total 1469,90 €"), None) == "EUR"
    assert find_currency(page("Total 12.00"), "MY") == "MYR"


def test_invoice_summary_gives_number_total_currency_and_items():
    facts = invoice_facts(DocumentRead("i.png", "png", "0", tuple(INVOICE)), country="NO").summary().to_dict()
    assert facts["invoice_number"] == "204417811" and facts["total"] == "9480.00" and facts["currency"] == "NOK"
    assert len(facts["items"]) == 2


def test_facts_are_parsed_once_per_reading_and_country():
    doc = DocumentRead("i.png", "png", "0", tuple(INVOICE))
    facts = invoice_facts(doc, country="NO")
    assert invoice_facts(doc, country="NO") is facts
    assert facts.dates is facts.dates and facts.items is facts.items  # parsed on first use, then kept
    assert invoice_facts(doc, country="US") is not facts  # another day/month convention, another parse
    same_words = DocumentRead("i.png", "png", "0", tuple(INVOICE))
    assert invoice_facts(same_words, country="NO") is not facts  # another reading (the cascade's second)
    assert [i.description for i in facts.summary().items] == [i.description for i in facts.items if i.words >= 2]


def test_whole_numbers_count_as_money_only_beside_a_currency_sign():
    assert find_total(page("Grand Total Rs 1939")).value == Decimal("1939")
    assert find_total(page("Total items 2020")) is None


def test_a_receipt_item_on_two_lines_is_one_item():
    items = find_line_items(page("MSI B450 Tomahawk", "1 x 89.90  89.90", "VAT 23 %", "16.81", "TOTAL (INC. VAT)",
                                 "€ 89.90"))
    assert [(i.description, str(i.amount)) for i in items] == [("MSI B450 Tomahawk", "89.90")]


def test_a_one_word_item_counts_when_asked_for():
    lines = page("1 Mainboard 159,90 159,90", "Versand 4,99")
    assert find_line_items(lines) == []
    assert [i.description for i in find_line_items(lines, min_words=1)] == ["1 Mainboard"]


def test_an_amount_alone_under_a_table_heading_is_no_item():
    assert find_line_items(page("Qty Unit Price", "381.90", "135.90", "VAT 20 %")) == []
