"""Verifying uploaded claims: the embedded worker, or runs of a Prefect deployment.

With ``PREFECT_API_URL`` (or a profile naming a server) and ``[prefect].deployment`` set, each
claim taken starts a run of that deployment (the ``verify-claim`` flow, ``flows.verify_claim``)
on its work pool, with an idempotency key of the upload (store, claim, content, arrival): a claim taken again
after a crash gets the flow run already made, not a second one. The run saves the decision in
the claim store; the worker watches the run's state and marks the claim decided from the store.

Without one, the embedded worker runs ``pipeline.work.verify_one`` (``pipeline.verify.verify_claim``
under the batch's watched worker processes, ``pipeline.pool.ClaimPool``): the unit of work of
``claimcheck batch`` and of the flows' tasks. Either way the one orchestrator ``verify_claim``
decides and saves the decision in the claim store; then the claim's queue row is marked decided.

Never two decisions: a claim taken again after a crash (its lease ran out) is first looked up in
the store's decisions by its claim folder; a decision there (the crash came after it was saved)
is adopted, not made again. A worker process whose server died ends itself within a second
(``pool._orphan_watch``), well inside the lease.
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import Future
from pathlib import Path

from ..config import Config
from ..db import SqlClaimStore
from .jobs import ApiClaimRow, ClaimQueue
from .settings import ApiSettings

__all__ = ["EmbeddedWorker", "PrefectRuns", "saved_decision"]

_log = logging.getLogger(__name__)


def saved_decision(store: SqlClaimStore, row: ApiClaimRow) -> dict | None:
    """The decision the store holds for this upload's claim folder, if verification got that far."""
    from ..verify import conflict_id

    for claim_id in (row.claim_id, conflict_id(row.claim_id, row.claim_dir)):
        for saved in reversed(store.decisions_for(claim_id)):
            if saved.record.get("claim_dir") == row.claim_dir:
                return saved.record
    return None


class PrefectRuns:
    """Runs of the ``verify-claim`` deployment ``deployment`` (``flow name/deployment name``)."""

    FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}

    def __init__(self, deployment: str, db_url: str, config_path: str | None) -> None:
        self.deployment, self.db_url, self.config_path = deployment, db_url, config_path

    def submit(self, row: ApiClaimRow) -> str:
        from prefect.deployments import run_deployment

        run = run_deployment(self.deployment, parameters={"claim": row.claim_dir, "config_path": self.config_path,
                                                          "store_url": self.db_url},
                             timeout=0, as_subflow=False, flow_run_name=f"claim {row.claim_id}"[:200],
                             idempotency_key=self.run_key(row),
                             tags=["claimcheck-api"])
        return str(run.id)

    def run_key(self, row: ApiClaimRow) -> str:
        """One flow run per upload: its store, claim, content and arrival (the same claim uploaded to
        another store, or again after it was deleted, is another upload)."""
        import hashlib

        ident = "\0".join((self.db_url, row.claim_id, row.content_sha256, row.created_at.isoformat()))
        return "claimcheck-api:" + hashlib.sha256(ident.encode("utf-8", "surrogateescape")).hexdigest()

    def state(self, flow_run_id: str) -> tuple[str, str]:
        """(state type, message) of the flow run, e.g. ('COMPLETED', '')."""
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            run = client.read_flow_run(flow_run_id)
        state = run.state
        return (state.type.value if state else "PENDING"), (state.message or "" if state else "")


