"""The committed sample set, through the threshold lab: the report is produced, and the
pipeline's decisions on it hold the lines the product promises.

The hand-made claims (demo-*, sroie-*, i2d-*) are golden tests of their own in
test_verify.py; this runs the whole set (the generated claims too) the way
`make demo` and `claimcheck evaluate` do, with real Tesseract and barcode engines.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from pipeline.lab import evaluate
from pipeline.lab.evaluation import decision_metrics, load_rows

# The first test pays for verifying the whole set (73 claims, cold on a fresh machine: OCR of every page).
pytestmark = pytest.mark.timeout(600)

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_invoices"
OPEN_ISSUES_FROM = 46
"""Claims 0046-0053 (scripts/make_demo_samples.py EXTRA): genuine claims of the cases issues #15-#17
name (same-template buyers, logo-only shops, legal-entity / extra-word / partial shop names, several
dates, look-alike models on hard phone photos). The lines below hold the rest of the set; these are
held apart until those issues land."""


def _open_issue(row) -> bool:
    head = row.claim_path.split("/")[0][:4]
    return head.isdigit() and int(head) >= OPEN_ISSUES_FROM


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("samples-lab")
    return evaluate(SAMPLES, out_dir=out, workers=2, progress=False), out


def test_the_set_is_about_sixty_claims_and_small():
    claims = list(SAMPLES.rglob("claim.json"))
    assert 55 <= len(claims) <= 80
    size = sum(p.stat().st_size for p in SAMPLES.rglob("*") if p.is_file())
    assert size < 25 * 2**20, f"{size / 2**20:.1f} MB"
    generated = [p for p in SAMPLES.glob("*/expected.json") if "scenario" in json.loads(p.read_text())]
    assert len(generated) >= 40


def test_report_is_written_on_the_committed_set(lab):
    metrics, out = lab
    for name in ("report.html", "metrics.json", "claims.csv", "confusion.png"):
        assert (out / name).stat().st_size > 0, name
    with (out / "claims.csv").open() as f:
        assert len(list(csv.DictReader(f))) == metrics["claims"]
    assert metrics["claims"] == len(list(SAMPLES.rglob("claim.json")))
    html = (out / "report.html").read_text()
    assert "confusion" in html.lower() and "sweep" in html.lower()


def test_no_claim_is_approved_against_its_label(lab):
    metrics, _ = lab
    wrong = [d for d in metrics["disagreements"] if d["decision"] == "approve"]
    assert metrics["overall"]["false_approves"] == 0, wrong


def _rows(lab):
    _, out = lab
    return load_rows(SAMPLES, out / "results.jsonl")


def test_decisions_agree_with_the_labels(lab):
    # Measured 2026-11-27 on this set: 92-96 % agreement, the misses are reviews. A genuine claim
    # going to a reviewer costs money; one rejected costs a customer, so rejects are held tighter.
    rows = [r for r in _rows(lab) if r.labelled and not _open_issue(r)]
    overall = decision_metrics([(r.expected["decision"], r.result.get("decision")) for r in rows])
    assert overall["agreement"] >= 0.85, lab[0]["disagreements"]
    assert overall["false_rejects"] <= 1, lab[0]["disagreements"]
    assert overall["reject_precision"] >= 0.9


def test_the_report_counts_genuine_claims_rejected(lab):
    metrics, out = lab
    rows = [r for r in _rows(lab) if r.labelled]
    rejected = [r for r in rows if r.expected["decision"] == "approve" and r.result.get("decision") == "reject"]
    g = metrics["genuine_rejected"]
    assert g["n"] == len(rejected) and g["genuine"] == sum(r.expected["decision"] == "approve" for r in rows)
    assert sum(g["by_scenario"].values()) == g["n"] and (not g["n"] or g["by_reason"])
    assert set(metrics["genuine_checks_by_form"]) >= {"pdf", "photo", "hard_photo"}
    assert "Genuine claims rejected" in (out / "report.html").read_text()


def test_genuine_claims_of_the_open_issues_are_not_rejected(lab):
    # Issue #16 (a reject needs positive evidence) brought these to review at worst: the CHK codes
    # read off hard photos are uncertain below one_edit_min_conf, '<shop> online' a partial name.
    rows = [r for r in _rows(lab) if r.labelled and _open_issue(r)]
    assert len(rows) == 8
    rejected = [(r.claim_path, [x.get("code") for x in r.result.get("reasons", [])]) for r in rows
                if r.expected["decision"] == "approve" and r.result.get("decision") == "reject"]
    assert not rejected
