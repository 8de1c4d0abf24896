"""Retailer matching: aliases as data, legal forms ignored, and real Malaysian receipts."""
from __future__ import annotations

import json

import pytest

from pipeline.errors import ConfigError
from pipeline.matching.retailer import (
    RetailerAliases,
    identify_sellers,
    load_retailers,
    match_retailer,
    names_differ,
    resolve_retailer,
    strip_legal_form,
)
from pipeline.records import Line, Page, Word

from .conftest import TEST_DATA

SROIE = TEST_DATA / "sroie"


def page_of(*lines: str, number: int = 1, height: int = 1754, conf: float = 90.0) -> Page:
    built = []
    for y, text in enumerate(lines):
        words = tuple(Word(t, conf, (10 + 80 * i, 20 + 30 * y, 80 + 80 * i, 40 + 30 * y))
                      for i, t in enumerate(text.split()))
        built.append(Line(words))
    return Page(number, 1240, height, "ocr", tuple(built))


def sroie_page(stem: str) -> Page:
    """A SROIE box file as a Page: one Line per row, one Word per token, boxes split proportionally."""
    lines = []
    for row in (SROIE / "box" / f"{stem}.csv").read_text(errors="replace").splitlines():
        parts = row.split(",", 8)
        if len(parts) < 9 or not parts[8].split():
            continue
        xs, ys = [int(v) for v in parts[0:8:2]], [int(v) for v in parts[1:8:2]]
        tokens = parts[8].split()
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
        step = (x1 - x0) / len(tokens)
        lines.append(Line(tuple(Word(t, 90.0, (int(x0 + k * step), y0, int(x0 + (k + 1) * step), y1))
                                for k, t in enumerate(tokens))))
    height = max((ln.bbox[3] for ln in lines), default=1) + 20
    return Page(1, 1000, height, "ocr", tuple(lines))


def sroie_company(stem: str) -> str:
    return json.loads((SROIE / "key" / f"{stem}.json").read_text())["company"]



# ------------------------------------------------------------------------------ alias data

def test_legal_forms_are_stripped():
    assert strip_legal_form("Amazon EU S.à r.l.") == "amazon eu"
    assert strip_legal_form("Komplett AS") == "komplett"
    assert strip_legal_form("x-kom sp. z o.o.") == "x kom"
    assert strip_legal_form("BOOK TA .K (TAMAN DAYA) SDN BHD") == "book ta k taman daya"
    assert strip_legal_form("99 SPEED MART S/B") == "99 speed mart"
    assert strip_legal_form("PT Tokopedia") == "tokopedia"
    assert strip_legal_form("GmbH") == "gmbh"  # never stripped to nothing


def test_claimed_names_resolve_to_their_retailer():
    assert [r.id for r in resolve_retailer("Amazon EU S.a r.l.")][0].startswith("amazon")
    assert [r.id for r in resolve_retailer("Komplett.no")] == ["komplett.no"]
    assert [r.id for r in resolve_retailer("komplett.no")] == ["komplett.no"]
    assert [r.id for r in resolve_retailer("Elkjøp Nordic AS")] == ["elkjop.no"]
    assert resolve_retailer("Some Corner Shop") == []


def test_packaged_alias_file_is_valid():
    data = load_retailers()
    assert {"amazon.fr", "komplett.no", "elkjop.no", "tokopedia"} <= set(data.retailers)
    assert "Amazon EU S.à r.l." in data.retailers["amazon.fr"].legal_names


