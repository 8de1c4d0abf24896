"""The uploaded claims' queue, in the claim store's ``api_claims`` table (migration 0004).

A claim goes queued -> processing -> decided (or failed). Taking one is a compare-and-set on
its row (``take``), so two workers, in one process or in two, never run the same claim at once;
a worker renews the lease of the claims it runs, and a claim whose lease ran out (its server
was killed) is taken again. Webhook deliveries are taken the same way.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from ..db import models as m

__all__ = ["ApiClaimRow", "ClaimQueue", "now_utc"]

A = m.ApiClaim


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class ApiClaimRow:
    seq: int
    claim_id: str
    idempotency_key: str
    content_sha256: str
    token_name: str
    claim_dir: str
    files: dict
    status: str
    response: dict
    decision: dict | None
    error: str | None
    attempts: int
    lease_until: dt.datetime | None
    started_at: dt.datetime | None
    flow_run_id: str | None
    webhook_state: str | None
    webhook_next_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, row: Any) -> ApiClaimRow:
        values = {k: getattr(row, k) for k in cls.__dataclass_fields__}
        for k in ("lease_until", "started_at", "webhook_next_at", "created_at", "updated_at"):
            values[k] = _utc(values[k])
        return cls(**values)

    def public(self) -> dict:
        """What ``GET /api/v1/claims/{id}`` answers."""
        out = {"claim_id": self.claim_id, "status": self.status, "received_at": self.created_at.isoformat(),
               "updated_at": self.updated_at.isoformat(), "files": self.files}
        if self.status == "decided":
            out["decision"] = self.decision
        if self.status == "failed":
            out["error"] = self.error
        return out


_COLUMNS = [getattr(A, k) for k in ApiClaimRow.__dataclass_fields__]


class ClaimQueue:
    """The ``api_claims`` rows of the store at ``engine``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _one(self, conn, *where) -> ApiClaimRow | None:
        row = conn.execute(select(*_COLUMNS).where(*where)).first()
        return ApiClaimRow.of(row) if row is not None else None

    def get(self, claim_id: str) -> ApiClaimRow | None:
        with self.engine.connect() as conn:
            return self._one(conn, A.claim_id == claim_id)

    def find(self, key: str, claim_id: str) -> ApiClaimRow | None:
        """The upload holding idempotency key ``key`` or ``claim_id``."""
        with self.engine.connect() as conn:
            return self._one(conn, or_(A.idempotency_key == key, A.claim_id == claim_id))

    def enqueue(self, *, claim_id: str, key: str, content_sha256: str, token_name: str, claim_dir: str,
                files: dict, response: dict, received: dt.datetime) -> tuple[ApiClaimRow, bool]:
        """(the row, True) when recorded now as queued; (the row already there, False) when the key or
        the claim_id is taken (by this upload's earlier try, or by another upload)."""
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(A).values(
                    claim_id=claim_id, idempotency_key=key, content_sha256=content_sha256, token_name=token_name,
                    claim_dir=claim_dir, files=files, status="queued", response=response, attempts=0,
                    created_at=received, updated_at=received))
                return self._one(conn, A.claim_id == claim_id), True
        except IntegrityError:
            found = self.find(key, claim_id)
            if found is None:
                raise
            return found, False

    # ------------------------------------------------------------------ workers

    def take(self, lease_s: float, *, now: dt.datetime | None = None) -> ApiClaimRow | None:
        """The oldest claim that is queued, or processing with its lease run out, now held for ``lease_s``."""
        now = now or now_utc()
        free = or_(A.status == "queued", and_(A.status == "processing", A.lease_until < now))
        with self.engine.begin() as conn:
            for _ in range(5):
                row = conn.execute(select(A.seq, A.status, A.lease_until, A.attempts).where(free)
                                   .order_by(A.seq).limit(1)).first()
                if row is None:
                    return None
                same = [A.seq == row.seq, A.status == row.status, A.attempts == row.attempts]
                done = conn.execute(update(A).where(*same).values(
                    status="processing", attempts=row.attempts + 1, lease_until=now + dt.timedelta(seconds=lease_s),
                    started_at=now, updated_at=now))
                if done.rowcount == 1:
                    return self._one(conn, A.seq == row.seq)
        return None

    def renew(self, seqs: list[int], lease_s: float) -> None:
        if not seqs:
            return
        now = now_utc()
        with self.engine.begin() as conn:
            conn.execute(update(A).where(A.seq.in_(seqs), A.status == "processing")
                         .values(lease_until=now + dt.timedelta(seconds=lease_s)))

    def set_flow_run(self, seq: int, flow_run_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(A).where(A.seq == seq).values(flow_run_id=flow_run_id))

    def finish(self, seq: int, decision: dict, *, webhook: bool) -> bool:
        """Record the decision; False when the claim was already decided (never two decisions)."""
        now = now_utc()
        with self.engine.begin() as conn:
            done = conn.execute(update(A).where(A.seq == seq, A.status.in_(("queued", "processing"))).values(
                status="decided", decision=decision, lease_until=None, updated_at=now, error=None,
                webhook_state="pending" if webhook else None, webhook_next_at=now if webhook else None))
            return done.rowcount == 1

    def fail(self, seq: int, error: str) -> None:
        now = now_utc()
        with self.engine.begin() as conn:
            conn.execute(update(A).where(A.seq == seq, A.status.in_(("queued", "processing")))
                         .values(status="failed", error=error, lease_until=None, updated_at=now))

    def page(self, *, status: str | None = None, since: dt.datetime | None = None, after: int = 0,
             limit: int = 50) -> list[ApiClaimRow]:
        """Claims in arrival order after seq ``after``: of ``status``, changed at or after ``since``."""
        where = [A.seq > after]
        if status:
            where.append(A.status == status)
        if since is not None:
            where.append(A.updated_at >= since)
        with self.engine.connect() as conn:
            rows = conn.execute(select(*_COLUMNS).where(*where).order_by(A.seq).limit(limit)).all()
        return [ApiClaimRow.of(r) for r in rows]

    def counts(self) -> dict[str, int]:
        from sqlalchemy import func

        with self.engine.connect() as conn:
            return dict(conn.execute(select(A.status, func.count()).group_by(A.status)).all())

    # ------------------------------------------------------------------ webhooks

    def take_webhook(self, hold_s: float, *, now: dt.datetime | None = None) -> ApiClaimRow | None:
        """The oldest pending delivery that is due, held for ``hold_s`` (its next try pushed back)."""
        now = now or now_utc()
        with self.engine.begin() as conn:
            row = conn.execute(select(A.seq, A.webhook_next_at).where(
                A.webhook_state == "pending", A.webhook_next_at <= now).order_by(A.webhook_next_at).limit(1)).first()
            if row is None:
                return None
            done = conn.execute(update(A).where(A.seq == row.seq, A.webhook_next_at == row.webhook_next_at)
                                .values(webhook_next_at=now + dt.timedelta(seconds=hold_s)))
            return self._one(conn, A.seq == row.seq) if done.rowcount == 1 else None

    def record_attempt(self, row: ApiClaimRow, *, delivery_id: str, attempt: int, url: str, status_code: int | None,
                       error: str | None, duration_ms: int, state: str, next_at: dt.datetime | None) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(m.WebhookAttempt).values(
                claim_id=row.claim_id, delivery_id=delivery_id, attempt=attempt, url=url, status_code=status_code,
                error=error, duration_ms=duration_ms))
            conn.execute(update(A).where(A.seq == row.seq).values(webhook_state=state, webhook_next_at=next_at))

    def attempts(self, claim_id: str) -> list[dict]:
        W = m.WebhookAttempt
        with self.engine.connect() as conn:
            rows = conn.execute(select(W.delivery_id, W.attempt, W.url, W.status_code, W.error, W.duration_ms,
                                       W.created_at).where(W.claim_id == claim_id).order_by(W.id)).all()
        return [dict(r._mapping) for r in rows]
