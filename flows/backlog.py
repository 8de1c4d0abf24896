"""The verify_claim and process_backlog flows: one Prefect task per claim, over ``pipeline.work.verify_one``.

One task per claim because a claim costs ~0.5 s per page of OCR while a Prefect task run costs
~5 ms (bench/bench_flows.py measures both): finer tasks (per document, per page) would multiply
the overhead and ship page images between processes; coarser ones (chunks of claims) would lose
per-claim resumability, retries and visibility in the UI.
"""
from __future__ import annotations

import atexit
import json
import uuid
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed
from prefect.task_runners import ThreadPoolTaskRunner

from pipeline import batch
from pipeline.config import load_config, with_overrides
from pipeline.errors import ClaimcheckError
from pipeline.pool import ClaimPool

RUNNERS = ("local", "dask")

_POOLS: dict[str, ClaimPool] = {}
"""The local runner's claim pools, by flow run (its task threads hand their claims to it)."""
_WORKER_POOL: tuple[str, ClaimPool] | None = None
"""On a Dask worker: (config key, a one-worker claim pool), kept across the tasks it runs."""


def _close_worker_pool() -> None:
    if _WORKER_POOL is not None:
        _WORKER_POOL[1].close(cancel=True)


atexit.register(_close_worker_pool)


def _overrides(promotions_dir: str | None, store_url: str | None) -> dict:
    return {"promotions_dir": promotions_dir, "store_url": store_url}


def _unprocessable(claim_file: str, rel: str, error: ClaimcheckError, config_path: str | None,
                   overrides: dict) -> dict:
    from pipeline.verify import claim_id_guess, unprocessable

    config = with_overrides(load_config(config_path), **overrides)
    result = unprocessable(claim_id_guess(claim_file, config), error, config).to_dict()
    result["claim_path"] = rel
    return result


@task(name="claim", task_run_name="{rel}", cache_policy=NO_CACHE)
def verify_claim_task(claim_file: str, rel: str, config_path: str | None = None, omp: int = 1,
                      overrides: dict | None = None, pool_key: str | None = None) -> dict:
    """One claim's decision line, from a watched worker process (``pipeline.pool``: the ``[batch]``
    limits hold on every runner). Local runner: the flow's claim pool (``pool_key``); Dask: a
    one-worker pool of this Dask worker process, started once and kept."""
    global _WORKER_POOL
    overrides = overrides or {}
    if pool_key is not None:
        return _POOLS[pool_key].run(claim_file, rel)
    key = json.dumps([config_path, omp, overrides], sort_keys=True)
    if _WORKER_POOL is None or _WORKER_POOL[0] != key:
        _close_worker_pool()
        _WORKER_POOL = (key, ClaimPool(1, with_overrides(load_config(config_path), **overrides)))
    return _WORKER_POOL[1].run(claim_file, rel)


def task_runner(runner: str, workers: int, dask_address: str | None = None):
    """The Prefect task runner for ``runner`` (see the package docstring)."""
    if runner == "local":
        return ThreadPoolTaskRunner(max_workers=2 * workers)  # 2 in flight per process, as run_batch
    if runner == "dask":
        from prefect_dask import DaskTaskRunner

        if dask_address:
            return DaskTaskRunner(address=dask_address)
        return DaskTaskRunner(cluster_class="distributed.LocalCluster",
                              cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True,
                                              "dashboard_address": None})
    raise ValueError(f"runner must be one of {', '.join(RUNNERS)}, not {runner!r}")


@flow(name="verify-claims", log_prints=False)
def _verify_claims(root: str, out: str, workers: int, runner: str, config_path: str | None, force: bool,
                   promotions_dir: str | None, store_url: str | None, progress: bool) -> dict:
    """The backlog's claims as tasks on the runner chosen by process_backlog; lines written as they finish."""
    root_p, out_p = Path(root), Path(out)
    overrides = _overrides(promotions_dir, store_url)
    config = with_overrides(load_config(config_path), **overrides)
    with batch.locked_out(out_p):
        return _verify_claims_locked(root_p, out_p, workers, runner, config_path, force, overrides, config, progress)


