"""What the promotion rules read off an invoice: invoice numbers after their label, marketplace
"sold by" lines, excluded names; and the labels file's validation."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.errors import ConfigError
from pipeline.extract.invoice_numbers import find_invoice_numbers, invoice_number_key
from pipeline.extract.labels import canonical_category, load_knowledge
from pipeline.extract.sellers import find_marketplaces, find_names, find_sellers, names_in
from pipeline.records import Line, Page, Word


def page(*lines: str, number: int = 1, height: int = 1754) -> Page:
    built = []
    for y, text in enumerate(lines):
        words = tuple(Word(t, 90.0, (10 + 70 * i, 20 + 30 * y, 70 + 70 * i, 40 + 30 * y))
                      for i, t in enumerate(text.split()))
        built.append(Line(words))
    return Page(number, 1240, height, "ocr", tuple(built))


# ------------------------------------------------------------------------------ invoice numbers

@pytest.mark.parametrize("lines,number", [
    (["FACTURE No 40211"], "40211"),
    (["Invoice No: INV-2020/0001."], "INV-2020/0001"),
    (["Invoice Number 7731-22"], "7731-22"),
    (["Invoice # 99812"], "99812"),
    (["Facture N° FR50001ABCDE"], "FR50001ABCDE"),
    (["Facture nº 12345"], "12345"),
    (["N° de facture: 778899"], "778899"),
    (["Numéro de facture", "FR5000ABCDE1"], "FR5000ABCDE1"),   # the number on the next line
    (["Rechnungsnummer:DE0123456"], "DE0123456"),
    (["Rechnungs-Nr.: RE-123456"], "RE-123456"),
    (["Rechnung Nr. 2020-4711"], "2020-4711"),
    (["Fakturanr: 1234567"], "1234567"),
    (["Fakturanummer 55512"], "55512"),
    (["Faktura nr. 88-123"], "88-123"),
    (["Kvittonummer 000123"], "000123"),
    (["Laskun numero 90123"], "90123"),
    (["No. Faktur: INV/2024/IX/00123"], "INV/2024/IX/00123"),
    (["Nomor Faktur : 0042/ENT/2025"], "0042/ENT/2025"),
    (["Document No: 3-1234"], "3-1234"),
    (["Bill No : 88231"], "88231"),
    (["Receipt No. CS0001234"], "CS0001234"),
    (["Numer faktury FV/2020/02/123"], "FV/2020/02/123"),
    (["Factura nº A-2020-555"], "A-2020-555"),
    (["Numero fattura 2020/00123"], "2020/00123"),
    (["Fatura No: TR2020000123"], "TR2020000123"),
    (["Factuurnummer 2020123456"], "2020123456"),
    (["Invoice Date: 17/02/2020 Invoice No: 4411"], "4411"),
])
def test_invoice_numbers_after_their_labels(lines, number):
    found = find_invoice_numbers([page(*lines)])
    assert [n.number for n in found][:1] == [number]
    assert found[0].bbox is not None and found[0].page == 1


@pytest.mark.parametrize("lines", [
    ["Invoice Date: 17/02/2020"],
    ["Invoice 17.02.2020"],
    ["Invoice total 1469,90"],
    ["Facture 1.234,56"],
    ["FACTURE", "Amazon EU S.a r.l."],
    ["Invoiced to: Kari Nordmann"],          # 'invoice' inside a word is no label
    ["Order No 12345"],                       # an order number is not the invoice's
    ["Invoice No: AB"],                       # too short, no digit
])
def test_no_invoice_number(lines):
    assert find_invoice_numbers([page(*lines)]) == []


def test_repeated_numbers_are_reported_once_and_keys_fold_look_alikes():
    found = find_invoice_numbers([page("Invoice No 40211", "Invoice No 4O211")])
    assert [n.number for n in found] == ["40211"]
    assert invoice_number_key("INV-2020/0O1") == invoice_number_key("inv 2020 001")


LABELS = ["Invoice No", "Invoice No.:", "Facture N°", "Rechnungsnummer:", "Fakturanr.", "No. Faktur:", "Bill No",
          "Document No", "Numéro de facture"]


@given(st.sampled_from(LABELS), st.from_regex(r"[A-Z]{0,3}[0-9]{3,8}(-[0-9]{1,4})?", fullmatch=True))
def test_labelled_numbers_are_found_whatever_the_label(label, number):
    found = find_invoice_numbers([page(f"{label} {number}")])
    assert [n.key for n in found] == [invoice_number_key(number)]


# ------------------------------------------------------------------------------ sellers

@pytest.mark.parametrize("lines,claimed,sellers", [
    (["amazon.fr FACTURE", "Vendu par : Amazon EU S.a r.l."], None, [("Amazon EU S.a r.l", True)]),
    (["amazon.de Rechnung", "Verkauft von: TechDeals24 GmbH"], None, [("TechDeals24 GmbH", False)]),
    (["Amazon.co.uk", "Sold by HWShop Ltd and Fulfilled by Amazon"], None, [("HWShop Ltd", False)]),
    (["Dispatched from and sold by Amazon"], "amazon.co.uk", [("Amazon", True)]),
    (["Solgt av:", "Nordic Parts AS"], "amazon.se", [("Nordic Parts AS", False)]),   # name on the next line
    (["Venduto da TechItalia S.r.l."], "amazon.it", [("TechItalia S.r.l", False)]),
    (["Vendido por Amazon EU S.a r.l."], "amazon.es", [("Amazon EU S.a r.l", True)]),
    (["Vendu et expédié par Cdiscount"], "cdiscount", [("Cdiscount", True)]),
    (["Vendu par PCGamer Shop"], "cdiscount", [("PCGamer Shop", False)]),
    (["Komplett AS", "Solgt av: Ole Hansen"], "Komplett.no", []),   # no marketplace: a sales person
])
def test_marketplace_sellers(lines, claimed, sellers):
    found = find_sellers([page(*lines)], claimed)
    assert [(s.seller, s.first_party) for s in found] == sellers


def test_marketplaces_from_the_invoice_or_the_claim():
    assert [m.name for m in find_marketplaces([page("bol.com factuur")])] == ["bol"]
    assert [m.name for m in find_marketplaces([page("Kvittering")], "amazon.se")] == ["amazon"]
    assert find_marketplaces([page("Komplett AS")], "Komplett.no") == []


def test_excluded_names():
    assert names_in("ebay.de", ["eBay"]) == ["eBay"]
    assert names_in("Amazon.de Marketplace - HW Shop", ["eBay", "Amazon Marketplace"]) == ["Amazon Marketplace"]
    assert names_in("amazon.de", ["Amazon Marketplace"]) == []
    assert names_in("Webay Shop", ["eBay"]) == []
    hits = find_names([page("eBay Kaufbeleg", *["."] * 50, "ebay.de")], ["eBay"])
    assert [h.top for h in hits] == [True, False]


# ------------------------------------------------------------------------------ knowledge file

@pytest.mark.parametrize("text,category", [
    ("graphics_card", "graphics_card"), ("Graphics Card", "graphics_card"), ("GPU", "graphics_card"),
    ("Carte graphique", "graphics_card"), ("Mainboard", "motherboard"), ("Prosessor", "cpu"),
    ("All-in-One", "aio"), ("Notebook", "laptop"), ("Power supply", "components"), ("mouse", "gaming_gear"),
    ("hoverboard", "hoverboard"), ("", None), (None, None),
])
def test_categories(text, category):
    assert canonical_category(text) == category


@pytest.mark.parametrize("content,needle", [
    ("[invoice_numbers]\nlabels = []\n", "invoice_numbers.labels must be a non-empty list"),
    ("[oops]\n", "unknown section(s) oops"),
    ('[invoice_numbers]\nlabels = ["x"]\n[sellers]\nlabels = ["y"]\nstops = ["z"]\n[categories]\nCPU = ["p"]\n',
     "categories.CPU: a category is lower_snake_case"),
    ('[invoice_numbers]\nlabels = ["x"]\n[sellers]\nlabels = ["y"]\nstops = ["z"]\n'
     '[categories]\ncpu = ["chip"]\ngpu = ["chip"]\n', "'chip' is already an alias of 'cpu'"),
    ('[invoice_numbers]\nlabels = ["x"]\n[sellers]\nlabels = ["y"]\nstops = ["z"]\n'
     '[marketplaces.a]\nmarkers = ["a"]\nsellers = ["b"]\n', "marketplaces.a must hold only"),
    ("labels = [", "not valid TOML"),
])
def test_the_labels_file_is_validated(tmp_path, content, needle):
    path = tmp_path / "labels.toml"
    path.write_text(content)
    with pytest.raises(ConfigError) as info:
        load_knowledge(path)
    assert str(path) in info.value.message and needle in info.value.message


def test_invoice_number_under_its_label_in_a_header_row():
    # "Fakturanr  Fakturadato" over "209189608  2. marts 2020" (Komplett.dk): the number is the
    # value under its own label, not the date under the next one.
    def line(y, *words):
        return Line(tuple(Word(t, 90, (x, y, x + 10 * len(t), y + 20)) for x, t in words))

    header = Page(1, 800, 600, "ocr", (line(0, (400, "Fakturanr"), (520, "Fakturadato")),
                                       line(30, (400, "209189608"), (520, "2."), (545, "marts"), (600, "2020"))))
    assert [n.number for n in find_invoice_numbers([header])] == ["209189608"]
    swapped = Page(1, 800, 600, "ocr", (line(0, (400, "Fakturadato"), (540, "Fakturanr")),
                                        line(30, (400, "2."), (425, "marts"), (480, "2020"), (540, "209189608"))))
    assert [n.number for n in find_invoice_numbers([swapped])] == ["209189608"]


def test_a_title_over_the_shops_address_gives_no_invoice_number_beside_a_labelled_one():
    """Two genuine Alza invoices were taken for one: the title "FAKTURA - DAŇOVÝ DOKLAD" stood over
    "Jankovcova 1522/53" in the address, read as a number under the label's column; the number after
    "Číslo faktury:" is the invoice's. A header row of labels over its values still gives its number."""
    from pipeline.extract.invoice_numbers import find_invoice_numbers
    from pipeline.records import Line, Page, Word

    def page(*rows):
        lines = [Line(tuple(Word(t, 95, (x, 30 * y, x + 10 * len(t), 30 * y + 20)) for t, x in row))
                 for y, row in enumerate(rows)]
        return Page(1, 800, 1000, "pdf_text", tuple(lines))

    alza = page([("Alza.cz", 0), ("FAKTURA", 300), ("-", 390), ("DAŇOVÝ", 410), ("DOKLAD", 480)],
                [("Alza.cz", 0), ("a.s.,", 80), ("Jankovcova", 130), ("1522/53,", 300), ("170", 390)],
                [("Číslo", 300), ("faktury:", 360), ("355298312", 450)])
    assert [n.number for n in find_invoice_numbers([alza])] == ["355298312"]
    header = page([("Fakturanr", 0), ("Fakturadato", 200)], [("204417811", 0), ("19.02.2020", 200)])
    assert [n.number for n in find_invoice_numbers([header])] == ["204417811"]
