"""Read queries for the reviewer workspace over the claim store's tables.

A claim's *state* joins its newest decision run with its newest reviewer action (an action
older than the newest decision no longer counts: the claim was verified again, e.g. after a
resubmission):

- ``needs_review``: the pipeline said review and nobody acted yet;
- ``info_requested``: a reviewer asked the claimant for more;
- ``auto_rejected`` / ``auto_approved``: the pipeline decided, nobody acted;
- ``rejected`` / ``approved``: a reviewer decided.

The queue puts them in that order (work first), then lowest score first.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, String, and_, case, cast, func, literal, select

from ..db import models as m

__all__ = ["STATES", "STATE_LABELS", "SORTS", "QueueFilter", "QueueRow", "queue", "state_counts",
           "known_claim_dirs", "promotion_ids", "neighbours", "latest_decision"]

STATES = ("needs_review", "info_requested", "auto_rejected", "auto_approved", "rejected", "approved")
STATE_LABELS = {"needs_review": "needs review", "info_requested": "info requested",
                "auto_rejected": "rejected by pipeline", "auto_approved": "approved by pipeline",
                "rejected": "rejected by reviewer", "approved": "approved by reviewer"}
SORTS = ("state", "score", "date", "promotion", "decision", "claim")
_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")


@dataclass
class QueueFilter:
    state: str | None = None
    promotion: str | None = None
    """A promotion id, or '-' for claims without one."""
    decision: str | None = None
    reason: str | None = None
    min_score: float | None = None
    max_score: float | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    sort: str = "state"
    desc: bool = False
    limit: int = 500

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> QueueFilter:
        """From query-string values; anything malformed is ignored rather than an error."""
        def text(key: str) -> str | None:
            v = str(params.get(key) or "").strip()
            return v or None

        def number(key: str) -> float | None:
            try:
                return float(text(key)) if text(key) is not None else None
            except ValueError:
                return None

        def day(key: str) -> dt.date | None:
            try:
                return dt.date.fromisoformat(text(key)) if text(key) else None
            except ValueError:
                return None

        state = text("state")
        decision = text("decision")
        reason = text("reason")
        sort = text("sort") or "state"
        promotion = text("promotion")
        return cls(state=state if state in STATES else None,
                   promotion=promotion if promotion and len(promotion) <= 200 else None,  # a stored id is <= 200
                   decision=decision if decision in ("approve", "review", "reject") else None,
                   reason=reason if reason and _CODE.match(reason) else None,
                   min_score=number("min_score"), max_score=number("max_score"),
                   date_from=day("date_from"), date_to=day("date_to"),
                   sort=sort if sort in SORTS else "state", desc=text("dir") == "desc")


    def to_query(self) -> str:
        """The filter as a query string: only what it kept, so its length is bounded (a session cookie
        holds it; a long query string sent to the queue must not grow the cookie)."""
        from urllib.parse import urlencode

        p = {"state": self.state, "promotion": self.promotion, "decision": self.decision, "reason": self.reason,
             "min_score": self.min_score, "max_score": self.max_score,
             "date_from": self.date_from.isoformat() if self.date_from else None,
             "date_to": self.date_to.isoformat() if self.date_to else None,
             "sort": self.sort if self.sort != "state" else None, "dir": "desc" if self.desc else None}
        return urlencode({k: v for k, v in p.items() if v is not None})


@dataclass
class QueueRow:
    claim_id: str
    decision_id: int
    decision: str
    score: float | None
    reasons: list[str]
    promotion: str | None
    created_at: dt.datetime
    state: str
    action: str | None = None
    reviewer: str | None = None
    acted_at: dt.datetime | None = None
    claim_dir: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _base():
    D, A = m.Decision, m.ReviewerAction
    newest_decision = select(func.max(D.id).label("id")).group_by(D.claim_id).subquery("nd")
    newest_action = select(func.max(A.id).label("id")).group_by(A.claim_id).subquery("na")
    act = select(A).join(newest_action, A.id == newest_action.c.id).subquery("act")
    # An action counts only if it is not older than the decision run it acted on.
    acted = and_(act.c.id.is_not(None), act.c.created_at >= D.created_at)
    state = case(
        (and_(acted, act.c.action == "approve"), literal("approved")),
        (and_(acted, act.c.action == "reject"), literal("rejected")),
        (and_(acted, act.c.action == "request_info"), literal("info_requested")),
        (D.decision == "approve", literal("auto_approved")),
        (D.decision == "reject", literal("auto_rejected")),
        else_=literal("needs_review"),
    ).label("state")
    rank = case({s: i for i, s in enumerate(STATES)}, value=state, else_=len(STATES)).label("state_rank")
    promotion = D.extra[("promotion", "promotion")].as_string().label("promotion")
    claim_dir = D.extra["claim_dir"].as_string().label("claim_dir")
    stmt = (select(D.id, D.claim_id, D.decision, D.score, D.reasons, D.created_at, D.extra, state, rank,
                   promotion, claim_dir, act.c.action, act.c.reviewer, act.c.created_at.label("acted_at"),
                   acted.label("acted"))
            .join(newest_decision, D.id == newest_decision.c.id)
            .outerjoin(act, act.c.claim_id == D.claim_id))
    return stmt, state, rank, promotion


def _filtered(f: QueueFilter):
    stmt, _state, _rank, _promotion = _base()
    inner = stmt.subquery("q")
    q = select(inner)
    c = inner.c
    if f.state:
        q = q.where(c.state == f.state)
    if f.promotion == "-":
        q = q.where(c.promotion.is_(None))
    elif f.promotion:
        q = q.where(c.promotion == f.promotion)
    if f.decision:
        q = q.where(c.decision == f.decision)
    if f.reason:
        q = q.where(cast(c.reasons, String).contains(f'"{f.reason}"', autoescape=True))
    if f.min_score is not None:
        q = q.where(c.score >= f.min_score)
    if f.max_score is not None:
        q = q.where(c.score <= f.max_score)
    if f.date_from:
        q = q.where(c.created_at >= dt.datetime.combine(f.date_from, dt.time(), dt.UTC))
    if f.date_to and f.date_to < dt.date.max:  # up to the end of time: no bound (and no day after it)
        q = q.where(c.created_at < dt.datetime.combine(f.date_to + dt.timedelta(days=1), dt.time(), dt.UTC))
    key = {"state": c.state_rank, "score": c.score, "date": c.created_at, "promotion": c.promotion,
           "decision": c.decision, "claim": c.claim_id}[f.sort]
    first = key.desc() if f.desc else key.asc()
    then = [c.score.asc(), c.created_at.desc()] if f.sort == "state" else [c.state_rank.asc()]
    return q.order_by(first, *then, c.claim_id.asc())


def _row(r) -> QueueRow:
    return QueueRow(
        claim_id=r.claim_id, decision_id=r.id, decision=r.decision, score=r.score,
        reasons=[x.get("code") for x in (r.reasons or []) if isinstance(x, dict)], promotion=r.promotion,
        created_at=_utc(r.created_at), state=r.state, action=r.action if r.acted else None,
        reviewer=r.reviewer if r.acted else None, acted_at=_utc(r.acted_at) if r.acted else None,
        claim_dir=r.claim_dir, extra=r.extra or {})


def queue(engine: Engine, f: QueueFilter | None = None) -> list[QueueRow]:
    """The claims (newest decision each), filtered and sorted as ``f`` says."""
    f = f or QueueFilter()
    with engine.connect() as conn:
        return [_row(r) for r in conn.execute(_filtered(f).limit(f.limit))]


def state_counts(engine: Engine) -> dict[str, int]:
    """Claims per state (every state present, zero where none)."""
    stmt, state, _rank, _promotion = _base()
    inner = stmt.subquery("q")
    with engine.connect() as conn:
        got = dict(conn.execute(select(inner.c.state, func.count()).group_by(inner.c.state)).all())
    return {s: int(got.get(s, 0)) for s in STATES}


def latest_decision(engine: Engine, claim_id: str) -> QueueRow | None:
    stmt, _state, _rank, _promotion = _base()
    with engine.connect() as conn:
        r = conn.execute(stmt.where(m.Decision.claim_id == claim_id)).first()
    return _row(r) if r is not None else None


def known_claim_dirs(engine: Engine) -> set[str]:
    """The claim folders some stored decision names (``claim_dir``)."""
    D = m.Decision
    col = D.extra["claim_dir"].as_string()
    with engine.connect() as conn:
        return {d for (d,) in conn.execute(select(col).where(col.is_not(None)).distinct()) if d}


def promotion_ids(engine: Engine) -> list[str]:
    D = m.Decision
    col = D.extra[("promotion", "promotion")].as_string()
    with engine.connect() as conn:
        return sorted({p for (p,) in conn.execute(select(col).where(col.is_not(None)).distinct()) if p})


def neighbours(engine: Engine, f: QueueFilter, claim_id: str) -> tuple[str | None, str | None]:
    """(previous, next) claim ids around ``claim_id`` in the queue as ``f`` orders it."""
    ids = [r.claim_id for r in queue(engine, f)]
    if claim_id not in ids:
        return None, (ids[0] if ids else None)
    i = ids.index(claim_id)
    return (ids[i - 1] if i > 0 else None), (ids[i + 1] if i + 1 < len(ids) else None)
