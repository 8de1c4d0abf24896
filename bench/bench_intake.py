#!/usr/bin/env python3
"""The intake API under load, and killed: uploads of sample claims from concurrent clients to a
real `claimcheck api` on 127.0.0.1, then a second run during which the server is SIGKILLed and
restarted.

Run 1: ``--uploads`` uploads (the folders of sample_invoices/ in turn, each under its own
claim_id) from ``--clients`` threads, one keep-alive connection each. Then every 2xx upload must
be decided: exactly one queue row, status ``decided``, exactly one decision run in the store.

Run 2: the same number of new uploads; once half of them are answered the server is SIGKILLed.
Before it is started again the claim folders are checked: each one is whole (every file its
manifest lists, with its sha256); what a kill cut short lies only in ``.incoming`` (cleared on
start). Clients whose request failed retry it (same claim_id: the idempotent path) once the
server is back. Every upload answered 2xx, before or after the kill, must be decided once.

Prints p50/p95 upload latency of the 2xx answers, 5xx counts, and a JSON summary last. Uses a
fresh claim store and claims root (``--work``), the shared read cache (samples repeat: OCR runs
once per distinct document).

    .venv/bin/python bench/bench_intake.py --uploads 300 --clients 8
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.api.client import ApiClient, claim_upload  # noqa: E402


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, work: Path, port: int, workers: int) -> None:
        self.work, self.port = work, port
        (work / "api.toml").write_text(f'[intake]\nroot = "{work / "claims"}"\n'
                                       f'[tokens]\nrate_per_minute = 100000\nburst = 100000\n'
                                       f'[worker]\nworkers = {workers}\nlease_s = 5\npoll_s = 0.2\n')
        self.db = f"sqlite:///{work / 'store.sqlite3'}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> float:
        started = time.perf_counter()
        cmd = [sys.executable, "-c", "from pipeline.cli import app; app()", "api", "--db", self.db,
               "--port", str(self.port), "--api-config", str(self.work / "api.toml"),
               "--users", str(self.work / "users.toml")]
        env = {**os.environ, "OMP_THREAD_LIMIT": "1", "CLAIMCHECK_STORE": str(self.work / "store.sqlite3")}
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                                     stderr=open(self.work / "server.log", "ab"))
        probe = ApiClient(f"http://127.0.0.1:{self.port}", None, timeout_s=5)
        while True:
            try:
                if probe.request("GET", "/api/v1/health").status == 200:
                    probe.close()
                    return time.perf_counter() - started
            except OSError:
                probe.close()
            if self.proc.poll() is not None:
                raise SystemExit(f"server exited: see {self.work / 'server.log'}")
            time.sleep(0.1)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill()


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def run_uploads(base: str, token: str, jobs: list[tuple[str, Path]], clients: int, *,
                kill_after: int | None = None, server: Server | None = None) -> dict:
    """Upload ``jobs`` (claim_id, sample folder) from ``clients`` threads. With ``kill_after``: SIGKILL
    the server once that many are answered, check the folders, start it again; failed requests retry."""
    lock = threading.Lock()
    todo = list(jobs)
    answered: dict[str, int] = {}
    latency: list[float] = []
    statuses: dict[int, int] = {}
    errors = {"connection": 0}
    before_kill: set[str] = set()
    back = threading.Event()
    back.set()
    killed = {"done": False, "check": None, "restart_s": None}

    def killer() -> None:
        killed["done"] = True
        back.clear()
        server.kill()
        killed["check"] = check_folders(server.work / "claims")
        killed["check"]["queue_at_kill"] = queue_states(server.db)
        killed["restart_s"] = server.start()
        back.set()

    def client() -> None:
        c = ApiClient(base, token, timeout_s=120)
        while True:
            with lock:
                if not todo:
                    break
                claim_id, folder = todo.pop()
            text, files = claim_upload(folder, claim_id=claim_id)
            while True:
                back.wait()
                t0 = time.perf_counter()
                try:
                    answer = c.upload(text, files)
                except OSError:
                    c.close()
                    with lock:
                        errors["connection"] += 1
                    time.sleep(0.2)
                    continue  # the server is down: the same upload again once it is back
                took = time.perf_counter() - t0
                with lock:
                    statuses[answer.status] = statuses.get(answer.status, 0) + 1
                    if 200 <= answer.status < 300:
                        answered[claim_id] = answer.status
                        latency.append(took)
                        if not killed["done"]:
                            before_kill.add(claim_id)
                        if kill_after is not None and not killed["done"] and len(answered) >= kill_after:
                            threading.Thread(target=killer).start()
                            killed["done"] = True
                break
        c.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    back.wait()
    wall = time.perf_counter() - started
    return {"uploads": len(jobs), "answered_2xx": len(answered), "statuses": statuses,
            "connection_errors": errors["connection"], "wall_s": round(wall, 1),
            "p50_ms": round(_pct(latency, 0.5) * 1000, 1), "p95_ms": round(_pct(latency, 0.95) * 1000, 1),
            "ids": sorted(answered), "before_kill": sorted(before_kill),
            "folders_at_kill": killed["check"], "restart_s": round(killed["restart_s"], 1)
            if killed["restart_s"] else None}


def check_folders(root: Path) -> dict:
    """Every claim folder whole (manifest files present, sha256 matching); what lies in .incoming."""
    whole, broken = 0, []
    for manifest in root.glob("*/*/intake.json"):
        folder = manifest.parent
        if folder.parent.name == ".incoming":
            continue
        try:
            files = json.loads(manifest.read_text())["files"]
            ok = (folder / "claim.json").is_file() and all(
                hashlib.sha256((folder / n).read_bytes()).hexdigest() == h for n, h in files.items())
        except (OSError, ValueError, KeyError):
            ok = False
        whole += ok
        if not ok:
            broken.append(str(folder))
    dirs = [d for d in root.glob("*/*") if d.is_dir() and d.parent.name != ".incoming"]
    incoming = root / ".incoming"
    return {"claim_folders": len(dirs), "whole": whole, "broken": broken,
            "without_manifest": [str(d) for d in dirs if not (d / "intake.json").is_file()],
            "incoming_left": len(list(incoming.iterdir())) if incoming.is_dir() else 0}


def queue_states(db: str) -> dict:
    """The uploads' states in the store, and how many were taken more than once (after a crash)."""
    import sqlite3

    with sqlite3.connect(db.removeprefix("sqlite:///")) as conn:
        states = dict(conn.execute("SELECT status, count(*) FROM api_claims GROUP BY status").fetchall())
        states["taken_again"] = conn.execute("SELECT count(*) FROM api_claims WHERE attempts > 1").fetchone()[0]
    return states


