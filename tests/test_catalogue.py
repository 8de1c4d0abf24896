"""The product catalogue (pipeline/data/catalogue.toml) and the confusion table (confusions.toml):
loaded, validated, seeded with the promotions' models, grown from terms files."""
from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.errors import ConfigError
from pipeline.extract.normalise import fold_confusables, load_confusions, sequence_variants
from pipeline.matching.catalogue import (
    grow_catalogue,
    grow_file,
    load_catalogue,
    model_key,
    packaged_catalogue_path,
)
from pipeline.promotions import load_promotions

REPO = Path(__file__).resolve().parents[1]
SHIPPED_PROMOTIONS = REPO / "pipeline" / "data" / "promotions"


# ------------------------------------------------------------------------------ confusions

def test_the_confusion_classes_are_the_ones_identity_keys_were_folded_with():
    # Invoice-number and serial identity keys in claim stores were folded with these classes:
    # moving them to data must not change a single folded character.
    assert fold_confusables("o0dq1li|5s8b2z6guv7x") == "0000111155882266uu7x"


def test_sequences_swap_either_way():
    assert "tomahawk" in sequence_variants("tomahavvk")
    assert "modern" in sequence_variants("modem")  # "rn" read as "m"
    assert "gaming" in sequence_variants("garning")
    assert not sequence_variants("trio")


@pytest.mark.parametrize("text,pattern", [
    ('classes = ["17"]\n', "two digits"),
    ('classes = ["0o", "o1"]\n', "in two classes"),
    ('classes = ["0O"]\n', "lower-case"),
    ('classes = ["0o"]\nsequences = [["rn", "rn"]]\n', "sequences"),
    ('classes = ["0o"]\nmore = 1\n', "unknown field"),
])
def test_the_confusion_table_is_validated(tmp_path, text, pattern):
    path = tmp_path / "confusions.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=pattern):
        load_confusions(path)


# ------------------------------------------------------------------------------ catalogue

def test_the_packaged_catalogue_loads_with_siblings_and_distinguishing_tokens():
    cat = load_catalogue()
    assert len(cat) > 300
    m = cat.find("MSI GeForce RTX 5060")
    assert (m.name, m.family, m.category) == ("GeForce RTX 5060", "geforce-rtx-50", "graphics_card")
    sibling = cat.find("RTX 5060 Ti")
    assert sibling in cat.siblings(m)
    assert cat.distinguishing(m, sibling) == ((), ("ti",))
    # aliases, and families linked as siblings (B550 and B450 boards share names)
    assert cat.find("R5 3600X").name == "AMD Ryzen 5 3600X"
    assert cat.find("MAG B450 TOMAHAWK MAX") in cat.siblings(cat.find("MAG B550 TOMAHAWK"))
    assert cat.find("Noctua NH-D15") is None


def test_the_issue_lines_are_in_the_catalogue():
    cat = load_catalogue()
    for name in ("GeForce RTX 3060 Ti", "GeForce RTX 4070 Ti Super", "GeForce RTX 5090", "Radeon RX 7900 XTX",
                 "Radeon RX 7900 GRE", "Radeon RX 6700 XT", "AMD Ryzen 7 5800X3D", "AMD Ryzen 5 5600G",
                 "AMD Ryzen 9 9950X", "AMD Ryzen 7 7800X3D", "MAG B650 TOMAHAWK WIFI", "PRO X670-P WIFI",
                 "MAG Z790 TOMAHAWK WIFI", "Optix MAG27CQ", "Optix MAG24C", "MPG 321URX QD-OLED",
                 "Modern AM242 12M", "Katana 15", "Katana 17"):
        assert cat.find(name) is not None, name


def test_every_eligible_model_of_the_shipped_promotions_is_in_the_catalogue():
    cat = load_catalogue()
    promotions = load_promotions(SHIPPED_PROMOTIONS)
    assert grow_catalogue(promotions.values(), cat) == []
    for terms in promotions.values():
        for group in terms.products.values():
            for names in group.names:
                assert all(cat.find(n) is not None for n in names), names


def test_model_key_drops_brands_optional_and_neutral_words():
    assert model_key("MSI GeForce RTX 3060 Ti OC") == ("rtx", "3060", "ti")
    assert model_key("MSI Optix MAG27CQ") == ("27", "cq")


CATALOGUE = textwrap.dedent("""\
    [families.cards]
    category = "graphics_card"
    models = ["GeForce RTX 5060", "GeForce RTX 5060 Ti"]
    siblings = ["boards"]

    [families.boards]
    category = "motherboard"
    models = [["MAG B550 TOMAHAWK", "B550 TOMAHAWK"]]
""")


