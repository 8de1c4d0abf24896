"""Worker processes that run claims under watch: no claim can hang a batch or take the machine.

``ClaimPool(workers, config)`` starts up to ``workers`` processes (``python -m pipeline.pool``,
each with ``OMP_THREAD_LIMIT`` set and the config it was given) and hands each one claim at a
time (``pipeline.work.verify_one``, every executor's unit of work). A thread of the parent watches
them every ``[batch].watch_interval_s``:

- a claim running longer than ``[batch].claim_timeout_s`` ends its worker (the process group:
  Tesseract's children too) and gets an ``OCR_TIMEOUT`` decision;
- a worker whose resident memory passes ``[batch].claim_max_memory_mb`` is ended the same way,
  its claim gets ``DOCUMENT_TOO_LARGE``;
- a worker that dies on its own (a native crash in an engine, the kernel's OOM killer) has its
  claim tried once more in a fresh worker; a claim present at two deaths gets ``ENGINE_FAILED``;
- a worker left above ``[batch].worker_recycle_mb`` after a claim is replaced before the next
  (freed memory is seldom given back), so one big claim does not count against the next.

Every claim's future resolves to a decision line (a dict with ``claim_path``), never to an
exception; a decision the parent had to make is also saved in the claim store, as the worker
would have. Workers are plain subprocesses (not ``multiprocessing``), so a pool also runs inside
a Dask worker or a thread of Prefect's task runner; a worker whose parent is gone exits.

``peak_rss`` is the highest resident memory any worker reached (Linux: ``VmHWM``), in bytes.
"""
from __future__ import annotations

import json
import logging
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field

from .config import Config
from .errors import ClaimcheckError, DocumentError, EngineError

__all__ = ["ClaimPool", "memory_of", "group_members"]

_log = logging.getLogger(__name__)
_MB = 1024 * 1024
_MEMBERS_EVERY_S = 1.0
"""How often a worker's process group is scanned for its Tesseract processes (a /proc walk, ~3 ms);
their memory is read at every look."""


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _resident(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


def group_members(pgid: int) -> list[int]:
    """The processes of process group ``pgid`` but its leader (a worker runs in a group of its own:
    Tesseract's processes are in it), from /proc; [] where there is no /proc."""
    out = []
    try:
        names = os.listdir("/proc")
    except OSError:
        return out
    for name in names:
        if not name.isdigit() or int(name) == pgid:
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
            if int(stat[stat.rindex(b")") + 2:].split()[2]) == pgid:  # field 5: pgrp
                out.append(int(name))
        except (OSError, ValueError, IndexError):
            continue
    return out


def memory_of(pid: int, members: list[int] = (), *, peak: bool = False) -> tuple[int, int]:
    """(resident, peak resident) bytes of process ``pid`` plus ``members`` (the Tesseract processes
    it started, ``group_members``). The peak (``peak=True``: Linux ``VmHWM``, the process's own
    high-water mark) is the resident total when not asked for or not known. (0, 0) when ``pid``
    is gone. Linux: a few /proc reads (~0.1 ms); elsewhere psutil."""
    own = _resident(pid)
    if own is None:
        try:
            import psutil

            proc = psutil.Process(pid)
            rss = proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))
            return rss, rss
        except Exception:  # noqa: BLE001 - gone, or no psutil
            return 0, 0
    rss = own + sum(_resident(m) or 0 for m in members)
    high = rss
    if peak:
        try:
            with open(f"/proc/{pid}/status", "rb") as f:
                for line in f:
                    if line.startswith(b"VmHWM:"):
                        high = max(high, int(line.split()[1]) * 1024)
        except (OSError, ValueError, IndexError):
            pass
    return rss, high


@dataclass
class _Job:
    claim_file: str
    rel: str
    future: Future
    deaths: int = 0


@dataclass
class _Worker:
    proc: subprocess.Popen
    job: _Job | None = None
    started: float = 0.0
    buf: bytearray = field(default_factory=bytearray)
    peak: int = 0
    spawned: float = field(default_factory=time.monotonic)
    members: list[int] = field(default_factory=list)
    """The other processes of its group (Tesseract's), as last scanned."""
    members_at: float = 0.0
    ready: bool = False
    """Started up (Python and the engines' modules loaded): a claim's clock runs from then."""


