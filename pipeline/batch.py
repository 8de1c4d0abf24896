"""Verify every claim below a folder, in parallel, resumably, one JSON line per claim.

One process per core with ``OMP_THREAD_LIMIT=1`` (Tesseract's threads fight on 2
cores), each claim in a watched worker (``pipeline.pool``: wall-clock and memory limits
from ``[batch]``). A claim that fails in any way, even one that kills or outgrows its
worker process, still gets a decision line; the batch goes on. ``--out`` is locked for
the run (``locked_out``): a second run on it is refused.
"""
from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections import Counter
from concurrent.futures import as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .claim import find_claim_files
from .config import load_config, with_overrides
from .errors import ClaimcheckError

__all__ = ["run_batch", "BatchSummary", "already_done", "claim_jobs", "plan", "ResultWriter", "ends_mid_line",
           "json_text", "locked_out"]

def claim_jobs(root: Path) -> list[tuple[str, str]]:
    """(claim.json path, its path relative to ``root``) per claim; the relative path is the
    ``claim_path`` that resuming matches on."""
    files = find_claim_files(root)
    base = root if root.is_dir() else root.parent
    return [(str(f), str(f.relative_to(base))) for f in files]


def already_done(out: Path) -> set[str]:
    """claim_path values already written to ``out`` (a torn last line is ignored)."""
    done: set[str] = set()
    if not out.exists():
        return done
    for line in out.read_text(encoding="utf-8").split("\n"):  # JSON Lines: only \n ends a line
        try:
            done.add(json.loads(line)["claim_path"])
        except (ValueError, KeyError, TypeError):
            continue
    return done


_LINE_BREAKS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def json_text(obj, *, indent: int | None = None) -> str:
    """``obj`` as JSON, non-ASCII text as it is, on one line: any text goes out. Text UTF-8 cannot
    encode (a lone surrogate from a file name) is written as ``\\uXXXX`` escapes instead of
    failing, and so are the characters ``str.splitlines`` breaks lines at that JSON leaves as they
    are (U+0085, U+2028, U+2029): one decision is always one line of a JSON Lines file."""
    text = json.dumps(obj, ensure_ascii=False, indent=indent)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(obj, ensure_ascii=True, indent=indent)
    if any(c in text for c in _LINE_BREAKS):  # only ever inside strings, where the escape means the same
        text = text.translate(str.maketrans(_LINE_BREAKS))
    return text


def ends_mid_line(path: Path) -> bool:
    """Whether ``path`` ends in a torn line (a run killed while writing it)."""
    if not path.exists() or not path.stat().st_size:
        return False
    with path.open("rb") as f:
        f.seek(-1, 2)
        return f.read(1) != b"\n"


@dataclass
class BatchSummary:
    total: int = 0
    skipped: int = 0
    processed: int = 0
    decisions: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    peak_worker_mb: int | None = None
    """The highest resident memory a worker reached (with its Tesseract processes), when known."""
    workers_stopped: int = 0
    """Workers stopped for time or memory, or lost (``ClaimPool.killed``): their claims' decisions are
    the machine's as much as the claims'."""

    @property
    def ms_per_claim(self) -> float:
        return 1000 * self.seconds / self.processed if self.processed else 0.0

    def to_dict(self) -> dict:
        return {"total": self.total, "skipped": self.skipped, "processed": self.processed,
                "decisions": dict(self.decisions), "seconds": round(self.seconds, 2),
                "ms_per_claim": round(self.ms_per_claim, 1), "peak_worker_mb": self.peak_worker_mb}


def plan(root: Path, out: Path, *, force: bool = False) -> tuple[list[tuple[str, str]], BatchSummary]:
    """The (claim file, claim_path) jobs still to do below ``root`` (those not in ``out`` unless
    ``force``, which empties ``out``), and a summary counting the total and the skipped."""
    jobs = claim_jobs(root)
    summary = BatchSummary(total=len(jobs))
    if force and out.exists():
        out.unlink()
    done = already_done(out)
    todo = [j for j in jobs if j[1] not in done]
    summary.skipped = len(jobs) - len(todo)
    return todo, summary


