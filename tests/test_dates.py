"""Date extraction: the forms invoices use, the false dates they must not give, repairs."""
from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import string
import tomllib
from importlib import resources

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.errors import ConfigError
from pipeline.extract.dates import (
    DateMatch,
    FoundDate,
    day_first_for,
    default_date_knowledge,
    find_dates,
    find_dates_in_text,
    load_date_knowledge,
    parse_claimed_date,
)
from pipeline.records import Line, Page, Word

from .conftest import REPO, TEST_DATA

D = dt.date


def dates(text: str, **kw) -> list[str]:
    return [m.date.isoformat() for m in find_dates_in_text(text, **kw)]


# ----------------------------------------------------------------------------- positives

POSITIVES = [
    # SROIE-style Malaysian receipts
    ("DATE : 25/12/2018 8:13:39 PM", "2018-12-25"),
    ("09-APR-2018", "2018-04-09"),
    ("Date: 03/05/2018", "2018-05-03"),
    ("12 Jan 2019", "2019-01-12"),
    ("19/10/2018 20:49:59 #01", "2018-10-19"),
    ("12-01-19 21:13 SH01 ZK09", "2019-01-12"),
    ("18-11-18 13 : 58 SH01 ZI53", "2018-11-18"),
    ("ORD #50 -REG #19- 18/01/2018 10:27:03", "2018-01-18"),
    ("RECEIPT #: CSP0393921 DATE: 15/06/2017", "2017-06-15"),
    ("BILL START: 20/12/2017 07:10:35 PM", "2017-12-20"),
    ("2017-12-28 22:17PM", "2017-12-28"),
    ("05 MAR 2018 18:24", "2018-03-05"),
    ("28 MAR 18 18:32:36", "2018-03-28"),
    ("DATE : 5/3/2018 22:52:33", "2018-03-05"),
    ("- *** 30/03/2018 11:11 PM *** --", "2018-03-30"),
    ("PRINT DATE: 4/02/2017 03:30;29PM", "2017-02-04"),
    ("DATE: 13/03/2017 03:00:42PM", "2017-03-13"),
    ("INV DT: 03/03/2018 10:58:51 PM", "2018-03-03"),
    ("Tarikh:25-12-18", "2018-12-25"),
    ("Tarikh: 1 Disember 2018", "2018-12-01"),
    ("12 Ogos 2019", "2019-08-12"),
    ("3 Mac 2020", "2020-03-03"),
    ("17 Julai 2021", "2021-07-17"),
    # glued to times and labels
    ("25/12/2018 14:32", "2018-12-25"),
    ("25/12/201814:32", "2018-12-25"),
    ("2018-12-25T10:00:00", "2018-12-25"),
    ("2018-12-25T10:00:00Z", "2018-12-25"),
    ("Date:25/12/2018", "2018-12-25"),
    ("DATE25/12/2018", "2018-12-25"),
    ("Rechnungsdatum:17.03.2020", "2020-03-17"),
    # numeric forms
    ("17.03.2020", "2020-03-17"),
    ("17.3.2020", "2020-03-17"),
    ("17-03-20", "2020-03-17"),
    ("25 / 12 / 2018", "2018-12-25"),
    ("25. 12. 2018", "2018-12-25"),
    ("01/01/99", "1999-01-01"),
    ("Fakturadato 17.03.2020 Forfall 31.03.2020", "2020-03-17", "2020-03-31"),
    # ISO and compact
    ("2020-03-17", "2020-03-17"),
    ("2020/03/17", "2020-03-17"),
    ("2020.03.17", "2020-03-17"),
    ("2020. 3. 17.", "2020-03-17"),
    ("20200317", "2020-03-17"),
    ("Order 20200317 shipped", "2020-03-17"),
    # month names, many languages
    ("17. mars 2020", "2020-03-17"),
    ("Oslo, 1. desember 2024", "2024-12-01"),
    ("1 Desember 2024", "2024-12-01"),
    ("18 MAR 2018", "2018-03-18"),
    ("18-Mar-2018", "2018-03-18"),
    ("18MAR2018", "2018-03-18"),
    ("Dec 25, 2018", "2018-12-25"),
    ("Dec. 25, 2018", "2018-12-25"),
    ("December 25th, 2018", "2018-12-25"),
    ("Invoice Date: August 3 , 2014", "2014-08-03"),
    ("25th of December 2018", "2018-12-25"),
    ("Tue, 17 Mar 2020 10:00", "2020-03-17"),
    ("2018-Mar-18", "2018-03-18"),
    ("Facture du 02 Juillet 2015", "2015-07-02"),
    ("Le 1er février 2021", "2021-02-01"),
    ("17 févr. 2021", "2021-02-17"),
    ("3 août 2019", "2019-08-03"),
    ("17. März 2020", "2020-03-17"),
    ("17. MÄRZ 2020", "2020-03-17"),
    ("17. Marz 2020", "2020-03-17"),
    ("3. Okt. 2019", "2019-10-03"),
    ("17 mars 2020", "2020-03-17"),
    ("12 augusti 2021", "2021-08-12"),
    ("5. marts 2020", "2020-03-05"),
    ("5 maart 2020", "2020-03-05"),
    ("5 mrt 2020", "2020-03-05"),
    ("25 de marzo de 2020", "2020-03-25"),
    ("25 de marzo del 2020", "2020-03-25"),
    ("3 dic 2019", "2019-12-03"),
    ("25 marzo 2020", "2020-03-25"),
    ("3 gennaio 2022", "2022-01-03"),
    ("17 marca 2020", "2020-03-17"),
    ("17 marca 2020r.", "2020-03-17"),
    ("3 października 2021", "2021-10-03"),
    ("3 PAŹDZIERNIKA 2021", "2021-10-03"),
    ("1 stycznia 2020", "2020-01-01"),
    ("28 lutego 2019", "2019-02-28"),
    ("17 Maret 2020", "2020-03-17"),
    ("17 Agustus 2020", "2020-08-17"),
    ("25 de março de 2020", "2020-03-25"),
    ("17. maaliskuuta 2020", "2020-03-17"),
    ("1. tammikuuta 2020", "2020-01-01"),
    ("17. března 2020", "2020-03-17"),
    ("24. prosince 2019", "2019-12-24"),
    ("17 Mart 2020", "2020-03-17"),
    ("17 Ağustos 2020", "2020-08-17"),
    ("17 Agustos 2020", "2020-08-17"),
    ("1 Mayıs 2021", "2021-05-01"),
    ("1 set 2020", "2020-09-01"),
    ("billing period July 1 - July 31 , 2014", "2014-07-31"),
    ("Free Haut Débit du 1er au 31 Juillet 2015", "2015-07-31"),
]