@pytest.mark.parametrize("body,field", [
    ('[retailers."x"]\nlegal_names = ["X AS"]\n', "names"),
    ('[retailers."x"]\nnames = "X"\n', "names"),
    ('[retailers."x"]\nnames = ["X"]\ndomains = ["not a domain"]\n', "domains"),
    ('[retailers."x"]\nnames = ["X"]\nvat = ["12-34"]\n', "vat"),
    ('[retailers."x"]\nnames = ["X"]\ncountry = "Norway"\n', "country"),
    ('[retailers."x"]\nnames = ["X"]\nwebsite = "x.no"\n', "website"),
    ('[retailers]\n', "retailers"),
    ('[legal_forms]\nsuffix = ["as"]\n[retailers."x"]\nnames = ["X"]\n', "legal_forms"),
])
def test_a_bad_alias_file_names_the_file_and_field(tmp_path, body, field):
    path = tmp_path / "retailers.toml"
    path.write_text(body)
    with pytest.raises(ConfigError) as err:
        load_retailers(path)
    assert str(path) in err.value.message and field in err.value.message


def test_alias_file_that_is_not_toml(tmp_path):
    path = tmp_path / "retailers.toml"
    path.write_text("names = [")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_retailers(path)


# ------------------------------------------------------------------------------ matching

AMAZON_FR = page_of("amazon.fr", "FACTURE", "Vendu par Amazon EU S.a r.l.", "Numéro de TVA FR12487773327",
                    "MSI GEFORCE RTX 3060TI SIG GAMING TRIO OC 1049,00 €")


def test_amazon_legal_name_matches_the_claimed_shop():
    m = match_retailer("amazon.fr", [AMAZON_FR])
    assert (m.status, m.retailer_id) == ("pass", "amazon.fr")
    m = match_retailer("Amazon EU S.a r.l.", [page_of("FACTURE", "Vendu par Amazon EU S.à r.l.")])
    assert m.status == "pass"
    assert m.found == "Amazon EU S.à r.l."
    assert m.bbox == (170, 50, 480, 70)


def test_legal_form_is_not_required_on_the_invoice():
    m = match_retailer("Komplett AS", [page_of("KOMPLETT", "Faktura 1234")])
    assert m.status == "pass"
    m = match_retailer("Komplett.no", [page_of("Komplett Services AS", "Faktura 1234")])
    assert m.status == "pass"


def test_a_domain_identifies_the_shop():
    m = match_retailer("elkjop.no", [page_of("Ordrebekreftelse", "www.elkjop.no/kundeservice")])
    assert (m.status, m.matched_alias) == ("pass", "elkjop.no")


def test_another_shop_fails():
    m = match_retailer("Komplett.no", [page_of("Elkjøp Nordic AS", "Kvittering", "Sum 4 990,00")])
    assert m.status == "fail"
    assert match_retailer("amazon.fr", [page_of("LDLC.com", "Facture", "Total 1469,90")]).status == "fail"


def test_a_short_name_alone_is_not_enough():
    m = match_retailer("Power", [page_of("Komplett AS", "Corsair RM750 Power Supply 1 299,00")])
    assert m.status != "pass"
    assert match_retailer("Power.no", [page_of("POWER Norge AS", "Kvittering")]).status == "pass"


def test_a_short_name_standing_alone_as_the_heading_passes():
    # a receipt whose name is only in its logo: "=POWER" (the mark read as "=") over the address
    logo = page_of("=POWER", "Ratapihantie 16, 00380 Helsinki", "Y-tunnus 0932271-1", "KUITTI")
    m = match_retailer("Power", [logo])
    assert (m.status, m.reason, m.found) == ("pass", "short_name_heading", "=POWER")
    # PP-OCR reads the mark as a glyph of another script
    assert match_retailer("Power", [page_of("三POWER", "Ratapihantie 16")]).reason == "short_name_heading"
    assert match_retailer("Power", [page_of("EPOWER", "Ratapihantie 16")]).status == "uncertain"
    # not read with confidence, or not at the top: still only a short form
    assert match_retailer("Power", [page_of("=POWER", "Ratapihantie 16", conf=40)]).status == "uncertain"
    low = page_of("KUITTI", *["Ratapihantie 16"] * 30, "POWER", height=1000)
    assert match_retailer("Power", [low]).status == "uncertain"
    # another shop's claim on it fails as before: the heading names another retailer
    assert match_retailer("Elkjøp", [logo]).status == "fail"


