"""Golden decisions without OCR: each sample claim decided from its stored readings.

``tests/golden/<sample>/reads.json`` holds what the engines read from the sample's documents and
``decision.json`` the decision made from it (``scripts/store_reads.py`` writes both from a real run).
Deciding from the stored readings runs everything after reading (extract, match, rules, integrity,
decide) in well under a second per claim, so every decision rule the samples exercise is tested
in seconds; the engine tests (test_ocr, test_barcodes, test_pdf, test_samples) still read for real.
Each claim alone is decided without a claim store; ``in-order-with-store.json`` pins all of them
decided in path order against one fresh store (duplicates, claim limits, shops known from earlier
approvals), as ``claimcheck batch`` decides the set.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from pipeline.config import default_config
from pipeline.stored_reads import StoredReader
from pipeline.verify import verify_claim

from .conftest import REPO

GOLDEN = REPO / "tests" / "golden"
SAMPLES = REPO / "sample_invoices"

_spec = importlib.util.spec_from_file_location("store_reads", REPO / "scripts" / "store_reads.py")
store_reads = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(store_reads)


def _golden() -> list[Path]:
    return sorted(p.parent for p in GOLDEN.glob("*/decision.json"))


def test_every_sample_has_its_stored_readings():
    assert {p.name for p in _golden()} == {p.parent.name for p in SAMPLES.rglob("claim.json")}


@pytest.mark.parametrize("golden", _golden(), ids=lambda p: p.name)
def test_the_decision_from_stored_readings_is_the_golden_one(golden: Path):
    reader = StoredReader.load(golden / "reads.json")
    decision = verify_claim(SAMPLES / golden.name, default_config(), reader=reader, store=False).to_dict()
    assert store_reads.summary(decision) == json.loads((golden / "decision.json").read_text(encoding="utf-8"))


def test_a_call_without_a_stored_reading_is_an_error_never_a_guess(tmp_path):
    reader = StoredReader.from_json({"format": 1, "reads": []})
    with pytest.raises(LookupError, match="no stored reading"):
        reader(tmp_path / "x.pdf", "x.pdf", languages=["eng"], config=default_config())


def test_the_samples_in_order_with_one_store_give_the_golden_decisions(tmp_path):
    got = store_reads.decide_in_order(SAMPLES, GOLDEN, tmp_path / "claims.sqlite3")
    want = json.loads((GOLDEN / "in-order-with-store.json").read_text(encoding="utf-8"))
    assert got == want
    assert want["0045-ie-serial-already-claimed"]["reasons"] == ["SERIAL_ALREADY_CLAIMED"]