@pytest.mark.parametrize("case", POSITIVES, ids=[c[0] for c in POSITIVES])
def test_finds_the_date(case):
    text, *want = case
    assert dates(text) == want


def test_raw_and_offsets_are_those_of_the_text():
    text = "Tarikh:25-12-18 TOTAL 12.50"
    (m,) = find_dates_in_text(text)
    assert (m.raw, m.start, m.end, m.kind) == ("25-12-18", 7, 15, "numeric")
    assert text[m.start:m.end] == m.raw
    (m,) = find_dates_in_text("Le 17. März 2020")
    assert m.raw == "17. März 2020" and m.kind == "month_name"


def test_kinds():
    assert [m.kind for m in find_dates_in_text("2020-03-17 17/03/2020 17 Mar 2020 20200317")] == [
        "iso", "numeric", "month_name", "iso"
    ]


# ----------------------------------------------------------------------------- negatives

NEGATIVES = [
    "TOTAL 12.50",
    "Tel: 07-355 1234",
    "TEL: 1300-88-6555 FAX: 603-6203 6355",
    "016-5498845.",
    "RM 3.00 15.10",
    "10.00 20.00 30.00",
    "1.234,56",
    "1,234.56 2,345.67",
    "GST REG NO: 000306020352",
    "(GST REG. NO : 000416321536)",
    "GST ID No: 001017634816",
    "COMPANY NO: 789417-W",
    "Invoice No. 12345678901",
    "INV-10-11-12",
    "INV/2018/12/001",
    "CK 11-22-31 - 10/400",
    "HC03-7 - 15",
    "PI12PJ11-4 - 6/300",
    "WA03 - 24/240",
    "EC21-41-71 - 10/100",
    "HD03-04-06 - 5/40/160",
    "NO 19-G& 19-1& 19-2 JALAN TASIK UTAMA 4,",
    "NO.2-1-1 JALAN SETIA PRIMA Q",
    "U 13/Q SETIA ALAM 40170",
    "01.23.45.67.89",
    "06.12.34.56.78",
    "192.168.1.10",
    "12:30:45",
    "12.30.45",
    "14:32",
    "1202/2018",
    "FV 122/2018",
    "12022018",
    "Card 12/2018",
    "EXP 12/18",
    "1 SET 20.00",
    "2 SET 15",
    "30.02.2020",
    "31/04/2018",
    "2020-13-01",
    "20201301",
    "1 Jan 1850",
    "13/13/2013",
    "12/25/18",
    "Qty 3 x 1.10 = 3.30",
    "",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_no_false_date(text):
    assert find_dates_in_text(text) == []


def test_year_range_is_a_parameter():
    assert dates("1 Jan 1985") == []
    assert dates("1 Jan 1985", min_year=1980) == ["1985-01-01"]
    assert dates("1 Jan 2150", max_year=2200) == ["2150-01-01"]


# ----------------------------------------------------------------------------- ambiguity

def test_ambiguous_day_and_month_follow_the_convention():
    (m,) = find_dates_in_text("03/05/2018")
    assert m.date == D(2018, 5, 3) and m.ambiguous
    (m,) = find_dates_in_text("03/05/2018", day_first=False)
    assert m.date == D(2018, 3, 5) and m.ambiguous


def test_only_valid_reading_is_used_with_a_four_digit_year():
    (m,) = find_dates_in_text("25/12/2018", day_first=False)
    assert m.date == D(2018, 12, 25) and not m.ambiguous
    (m,) = find_dates_in_text("DATE : 12/28/2017 10:17:32 PM", day_first=True)
    assert m.date == D(2017, 12, 28) and not m.ambiguous


def test_two_digit_year_is_never_swapped():
    # 11-22-31 is a product code more often than 22 Nov 2031
    assert dates("11-22-31") == []
    assert dates("25/12/18", day_first=False) == []
    assert dates("12/25/18", day_first=False) == ["2018-12-25"]


def test_same_day_and_month_is_not_ambiguous():
    (m,) = find_dates_in_text("05/05/2018")
    assert not m.ambiguous


def test_unambiguous_forms_are_never_ambiguous():
    for text in ("2018-03-05", "5 Mar 2018", "20180305", "25/12/2018"):
        assert not find_dates_in_text(text)[0].ambiguous, text


def test_two_digit_year_pivot():
    assert dates("01/02/68") == ["2068-02-01"]
    assert dates("01/02/69") == []          # 1969 is before min_year
    assert dates("01/02/69", min_year=1900) == ["1969-02-01"]
    assert dates("01/02/90") == ["1990-02-01"]


# ----------------------------------------------------------------------------- repairs

REPAIRS = [
    ("l2/O3/2O18", "2018-03-12"),
    ("25/l2/2Ol8", "2018-12-25"),
    ("DATE: 2S/12/2018", "2018-12-25"),
    ("O9/O1/2019", "2019-01-09"),
    ("2Z/03/2018", "2018-03-22"),
    ("1B/03/2018", "2018-03-18"),
    ("1G/03/2018", "2018-03-16"),
    ("25|12/2018", None),               # '|' used as a separator: not repaired
    ("2O18-O3-17", "2018-03-17"),
    ("Date: 1202/2018", "2018-02-12"),
    ("Tarikh: 2512/2018", "2018-12-25"),
    ("Date: 12/022018", "2018-02-12"),
    ("Date: 12022018", "2018-02-12"),
    ("DATE:25122018", "2018-12-25"),
    ("Rechnungsdatum 17032020", "2020-03-17"),
]


@pytest.mark.parametrize("text,want", REPAIRS)
def test_repairs(text, want):
    found = find_dates_in_text(text)
    if want is None:
        assert found == [] or not any(m.repaired for m in found)
        return
    assert [m.date.isoformat() for m in found] == [want]
    assert found[0].repaired


def test_repair_refused_when_the_digits_can_be_cut_two_ways():
    # 122/2018: 1/22 (only as 22 Jan) or 12/2 -> two dates: no repair
    assert dates("Date: 122/2018") == []
    # 132/2018: 1/32 is no date, 13/2 is: one reading
    assert dates("Date: 132/2018") == ["2018-02-13"]


def test_repair_needs_real_digits():
    assert dates("Ol/lO/SOlS") == []
    assert dates("IS/IS/2018") == []      # no real digit in the day or month
    assert dates("BOSS 12/12/2Ol8") == ["2018-12-12"]


def test_clean_dates_are_not_marked_repaired():
    assert not any(m.repaired for m in find_dates_in_text("25/12/2018 2018-12-25 25 Dec 2018 20181225"))


def test_missing_separator_needs_a_date_label():
    assert dates("1202/2018") == []
    assert dates("Faktura nr 1202/2018") == []
    assert dates("DATE 1202/2018") == ["2018-02-12"]
    assert dates("Date: 1202/2018", day_first=False) == ["2018-12-02"]


# ----------------------------------------------------------------------------- several dates, overlaps

def test_several_dates_in_one_line_in_order():
    text = "Periode 01.03.2020 - 31.03.2020, forfall 15. april 2020"
    assert dates(text) == ["2020-03-01", "2020-03-31", "2020-04-15"]
    found = find_dates_in_text(text)
    assert all(text[m.start:m.end] == m.raw for m in found)
    assert [m.start for m in found] == sorted(m.start for m in found)


@pytest.mark.parametrize("text,want", [
    ("Periode: 01.03.2020-31.03.2020", ["2020-03-01", "2020-03-31"]),
    ("25/12/2018-31/12/2018", ["2018-12-25", "2018-12-31"]),
    ("1 Jan 2020-31 Jan 2020", ["2020-01-01", "2020-01-31"]),
    ("2018/12/25-2019/01/01", ["2018-12-25", "2019-01-01"]),
    ("10-12-2019 s/d 12-12-2019", ["2019-12-10", "2019-12-12"]),
    ("25/12/2018-5", []),             # a hyphen to a bare number: a code, not a range
    ("06.12.34-56", []),
    ("12-25/12/2018", []),
    ("2018-12-25-2019", []),
    ("jan 5 2020-03-17", ["2020-03-17"]),
])
def test_ranges_glued_by_a_hyphen(text, want):
    assert dates(text) == want


# ----------------------------------------------------------------------------- property tests

_KB = default_date_knowledge()
_FILE = tomllib.loads(resources.files("pipeline.data").joinpath("dates.toml").read_text(encoding="utf-8"))
_FORMS = {m: sorted({f for lang in _FILE["languages"].values() for f in lang["months"][m - 1]}) for m in range(1, 13)}


# More examples for a long hunt: DATES_EXAMPLES=20000 pytest tests/test_dates.py -k rendering
_EXAMPLES = int(os.environ.get("DATES_EXAMPLES", 500))


def _two_digit_ok(year: int) -> bool:
    return 1990 <= year <= 2068


@st.composite
def rendered_dates(draw):
    """(text, date, day_first) for one date in one supported rendering."""
    when = draw(st.dates(min_value=D(1990, 1, 1), max_value=D(2100, 12, 31)))
    day_first = draw(st.booleans())
    style = draw(st.sampled_from(["numeric", "iso", "compact", "dmy", "mdy"]))
    pad = draw(st.booleans())
    dd = f"{when.day:02d}" if pad else str(when.day)
    mm = f"{when.month:02d}" if pad else str(when.month)
    yyyy = f"{when.year:04d}"
    short_year = _two_digit_ok(when.year) and draw(st.booleans())
    if style == "numeric":
        sep = draw(st.sampled_from(["/", ".", "-"]))
        sp = draw(st.sampled_from(["", " "]))
        year = yyyy[2:] if short_year else yyyy
        first, second = (dd, mm) if day_first else (mm, dd)
        text = f"{first}{sp}{sep}{sp}{second}{sp}{sep}{sp}{year}"
        text += draw(st.sampled_from(["", " 14:32", " 8:13:39 PM"] + ([] if short_year else ["14:32"])))
        text = draw(st.sampled_from(["", "Date: ", "Date:", "Tarikh:", "DATE "])) + text
    elif style == "iso":
        sep = draw(st.sampled_from(["/", ".", "-"]))
        text = f"{yyyy}{sep}{mm}{sep}{dd}" + draw(st.sampled_from(["", "T10:00:00", " 10:00"]))
    elif style == "compact":
        text = f"{when:%Y%m%d}"
    else:
        form = draw(st.sampled_from(_FORMS[when.month]))
        form = draw(st.sampled_from([form, form.upper(), form.lower(), form.title()]))
        if style == "dmy":
            suffix, gap1, gap2 = draw(st.sampled_from(
                [("", " ", " "), (".", " ", " "), ("", "-", "-"), ("", " de ", " de "), ("", "", ""),
                 ("th", " ", ", "), ("", " ", ", "), ("", "/", "/")]
            ))
            short = short_year and _fold_key(form) not in _KB.four_digit_year_only
            text = f"{dd}{suffix}{gap1}{form}{gap2}{yyyy[2:] if short else yyyy}"
        else:
            gap1, gap2 = draw(st.sampled_from([(" ", ", "), (". ", ", "), (" ", " "), ("-", "-")]))
            text = f"{form}{gap1}{dd}{gap2}{yyyy}"
    return text, when, day_first


def _fold_key(form: str) -> str:
    import unicodedata

    folded = "".join(c for c in unicodedata.normalize("NFKD", form) if not unicodedata.combining(c))
    return folded.replace("ı", "i").lower()


_words = st.lists(st.text(alphabet=string.ascii_letters, min_size=1, max_size=8), max_size=4)


@settings(max_examples=_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rendered_dates(), _words, _words)
def test_any_rendering_is_found_exactly(rendering, before, after):
    text, when, day_first = rendering
    full = " ".join([*before, text, *after])
    found = find_dates_in_text(full, day_first=day_first)
    assert [m.date for m in found] == [when], (full, found)
    m = found[0]
    assert full[m.start:m.end] == m.raw


@settings(max_examples=_EXAMPLES, deadline=None)
@given(st.text())
def test_never_raises_on_any_text(text):
    for m in find_dates_in_text(text):
        assert isinstance(m, DateMatch)
        assert text[m.start:m.end] == m.raw


@settings(max_examples=_EXAMPLES, deadline=None)
@given(st.text(alphabet="0123456789/.-:, OolIiSsBZGQ|TdaeDATEmrjnMRé\t", max_size=40), st.booleans())
def test_offsets_slice_back_to_raw_on_date_like_noise(text, day_first):
    found = find_dates_in_text(text, day_first=day_first)
    ends = [m.start for m in found]
    assert ends == sorted(ends)
    for a, b in zip(found, found[1:]):
        assert a.end <= b.start
    for m in found:
        assert text[m.start:m.end] == m.raw
        assert 1990 <= m.date.year <= 2100
        assert m.kind in {"numeric", "iso", "month_name"}


# ----------------------------------------------------------------------------- pages

def _line(*words: tuple[str, tuple[int, int, int, int]]) -> Line:
    return Line(tuple(Word(text, 90.0, bbox) for text, bbox in words))


def test_find_dates_maps_the_span_back_to_word_boxes():
    page = Page(2, 800, 600, "ocr", (
        _line(("TOTAL", (0, 0, 50, 10)), ("12.50", (60, 0, 100, 10))),
        _line(("Date:", (0, 20, 40, 30)), ("17", (50, 20, 70, 30)), ("mars", (75, 20, 110, 30)),
              ("2020", (115, 20, 150, 30)), ("14:32", (160, 20, 200, 30))),
    ))
    (found,) = find_dates([page])
    assert found == FoundDate(D(2020, 3, 17), "17 mars 2020", 2, (50, 20, 150, 30), False, False, "month_name",
                              "invoice", "Date")
    assert found.to_dict()["date"] == "2020-03-17"


def test_find_dates_glued_label_takes_the_glued_word_box():
    page = Page(1, 800, 600, "ocr", (_line(("Tarikh:25-12-18", (10, 10, 120, 30)), ("RM", (130, 10, 150, 30))),))
    (found,) = find_dates([page])
    assert found.bbox == (10, 10, 120, 30) and found.raw == "25-12-18"


def test_find_dates_day_first_and_pages():
    pages = [
        Page(1, 800, 600, "pdf_text", (_line(("03/05/2018", (0, 0, 80, 10))),)),
        Page(2, 800, 600, "pdf_text", (_line(("2018-05-04", (0, 0, 80, 10))),)),
    ]
    found = find_dates(pages, day_first=False)
    assert [(f.page, f.date, f.ambiguous) for f in found] == [(1, D(2018, 3, 5), True), (2, D(2018, 5, 4), False)]


def test_find_dates_joins_a_date_split_over_two_lines():
    page = Page(1, 800, 600, "ocr", (
        _line(("Dated", (0, 0, 40, 10)), ("25", (50, 0, 70, 10)), ("December", (80, 0, 150, 10))),
        _line(("2018", (0, 20, 40, 30)), ("Thank", (50, 20, 90, 30))),
    ))
    (found,) = find_dates([page])
    assert found.date == D(2018, 12, 25)
    assert found.bbox == (0, 0, 150, 30)


def test_find_dates_label_on_the_line_above_allows_a_repair():
    page = Page(1, 800, 600, "ocr", (
        _line(("DATE", (0, 0, 40, 10)), (":", (45, 0, 50, 10))),
        _line(("12022018", (0, 20, 80, 30)),),
    ))
    (found,) = find_dates([page])
    assert (found.date, found.repaired, found.bbox) == (D(2018, 2, 12), True, (0, 20, 80, 30))


def test_find_dates_does_not_repeat_a_date_found_on_one_line():
    page = Page(1, 800, 600, "ocr", (
        _line(("DATE:", (0, 0, 40, 10)),),
        _line(("25/12/2018", (0, 20, 80, 30)), ("8:13:39", (90, 20, 140, 30))),
        _line(("PM", (0, 40, 20, 50)),),
    ))
    assert [f.raw for f in find_dates([page])] == ["25/12/2018"]


def test_find_dates_empty():
    assert find_dates([]) == []
    assert find_dates([Page(1, 10, 10, "ocr", (Line(()),))]) == []


# ----------------------------------------------------------------------------- knowledge, helpers

@pytest.mark.parametrize("country,want", [
    ("US", False), ("us", False), (" PH ", False), ("FM", False), ("CA", False),
    ("NO", True), ("MY", True), ("GB", True), ("FR", True), ("XX", True), (None, True), ("", True),
])
def test_day_first_for(country, want):
    assert day_first_for(country) is want


def test_knowledge_covers_every_language_asked_for():
    kb = default_date_knowledge()
    for name, month in [
        ("january", 1), ("févr", 2), ("März", 3), ("desember", 12), ("augusti", 8), ("marts", 3),
        ("mrt", 3), ("diciembre", 12), ("settembre", 9), ("stycznia", 1), ("lutego", 2), ("marca", 3),
        ("grudnia", 12), ("Agustus", 8), ("Ogos", 8), ("Disember", 12), ("março", 3), ("tammikuuta", 1),
        ("joulukuu", 12), ("února", 2), ("prosince", 12), ("Şubat", 2), ("Aralık", 12), ("ARALIK", 12),
    ]:
        assert kb.month_of(name) == month, name
    assert "CA" in kb.ambiguous_countries


@pytest.mark.parametrize("value,want", [("2020-03-17", D(2020, 3, 17)), (" 2018-12-25 ", D(2018, 12, 25))])
def test_parse_claimed_date(value, want):
    assert parse_claimed_date(value) == want


@pytest.mark.parametrize("value", ["2020-02-30", "17/03/2020", "2020-3-17", "20200317", "", "2020-03-17T10:00"])
def test_parse_claimed_date_rejects(value):
    with pytest.raises(ValueError, match="claimed date"):
        parse_claimed_date(value)


def test_parse_claimed_date_rejects_non_strings():
    with pytest.raises(ValueError, match="string"):
        parse_claimed_date(None)  # type: ignore[arg-type]


def _packaged_text() -> str:
    return resources.files("pipeline.data").joinpath("dates.toml").read_text(encoding="utf-8")


def test_load_date_knowledge_from_a_path(tmp_path):
    path = tmp_path / "dates.toml"
    path.write_text(_packaged_text(), encoding="utf-8")
    kb = load_date_knowledge(path)
    assert kb.month_of("mars") == 3 and kb.source == str(path)
    assert dates("17 mars 2020", knowledge=kb) == ["2020-03-17"]


@pytest.mark.parametrize("broken,field", [
    (lambda s: s.replace('    ["Mart", "Mar"],\n', ""), "languages.tr.months"),
    (lambda s: s.replace('"US",  # United States', '"USA",'), "numeric.month_first_countries"),
    (lambda s: s.replace('["enero", "ene"]', '["enero", "feb"]'), "languages.es.months.0"),
    (lambda s: s.replace('["mars"],', '["mars", ""],', 1), "languages.fr.months.2"),
    (lambda s: s.replace('"set", "out"', '"set", "bogus"'), "months.four_digit_year_only"),
    (lambda s: s.replace("[labels]", "[labels]\ncolour = 1"), "labels.colour"),
    (lambda s: s.replace("words = [", "wurds = [", 1), "labels"),
    (lambda s: s + "\n[broken\n", "not valid TOML"),
])
def test_broken_data_file_names_the_file_and_field(tmp_path, broken, field):
    path = tmp_path / "dates.toml"
    path.write_text(broken(_packaged_text()), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_date_knowledge(path)
    assert str(path) in info.value.message
    assert field in info.value.message
    assert info.value.code == "CONFIG_INVALID"


def test_missing_data_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_date_knowledge(tmp_path / "nope.toml")


# ----------------------------------------------------------------------------- real receipts

SROIE = TEST_DATA / "sroie"


def test_sroie_labelled_dates_are_found_without_false_ones():
    spec = importlib.util.spec_from_file_location("bench_dates", REPO / "bench" / "bench_dates.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    read_receipt = bench.read_receipt

    found = spurious = 0
    keys = sorted((SROIE / "key").glob("*.json"))
    for key in keys:
        (want,) = find_dates_in_text(json.loads(key.read_text())["date"])
        got = {f.date for f in find_dates([read_receipt(SROIE / "box" / f"{key.stem}.csv")])}
        found += want.date in got
        spurious += bool(got - {want.date})
    assert found == len(keys)
    # the two extra dates are real: a bill closed after midnight and a card expiry
    assert spurious <= 2


# ----------------------------------------------------------------------------- roles (issue #16)

def _page(*lines: str) -> Page:
    built = []
    for y, text in enumerate(lines):
        x, words = 10, []
        for token in text.split():
            words.append(Word(token, 95.0, (x, 20 + 30 * y, x + 12 * len(token), 40 + 30 * y)))
            x += 12 * len(token) + 10
        built.append(Line(tuple(words)))
    return Page(1, 1240, 1754, "pdf_text", tuple(built))


@pytest.mark.parametrize("line,role,label", [
    ("Invoice Date: 19.02.2020", "invoice", "Invoice Date"),
    ("Date 19.02.2020 8:13", "invoice", "Date"),
    ("Fakturadato: 19.02.2020", "invoice", "Fakturadato"),
    ("Order Date: 17.02.2020", "other", "Order Date"),
    ("Bestelldatum 17.02.2020", "other", "Bestelldatum"),
    ("Date de livraison : 21/02/2020", "other", "Date de livraison"),
    ("Tanggal Pesanan 17-02-2020", "other", "Tanggal Pesanan"),
    ("Due date: 05.03.2020", "other", "Due date"),
    ("Forfallsdato 05.03.2020", "other", "Forfallsdato"),
    ("19.02.2020", None, None),
    ("Abholdatum 19.02.2020", None, None),  # a compound no list names: no role
])
def test_a_date_takes_its_role_from_the_nearest_label(line, role, label):
    (found,) = find_dates([_page(line)])
    assert (found.role, found.label) == (role, label)


def test_a_date_on_a_line_of_two_labels_takes_the_nearest():
    found = find_dates([_page("Invoice Date: 19.02.2020 Due date: 05.03.2020")])
    assert [(f.raw, f.role) for f in found] == [("19.02.2020", "invoice"), ("05.03.2020", "other")]


def test_a_column_heading_labels_the_date_below_it():
    def cells(y: int, *texts: str) -> Line:
        return Line(tuple(Word(t, 100.0, (10 + 300 * k, y, 10 + 300 * k + 12 * len(t), y + 20))
                          for k, t in enumerate(texts)))

    page = Page(1, 1240, 1754, "pdf_text", (cells(20, "Rechnungsnr.", "Rechnungsdatum", "Bestelldatum"),
                                            cells(50, "204417811", "19.02.2020", "17.02.2020")))
    found = find_dates([page])
    assert [(f.raw, f.role) for f in found] == [("19.02.2020", "invoice"), ("17.02.2020", "other")]


def test_a_role_in_two_lists_is_refused(tmp_path):
    text = _packaged_text().replace('other = [\n', 'other = [\n    "invoice date",\n', 1)
    path = tmp_path / "dates.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="two roles"):
        load_date_knowledge(path)


@pytest.mark.parametrize("text, iso", [
    ("05.02.202520:21", "2025-02-05"),      # PP-OCR drops the space between date and time
    ("2025-02-0514:03", "2025-02-05"),
    ("18/03/1815:17", "2018-03-18"),        # a two-digit year glued to the time
    ("18/03/1815:170605102", "2018-03-18"),  # ... and the time to a receipt number
    ("Dato:07.12.2024Kl.14:03", "2024-12-07"),  # a short word between date and time
    ("12fevrier2025", "2025-02-12"),         # no spaces, no accent
])
def test_a_date_glued_to_its_time(text, iso):
    assert [m.date.isoformat() for m in find_dates_in_text(text)] == [iso]


@pytest.mark.parametrize("text", ["12/11/171234", "1.12.1812.50", "12.12.2024ABCDEFG"])
def test_digits_glued_to_a_short_year_without_a_time_are_no_date(text):
    assert find_dates_in_text(text) == []


@settings(max_examples=200, deadline=None)
@given(day=st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31)),
       hour=st.integers(0, 23), minute=st.integers(0, 59), four=st.booleans(), sep=st.sampled_from("/.-"))
def test_any_date_glued_to_its_time_reads_as_that_date(day, hour, minute, four, sep):
    from pipeline.extract.dates import _TWO_DIGIT_PIVOT

    four = four or day.year % 100 >= _TWO_DIGIT_PIVOT  # two digits read as 19xx from the pivot on
    year = f"{day.year}" if four else f"{day.year % 100:02d}"
    text = f"{day.day:02d}{sep}{day.month:02d}{sep}{year}{hour:02d}:{minute:02d}"
    assert [m.date for m in find_dates_in_text(text, day_first=True)] == [day]
    iso = f"{day.year}-{day.month:02d}-{day.day:02d}{hour:02d}:{minute:02d}"
    assert [m.date for m in find_dates_in_text(iso)] == [day]
