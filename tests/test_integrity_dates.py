"""``invoice_dates``: an order date after the invoice date, or a due date before it, is a reason to
look (the invoice date moved into the promotion period, the order date left as it was)."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.config import load_config, with_overrides
from pipeline.errors import ConfigError
from pipeline.extract.dates import default_date_knowledge, load_date_knowledge
from pipeline.integrity.dates import date_findings
from pipeline.records import Line, Page, Word

from .test_duplicates_same_template import komplett_invoice, scanned, write_claim

CFG = load_config()


def _page(*rows: str, conf: float = 100.0, source: str = "pdf_text") -> Page:
    lines = tuple(Line(tuple(Word(t, conf, (90 * i, 20 * y, 90 * i + 80, 20 * y + 12))
                             for i, t in enumerate(r.split()))) for y, r in enumerate(rows))
    return Page(1, 1000, 1000, source, lines)


@pytest.mark.parametrize("rows, country, found", [
    (("Fakturadato: 18.02.2020", "Ordredato: 25.02.2020"), "NO", ["order date 25.02.2020 is after"]),
    (("Rechnungsdatum 09.03.2020", "Bestelldatum 10.03.2020", "Fällig am 23.03.2020"), "DE",
     ["order date 10.03.2020 is after"]),
    (("Invoice date: 17.03.2020", "Due date: 02.03.2020"), "GB", ["due date 02.03.2020 is before"]),
    # in order: the order before (or on) the invoice date, the payment due after
    (("Fakturadato: 25.02.2020", "Ordredato: 25.02.2020", "Forfallsdato: 10.03.2020"), "NO", []),
    (("Invoice date: 17.03.2020", "Order date: 14.03.2020", "Due date: 31.03.2020"), "GB", []),
    # delivery and payment dates may fall on either side of the invoice date
    (("Invoice date: 17.03.2020", "Delivery date: 19.03.2020", "Payment date: 10.03.2020"), "GB", []),
])
def test_dates_out_of_order(rows, country, found):
    got = [f.what for f in date_findings([_page(*rows)], country)]
    assert len(got) == len(found) and all(w in g for w, g in zip(found, got)), got


def test_dates_read_without_confidence_or_in_doubt_are_not_out_of_order():
    rows = ("Fakturadato: 18.02.2020", "Ordredato: 25.02.2020")
    assert date_findings([_page(*rows, conf=60, source="ocr")], "NO", min_conf=80) == []
    assert date_findings([_page(*rows, conf=95, source="ocr")], "NO", min_conf=80) != []
    # a character repaired ("2O2O") may be a misreading
    assert date_findings([_page("Fakturadato: 18.02.2020", "Ordredato: 25.02.2O2O", source="ocr")], "NO") == []
    # where both day/month orders are written (Canada), 03/04 vs 04/03 is not known
    assert date_findings([_page("Invoice date: 03/04/2020", "Order date: 04/03/2020")], "CA") == []


def test_the_invoice_date_is_the_one_the_claim_was_checked_against():
    page = _page("Invoice date: 18.02.2020", "Order date: 20.02.2020", "Date: 21.02.2020")
    # two dates labelled as the invoice's: without the claim's evidence, neither is taken
    assert date_findings([page], "GB") == []
    assert date_findings([page], "GB", anchor=(1, (180, 0, 260, 12))) != []
    assert date_findings([page], "GB", anchor=(1, (180, 40, 260, 52))) == []


@given(st.text(max_size=40))
def test_any_label_text_has_one_side_or_none(text):
    assert default_date_knowledge().sequence_of(text) in (None, "before", "after")


def test_the_sides_are_validated_against_the_other_labels(tmp_path):
    text = (Path(__file__).resolve().parents[1] / "pipeline" / "data" / "dates.toml").read_text()
    bad = text.replace('before_invoice = [\n', 'before_invoice = [\n    "invoice date",\n', 1)
    (tmp_path / "dates.toml").write_text(bad, encoding="utf-8")
    with pytest.raises(ConfigError, match="before_invoice"):
        load_date_knowledge(tmp_path / "dates.toml")


@pytest.mark.parametrize("i, day, ordered, status", [
    (0, dt.date(2020, 2, 18), dt.date(2020, 2, 27), "uncertain"),  # the date moved to before its order
    (1, dt.date(2020, 2, 27), dt.date(2020, 2, 24), "pass"),       # the same layout in order
])
def test_a_scanned_invoice_dated_before_its_order_goes_to_review(tmp_path, i, day, ordered, status):
    """Real Tesseract on a scanned invoice that prints its order date."""
    from pipeline.verify import verify_claim

    doc = replace(komplett_invoice(i, day=day), order_number="4471920", order_date=ordered)
    folder = write_claim(tmp_path, f"C-DATES-{i}", scanned(doc, 5 + i), day=day, email=f"{i}@example.no",
                         serial=f"602-7C35-010B191200055{i}")
    decision = verify_claim(folder, with_overrides(CFG, store_url=str(tmp_path / "s.sqlite3"))).to_dict()
    check = next(c for c in decision["checks"] if c["name"] == "invoice_dates")
    assert check["status"] == status, check
    if status == "uncertain":
        assert check["reason"] == "INVOICE_DATES_INCONSISTENT" and check["evidence"]["bbox"]
        assert ordered.strftime("%d.%m.%Y") in check["found"]
        assert decision["decision"] == "review" and json.dumps(decision)
