"""Promotion terms files: the shipped promotions say what docs/promotions.md says, every cell
of the reward table is right, and a broken terms file is refused with the file, the field and
what is wrong."""
from __future__ import annotations

import datetime as dt
import os
import re
import textwrap
from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.promotions import load_promotions, load_terms, reward_for
from pipeline.promotions.describe import (
    list_promotions,
    list_promotions_text,
    show_promotion,
    show_promotion_text,
)
from pipeline.promotions.terms import ENV_PROMOTIONS_DIR, default_promotions_dir

REPO = Path(__file__).resolve().parents[1]
PROMOTIONS = REPO / "pipeline" / "data" / "promotions"
CASHBACK = "amd-msi-cashback-2020"


@pytest.fixture(scope="module")
def cashback():
    return load_promotions(PROMOTIONS)[CASHBACK]


# ------------------------------------------------------------------------------ shipped files

def test_every_shipped_promotion_loads():
    loaded = load_promotions(PROMOTIONS)
    assert set(loaded) == {CASHBACK, "spring-special-plus", "boost-your-success", "christmas-secret-sale",
                           "back-to-school"}
    for pid, terms in loaded.items():
        assert Path(terms.file).name == f"{pid}.toml"


def test_default_folder_is_the_repository_promotions_folder(monkeypatch):
    monkeypatch.delenv(ENV_PROMOTIONS_DIR, raising=False)
    assert default_promotions_dir() == PROMOTIONS
    assert CASHBACK in load_promotions()


def test_env_variable_points_at_another_folder(tmp_path, monkeypatch):
    (tmp_path / "mini.toml").write_text(MINIMAL.format(id="mini"))
    monkeypatch.setenv(ENV_PROMOTIONS_DIR, str(tmp_path))
    assert set(load_promotions()) == {"mini"}


@pytest.mark.parametrize("code,name,tier,currency,zone", [
    ("AT", "Austria", 1, "EUR", "Europe/Vienna"),
    ("DE", "Germany", 1, "EUR", "Europe/Berlin"),
    ("GB", "United Kingdom", 1, "GBP", "Europe/London"),
    ("IE", "Ireland", 1, "EUR", "Europe/Dublin"),
    ("PL", "Poland", 1, "PLN", "Europe/Warsaw"),
    ("ES", "Spain", 1, "EUR", "Europe/Madrid"),
    ("FR", "France", 1, "EUR", "Europe/Paris"),
    ("SE", "Sweden", 1, "SEK", "Europe/Stockholm"),
    ("CH", "Switzerland", 1, "CHF", "Europe/Zurich"),
    ("PT", "Portugal", 1, "EUR", "Europe/Lisbon"),
    ("FI", "Finland", 1, "EUR", "Europe/Helsinki"),
    ("NO", "Norway", 1, "NOK", "Europe/Oslo"),
    ("DK", "Denmark", 1, "EUR", "Europe/Copenhagen"),
    ("IT", "Italy", 2, "EUR", "Europe/Rome"),
    ("CZ", "Czech Republic", 2, "CZK", "Europe/Prague"),
    ("TR", "Turkey", 2, "USD", "Europe/Istanbul"),
])
def test_cashback_territories_tiers_currencies(cashback, code, name, tier, currency, zone):
    t = cashback.territories[code]
    assert (t.name, t.tier, t.currency, t.timezone) == (name, tier, currency, zone)


def test_cashback_has_exactly_the_sixteen_territories(cashback):
    assert len(cashback.territories) == 16
    assert cashback.territory("UK") is cashback.territories["GB"]  # claims may write UK


def test_cashback_dates_bundles_and_limits(cashback):
    assert cashback.period.start == dt.datetime(2020, 2, 17, 0, 1)
    assert cashback.period.end == dt.datetime(2020, 3, 17, 23, 59)
    w = cashback.claim_window
    assert (w.opens, w.closes, w.first_day) == (dt.datetime(2020, 3, 17, 0, 1), dt.datetime(2020, 4, 30, 0, 1), 30)
    assert {b: x.parts for b, x in cashback.bundles.items()} == {
        "duo": ["motherboard", "cpu"],
        "trio-gungnir": ["motherboard", "cpu", "case-gungnir"],
        "trio-sekira": ["motherboard", "cpu", "case-sekira"],
    }
    assert cashback.limits.per_participant == 1 and cashback.limits.per_serial == 1
    assert cashback.limits.invoice_reuse == "never"
    assert cashback.retailers.excluded == ["eBay", "Amazon Marketplace"]
    assert cashback.retailers.third_party_sellers == "excluded"
    assert cashback.review.days_to_complete == 14 and cashback.review.returns_void_claim
    assert cashback.products["b450-tier2"].tiers == [2]


