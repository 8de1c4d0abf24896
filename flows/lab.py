"""The evaluate flow: the threshold lab (``pipeline.lab.evaluate``) with its verification step run
as a process_backlog sub-flow, so a labelled set's claims are tasks like any backlog's."""
from __future__ import annotations

import json
import time
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from pipeline.config import load_config

from .backlog import process_backlog


@task(name="lab-report", cache_policy=NO_CACHE)
def _report(root: str, results: str, config_path: str | None, out_dir: str, workers: int | None,
            run: dict) -> dict:
    from pipeline.lab import evaluate as lab_evaluate

    metrics = lab_evaluate(root, config_path, out_dir, workers, results=results, progress=False)
    if run:  # how long verifying took: known here, not to a lab given ready results
        metrics["run"].update(run)
        (Path(out_dir) / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n",
                                                    encoding="utf-8")
    return metrics


@flow(name="evaluate", log_prints=False)
def evaluate(root: str, out_dir: str = "out/lab", config_path: str | None = None, workers: int | None = None,
             runner: str = "local", dask_address: str | None = None, results: str | None = None,
             progress: bool = False) -> dict:
    """Verify the labelled claims below ``root`` (unless ``results`` names a batch's JSON lines), compare
    with their labels, write report.html, PNGs, metrics.json, claims.csv and results.jsonl to ``out_dir``.

    As in ``pipeline.lab.evaluate``, claims are judged against a claim store of the run's own
    (``OUT_DIR/claims.sqlite3``, emptied first) unless the config names a ``[store].url``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    config_path = str(config_path) if config_path else None
    run: dict = {}
    if results is None:
        results = str(out / "results.jsonl")
        store_url = None
        if not load_config(config_path).store.url:
            store = out / "claims.sqlite3"
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{store}{suffix}").unlink(missing_ok=True)
            store_url = f"sqlite:///{store.resolve()}"
        started = time.perf_counter()
        summary = process_backlog(str(root), results, workers=workers, runner=runner, dask_address=dask_address,
                                  config_path=config_path, force=True, store_url=store_url, progress=progress)
        run = {"seconds": round(time.perf_counter() - started, 2), "verified": summary["processed"],
               "ms_per_claim": summary["ms_per_claim"], "runner": runner}
    return _report(str(root), str(results), config_path, str(out), workers, run)
