"""Prefect 3 flows over the same orchestrator as the command line (issue #7).

- ``verify_claim(claim)``: one claim, one task, the decision as a dict.
- ``process_backlog(root, out)``: every claim.json below ``root`` (any depth), one task per claim,
  in parallel across claims, resumable like ``claimcheck batch`` (claims already in ``out`` by
  ``claim_path`` are skipped), each failure its own review/reject decision; returns the summary.
- ``evaluate(root, out_dir)``: the threshold lab (``pipeline.lab.evaluate``) with the verification
  step run as a ``process_backlog`` sub-flow.

Runners (``runner=``): ``local`` (default) is Prefect's ThreadPoolTaskRunner whose tasks hand their
claim to a process pool of ``workers`` processes (OCR is CPU-bound and holds the GIL in places);
``dask`` is prefect-dask's DaskTaskRunner on a LocalCluster of ``workers`` processes with one thread
each, or on the cluster at ``dask_address``. Each worker process runs with ``OMP_THREAD_LIMIT=1``.

Importing this package imports Prefect (~1 s) and the first flow run starts Prefect's embedded
server unless ``PREFECT_API_URL`` names one: only the commands that run flows import it.
"""
from __future__ import annotations

import os

# Before Prefect reads its settings: no telemetry from the embedded server (it also produced
# spurious "database is locked" tracebacks here) and only warnings on the terminal.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")  # Dask's cluster start/stop chatter
# The embedded server takes 6-13 s to start here, much more on a loaded machine (default limit 20 s).
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

from .backlog import RUNNERS, process_backlog, verify_claim, verify_claim_task  # noqa: E402
from .lab import evaluate  # noqa: E402

__all__ = ["verify_claim", "process_backlog", "evaluate", "verify_claim_task", "RUNNERS"]