def test_cashback_lists_every_board_and_cpu_of_the_terms(cashback):
    def names(gid):
        return {n[0] for n in cashback.products[gid].names}

    assert names("x570-enthusiast") == {"MEG X570 GODLIKE", "Prestige X570 CREATION", "MEG X570 ACE",
                                        "MEG X570 UNIFY"}
    assert names("x570-performance") == {"MPG X570 GAMING PRO CARBON WIFI", "MPG X570 GAMING EDGE WIFI"}
    assert names("x570-arsenal") == {"MPG X570 GAMING PLUS", "MAG X570 TOMAHAWK WIFI", "X570-A PRO"}
    assert names("x470-performance") == {"X470 GAMING PRO MAX", "X470 GAMING PLUS MAX"}
    assert names("ryzen-high") == {"AMD Ryzen 9 3950X", "AMD Ryzen 9 3900X", "AMD Ryzen 7 3800X", "AMD Ryzen 7 3700X"}
    assert names("ryzen-mid") == {"AMD Ryzen 5 3600X", "AMD Ryzen 5 3600"}
    assert names("ryzen-apu") == {"AMD Ryzen 5 3400G", "AMD Ryzen 3 3200G"}


def test_invented_facts_are_declared_in_the_files():
    loaded = load_promotions(PROMOTIONS)
    assert any("b450" in x for x in loaded[CASHBACK].invented)
    assert any("conversion" in x for x in loaded[CASHBACK].invented)
    assert any("products" in x for x in loaded["spring-special-plus"].invented)
    text = (PROMOTIONS / "spring-special-plus.toml").read_text()
    assert "INVENTED" in text


def test_portal_promotion_facts():
    loaded = load_promotions(PROMOTIONS)
    boost = loaded["boost-your-success"]
    assert (boost.period.start, boost.period.end) == (dt.datetime(2025, 1, 1, 0, 0), dt.datetime(2025, 3, 31, 23, 59))
    assert boost.reward.amounts == {"IDR": 500000}
    assert boost.categories == {"aio", "desktop"}
    xmas, school = loaded["christmas-secret-sale"], loaded["back-to-school"]
    assert xmas.period.start.date() == dt.date(2024, 12, 1) and xmas.period.end.date() == dt.date(2024, 12, 31)
    assert school.period.start.date() == dt.date(2024, 6, 14) and school.period.end.date() == dt.date(2024, 7, 31)
    for t in (xmas, school):
        assert t.categories == {"motherboard", "graphics_card", "desktop", "monitor", "gaming_gear", "components",
                                "aio"}
    for t in loaded.values():
        if t.id != CASHBACK:
            assert t.limits.per_email == 2
            assert t.documents.serial_photo and t.documents.invoice_number and t.documents.chk_code
            assert t.documents.invoice_formats == ["jpg", "gif", "png"] and t.documents.invoice_max_width_px == 1600
    assert loaded["spring-special-plus"].reward.kind == "item"
    assert loaded["spring-special-plus"].categories == {"graphics_card"}


# ------------------------------------------------------------------------------ the reward table

# The Norwegian terms' table: board group x CPU group -> Duo / Trio SEKIRA / Trio GUNGNIR (NOK).
NOK = {
    "x570-enthusiast": {"ryzen-high": (692, 989, 840), "ryzen-mid": (594, 891, 742), "ryzen-apu": (495, 792, 643)},
    "x570-performance": {"ryzen-high": (593, 890, 741), "ryzen-mid": (495, 792, 643), "ryzen-apu": (396, 693, 544)},
    "x570-arsenal": {"ryzen-high": (495, 792, 643), "ryzen-mid": (397, 694, 545), "ryzen-apu": (298, 595, 446)},
    "x470-performance": {"ryzen-high": (593, 890, 741), "ryzen-mid": (495, 792, 643), "ryzen-apu": (396, 693, 544)},
}
BUNDLES = ("duo", "trio-sekira", "trio-gungnir")
NOK_CELLS = [(board, cpu, bundle, NOK[board][cpu][k]) for board in NOK for cpu in NOK[board]
             for k, bundle in enumerate(BUNDLES)]


