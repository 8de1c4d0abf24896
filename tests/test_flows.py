"""The Prefect flows (issue #7) on real sample claims: same decisions as verify_claim, resumable,
a broken claim isolated, the same decisions on a real local Dask cluster, and the lab's evaluate.

One prefect_test_harness (a temporary Prefect database and server, ~9 s) for the whole session.
The claims are verified once in-process first, which also fills the session's read cache
(conftest's tmp CLAIMCHECK_CACHE_DIR, inherited by pool and Dask worker processes), so the flow
runs after it cost little OCR.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipeline.verify import verify_claim

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_invoices"
CLAIMS = ["demo-fr-amazon-gpu-genuine", "demo-de-near-miss-model", "i2d-oyo-pdf-genuine", "demo-invalid-json"]


@pytest.fixture(scope="session")
def prefect_harness():
    import flows  # first: sets the flows' Prefect defaults before Prefect reads its settings

    assert flows.RUNNERS == ("local", "dask")
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def backlog(tmp_path_factory) -> Path:
    """Four sample claims, two of them one level deeper (a backlog is nested any depth)."""
    root = tmp_path_factory.mktemp("backlog")
    for i, name in enumerate(CLAIMS):
        shutil.copytree(SAMPLES / name, root / ("nested" if i % 2 else "") / name)
    return root


@pytest.fixture(scope="session")
def expected(backlog) -> dict[str, tuple[str, list[str]]]:
    """decision and reason codes per claim_path, from the orchestrator the CLI's verify uses."""
    out = {}
    for claim_file in sorted(backlog.rglob("claim.json")):
        d = verify_claim(claim_file).to_dict()
        out[str(claim_file.relative_to(backlog))] = (d["decision"], [r["code"] for r in d["reasons"]])
    return out


def _lines(path: Path) -> dict[str, dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len({r["claim_path"] for r in rows}), "a claim written twice"
    return {r["claim_path"]: r for r in rows}


def _decisions(path: Path) -> dict[str, tuple[str, list[str]]]:
    return {k: (r["decision"], [x["code"] for x in r["reasons"]]) for k, r in _lines(path).items()}


def test_process_backlog_same_decisions_as_verify_claim_and_broken_claim_isolated(prefect_harness, backlog,
                                                                                   expected, tmp_path):
    from flows import process_backlog

    out = tmp_path / "out.jsonl"
    summary = process_backlog(str(backlog), str(out), workers=2)
    assert summary["total"] == summary["processed"] == 4 and summary["skipped"] == 0
    assert summary["runner"] == "local" and sum(summary["decisions"].values()) == 4
    assert _decisions(out) == expected
    broken = _lines(out)["nested/demo-invalid-json/claim.json"]
    assert broken["decision"] == "review" and broken["reasons"][0]["code"] == "CLAIM_INVALID"
    assert {d for d, _ in expected.values()} >= {"approve", "reject", "review"}  # the set means something


def test_process_backlog_is_resumable(prefect_harness, backlog, expected, tmp_path):
    from flows import process_backlog

    out = tmp_path / "out.jsonl"
    first = sorted(expected)[:2]
    out.write_text("".join(json.dumps({"claim_path": k, "decision": "review", "reasons": []}) + "\n"
                           for k in first) + '{"claim_path": "torn', encoding="utf-8")
    summary = process_backlog(str(backlog), str(out), workers=1)
    assert (summary["skipped"], summary["processed"]) == (2, 2)
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()[2:] if x.startswith('{"claim_id')]
    assert {r["claim_path"] for r in lines} == set(expected) - set(first)
    again = process_backlog(str(backlog), str(out), workers=1)
    assert (again["skipped"], again["processed"]) == (4, 0)
    forced = process_backlog(str(backlog), str(out), workers=2, force=True)
    assert forced["processed"] == 4 and _decisions(out) == expected


def test_verify_claim_flow_is_the_orchestrators_decision(prefect_harness, backlog, expected):
    from flows import verify_claim as verify_flow

    d = verify_flow(str(backlog / "demo-fr-amazon-gpu-genuine"))
    assert (d["decision"], [r["code"] for r in d["reasons"]]) == expected["demo-fr-amazon-gpu-genuine/claim.json"]


def test_process_backlog_on_a_local_dask_cluster_same_decisions(prefect_harness, backlog, expected, tmp_path):
    from distributed import LocalCluster

    from flows import process_backlog

    out = tmp_path / "dask.jsonl"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        summary = process_backlog(str(backlog), str(out), workers=2, runner="dask",
                                  dask_address=cluster.scheduler_address)
        assert len(cluster.scheduler_info["workers"]) == 2  # two worker processes, one thread each
    assert summary["processed"] == 4 and summary["runner"] == "dask"
    assert _decisions(out) == expected


def test_evaluate_flow_writes_the_lab_report(prefect_harness, tmp_path):
    from flows import evaluate

    labelled = tmp_path / "labelled"
    for name in (CLAIMS[0], CLAIMS[1], CLAIMS[3]):  # the ones whose expected.json names a decision
        shutil.copytree(SAMPLES / name, labelled / name)
    out = tmp_path / "lab"
    metrics = evaluate(str(labelled), str(out), workers=2)
    assert (out / "report.html").is_file() and (out / "results.jsonl").is_file()
    saved = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert saved["run"]["verified"] == 3 and saved["run"]["runner"] == "local"
    assert saved["claims"] == metrics["claims"] == 3 and saved["overall"] == metrics["overall"]
    assert len((out / "results.jsonl").read_text().splitlines()) == 3


def test_batch_cli_runs_the_flow_and_keeps_stdout_clean(prefect_harness, backlog, expected, tmp_path):
    """`claimcheck batch` (Prefect by default), pointed at the session's Prefect server, not one of its own."""
    import os
    import subprocess
    import sys

    from prefect.settings import PREFECT_API_URL

    cli = Path(sys.executable).parent / "claimcheck"
    out = tmp_path / "cli.jsonl"
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    proc = subprocess.run([str(cli), "batch", str(backlog), "--out", str(out), "--workers", "2"],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout == ""
    summary = json.loads(proc.stderr.strip().splitlines()[-1])["batch"]
    assert summary["processed"] == 4 and summary["runner"] == "local"
    assert _decisions(out) == expected