def test_generic_words_do_not_make_a_match():
    page = page_of("LIAN CHI PU TIAN VEGETARIAN", "RESTAURANT SDN BHD", "TOTAL 12.00")
    assert match_retailer("RESTAURANT SIN DU", [page]).status != "pass"
    assert match_retailer("HON HWA HARDWARE TRADING", [page_of("YONG TAT HARDWARE TRADING")]).status != "pass"


def test_ocr_noise_is_tolerated():
    page = page_of("UNIHAKKA INTERNATI0NAL SDN BHD", "(867388-U)")
    assert match_retailer("UNIHAKKA INTERNATIONAL SDN BHD", [page]).status == "pass"
    page = page_of("MR.D.I.Y(M)SDN BHD")
    assert match_retailer("MR. D.I.Y. (M) SDN BHD", [page]).status == "pass"


def test_the_top_of_the_first_page_is_preferred():
    page = page_of("Komplett AS", *["x"] * 60, "Komplett AS", height=2000)
    m = match_retailer("Komplett", [page])
    assert m.bbox[1] == 20


def test_custom_aliases_mapping():
    aliases = {"acme": RetailerAliases("acme", ("ACME Computers",), ("ACME Handel GmbH",), ("acme.de",))}
    m = match_retailer("acme", [page_of("Rechnung", "ACME Handel GmbH", "Summe")], aliases)
    assert (m.status, m.retailer_id) == ("pass", "acme")


def test_no_text_is_uncertain_not_a_mismatch():
    m = match_retailer("Komplett.no", [Page(1, 100, 100, "ocr")])
    assert (m.status, m.found, m.reason) == ("uncertain", None, "not_found")


# ------------------------------------------------------------------------------ SROIE receipts

@pytest.mark.parametrize("stem", ["000", "003", "010", "025", "040", "049", "077", "091"])
def test_sroie_receipt_matches_its_own_company(stem):
    m = match_retailer(sroie_company(stem), [sroie_page(stem)])
    assert m.status == "pass", m
    assert m.page == 1 and m.bbox is not None


def test_sroie_genuine_pass_rate_and_wrong_company_never_passes():
    stems = sorted(p.stem for p in (SROIE / "key").glob("*.json"))[:40]
    pages = {s: sroie_page(s) for s in stems}
    companies = {s: sroie_company(s) for s in stems}
    genuine = sum(match_retailer(companies[s], [pages[s]]).status == "pass" for s in stems)
    assert genuine >= 0.97 * len(stems)
    wrong_pass = 0
    for s in stems:
        for other in ("UNIHAKKA INTERNATIONAL SDN BHD", "PASARAYA BORONG PINTAR SDN BHD",
                      "SYL ROASTED DELIGHTS SDN. BHD.", "GL HANDICRAFT & TAIL ORING"):
            if strip_legal_form(other) != strip_legal_form(companies[s]):
                wrong_pass += match_retailer(other, [pages[s]]).status == "pass"
    assert wrong_pass == 0


def test_short_brand_repeated_as_its_own_word_passes_but_inside_other_words_does_not():
    from pipeline.matching.retailer import match_retailer
    from pipeline.records import Line, Page, Word

    def pg(*lines):
        return [Page(1, 800, 1000, "ocr", tuple(
            Line(tuple(Word(t, 95.0, (10 * j, 20 * i, 10 * j + 8, 20 * i + 10)) for j, t in enumerate(text.split())))
            for i, text in enumerate(lines)))]

    assert match_retailer("OYO", pg("OYO 4189 Resort", "Payment received by OYO")).status == "pass"
    assert match_retailer("OYO", pg("OYO 4189 Resort", "Total 12.00")).status != "pass"
    assert match_retailer("OYO", pg("TOYOTA SERVICE", "TOYOTA parts")).status != "pass"