@pytest.mark.parametrize("change,pattern", [
    (lambda s: s + '\n[families.more]\ncategory = "cpu"\nmodels = ["RTX 5060"]\n', "listed twice"),
    (lambda s: s + '\n[families.cases]\ncategory = "case"\nmodels = ["GUNGNIR 100D", "GUNGNIR 1000"]\n',
     "differ only by characters OCR confuses"),
    (lambda s: s.replace('siblings = ["boards"]', 'siblings = ["nowhere"]'), "does not exist"),
    (lambda s: s.replace('category = "motherboard"', 'category = "motherboard"\ncolour = "red"'), "unknown field"),
    (lambda s: s.replace("[families.boards]", "[families.Boards]"), "family id"),
    (lambda s: s + '\n[[grown]]\nfamily = "new"\nmodels = ["X"]\nsource = "x.toml"\n', "category"),
    (lambda s: s.replace('models = [["MAG B550 TOMAHAWK", "B550 TOMAHAWK"]]', "models = []"), "models"),
])
def test_a_broken_catalogue_is_refused_naming_what_is_wrong(tmp_path, change, pattern):
    path = tmp_path / "catalogue.toml"
    path.write_text(change(CATALOGUE))
    with pytest.raises(ConfigError, match=pattern):
        load_catalogue(path)


TERMS = textwrap.dedent("""\
    id = "new-cards"
    name = "New cards"
    timezone = "Europe/Oslo"

    [period]
    start = 2025-02-17T00:01:00
    end = 2025-03-17T23:59:00

    [territories.NO]
    name = "Norway"
    currency = "NOK"
    timezone = "Europe/Oslo"

    [products.cards]
    category = "graphics_card"
    models = ["GeForce RTX 5060", "GeForce RTX 5070 Ti", ["MSI Cyclone X1", "Cyclone X1"]]

    [reward]
    kind = "item"
    item = "a game"
""")


def test_grow_adds_the_terms_models_the_catalogue_lacks_and_the_file_loads_back(tmp_path):
    promotions = tmp_path / "promotions"
    promotions.mkdir()
    (promotions / "new-cards.toml").write_text(TERMS)
    path = tmp_path / "catalogue.toml"
    path.write_text(CATALOGUE)
    grown, text = grow_file(path, load_promotions(promotions).values(), write=False)
    assert path.read_text() == CATALOGUE  # a dry run writes nothing
    by_name = {g.names[0]: g for g in grown}
    assert set(by_name) == {"GeForce RTX 5070 Ti", "MSI Cyclone X1"}  # RTX 5060 is known
    assert (by_name["GeForce RTX 5070 Ti"].family, by_name["GeForce RTX 5070 Ti"].new_family) == ("cards", False)
    assert by_name["MSI Cyclone X1"].new_family and by_name["MSI Cyclone X1"].family == "new-cards-cards"
    grow_file(path, load_promotions(promotions).values())
    cat = load_catalogue(path)
    assert cat.find("RTX 5070 Ti").family == "cards"
    assert cat.find("Cyclone X1").name == "MSI Cyclone X1"  # aliases kept
    assert cat.find("RTX 5060") in cat.siblings(cat.find("RTX 5070 Ti"))
    assert "[[grown]]" in path.read_text() and "new-cards.toml#products.cards" in path.read_text()
    assert grow_file(path, load_promotions(promotions).values())[0] == []  # grown once


def test_grow_refuses_a_model_ocr_cannot_tell_from_its_family(tmp_path):
    promotions = tmp_path / "promotions"
    promotions.mkdir()
    (promotions / "new-cards.toml").write_text(TERMS.replace('"GeForce RTX 5070 Ti", ', '"GeForce RTX 5O60", '))
    path = tmp_path / "catalogue.toml"
    path.write_text(CATALOGUE)
    with pytest.raises(ConfigError, match="OCR confuses"):
        grow_file(path, load_promotions(promotions).values())
    assert path.read_text() == CATALOGUE


def test_cli_catalogue_grow_and_show(tmp_path):
    path = tmp_path / "catalogue.toml"
    shutil.copy(packaged_catalogue_path(), path)
    runner = CliRunner()
    result = runner.invoke(app, ["catalogue", "grow", "--file", str(path), "--promotions", str(SHIPPED_PROMOTIONS)])
    assert result.exit_code == 0, result.output
    assert "0 model(s) added" in result.output
    shown = runner.invoke(app, ["catalogue", "show", "RTX 5060", "--file", str(path)])
    assert shown.exit_code == 0 and '"only_sibling": ["ti"]' in shown.output
    missing = runner.invoke(app, ["catalogue", "show", "Noctua NH-D15"])
    assert missing.exit_code == 1