class ResultWriter:
    """Appends decision lines to ``out`` as they come (flushed: a killed run loses none written),
    counting them in ``summary`` with a progress bar on stderr; times the run into ``summary``."""

    def __init__(self, out: Path, summary: BatchSummary, *, progress: bool, todo: int) -> None:
        self.out, self.summary, self.progress, self.todo = out, summary, progress, todo

    def __enter__(self):
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.bar = None
        if self.progress:
            from tqdm import tqdm

            self.bar = tqdm(total=self.todo, file=sys.stderr, unit="claim", desc="verifying")
        self.sink = self.out.open("a", encoding="utf-8")
        if ends_mid_line(self.out):
            self.sink.write("\n")  # a run killed mid-line: the next line must not be glued to it
        self.started = time.perf_counter()
        return self.write

    def write(self, result: dict) -> None:
        self.sink.write(json_text(result) + "\n")
        self.sink.flush()
        self.summary.processed += 1
        self.summary.decisions[result["decision"]] += 1
        if self.bar:
            self.bar.update(1)

    def __exit__(self, *exc) -> None:
        self.summary.seconds = time.perf_counter() - self.started
        self.sink.close()
        if self.bar:
            self.bar.close()


_HELD: dict[str, int] = {}
"""Lock files this process holds, with how many nested runs hold each."""
_HELD_LOCK = threading.Lock()


@contextmanager
def locked_out(out: Path):
    """Hold ``out`` for one run: a second run on the same file (another process on this machine)
    is refused with OUT_LOCKED instead of writing every claim twice. The lock is ``out``'s sibling
    ``<name>.lock`` (an advisory ``flock``, released when the run ends or dies, even by kill -9);
    nested holds in one process (the CLI, then the flow it runs) share it."""
    import fcntl

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    lock_path = out.with_name(out.name + ".lock")
    key = str(lock_path.resolve())
    with _HELD_LOCK:
        nested = key in _HELD
        if nested:
            _HELD[key] += 1
    if nested:
        try:
            yield
        finally:
            with _HELD_LOCK:
                _HELD[key] -= 1
        return
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
            raise ClaimcheckError(
                "OUT_LOCKED", f"{out} is being written by another batch ({holder}); wait for it to finish "
                              "or give another --out.") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} since {time.strftime('%Y-%m-%d %H:%M:%S')}".encode(), 0)
        with _HELD_LOCK:
            _HELD[key] = 1
        try:
            yield
        finally:
            with _HELD_LOCK:
                _HELD.pop(key, None)
    finally:
        os.close(fd)  # releases the lock


def run_batch(root: str | Path, out: str | Path, *, workers: int | None = None,
              config_path: str | Path | None = None, force: bool = False, progress: bool = True,
              promotions_dir: str | None = None, store_url: str | None = None) -> BatchSummary:
    """Verify every claim.json below ``root`` into ``out`` (JSON Lines); see the module docstring.
    Each claim runs in a watched worker process (``pipeline.pool.ClaimPool``: ``[batch]`` limits)."""
    from .pool import ClaimPool

    root, out = Path(root), Path(out)
    config = with_overrides(load_config(config_path), promotions_dir=promotions_dir, store_url=store_url)
    if config.promotions.dir or promotions_dir:
        from .promotions import load_promotions

        load_promotions(config.promotions.dir)  # a broken terms file fails here, before any claim
    workers = max(1, workers or os.cpu_count() or 1)
    with locked_out(out):
        todo, summary = plan(root, out, force=force)
        with ResultWriter(out, summary, progress=progress, todo=len(todo)) as write, \
                ClaimPool(min(workers, max(1, len(todo))), config) as pool:
            futures = [pool.submit(claim_file, rel) for claim_file, rel in todo]
            for fut in as_completed(futures):
                write(fut.result())
            summary.peak_worker_mb = round(pool.peak_rss / 1048576)
            summary.workers_stopped = sum(pool.killed.values())
    return summary