@pytest.mark.parametrize("board,cpu,bundle,amount", NOK_CELLS)
def test_every_cell_of_the_norwegian_table(cashback, board, cpu, bundle, amount):
    assert reward_for(cashback, "NO", bundle, {"motherboard": board, "cpu": cpu}) == {
        "amount": amount, "currency": "NOK", "bundle": bundle}


@pytest.mark.parametrize("board,cpu,bundle,amount", NOK_CELLS)
def test_euro_cells_are_the_norwegian_ones_at_one_rate(cashback, board, cpu, bundle, amount):
    euro = reward_for(cashback, "DE", bundle, {"motherboard": board, "cpu": cpu})
    assert euro["currency"] == "EUR" and "provisional" not in euro
    assert abs(euro["amount"] * 9.89 - amount) < 2.5  # the derivation the file documents


@pytest.mark.parametrize("code", ["AT", "DE", "IE", "ES", "FR", "PT", "FI", "DK", "IT"])
def test_euro_territories_are_paid_the_euro_amount(cashback, code):
    r = reward_for(cashback, code, "trio-sekira", {"motherboard": "x570-enthusiast", "cpu": "ryzen-high"})
    assert r == {"amount": 100, "currency": "EUR", "bundle": "trio-sekira"}


@pytest.mark.parametrize("code,currency,rate", [
    ("GB", "GBP", 0.85), ("PL", "PLN", 4.30), ("CZ", "CZK", 25.0), ("CH", "CHF", 1.07), ("SE", "SEK", 10.6),
    ("TR", "USD", 1.10),
])
def test_other_currencies_are_converted_and_marked_provisional(cashback, code, currency, rate):
    r = reward_for(cashback, code, "duo", {"motherboard": "x570-enthusiast", "cpu": "ryzen-high"})
    assert r["currency"] == currency and r["amount"] == round(70 * rate)
    assert r["converted_from"] == {"amount": 70, "currency": "EUR", "rate": rate}
    assert r["provisional"] is True


@pytest.mark.parametrize("code", ["IT", "CZ", "TR"])
def test_tier_two_b450_boards_have_a_reward(cashback, code):
    r = reward_for(cashback, code, "duo", {"motherboard": "b450-tier2", "cpu": "ryzen-mid"})
    assert r is not None and r["bundle"] == "duo"


def test_no_reward_for_an_unknown_territory_or_cell(cashback):
    assert reward_for(cashback, "US", "duo", {"motherboard": "x570-arsenal", "cpu": "ryzen-mid"}) is None
    assert reward_for(cashback, "NO", "duo", {"motherboard": "b450-tier2", "cpu": "ryzen-mid"}) is None
    assert reward_for(cashback, "NO", None, {"motherboard": "x570-arsenal", "cpu": "ryzen-mid"}) is None


def test_fixed_and_item_rewards():
    loaded = load_promotions(PROMOTIONS)
    assert reward_for(loaded["boost-your-success"], "ID", None, {}) == {
        "amount": 500000, "currency": "IDR", "bundle": None}
    item = reward_for(loaded["spring-special-plus"], "FR", None, {})
    assert item["amount"] is None and "Game code" in item["item"]


# ------------------------------------------------------------------------------ invalid files

MINIMAL = textwrap.dedent("""\
    id = "{id}"
    name = "Mini"
    timezone = "Europe/Oslo"

    [period]
    start = 2020-02-17T00:01:00
    end = 2020-03-17T23:59:00

    [territories.NO]
    name = "Norway"
    currency = "NOK"
    timezone = "Europe/Oslo"

    [products.boards]
    category = "motherboard"
    models = ["MEG X570 ACE"]

    [products.cpus]
    category = "cpu"
    models = [["AMD Ryzen 9 3900X", "R9 3900X"]]

    [bundles.duo]
    label = "Duo"
    parts = ["motherboard", "cpu"]

    [reward]
    kind = "table"
    set_in = "NOK"
    rows = "motherboard"
    columns = "cpu"
    bundles = ["duo"]

    [reward.table.NOK.boards]
    cpus = [692]
""")