def wait_decided(base: str, token: str, ids: list[str], timeout_s: float) -> tuple[dict, float]:
    c = ApiClient(base, token)
    started = time.perf_counter()
    pending = set(ids)
    states: dict[str, str] = {}
    while pending and time.perf_counter() - started < timeout_s:
        for claim_id in list(pending):
            got = c.status(claim_id)
            state = got.json()["status"] if got.status == 200 else f"http {got.status}"
            states[claim_id] = state
            if state in ("decided", "failed"):
                pending.discard(claim_id)
        if pending:
            time.sleep(1.0)
    c.close()
    counts: dict[str, int] = {}
    for s in states.values():
        counts[s] = counts.get(s, 0) + 1
    return counts, time.perf_counter() - started


def decided_once(db: str, ids: list[str]) -> dict:
    from pipeline.api.jobs import ClaimQueue
    from pipeline.db import SqlClaimStore

    store = SqlClaimStore(db)
    queue = ClaimQueue(store.engine)
    runs = {i: len(store.decisions_for(i)) for i in ids}
    rows = {i: queue.get(i) for i in ids}
    store.close()
    return {"decided": sum(1 for r in rows.values() if r and r.status == "decided"),
            "missing_rows": sorted(i for i, r in rows.items() if r is None),
            "decision_runs_not_1": {i: n for i, n in runs.items() if n != 1}}


def _uploadable(folder: Path) -> bool:
    """A sample whose claim.json parses and whose listed documents exist (some samples are broken on
    purpose: their claim would be refused 422 before any upload, which tests/test_api.py covers)."""
    try:
        _, files = claim_upload(folder)
        return bool(files)
    except (OSError, ValueError, TypeError, AttributeError):
        return False


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--uploads", type=int, default=300)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2, help="the server's verifying processes")
    ap.add_argument("--samples", type=Path, default=REPO / "sample_invoices")
    ap.add_argument("--work", type=Path, help="folder for the store and claims (default: a new temp folder)")
    ap.add_argument("--decide-timeout", type=float, default=3600)
    args = ap.parse_args()

    from pipeline.api.tokens import add_token, tokens_file

    work = args.work or Path(tempfile.mkdtemp(prefix="bench-intake-"))
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    token = add_token(tokens_file(work / "users.toml"), "bench", ["claims:write", "claims:read"])
    folders = [f for f in sorted(p.parent for p in args.samples.glob("*/claim.json")) if _uploadable(f)]
    server = Server(work, _free_port(), args.workers)
    base = f"http://127.0.0.1:{server.port}"
    print(f"load average at start: {os.getloadavg()[0]:.1f}; samples: {len(folders)}; work: {work}", file=sys.stderr)
    summary = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "clients": args.clients,
               "server_workers": args.workers, "load_at_start": round(os.getloadavg()[0], 1)}
    try:
        summary["start_s"] = round(server.start(), 1)
        for run in (1, 2):
            jobs = [(f"B{run}-{i:04d}-{folders[i % len(folders)].name[:20]}", folders[i % len(folders)])
                    for i in range(args.uploads)]
            result = run_uploads(base, token, jobs, args.clients,
                                 kill_after=args.uploads // 2 if run == 2 else None, server=server)
            ids = result.pop("ids")
            before = result.pop("before_kill")
            counts, took = wait_decided(base, token, ids, args.decide_timeout)
            result["decide_wait_s"] = round(took, 1)
            result["states"] = counts
            result["answered_before_kill"] = len(before) if run == 2 else None
            result["once"] = decided_once(server.db, ids)
            result["fives"] = sum(n for s, n in result["statuses"].items() if s >= 500)
            summary[f"run{run}"] = result
            print(f"run {run}: {result['answered_2xx']}/{result['uploads']} answered 2xx, 5xx {result['fives']}, "
                  f"p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, upload wall {result['wall_s']} s; "
                  f"decided {result['once']['decided']} (waited {result['decide_wait_s']} s), decision runs != 1: "
                  f"{len(result['once']['decision_runs_not_1'])}", file=sys.stderr)
        summary["folders_end"] = check_folders(work / "claims")
        summary["queue_end"] = queue_states(server.db)
    finally:
        server.stop()
    r1, r2 = summary["run1"], summary["run2"]
    ok = all(r["fives"] == 0 and r["once"]["decided"] == r["answered_2xx"] and not r["once"]["missing_rows"]
             and not r["once"]["decision_runs_not_1"] for r in (r1, r2))
    ok = ok and not r2["folders_at_kill"]["broken"] and not r2["folders_at_kill"]["without_manifest"]
    summary["ok"] = ok
    print(json.dumps(summary, default=str))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
