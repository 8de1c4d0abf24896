"""The model matcher's token weights are data (data/model_scoring.toml), validated on load."""
from __future__ import annotations

import pytest

from pipeline.errors import ConfigError
from pipeline.knowledge import KNOWLEDGE
from pipeline.matching.models import load_model_scoring, model_scoring


def test_packaged_weights_load_and_are_registered_knowledge():
    s = model_scoring()
    assert s.weight["code"] > s.weight["word"] > s.weight["neutral"] == 0  # a code counts most
    assert 0 < s.gain["garbled"] < s.gain["near"] < s.gain["repaired"] <= s.gain["exact"] == 1
    assert KNOWLEDGE["model_scoring"].path == "data/model_scoring.toml"


@pytest.mark.parametrize("change,message", [
    (("[gain]", "[gain]\nbest = 1.0"), "exactly"),
    (("exact = 1.0", "exact = 1.5"), "from 0 to 1"),
    (("code = 2.0", "code = \"two\""), "a number"),
    (("[cost]", "[costs]"), "unknown key"),
])
def test_a_broken_weights_file_is_refused(tmp_path, change, message):
    from importlib import resources

    text = resources.files("pipeline.data").joinpath("model_scoring.toml").read_text(encoding="utf-8")
    bad = tmp_path / "model_scoring.toml"
    bad.write_text(text.replace(*change, 1), encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_model_scoring(bad)
