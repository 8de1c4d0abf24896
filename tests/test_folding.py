"""The one folding module: accents and case dropped the same way by every matcher."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.errors import ConfigError
from pipeline.extract.dates import find_dates_in_text
from pipeline.extract.folding import fold, fold_words, load_folding
from pipeline.extract.labels import fold as label_fold
from pipeline.extract.normalise import normalise_text


@given(st.text())
def test_fold_keeps_every_offset_and_is_idempotent(text):
    folded = fold(text)
    assert len(folded) == len(text)
    assert fold(folded) == folded
    assert len(fold(text, lower=False)) == len(text)


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_ascii_is_only_lowered(text):
    assert fold(text) == text.lower() and fold(text, lower=False) == text


@pytest.mark.parametrize("text,folded", [
    ("Kjøpsdato", "kjopsdato"), ("Data zakupu: 17 września 2020", "data zakupu: 17 wrzesnia 2020"),
    ("Łódź", "lodz"), ("Straße", "straße"), ("Ærø", "æro"), ("İstanbul", "istanbul"),
])
def test_fold_examples(text, folded):
    assert fold(text) == folded


def test_labels_dates_and_names_fold_alike():
    # the label matcher and the date reader use the same fold: ø is o for both
    assert label_fold("Fakturadato Kjøpt") == fold("Fakturadato Kjøpt") == "fakturadato kjopt"
    assert [m.date.isoformat() for m in find_dates_in_text("17. MÄRZ 2020")] == ["2020-03-17"]
    assert [m.date.isoformat() for m in find_dates_in_text("Kjøpt 17.02.2O2O")] == ["2020-02-17"]  # [ocr_digits]
    assert normalise_text("Elkjøp Nordic AS") == "elkjop nordic as"
    assert fold_words("Ærøskøbing ¥") == "aeroskobing y"


def test_a_broken_folding_file_is_refused(tmp_path):
    bad = tmp_path / "folding.toml"
    bad.write_text('letters = { "æ" = "ae" }\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="one letter for one letter"):
        load_folding(bad)
    bad.write_text('letters = { "ø" = "o" }\nextra = 1\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown key"):
        load_folding(bad)