# ------------------------------------------------------------------------------ issue #16: a fail needs another seller

def test_the_claimed_shop_not_found_is_uncertain_whatever_else_the_header_says():
    # the shop's name is in its logo (not read); the header label was once taken for the shop
    page = page_of("INVOICE", "Billing Address", "Hans Jansen", "Kerkstraat 1", "3511 LX Utrecht",
                   "Invoice date 12-03-2024", "Acme Widget 2 x 19.95")
    m = match_retailer("Brightline Electronics", [page])
    assert (m.status, m.reason, m.found) == ("uncertain", "not_found", None)


def test_a_claim_holding_the_invoice_name_with_other_words_is_never_a_fail():
    page = page_of("BRIGHTLINE ELECTRONICS", "INVOICE", "Billing Address", "Hans Jansen")
    m = match_retailer("Brightline Electronics - for testing", [page])
    assert m.status == "uncertain" and m.found.startswith("BRIGHTLINE ELECTRONICS"), m
    m = match_retailer("Brightline Electronics - for testing purposes only, do not ship", [page])
    assert (m.status, m.reason, m.found) == ("uncertain", "partial_name", "BRIGHTLINE ELECTRONICS")
    # the other way round: the claim is the invoice's name without its extra words
    assert match_retailer("Brightline", [page_of("Brightline Electronics Benelux", "INVOICE")]).status != "fail"


def test_a_known_shop_named_with_other_words_is_that_shop():
    # the claimant typed the shop's name plus words; the alias table knows the shop
    assert [r.id for r in resolve_retailer("Komplett.no webshop")] == ["komplett.no"]
    assert [r.id for r in resolve_retailer("Elkjøp (Lørenskog)")] == ["elkjop.no"]
    assert resolve_retailer("Komplett Elkjøp") == []  # two shops named: neither
    page = page_of("Komplett AS", "Org.nr 977 074 010 MVA", "FAKTURA", "Fakturadato 17.02.2020")
    m = match_retailer("Komplett.no webshop", [page])
    assert (m.status, m.retailer_id) == ("pass", "komplett.no"), m
    # the words still have to be on the invoice: another shop's invoice fails the claim
    assert match_retailer("Elkjøp webshop", [page]).status == "fail"


def test_a_claim_holding_a_registered_seller_with_other_words_passes_only_on_a_confident_reading():
    lines = ("ACME SUPPLIES SDN BHD", "Co. Reg. No. 12345-X", "No 5 Jalan Besar", "TAX INVOICE")
    m = match_retailer("Acme Supplies - for testing", [page_of(*lines)])
    assert (m.status, m.reason, m.found) == ("pass", "claim_holds_name", "ACME SUPPLIES SDN BHD"), m
    # read without confidence: a person looks
    assert match_retailer("Acme Supplies - for testing", [page_of(*lines, conf=60.0)]).status == "uncertain"
    # a claim that does not hold the seller's whole name is no pass ("Acme" alone is too short)
    assert match_retailer("Acme - for testing", [page_of(*lines)]).status != "pass"
    assert match_retailer("Bravo Trading online", [page_of(*lines)]).status == "fail"


def test_the_claimed_shops_registered_company_is_not_another_seller_whatever_words_the_claim_adds():
    # Blibli's invoice prints only its registered company; the claimant typed the brand plus words
    page = page_of("PT Global Digital Niaga", "NPWP 02.123.456.7-012.000", "FAKTUR", "Tanggal 12-03-2020")
    for claimed in ("Blibli.com - for testing", "Blibli.com"):
        assert match_retailer(claimed, [page]).status != "fail", claimed
    # another known shop's registered company still fails a claim naming Blibli
    other = page_of("PT Ecart Webportal Indonesia", "NPWP 02.987.654.3-012.000", "FAKTUR")
    m = match_retailer("Blibli.com - for testing", [other])
    assert (m.status, m.reason) == ("fail", "other_seller"), m
    # a sister brand sharing a word with the claimed shop's legal name is still another seller
    m = match_retailer("Media Markt", [page_of("www.saturn.de", "Saturn", "RECHNUNG")])
    assert m.status == "fail", m