def _verify_claims_locked(root_p: Path, out_p: Path, workers: int, runner: str, config_path: str | None,
                          force: bool, overrides: dict, config, progress: bool) -> dict:
    todo, summary = batch.plan(root_p, out_p, force=force)
    omp = config.ocr.omp_thread_limit
    pool_key = None
    if runner == "local" and todo:
        pool_key = uuid.uuid4().hex
        _POOLS[pool_key] = ClaimPool(min(workers, len(todo)), config)
    try:
        with batch.ResultWriter(out_p, summary, progress=progress, todo=len(todo)) as write:
            futures = {}
            for claim_file, rel in todo:
                fut = verify_claim_task.submit(claim_file, rel, config_path=config_path, omp=omp,
                                               overrides=overrides, pool_key=pool_key)
                futures[fut] = (claim_file, rel)
            for fut in as_completed(list(futures)):
                claim_file, rel = futures[fut]
                try:
                    result = fut.result()
                except Exception as exc:  # noqa: BLE001 - a task lost to its runner (a Dask worker killed
                    # three times, a crash in Prefect) is that claim's decision, not the backlog's end
                    err = ClaimcheckError("INTERNAL_ERROR", f"{type(exc).__name__}: {exc}")
                    result = _unprocessable(claim_file, rel, err, config_path, overrides)
                write(result)
    except BaseException:
        if pool_key is not None:
            _POOLS.pop(pool_key).close(cancel=True)  # interrupted: stop the workers now
        raise
    if pool_key is not None:
        pool = _POOLS.pop(pool_key)
        pool.close()
        summary.peak_worker_mb = round(pool.peak_rss / 1048576)
    return summary.to_dict()


@flow(name="process-backlog", log_prints=False)
def process_backlog(root: str, out: str, workers: int | None = None, runner: str = "local",
                    dask_address: str | None = None, config_path: str | None = None, force: bool = False,
                    promotions_dir: str | None = None, store_url: str | None = None,
                    progress: bool = False) -> dict:
    """Verify every claim.json below ``root`` into ``out`` (JSON Lines), like ``claimcheck batch``:
    resumable, a bad claim gets its own decision, returns the summary (counts, ms per claim)."""
    import os

    if runner not in RUNNERS:
        raise ValueError(f"runner must be one of {', '.join(RUNNERS)}, not {runner!r}")
    config_path = str(config_path) if config_path else None
    config = with_overrides(load_config(config_path), **_overrides(promotions_dir, store_url))
    if config.promotions.dir or promotions_dir:
        from pipeline.promotions import load_promotions

        load_promotions(config.promotions.dir)  # a broken terms file fails here, before any claim
    workers = max(1, workers or os.cpu_count() or 1)
    sub = _verify_claims.with_options(task_runner=task_runner(runner, workers, dask_address))
    summary = sub(str(root), str(out), workers, runner, config_path, force, promotions_dir, store_url, progress)
    summary["runner"] = runner
    return summary


@task(name="verify", cache_policy=NO_CACHE)
def _verify_task(claim: str, config_path: str | None, overrides: dict) -> dict:
    from pipeline.verify import verify_claim as verify

    return verify(claim, with_overrides(load_config(config_path), **overrides)).to_dict()


@flow(name="verify-claim", log_prints=False)
def verify_claim(claim: str, config_path: str | None = None, promotions_dir: str | None = None,
                 store_url: str | None = None) -> dict:
    """One claim (folder or claim.json) through ``pipeline.verify.verify_claim``: its decision as a dict."""
    return _verify_task(str(claim), str(config_path) if config_path else None,
                        _overrides(promotions_dir, store_url))