class ClaimPool:
    """Up to ``workers`` watched worker processes (see the module docstring). ``config``: the
    effective configuration (``with_overrides`` applied): the workers get exactly this one."""

    def __init__(self, workers: int, config: Config) -> None:
        self.workers = max(1, int(workers))
        self.config = config
        self.limits = config.batch
        self.peak_rss = 0
        self.killed: dict[str, int] = {"timeout": 0, "memory": 0, "crash": 0}
        self.spawned = 0
        """Worker processes started (the first ones and every replacement)."""
        self._init_line = (json.dumps({"config": config.model_dump(mode="json")}) + "\n").encode()
        self._jobs: deque[_Job] = deque()
        self._pool: list[_Worker] = []
        self._lock = threading.Lock()
        self._closing = False
        self._cancelled = False
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._thread = threading.Thread(target=self._watch, name="claim-pool", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ public

    def submit(self, claim_file: str, rel: str) -> Future:
        """The claim's decision line, as a future (never failing: a claim that cannot run gets a decision)."""
        future: Future = Future()
        with self._lock:
            if self._closing or not self._thread.is_alive():
                raise RuntimeError("the claim pool is closed")
            self._jobs.append(_Job(str(claim_file), rel, future))
        self._wake()
        return future

    def run(self, claim_file: str, rel: str) -> dict:
        return self.submit(claim_file, rel).result()

    def close(self, *, cancel: bool = False) -> None:
        """Stop the pool: after the claims submitted are done, or at once (``cancel``: queued claims
        are cancelled, running ones end with their workers)."""
        with self._lock:
            self._closing = True
            self._cancelled = self._cancelled or cancel
        self._wake()
        self._thread.join()
        for w in self._pool:
            self._end(w)
        self._pool.clear()
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self) -> ClaimPool:
        return self

    def __exit__(self, exc_type, *_exc) -> None:
        self.close(cancel=exc_type is not None)

    # ------------------------------------------------------------------ the watching thread

    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass

    def _spawn(self) -> _Worker:
        env = dict(os.environ, OMP_THREAD_LIMIT=str(self.config.ocr.omp_thread_limit))
        proc = subprocess.Popen([sys.executable, "-m", "pipeline.pool"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, env=env, start_new_session=True)
        os.set_blocking(proc.stdout.fileno(), False)
        self.spawned += 1
        proc.stdin.write(self._init_line)
        proc.stdin.flush()
        return _Worker(proc)

    def _assign(self) -> None:
        with self._lock:
            for w in self._pool:
                if not self._jobs:
                    return
                if w.job is None and w.proc.poll() is None:
                    self._give(w, self._jobs.popleft())
            while self._jobs and len(self._pool) < self.workers:
                w = self._spawn()
                self._pool.append(w)
                self._give(w, self._jobs.popleft())

    def _give(self, w: _Worker, job: _Job) -> None:
        if not job.future.running() and not job.future.set_running_or_notify_cancel():
            return  # cancelled while it waited
        w.job = job
        if w.ready:
            w.started = time.monotonic()
        try:
            w.proc.stdin.write((json.dumps({"claim_file": job.claim_file, "rel": job.rel}) + "\n").encode())
            w.proc.stdin.flush()
        except OSError:  # died before it could take the claim: handled as a death below
            pass

    def _watch(self) -> None:
        sel = selectors.DefaultSelector()
        sel.register(self._wake_r, selectors.EVENT_READ)
        try:
            while True:
                if self._cancelled:
                    self._cancel_all()
                    return
                self._assign()
                with self._lock:
                    if self._closing and not self._jobs and all(w.job is None for w in self._pool):
                        return
                    busy = [w for w in self._pool if w.job is not None]
                for w in busy:
                    try:
                        sel.register(w.proc.stdout, selectors.EVENT_READ, w)
                    except (KeyError, ValueError):
                        pass
                ready = sel.select(timeout=self.limits.watch_interval_s)
                for key, _ in ready:
                    if key.fileobj == self._wake_r:
                        os.read(self._wake_r, 4096)
                    else:
                        self._read(key.data)
                for w in busy:
                    try:
                        sel.unregister(w.proc.stdout)
                    except (KeyError, ValueError):
                        pass
                    self._check(w)
                self._reap()
        except Exception:  # noqa: BLE001 - the watcher must not die silently with claims waiting
            _log.exception("claim pool watcher failed")
            with self._lock:
                pending = list(self._jobs) + [w.job for w in self._pool if w.job is not None]
                self._jobs.clear()
            for job in pending:
                if not job.future.done():
                    self._decide(job, ClaimcheckError("INTERNAL_ERROR", "The batch's worker pool failed."))
        finally:
            sel.close()

    def _cancel_all(self) -> None:
        with self._lock:
            pending = list(self._jobs)
            self._jobs.clear()
        for w in self._pool:
            if w.job is not None:
                pending.append(w.job)
                w.job = None
            self._end(w)
        for job in pending:
            if not job.future.cancel() and not job.future.done():
                job.future.set_exception(RuntimeError("the batch was interrupted"))

    def _read(self, w: _Worker) -> None:
        try:
            data = os.read(w.proc.stdout.fileno(), 1 << 20)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        w.buf += data
        while b"\n" in w.buf:
            line, _, rest = bytes(w.buf).partition(b"\n")
            w.buf = bytearray(rest)
            try:
                result = json.loads(line)
            except ValueError:
                continue
            if result.get("ready"):
                w.ready, w.started = True, time.monotonic()
                continue
            job = w.job
            if job is None or result.get("claim_path") != job.rel:
                continue
            w.job = None
            self._note_peak(w)
            job.future.set_result(result)
            if memory_of(w.proc.pid)[0] > self.config.batch.worker_recycle_mb * _MB:
                self._end(w)  # replaced on the next claim

    def _note_peak(self, w: _Worker) -> None:
        _, peak = memory_of(w.proc.pid, peak=True)
        w.peak = max(w.peak, peak)
        self.peak_rss = max(self.peak_rss, w.peak)

    def _check(self, w: _Worker) -> None:
        job = w.job
        if job is None:
            return
        if w.proc.poll() is not None:
            self._read(w)  # its answer may be in the pipe still
            if w.job is None:
                return
            self._lost(w)
            return
        if w.ready:
            elapsed = time.monotonic() - w.started
        else:  # starting up: not the claim's time, unless it never ends
            elapsed = 0.0 if time.monotonic() - w.spawned < max(60.0, self.limits.claim_timeout_s) else float("inf")
        now = time.monotonic()
        if now - w.members_at >= _MEMBERS_EVERY_S:  # a /proc scan: not at every look
            w.members, w.members_at = group_members(w.proc.pid), now
        rss, peak = memory_of(w.proc.pid, w.members)
        w.peak = max(w.peak, peak)
        self.peak_rss = max(self.peak_rss, w.peak)
        limit_mb = self.limits.claim_max_memory_mb
        if elapsed > self.limits.claim_timeout_s:
            self.killed["timeout"] += 1
            self._end(w)
            w.job = None
            self._decide(job, EngineError(
                "OCR_TIMEOUT", f"Reading this claim's documents took longer than {self.limits.claim_timeout_s:g} s "
                               "([batch].claim_timeout_s); its worker was stopped."))
        elif rss > limit_mb * _MB:
            self.killed["memory"] += 1
            self._end(w)
            w.job = None
            self._decide(job, DocumentError(
                "DOCUMENT_TOO_LARGE", f"Reading this claim's documents needed more than {limit_mb} MB of memory "
                                      f"([batch].claim_max_memory_mb); its worker was stopped."))

    def _lost(self, w: _Worker) -> None:
        """The worker died under a claim: once more in a fresh worker, then ENGINE_FAILED."""
        job = w.job
        w.job = None
        self.killed["crash"] += 1
        job.deaths += 1
        _log.warning("claim %s: its worker died (exit %s)", job.rel, w.proc.returncode)
        if job.deaths < 2:
            with self._lock:
                self._jobs.appendleft(job)
            return
        self._decide(job, EngineError("ENGINE_FAILED", "A reading engine crashed on this claim's documents."))

    def _reap(self) -> None:
        with self._lock:
            for w in [w for w in self._pool if w.proc.poll() is not None and w.job is None]:
                self._end(w)
                self._pool.remove(w)

    def _end(self, w: _Worker) -> None:
        if w.proc.poll() is None:
            try:
                os.killpg(w.proc.pid, signal.SIGKILL)  # the worker and Tesseract's processes under it
            except (OSError, AttributeError):
                w.proc.kill()
        try:
            w.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for stream in (w.proc.stdin, w.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass

    def _decide(self, job: _Job, error: ClaimcheckError) -> None:
        """The decision the parent makes for a claim its worker could not finish; also saved in the
        claim store, as verify_one would have."""
        from .verify import _claim_dir, _save_decision, claim_id_guess, unprocessable
        from .work import _shared_store

        decision = unprocessable(claim_id_guess(job.claim_file, self.config), error, self.config)
        try:
            store = _shared_store(self.config)
            if store not in (None, True):
                _save_decision(store, decision, _claim_dir(job.claim_file, None), job.rel)
        except Exception:  # noqa: BLE001 - the decision stands; only its history is incomplete
            _log.exception("claim %s: decision not saved to the claim store", job.rel)
        result = decision.to_dict()
        result["claim_path"] = job.rel
        if not job.future.done():
            job.future.set_result(result)


# ---------------------------------------------------------------------- the worker process

def _orphan_watch(parent: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(3)  # the batch is gone: nobody will read this claim's decision


def _worker_main() -> None:
    from . import work
    from .config import Config

    out = os.fdopen(os.dup(1), "w", encoding="ascii", buffering=1)
    os.dup2(2, 1)  # anything an engine prints goes to stderr, never into the protocol
    sys.stdout = sys.stderr
    threading.Thread(target=_orphan_watch, args=(os.getppid(),), daemon=True).start()
    stdin = sys.stdin.buffer
    init = json.loads(stdin.readline() or b"{}")
    work.set_config(Config(**init["config"]))
    from . import checks, read, verify  # noqa: F401 - loaded before the first claim's clock starts

    out.write('{"ready": 1}\n')
    for line in stdin:
        job = json.loads(line)
        result = work.verify_one(job["claim_file"], job["rel"])
        out.write(json.dumps(result, ensure_ascii=True) + "\n")


if __name__ == "__main__":  # pragma: no cover - run by ClaimPool
    _worker_main()
