"""Verify every claim below a folder, in parallel, resumably, one JSON line per claim.

One process per core with ``OMP_THREAD_LIMIT=1`` (Tesseract's threads fight on 2
cores). A claim that fails in any way, even one that kills its worker process,
still gets a decision line; the batch goes on.
"""
from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from .claim import find_claim_files
from .config import Config, load_config, with_overrides
from .errors import ClaimcheckError, EngineError

__all__ = ["run_batch", "BatchSummary", "already_done", "claim_jobs", "init_worker", "verify_one", "plan",
           "ResultWriter", "ends_mid_line"]

_CONFIG: Config | None = None
_STORE: tuple[tuple, object] | None = None
"""(identity, store): the claim store this process keeps open across claims."""
_STORE_LOCK = threading.RLock()


def init_worker(config_path: str | None, omp_threads: int, overrides: dict | None = None) -> None:
    """Once per worker process (pool or Dask worker): Tesseract's thread limit and the config."""
    global _CONFIG
    os.environ["OMP_THREAD_LIMIT"] = str(omp_threads)
    _CONFIG = with_overrides(load_config(config_path), **(overrides or {}))
    _close_store()


def _close_store() -> None:
    global _STORE
    if _STORE is not None:
        _STORE[1].close()
        _STORE = None


def _store_identity(config: Config) -> tuple:
    """Which store ``[store]`` means now (``$CLAIMCHECK_STORE`` may change between runs), and for an
    SQLite file which file: one deleted and made again (the lab empties its store) is another store."""
    from .promotions.store import store_url

    try:
        url = store_url(config.store.url or None)
    except ClaimcheckError:
        return ("invalid",)
    if url.startswith("sqlite:///"):
        try:
            st = os.stat(url[len("sqlite:///"):])
            return url, st.st_dev, st.st_ino
        except OSError:
            pass
    return (url,)


def _shared_store(config: Config):
    """The claim store of ``[store]``, opened once per process and reused by every claim (opening costs
    an engine and a schema check); True lets verify_claim open it itself (and report why it cannot)."""
    global _STORE
    if not config.store.enabled:
        return None
    with _STORE_LOCK:  # flows may run claims on threads of one process
        ident = _store_identity(config)
        if _STORE is not None and _STORE[0] == ident:
            return _STORE[1]
        _close_store()
        from .verify import default_store

        try:
            store = default_store(config)
        except ClaimcheckError:
            return True
        _STORE = (_store_identity(config), store)
        return store


def verify_one(claim_file: str, rel: str) -> dict:
    """One claim's decision line (a dict with ``claim_path``), never an exception: the unit of work
    of run_batch and of the Prefect flows (one task per claim). With a claim store, the decision is
    also saved there (with ``claim_dir`` and ``claim_path``)."""
    global _CONFIG
    from .verify import unprocessable, verify_claim

    if _CONFIG is None:
        _CONFIG = load_config()
    config = _CONFIG
    try:
        decision = verify_claim(claim_file, config, store=_shared_store(config), claim_path=rel)
    except ClaimcheckError as exc:
        decision = unprocessable(Path(rel).parent.name or rel, exc, config)
    except Exception as exc:  # noqa: BLE001 - one claim's bug must not stop a backlog
        err = ClaimcheckError("INTERNAL_ERROR", f"{type(exc).__name__}: {exc}")
        decision = unprocessable(Path(rel).parent.name or rel, err, config)
    out = decision.to_dict()
    out["claim_path"] = rel
    return out


_init_worker, _verify_one = init_worker, verify_one  # the names the process pool uses


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
    for line in out.read_text(encoding="utf-8").splitlines():
        try:
            done.add(json.loads(line)["claim_path"])
        except (ValueError, KeyError, TypeError):
            continue
    return done


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

    @property
    def ms_per_claim(self) -> float:
        return 1000 * self.seconds / self.processed if self.processed else 0.0

    def to_dict(self) -> dict:
        return {"total": self.total, "skipped": self.skipped, "processed": self.processed,
                "decisions": dict(self.decisions), "seconds": round(self.seconds, 2),
                "ms_per_claim": round(self.ms_per_claim, 1)}


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
        self.sink.write(json.dumps(result, ensure_ascii=False) + "\n")
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


def run_batch(root: str | Path, out: str | Path, *, workers: int | None = None,
              config_path: str | Path | None = None, force: bool = False, progress: bool = True,
              promotions_dir: str | None = None, store_url: str | None = None) -> BatchSummary:
    """Verify every claim.json below ``root`` into ``out`` (JSON Lines); see the module docstring."""
    root, out = Path(root), Path(out)
    overrides = {"promotions_dir": promotions_dir, "store_url": store_url}
    config = with_overrides(load_config(config_path), **overrides)
    if config.promotions.dir or promotions_dir:
        from .promotions import load_promotions

        load_promotions(config.promotions.dir)  # a broken terms file fails here, before any claim
    todo, summary = plan(root, out, force=force)
    workers = max(1, workers or os.cpu_count() or 1)
    with ResultWriter(out, summary, progress=progress, todo=len(todo)) as write:
        if workers == 1:
            _init_worker(str(config_path) if config_path else None, config.ocr.omp_thread_limit, overrides)
            for claim_file, rel in todo:
                write(_verify_one(claim_file, rel))
        else:
            _run_pool(todo, workers, config_path, config, write, overrides)
    return summary


def _run_pool(todo, workers, config_path, config: Config, write, overrides: dict) -> None:
    """Keep at most 2x workers claims in flight; a dead worker costs only its claims."""
    from .verify import unprocessable

    queue = list(reversed(todo))
    crashes: Counter = Counter()
    while queue:
        pool = ProcessPoolExecutor(workers, initializer=_init_worker,
                                   initargs=(str(config_path) if config_path else None,
                                             config.ocr.omp_thread_limit, overrides))
        inflight = {}
        try:
            while queue or inflight:
                while queue and len(inflight) < 2 * workers:
                    job = queue.pop()
                    inflight[pool.submit(_verify_one, *job)] = job
                finished, _ = wait(inflight, return_when=FIRST_COMPLETED)
                for fut in finished:
                    job = inflight.pop(fut)
                    write(fut.result())
        except BrokenProcessPool:
            # A worker died (a native crash in an engine). We cannot tell which in-flight claim
            # did it, so each is tried once more in a fresh pool; a claim present at two crashes
            # gets an ENGINE_FAILED decision and the batch goes on.
            for fut, job in inflight.items():
                if fut.done() and fut.exception() is None:
                    write(fut.result())
                    continue
                crashes[job] += 1
                if crashes[job] < 2:
                    queue.append(job)
                    continue
                rel = job[1]
                err = EngineError("ENGINE_FAILED", "A reading engine crashed on this claim's documents.")
                result = unprocessable(Path(rel).parent.name or rel, err, config).to_dict()
                result["claim_path"] = rel
                write(result)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