def test_a_legal_entity_claimed_against_its_brand_passes():
    page = page_of("Brightline", "Utrecht Nederland", "Factuur", "Factuurdatum 12-03-2024")
    m = match_retailer("Brightline Nederland B.V.", [page])
    assert (m.status, m.reason, m.found) == ("pass", "brand", "Brightline")
    assert match_retailer("Komplett Services AS", [page_of("Komplett.no", "FAKTURA")]).status == "pass"


def test_another_retailer_we_know_is_a_fail_with_what_the_invoice_shows():
    m = match_retailer("Komplett", [page_of("Elkjøp", "Elkjøp Norge AS", "KVITTERING")])
    assert (m.status, m.reason) == ("fail", "other_seller")
    assert m.seller.how == "alias" and m.seller.retailer_id == "elkjop.no"
    assert "Elkjøp" in m.found
    # a word that merely looks like a shop's name is no shop: "Discount" is not Cdiscount
    m = match_retailer("Brightline", [page_of("RECEIPT", "Discount: 0.00", "Subtotal 10.00")])
    assert m.status == "uncertain"


def test_a_registered_company_name_next_to_its_number_is_another_seller():
    page = page_of("WIDGET WORKS SDN BHD", "(867388-U)", "NO 12, JALAN 5", "TAX INVOICE")
    m = match_retailer("Brightline Electronics", [page])
    assert (m.status, m.reason, m.found) == ("fail", "other_seller", "WIDGET WORKS SDN BHD")
    assert m.seller.how == "legal_name"
    # read with low confidence it is only a hint for the reviewer
    low = page_of("WIDGET WORKS SDN BHD", "(867388-U)", "NO 12, JALAN 5", conf=50.0)
    m = match_retailer("Brightline Electronics", [low])
    assert (m.status, m.found) == ("uncertain", "WIDGET WORKS SDN BHD")


def test_the_buyer_is_not_the_seller():
    # a company in the bill-to block, with its own VAT number: the customer, not the shop
    page = page_of("INVOICE", "Bill to:", "Widget Works Ltd", "VAT Reg No GB123456789", "1 High Street")
    assert match_retailer("Brightline Electronics", [page]).status == "uncertain"


def test_a_garbled_reading_of_the_claimed_name_is_not_another_shop():
    page = page_of("MR. O.1.¥. SDN BHD", "(860671-D)", "NO 1 JALAN 2", conf=95.0)
    m = match_retailer("MR. D.I.Y. SDN BHD", [page])
    assert m.status in ("pass", "uncertain")


def test_known_shops_and_sold_by_lines_are_sellers():
    page = page_of("Brightline Store", "Receipt 123", "Total 10.00")
    assert match_retailer("Corner Computers", [page]).status == "uncertain"
    m = match_retailer("Corner Computers", [page], known_shops=["Brightline Store"])
    assert (m.status, m.seller.how) == ("fail", "known_shop")
    # a known shop the claim resembles is not evidence against it
    assert match_retailer("Corner Computers", [page], known_shops=["Corner Computer"]).status == "uncertain"
    m = match_retailer("Corner Computers", [page_of("Order 1", "Sold by TechDeals24 GmbH")],
                       sold_by=[("TechDeals24 GmbH", 1, (10, 50, 400, 70))])
    assert (m.status, m.found, m.seller.how) == ("fail", "TechDeals24 GmbH", "sold_by")


def test_names_differ():
    assert names_differ("Komplett.no", "Elkjøp Norge AS")
    assert not names_differ("ASIA MART", "A MART")
    assert not names_differ("PASARAYA BORONG PINTAR SDN BHD", "SDN BHD")  # a company form is no name
    assert not names_differ("Brightline", "TAX INVOICE")
    assert not names_differ("MR. D.I.Y. SDN BHD", "MR. O.1.¥. SON BHD")  # look-alikes folded


