"""Claims accepted before a crash are verified after the restart, never into two decisions:
the queue's leases, a decision saved just before a crash adopted, and a server killed with
SIGKILL (a real `claimcheck api` process) whose uploads are decided by the next one."""
from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from pipeline.api.client import ApiClient, claim_upload
from pipeline.api.jobs import ClaimQueue
from pipeline.db import SqlClaimStore

from .conftest import REPO

SAMPLE = REPO / "sample_invoices" / "0007-it-genuine-duo"


def _enqueue(queue: ClaimQueue, claim_id: str, folder) -> int:
    row, created = queue.enqueue(claim_id=claim_id, key=f"claim_id:{claim_id}", content_sha256="0" * 64,
                                 token_name="t", claim_dir=str(folder), files={}, response={"claim_id": claim_id},
                                 received=dt.datetime.now(dt.UTC))
    assert created
    return row.seq


def test_a_claim_is_held_by_one_worker_until_its_lease_runs_out(tmp_path):
    store = SqlClaimStore(f"sqlite:///{tmp_path / 's.sqlite3'}")
    queue = ClaimQueue(store.engine)
    seq = _enqueue(queue, "L-1", tmp_path)
    first = queue.take(10)
    assert first.seq == seq and first.status == "processing" and first.attempts == 1
    assert queue.take(10) is None  # held
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=11)
    again = queue.take(10, now=later)  # its worker stopped renewing: taken again
    assert again.seq == seq and again.attempts == 2
    assert queue.finish(seq, {"claim_id": "L-1", "decision": "review"}, webhook=False)
    assert not queue.finish(seq, {"claim_id": "L-1", "decision": "approve"}, webhook=False)  # never two
    assert queue.get("L-1").decision["decision"] == "review"
    store.close()


def test_a_decision_saved_just_before_a_crash_is_adopted_not_made_again(tmp_path):
    from pipeline.api.settings import load_api_settings
    from pipeline.api.worker import EmbeddedWorker
    from pipeline.config import load_config, with_overrides
    from pipeline.verify import verify_claim

    db = f"sqlite:///{tmp_path / 's.sqlite3'}"
    store = SqlClaimStore(db)
    queue = ClaimQueue(store.engine)
    folder = tmp_path / "claims" / "C-1-0007--x"
    shutil.copytree(SAMPLE, folder)
    seq = _enqueue(queue, "C-1-0007", folder.resolve())
    config = with_overrides(load_config(), store_url=db)
    queue.take(1)
    verify_claim(folder, config, store=store)  # the worker saved its decision, then the server died
    assert len(store.decisions_for("C-1-0007")) == 1
    time.sleep(1.1)
    settings = load_api_settings(None, intake={"root": str(tmp_path / "claims")}, worker={"lease_s": 2, "poll_s": 0.1})
    worker = EmbeddedWorker(store, queue, config, settings, webhooks=False).start()
    try:
        deadline = time.monotonic() + 60
        while queue.get("C-1-0007").status != "decided":
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        worker.stop()
    row = queue.get("C-1-0007")
    assert row.seq == seq and row.attempts == 2
    assert len(store.decisions_for("C-1-0007")) == 1  # adopted
    assert row.decision["claim_dir"] == str(folder.resolve())
    store.close()


def _serve(tmp_path, port: int, *, worker: bool) -> subprocess.Popen:
    api_toml = tmp_path / "api.toml"
    api_toml.write_text(f'[intake]\nroot = "{tmp_path / "claims"}"\n[worker]\nlease_s = 3\npoll_s = 0.2\n')
    cmd = [sys.executable, "-c", "from pipeline.cli import app; app()", "api",
           "--db", f"sqlite:///{tmp_path / 'store.sqlite3'}", "--port", str(port),
           "--api-config", str(api_toml), "--users", str(tmp_path / "users.toml")]
    if not worker:
        cmd.append("--no-worker")
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    deadline = time.monotonic() + 60
    while True:
        try:
            if ApiClient(f"http://127.0.0.1:{port}", None).request("GET", "/api/v1/health").status == 200:
                return proc
        except OSError:
            pass
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.2)


@pytest.mark.slow
def test_uploads_accepted_before_sigkill_are_decided_after_the_restart(tmp_path):
    from pipeline.api.tokens import add_token, tokens_file

    from .test_api import _free_port

    token = add_token(tokens_file(tmp_path / "users.toml"), "portal", ["claims:write", "claims:read"])
    port = _free_port()
    proc = _serve(tmp_path, port, worker=False)  # accepts, verifies nothing: all stay queued
    c = ApiClient(f"http://127.0.0.1:{port}", token)
    ids = [f"KILL-{i}" for i in range(3)]
    try:
        for claim_id in ids:
            text, files = claim_upload(SAMPLE, claim_id=claim_id)
            assert c.upload(text, files).status == 202
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    c.close()
    proc = _serve(tmp_path, port, worker=True)
    try:
        deadline = time.monotonic() + 240
        while {c.status(i).json()["status"] for i in ids} != {"decided"}:
            assert time.monotonic() < deadline
            time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    store = SqlClaimStore(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    assert [len(store.decisions_for(i)) for i in ids] == [1, 1, 1]
    store.close()
