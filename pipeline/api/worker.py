"""Verifying uploaded claims: the embedded worker, or runs of a Prefect deployment.

Either way a claim is verified by ``pipeline.batch.verify_one`` (``pipeline.verify.verify_claim``
under the batch's watched worker processes, ``pipeline.pool.ClaimPool``): the unit of work of
``claimcheck batch`` and of the flows' tasks. The decision is saved in the claim store by the
worker process, then the claim's queue row is marked decided.

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

__all__ = ["EmbeddedWorker", "saved_decision"]

_log = logging.getLogger(__name__)


def saved_decision(store: SqlClaimStore, row: ApiClaimRow) -> dict | None:
    """The decision the store holds for this upload's claim folder, if verification got that far."""
    from ..verify import conflict_id

    for claim_id in (row.claim_id, conflict_id(row.claim_id, row.claim_dir)):
        for saved in reversed(store.decisions_for(claim_id)):
            if saved.record.get("claim_dir") == row.claim_dir:
                return saved.record
    return None


class EmbeddedWorker:
    """Takes queued claims off ``queue`` and verifies them on a ``ClaimPool`` of ``workers`` processes."""

    def __init__(self, store: SqlClaimStore, queue: ClaimQueue, config: Config, settings: ApiSettings,
                 *, webhooks: bool) -> None:
        self.store, self.queue, self.config, self.settings = store, queue, config, settings
        self.webhooks = webhooks
        self.root = Path(settings.intake.root).resolve()
        self._pool = None
        self._running: dict[int, Future] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="api-worker", daemon=True)

    def start(self) -> EmbeddedWorker:
        from ..pool import ClaimPool

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
        with self._lock:
            return len(self._running) < self.settings.worker.workers

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
        try:
            rel = str(Path(row.claim_dir).relative_to(self.root))
        except ValueError:
            rel = row.claim_dir
        future = self._pool.submit(str(claim_file), rel)
        with self._lock:
            self._running[row.seq] = future
        future.add_done_callback(lambda f, seq=row.seq: self._done(seq, f))

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