def test_identify_sellers_reports_how():
    page = page_of("amazon.fr", "Vendu par Amazon EU S.a r.l.", "Facture")
    found = identify_sellers([page], exclude=["amazon.de", "amazon.co.uk", "amazon.es", "amazon.it",
                                              "amazon.se", "amazon.pl"])
    assert (found[0].how, found[0].retailer_id) == ("alias", "amazon.fr")


def test_a_vat_number_with_wrong_check_digits_is_refused(tmp_path):
    path = tmp_path / "retailers.toml"
    path.write_text('[retailers."x"]\nnames = ["X"]\nvat = ["FR12487773328"]\n')
    with pytest.raises(ConfigError, match="check digits"):
        load_retailers(path)


def test_an_extra_alias_file_extends_the_packaged_one(tmp_path):
    extra = tmp_path / "learned.toml"
    extra.write_text('[retailers."komplett.no"]\nlegal_names = ["Komplett Bedrift AS"]\n'
                     '[retailers."brightline"]\nnames = ["Brightline"]\nlegal_names = ["Lumen Retail B.V."]\n')
    data = load_retailers(extra=extra)
    assert "Komplett Bedrift AS" in data.retailers["komplett.no"].legal_names
    assert "Komplett AS" in data.retailers["komplett.no"].legal_names
    assert match_retailer("Brightline", [page_of("Lumen Retail B.V.", "Factuur")], data).status == "pass"
    extra.write_text('[legal_forms]\nsuffixes = ["x"]\n')
    with pytest.raises(ConfigError, match="only"):
        load_retailers(extra=extra)


def test_a_seller_beside_the_buyer_on_one_ocr_line_is_still_seen():
    # a photographed invoice: the buyer's and the seller's columns read as one line
    def line(y, *cells):
        return Line(tuple(Word(t, 94.0, (x + 14 * k, y, x + 14 * k + 12 * len(t), y + 22))
                          for x, text in cells for k, t in enumerate(text.split())))
    page = Page(1, 1400, 1900, "ocr", (
        line(280, (60, "FAKTURA VAT")),
        line(520, (60, "Nabywca")),
        line(550, (60, "Magdalena Wójcik"), (760, "Morele.net sp. z 0.0.")),
        line(580, (60, "ul. Długa 37"), (760, "ul. Fabryczna 20a, 31-553 Kraków")),
    ))
    m = match_retailer("Komputronik", [page])
    assert (m.status, m.reason) == ("fail", "other_seller"), m
    assert m.seller.retailer_id == "morele" and "Morele.net" in m.found
    assert names_differ("Komputronik", "x-kom")  # three letters in common are no common name


def test_a_header_line_that_is_a_known_legal_name_identifies_the_retailer():
    # the logo band lost by the OCR; the seller's block heading "Fnac Darty" has no company form
    m = match_retailer("Materiel.net", [page_of("FACTURE", "Fnac Darty", "N° de facture 246292054")])
    assert (m.status, m.seller.retailer_id) == ("fail", "fnac"), m


@pytest.mark.parametrize("claimed, header, other", [
    ("Elkjøp", "ElkjopNorgeAS", "PowerNorgeAS"),      # PP-OCR drops the ø and the spaces
    ("Åhléns", "AHLENS CITY", "CLAS OHLSON"),
    ("Fnac Darty", "FNACDARTY", "BOULANGER"),
])
def test_a_name_read_without_accents_or_spaces_matches_and_another_does_not(claimed, header, other):
    assert match_retailer(claimed, [page_of(header, "Kvittering 1234")]).status == "pass"
    assert match_retailer(claimed, [page_of(other, "Kvittering 1234")]).status != "pass"
