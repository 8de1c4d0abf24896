"""The threshold lab: metrics, the cut-off sweep (decide() over stored checks), run diffs, and the
report on a small generated set (real engines, no mock)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.config import load_config
from pipeline.lab.evaluation import (
    LabRow,
    aggregate_checks,
    check_metrics,
    decision_metrics,
    evaluate,
    reason_metrics,
    redecide,
    sweep,
)
from pipeline.lab.generator import generate
from pipeline.lab.rundiff import diff_results, diff_runs
from pipeline.lab.text import render_diff, render_generated, render_metrics


def _check(name, status, score, reason=None, product=None):
    return {"name": name, "product": product, "status": status, "score": score, "expected": None, "found": None,
            "evidence": None, **({"reason": reason} if reason else {})}


def _result(claim_id, decision, checks, score=0.0, reasons=()):
    return {"claim_id": claim_id, "decision": decision, "score": score, "checks": checks,
            "reasons": [{"code": c, "severity": "reject", "message": ""} for c in reasons],
            "config_hash": "sha256:x"}


GENUINE = _result("C-1", "approve", [_check("purchase_date", "pass", 100), _check("retailer", "pass", 88)], 0.88)
NEAR_MISS = _result("C-2", "reject", [_check("purchase_date", "pass", 100),
                                      _check("product_on_invoice", "fail", 49, "PRODUCT_MISMATCH", 0)],
                    reasons=["PRODUCT_MISMATCH"])
WRONG_DATE = _result("C-3", "reject", [_check("purchase_date", "fail", 0, "DATE_MISMATCH")], reasons=["DATE_MISMATCH"])


def _row(result, expected):
    return LabRow(result["claim_id"], result, expected, {})


def test_decision_metrics_definitions():
    m = decision_metrics([("approve", "approve"), ("approve", "review"), ("reject", "approve"),
                          ("reject", "reject"), ("review", "reject"), ("review", "review")])
    assert m["n"] == 6
    assert m["false_approve_rate"] == 0.25  # 1 of the 4 claims not labelled approve was approved
    assert m["genuine_auto_approved"] == 0.5
    assert m["reject_precision"] == 0.5
    assert m["automation_rate"] == round(4 / 6, 4)
    assert m["confusion"]["reject"]["approve"] == 1


def test_decision_metrics_empty_denominators_are_none():
    m = decision_metrics([("approve", "approve")])
    assert m["false_approve_rate"] is None and m["reject_precision"] is None


def test_redecide_reproduces_the_stored_decision():
    config = load_config()
    for result in (GENUINE, NEAR_MISS, WRONG_DATE):
        assert redecide(result, config) == result["decision"]


def test_approve_cutoff_moves_only_reasonless_claims():
    config = load_config()
    assert redecide(GENUINE, config, approve_min_score=0.9) == "review"
    assert redecide(GENUINE, config, approve_min_score=0.5) == "approve"
    assert redecide(NEAR_MISS, config, approve_min_score=0.0) == "reject"


def test_reject_cutoff_keeps_strong_evidence_only():
    config = load_config()
    # the near-miss model scored 49 (close but different): rejected only with a cut-off of 0.49 or more
    assert redecide(NEAR_MISS, config, reject_cutoff=0.4) == "review"
    assert redecide(NEAR_MISS, config, reject_cutoff=0.5) == "reject"
    assert redecide(WRONG_DATE, config, reject_cutoff=0.0) == "reject"


def test_unprocessable_claims_keep_their_reason():
    config = load_config()
    broken = _result("C-4", "review", [_check("invoice_readable", "fail", 0, "DOCUMENT_UNREADABLE")],
                     reasons=["DOCUMENT_UNREADABLE"])
    broken["error"] = {"code": "DOCUMENT_UNREADABLE", "message": "truncated"}
    assert redecide(broken, config, approve_min_score=0.0) == "review"


def test_sweep_marks_the_config_point_and_is_monotonic():
    config = load_config()
    rows = [_row(GENUINE, {"decision": "approve"}), _row(NEAR_MISS, {"decision": "reject"}),
            _row(WRONG_DATE, {"decision": "reject"})]
    sw = sweep(rows, config)
    assert sw["chosen"]["approve_cutoff"] == config.decision.approve_min_score
    autos = [p["automation_rate"] for p in sw["approve"]]
    assert autos == sorted(autos, reverse=True)
    autos = [p["automation_rate"] for p in sw["reject"]]
    assert autos == sorted(autos)
    assert sw["reject"][-1]["automation_rate"] == sw["chosen"]["automation_rate"]


def test_per_product_checks_count_with_their_worst_status():
    result = _result("C-5", "reject", [_check("serial_number", "pass", 100, product=0),
                                       _check("serial_number", "fail", 0, "SERIAL_MISMATCH", product=1),
                                       _check("bundle", "skipped", 0)])
    assert aggregate_checks(result) == {"serial_number": "fail", "bundle": "skipped"}
    rows = [_row(result, {"decision": "reject", "reasons": ["SERIAL_MISMATCH", "CHK_MISMATCH"],
                          "checks": {"serial_number": "fail"}})]
    assert check_metrics(rows)["serial_number"]["accuracy"] == 1.0
    reasons = reason_metrics([_row({**result, "reasons": [{"code": "SERIAL_MISMATCH"}]}, rows[0].expected)])
    assert reasons["SERIAL_MISMATCH"]["precision"] == 1.0 and reasons["CHK_MISMATCH"]["recall"] == 0.0


def test_diff_names_the_checks_that_moved(tmp_path):
    after = json.loads(json.dumps(GENUINE))
    after["decision"] = "review"
    after["checks"][1].update(status="uncertain", score=50, reason="RETAILER_NOT_FOUND")
    after["reasons"] = [{"code": "RETAILER_NOT_FOUND"}]
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text(json.dumps(GENUINE) + "\n" + json.dumps(NEAR_MISS) + "\n")
    b.write_text(json.dumps(after) + "\n" + json.dumps(NEAR_MISS) + "\n{torn")
    rows = diff_runs(a, b)
    assert [r["claim_id"] for r in rows] == ["C-1"]
    assert rows[0]["checks"][0]["name"] == "retailer" and rows[0]["reasons_added"] == ["RETAILER_NOT_FOUND"]
    text = render_diff(rows)
    assert "approve -> review" in text and "retailer: pass 88 -> uncertain 50" in text
    assert diff_results([GENUINE], [GENUINE]) == []


@pytest.mark.slow
def test_report_on_a_small_generated_set(tmp_path, monkeypatch):
    monkeypatch.setenv("CLAIMCHECK_STORE", str(tmp_path / "unused.sqlite3"))
    claims = tmp_path / "claims"
    folders = generate(claims, n=6, seed=11, kinds="documents")
    assert "6 claims" in render_generated(folders)
    out = tmp_path / "report"
    metrics = evaluate(claims, out_dir=out, workers=1, progress=False)
    for name in ("report.html", "metrics.json", "claims.csv", "results.jsonl", "confusion.png",
                 "sweep_approve.png", "sweep_reject.png"):
        assert (out / name).stat().st_size > 0, name
    assert metrics["labelled"] == 6 and metrics["overall"]["n"] == 6
    assert len((out / "claims.csv").read_text().splitlines()) == 7
    assert "false-approve" in render_metrics(metrics)
    html = (out / "report.html").read_text()
    assert "sweep_approve.png" in html and "Per reason" in html

    # a new threshold config: decisions recomputed, nothing read again (the read cache holds every read)
    cache = Path(__import__("os").environ["CLAIMCHECK_CACHE_DIR"])
    reads_before = sorted(p.name for p in (cache / "reads").rglob("*"))
    assert reads_before
    strict = tmp_path / "strict.toml"
    strict.write_text("[decision]\napprove_min_score = 0.99\n")
    again = evaluate(claims, config_path=strict, out_dir=tmp_path / "report2", workers=1, progress=False)
    assert sorted(p.name for p in (cache / "reads").rglob("*")) == reads_before
    assert again["config"]["hash"] != metrics["config"]["hash"]
    assert again["overall"]["predicted"]["approve"] <= metrics["overall"]["predicted"]["approve"]
    rows = diff_runs(out / "results.jsonl", tmp_path / "report2" / "results.jsonl")
    assert all(r["decision_a"] == "approve" for r in rows)
