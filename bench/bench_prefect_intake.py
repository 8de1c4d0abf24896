#!/usr/bin/env python3
"""The intake API's Prefect path: uploads verified as runs of the ``verify-claim`` deployment on a
process work pool served by two workers, against a real ``prefect server`` (PREFECT_API_URL).

Deploys ``flows.deploy.deploy_verify_claim`` to ``--pool``, starts two ``prefect worker`` processes
(``--limit 1`` each, so both must take runs), a ``claimcheck api`` with ``[prefect].deployment``
set, uploads ``--uploads`` sample claims, then checks: every upload decided, exactly one decision
run per claim in the store, one flow run per claim (Prefect's idempotency key), and how many runs
each worker took (from its log). Stops what it started.

    createdb -h 127.0.0.1 -U postgres prefect
    PREFECT_API_DATABASE_CONNECTION_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/prefect \\
        .venv/bin/prefect server start --host 127.0.0.1 --port 4200 &
    PREFECT_API_URL=http://127.0.0.1:4200/api .venv/bin/python bench/bench_prefect_intake.py --uploads 12
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.bench_intake import Server, _free_port, _uploadable, decided_once, wait_decided  # noqa: E402
from pipeline.api.client import ApiClient, claim_upload  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--uploads", type=int, default=12)
    ap.add_argument("--pool", default="claimcheck-bench")
    ap.add_argument("--work", type=Path)
    ap.add_argument("--timeout", type=float, default=1800)
    args = ap.parse_args()
    if not os.environ.get("PREFECT_API_URL"):
        raise SystemExit("set PREFECT_API_URL to a running prefect server")
    from flows.deploy import deploy_verify_claim
    from pipeline.api.tokens import add_token, tokens_file

    work = args.work or Path(tempfile.mkdtemp(prefix="bench-prefect-intake-"))
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    started = time.perf_counter()
    deployment = deploy_verify_claim(args.pool, "api")
    prefect = Path(sys.executable).parent / "prefect"
    env = {**os.environ, "OMP_THREAD_LIMIT": "1", "PREFECT_LOGGING_LEVEL": "INFO"}
    workers = [subprocess.Popen([str(prefect), "worker", "start", "--pool", args.pool, "--limit", "1",
                                 "--name", f"bench-worker-{i}"], env=env, cwd=REPO,
                                stdout=open(work / f"worker{i}.log", "wb"), stderr=subprocess.STDOUT,
                                start_new_session=True) for i in (1, 2)]
    server = Server(work, _free_port(), 1)
    with open(work / "api.toml", "a") as f:
        f.write(f'[prefect]\ndeployment = "{deployment}"\n')
    token = add_token(tokens_file(work / "users.toml"), "bench", ["claims:write", "claims:read"])
    summary = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load": round(os.getloadavg()[0], 1),
               "deployment": deployment, "uploads": args.uploads}
    try:
        server.start()
        base = f"http://127.0.0.1:{server.port}"
        health = ApiClient(base, None).request("GET", "/api/v1/health").json()
        summary["verifier"] = health["verifier"]
        folders = [f for f in sorted(p.parent for p in (REPO / "sample_invoices").glob("*/claim.json"))
                   if _uploadable(f)]
        c = ApiClient(base, token)
        stamp = time.strftime("%H%M%S")
        ids = []
        for i in range(args.uploads):
            claim_id = f"P{stamp}-{i:03d}-{folders[i % len(folders)].name[:20]}"
            text, files = claim_upload(folders[i % len(folders)], claim_id=claim_id)
            answer = c.upload(text, files)
            if answer.status == 202:
                ids.append(claim_id)
        summary["accepted"] = len(ids)
        counts, took = wait_decided(base, token, ids, args.timeout)
        summary["states"], summary["decide_wait_s"] = counts, round(took, 1)
        summary["once"] = decided_once(server.db, ids)
        rows = [c.status(i).json() for i in ids]
        summary["decisions"] = sorted({r["decision"]["decision"] for r in rows if r.get("decision")})
        from prefect.client.orchestration import get_client
        from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags

        with get_client(sync_client=True) as client:
            runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=["claimcheck-api"])),
                                         limit=200)
        mine = [r for r in runs if r.name.removeprefix("claim ") in set(ids)]
        summary["flow_runs"] = len(mine)
        summary["flow_run_states"] = sorted({r.state.type.value for r in mine if r.state})
    finally:
        server.stop()
        for w in workers:
            os.killpg(w.pid, signal.SIGTERM)
        for w in workers:
            try:
                w.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(w.pid, signal.SIGKILL)
    taken = {}
    for i in (1, 2):
        text = (work / f"worker{i}.log").read_text(errors="replace")
        taken[f"worker{i}"] = len(set(re.findall(r"[Ss]ubmitting flow run '([0-9a-f-]+)'", text)))
    summary["runs_per_worker"] = taken
    summary["wall_s"] = round(time.perf_counter() - started, 1)
    once = summary.get("once", {})
    summary["ok"] = (once.get("decided") == summary.get("accepted") == args.uploads
                     and not once.get("decision_runs_not_1") and summary.get("flow_runs") == args.uploads
                     and all(n > 0 for n in taken.values()))
    print(json.dumps(summary, default=str))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