def write(tmp_path: Path, text: str, name: str = "mini") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


def test_the_minimal_file_is_valid(tmp_path):
    terms = load_terms(write(tmp_path, MINIMAL.format(id="mini")))
    assert terms.id == "mini" and terms.file.endswith("mini.toml")


def _replace(old: str, new: str) -> str:
    base = MINIMAL.format(id="mini")
    assert old in base, old
    return base.replace(old, new, 1)


BROKEN = [
    ("typo in a field", _replace('name = "Mini"', 'name = "Mini"\nnmae = "x"'), r"nmae: unknown field"),
    ("typo in a section field", _replace('currency = "NOK"', 'currency = "NOK"\ntier_ = 2'),
     r"territories\.NO\.tier_: unknown field"),
    ("missing period", _replace("[period]\nstart = 2020-02-17T00:01:00\nend = 2020-03-17T23:59:00\n", ""),
     r"period: required field is missing"),
    ("unknown time zone", _replace('timezone = "Europe/Oslo"\n\n[period]', 'timezone = "Europe/Olso"\n\n[period]'),
     r"timezone: .*'Europe/Olso' is not a known IANA time zone"),
    ("territory zone", _replace('currency = "NOK"\ntimezone = "Europe/Oslo"',
                                'currency = "NOK"\ntimezone = "Mars/Base"'),
     r"territories\.NO\.timezone: .*not a known IANA time zone"),
    ("offset time", _replace("start = 2020-02-17T00:01:00", "start = 2020-02-17T00:01:00+01:00"),
     r"period\.start: .*local time without an offset"),
    ("quoted time", _replace("start = 2020-02-17T00:01:00", 'start = "2020-02-17 00:01"'),
     r"period\.start: .*without quotes"),
    ("end before start", _replace("end = 2020-03-17T23:59:00", "end = 2020-01-17T23:59:00"),
     r"period: .*end 2020-01-17 23:59 is before start"),
    ("bad currency", _replace('currency = "NOK"', 'currency = "kroner"'),
     r"territories\.NO\.currency: 'kroner' must be an ISO 4217 currency code"),
    ("bad country", _replace("[territories.NO]", "[territories.Norway]"),
     r"territories\.Norway: 'Norway' must be an ISO 3166-1 alpha-2 country code"),
    ("bad group id", _replace("[products.boards]", "[products.Boards]"),
     r"products\.Boards: 'Boards' must be lower-case letters"),
    ("unknown bundle part", _replace('parts = ["motherboard", "cpu"]', 'parts = ["motherboard", "gpu"]'),
     r"bundles\.duo\.parts: 'gpu' is neither a product group nor a category"),
    ("no models", _replace('models = ["MEG X570 ACE"]', "models = []"), r"products\.boards: .*models is empty"),
    ("models and any_model", _replace('models = ["MEG X570 ACE"]', 'models = ["MEG X570 ACE"]\nany_model = true'),
     r"products\.boards: .*either models or any_model"),
    ("unknown tier", _replace('models = ["MEG X570 ACE"]', 'models = ["MEG X570 ACE"]\ntiers = [2]'),
     r"products\.boards\.tiers: no territory has tier 2"),
    ("cell too short", _replace("cpus = [692]", "cpus = []"), r"reward\.table\.NOK\.boards\.cpus: 0 amounts"),
    ("unknown row group", _replace("[reward.table.NOK.boards]", "[reward.table.NOK.bords]"),
     r"reward\.table\.NOK\.bords: not a motherboard group"),
    ("unknown column group", _replace("cpus = [692]", "other = [1]"),
     r"reward\.table\.NOK\.boards\.other: not a cpu group"),
    ("missing cell", _replace('[bundles.duo]', '[products.apus]\ncategory = "cpu"\nmodels = ["AMD Ryzen 5 3400G"]\n\n'
                                               '[bundles.duo]'),
     r"reward\.table\.NOK\.boards\.apus is missing \(needed for territory NO\)"),
    ("no table for a currency", _replace('currency = "NOK"', 'currency = "SEK"'),
     r"territory NO is paid in SEK but there is neither reward\.table\.SEK nor reward\.conversion\.SEK"),
    ("reward bundles", _replace('bundles = ["duo"]', 'bundles = ["duo", "trio"]'),
     r"reward\.bundles must list each bundle once"),
    ("table kind needs a table", _replace("[reward.table.NOK.boards]\ncpus = [692]\n", ""),
     r"reward: .*needs table"),
    ("negative limit", MINIMAL.format(id="mini") + "\n[limits]\nper_participant = 0\n",
     r"limits\.per_participant: .*greater than or equal to 1"),
    ("bad invoice reuse", MINIMAL.format(id="mini") + '\n[limits]\ninvoice_reuse = "sometimes"\n',
     r"limits\.invoice_reuse"),
    ("id is not the file name", MINIMAL.format(id="other"), r"id: 'other' must equal the file name \('mini'\)"),
    ("not TOML", MINIMAL.format(id="mini") + "\n[reward\n", r"not valid TOML"),
]