class EmbeddedWorker:
    """Takes queued claims off ``queue`` and verifies them on a ``ClaimPool`` of ``workers`` processes."""

    def __init__(self, store: SqlClaimStore, queue: ClaimQueue, config: Config, settings: ApiSettings,
                 *, webhooks: bool, prefect: PrefectRuns | None = None) -> None:
        self.store, self.queue, self.config, self.settings = store, queue, config, settings
        self.webhooks = webhooks
        self.prefect = prefect
        """Set: claims run as flow runs of a deployment; None: on this process's claim pool."""
        self._flow_runs: dict[int, tuple[ApiClaimRow, str]] = {}
        self.root = Path(settings.intake.root).resolve()
        self._pool = None
        self._running: dict[int, Future] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="api-worker", daemon=True)

    def start(self) -> EmbeddedWorker:
        from ..pool import ClaimPool

        if self.prefect is None:
            self._pool = ClaimPool(self.settings.worker.workers, self.config)
        self._thread.start()
        return self

    def wake(self) -> None:
        """A claim was queued: look now rather than at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)
        if self._pool is not None:
            self._pool.close(cancel=True)  # claims cut short stay 'processing' and are taken up again

    # ------------------------------------------------------------------ the loop

    def _loop(self) -> None:
        lease = self.settings.worker.lease_s
        renew_every = lease / 3
        last_renew = 0.0
        import time

        while not self._stop.is_set():
            try:
                now = time.monotonic()
                if now - last_renew >= renew_every:
                    with self._lock:
                        running = list(self._running)
                    self.queue.renew(running, lease)
                    last_renew = now
                if self.prefect is not None:
                    self._watch_flow_runs()
                took = False
                while self._free() and not self._stop.is_set():
                    row = self.queue.take(lease)
                    if row is None:
                        break
                    took = True
                    self._start(row)
                if not took:
                    self._wake.wait(self.settings.worker.poll_s)
                    self._wake.clear()
            except Exception:  # noqa: BLE001 - a store hiccup must not end the worker
                _log.exception("api worker: a pass over the queue failed")
                self._stop.wait(self.settings.worker.poll_s)

    def _free(self) -> bool:
        # Flow runs wait on the work pool, whose workers set the pace: many may be handed over.
        limit = 100 if self.prefect is not None else self.settings.worker.workers
        with self._lock:
            return len(self._running) < limit

    def _start(self, row: ApiClaimRow) -> None:
        if row.attempts > 1:
            adopted = saved_decision(self.store, row)
            if adopted is not None:
                self.queue.finish(row.seq, adopted, webhook=self.webhooks)
                return
        if row.attempts > self.settings.worker.max_attempts:
            self.queue.fail(row.seq, f"verification was started {row.attempts - 1} times without a decision")
            return
        claim_file = Path(row.claim_dir) / "claim.json"
        if not claim_file.is_file():
            self.queue.fail(row.seq, f"the claim folder {row.claim_dir} is missing")
            return
        if self.prefect is not None:
            flow_run_id = self.prefect.submit(row)  # the run made before a crash, if there was one
            self.queue.set_flow_run(row.seq, flow_run_id)
            with self._lock:
                self._running[row.seq] = None
                self._flow_runs[row.seq] = (row, flow_run_id)
            return
        try:
            rel = str(Path(row.claim_dir).relative_to(self.root))
        except ValueError:
            rel = row.claim_dir
        future = self._pool.submit(str(claim_file), rel)
        with self._lock:
            self._running[row.seq] = future
        future.add_done_callback(lambda f, seq=row.seq: self._done(seq, f))

    def _watch_flow_runs(self) -> None:
        with self._lock:
            runs = list(self._flow_runs.items())
        for seq, (row, flow_run_id) in runs:
            kind, message = self.prefect.state(flow_run_id)
            if kind not in PrefectRuns.FINAL:
                continue
            decision = saved_decision(self.store, row) if kind == "COMPLETED" else None
            if decision is not None:
                self.queue.finish(seq, decision, webhook=self.webhooks)
            else:
                self.queue.fail(seq, f"flow run {flow_run_id} ended {kind}: {message}"[:2000])
            with self._lock:
                self._running.pop(seq, None)
                self._flow_runs.pop(seq, None)

    def _done(self, seq: int, future: Future) -> None:
        try:
            if future.cancelled():
                return  # the server is stopping: the claim is taken up again after the restart
            self.queue.finish(seq, future.result(), webhook=self.webhooks)
        except Exception:  # noqa: BLE001 - left 'processing': its lease runs out and it is taken again
            _log.exception("api worker: recording claim #%s failed", seq)
        finally:
            with self._lock:
                self._running.pop(seq, None)
            self._wake.set()