@pytest.mark.parametrize("why,text,pattern", BROKEN, ids=[b[0] for b in BROKEN])
def test_invalid_terms_name_file_field_and_problem(tmp_path, why, text, pattern):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_terms(path)
    msg = info.value.message
    assert msg.startswith(str(path)), msg
    assert re.search(pattern, msg), msg


def test_an_invalid_file_fails_the_whole_folder(tmp_path):
    write(tmp_path, MINIMAL.format(id="mini"))
    write(tmp_path, MINIMAL.format(id="bad").replace('name = "Mini"', 'name = ""'), name="bad")
    with pytest.raises(ConfigError, match=r"bad\.toml: name"):
        load_promotions(tmp_path)


def test_folder_not_found(tmp_path):
    with pytest.raises(ConfigError, match="promotions folder not found"):
        load_promotions(tmp_path / "nope")


def test_cache_reloads_an_edited_file_and_skips_underscored_files(tmp_path):
    path = write(tmp_path, MINIMAL.format(id="mini"))
    (tmp_path / "_draft.toml").write_text("not = [valid")
    assert load_promotions(tmp_path)["mini"].name == "Mini"
    assert load_promotions(tmp_path)["mini"] is load_promotions(tmp_path)["mini"]
    path.write_text(MINIMAL.format(id="mini").replace('name = "Mini"', 'name = "Mini two"'))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert load_promotions(tmp_path)["mini"].name == "Mini two"


def test_a_date_only_period_covers_whole_days(tmp_path):
    text = _replace("start = 2020-02-17T00:01:00\nend = 2020-03-17T23:59:00", "start = 2020-02-17\nend = 2020-03-17")
    terms = load_terms(write(tmp_path, text))
    assert terms.period.start == dt.datetime(2020, 2, 17, 0, 0)
    assert terms.period.end == dt.datetime(2020, 3, 17, 23, 59)


# ------------------------------------------------------------------------------ list / show

def test_list_promotions_text_and_dicts():
    text = list_promotions_text(PROMOTIONS)
    assert text.count("\n") == 5
    assert "amd-msi-cashback-2020  2020-02-17..2020-03-17" in text and "invented" in text
    rows = list_promotions(PROMOTIONS)
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)
    assert rows[0]["bundles"] == ["duo", "trio-gungnir", "trio-sekira"]


def test_show_promotion_prints_the_whole_table_and_the_placeholders():
    text = show_promotion_text(CASHBACK, PROMOTIONS)
    for needle in ("692 / 989 / 840", "298 / 595 / 446", "tier 2", "B450", "INVENTED", "NOT CONFIRMED",
                   "eBay", "14 days", "from day 30 after purchase"):
        assert needle in text, needle
    data = show_promotion(CASHBACK, PROMOTIONS)
    assert data["reward"]["table"]["NOK"]["x570-enthusiast"]["ryzen-high"] == [692, 989, 840]
    assert data["period"]["start"] == "2020-02-17T00:01:00"


def test_show_an_unknown_promotion():
    with pytest.raises(ConfigError, match="unknown promotion 'nope'.*amd-msi-cashback-2020"):
        show_promotion_text("nope", PROMOTIONS)


def test_the_readme_example_is_a_valid_terms_file(tmp_path):
    readme = (PROMOTIONS / "README.md").read_text()
    example = readme.split("## Example: adding a promotion", 1)[1]
    toml = example.split("```toml\n", 1)[1].split("```", 1)[0]
    terms = load_terms(write(tmp_path, toml, name="laptop-summer-2021"))
    assert terms.categories == {"laptop"} and terms.limits.per_email == 2
