"""The claim store on SQLAlchemy: the ``ClaimStore`` protocol on a SQLite file or PostgreSQL,
plus the record of every decision run and of what reviewers did.

``record_claim`` checks and records in one transaction. Two
workers recording claims of the same promotion at once take turns: on PostgreSQL through a
transaction-scoped advisory lock per promotion (``pg_advisory_xact_lock``), on SQLite through
``BEGIN IMMEDIATE``. Whoever commits first is earlier; the other sees its serials, invoices
and claimant, so ``duplicate_serial``, ``duplicate_invoice`` and ``redeem_limit`` never let
both through.

>>> store = SqlClaimStore("sqlite://")
>>> store.record_claim("C-1", "p", "a@x.no", "a@x.no", ["S1"], ["sha256:ab"], "2020-03-20T10:00:00+00:00").is_new
True
>>> store.record_claim("C-2", "p", "b@x.no", "b@x.no", ["S1"], [], "2020-03-21T10:00:00+00:00").serials
{'S1': ('C-1',)}
>>> store.close()
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, or_, select, text, union_all, update
from sqlalchemy.exc import SQLAlchemyError

from ..errors import ClaimcheckError
from ..imagehash import band_keys, band_quorum, band_radius, phash_distance
from ..promotions.duplicates import DocumentIdentity
from ..promotions.store import ClaimIdConflict, Holder, NearDocument, PriorClaim, PriorUse
from . import models as m
from .engine import is_sqlite, make_engine, migrate

__all__ = ["SqlClaimStore", "StoreError", "SavedDecision", "SavedAction", "SavedLink"]

_DECISION_FIELDS = ("claim_id", "decision", "score", "reasons", "checks", "reward", "pipeline_version",
                    "config_hash")


class StoreError(ClaimcheckError):
    """The claim store's database failed (unreachable, locked too long, constraint broken)."""

    default_code = "CLAIM_STORE_UNAVAILABLE"


@dataclass(frozen=True)
class SavedDecision:
    """One stored decision run."""

    id: int
    claim_id: str
    decision: str
    pipeline_version: str
    config_hash: str
    created_at: dt.datetime
    record: dict
    """The decision as saved: the contract's fields and any added ones."""


@dataclass(frozen=True)
class SavedAction:
    """One stored reviewer action."""

    id: int
    claim_id: str
    reviewer: str
    action: str
    """'approve', 'reject' or 'request_info'."""
    reason_code: str | None
    message: str | None
    created_at: dt.datetime


@dataclass(frozen=True)
class SavedLink:
    """Two claims a duplicate rule put side by side."""

    claim_id: str
    """The claim whose check made the link (the later one)."""
    other_claim_id: str
    check: str
    reason: str | None
    detail: str | None
    created_at: dt.datetime


def _lock_key(promotion_id: str) -> int:
    """A signed 64-bit advisory-lock key per promotion (a collision only makes two promotions take turns)."""
    digest = hashlib.sha256(b"claimcheck:claims:" + promotion_id.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _split_fingerprint(fingerprint: str) -> tuple[str, str]:
    kind, sep, value = fingerprint.partition(":")
    if not sep or kind not in m.FINGERPRINT_KINDS or not value:
        raise ValueError(f"invoice fingerprint {fingerprint!r}: expected one of "
                         f"{', '.join(k + ':...' for k in m.FINGERPRINT_KINDS)}")
    return kind, value


def _utc(moment: dt.datetime) -> dt.datetime:
    # SQLite keeps no time zone; everything is written in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class SqlClaimStore:
    """A ClaimStore on any SQLAlchemy URL this project supports (see ``pipeline.db.engine.sql_url``).

    migrate_schema: bring the schema to the newest revision on open (``alembic upgrade head``).
    phash_max_distance: an invoice upload's image hash is near an earlier one that differs in at
    most this many bits (``[matching].invoice_phash_max_distance``); photo_phash_max_distance: the
    same for serial photos (``[duplicates].photo_phash_max_distance``). Fingerprints match exactly.
    max_near: at most this many near uploads (nearest first) are returned per upload.
    timeout_s: how long to wait for a connection, and for another writer's transaction on the
    same promotion (PostgreSQL) or the same file (SQLite) before failing with StoreError.
    """

    def __init__(self, url: str | Path, *, migrate_schema: bool = True, timeout_s: float = 30.0,
                 phash_max_distance: int = 10, photo_phash_max_distance: int = 10, max_near: int = 25) -> None:
        self.max_distance = {"invoice": phash_max_distance, "serial_photo": photo_phash_max_distance}
        self.max_near = max_near
        self.engine = make_engine(url, timeout_s=timeout_s)
        self._timeout_ms = max(1, round(timeout_s * 1000))
        if migrate_schema:
            migrate(self.engine)  # raises ConfigError: cannot open or migrate
        # One SQLite connection may be shared (a memory database): one call at a time in this process.
        self._lock = threading.Lock() if is_sqlite(self.engine) else None

    @contextmanager
    def _transaction(self, what: str) -> Iterator[Connection]:
        if self._lock is not None:
            self._lock.acquire()
        try:
            with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise StoreError(message=f"claim store {self.engine.url!r}: {what} failed: {exc}") from exc
        finally:
            if self._lock is not None:
                self._lock.release()

    # ------------------------------------------------------------------ the ClaimStore protocol

    def record_claim(self, claim_id: str, promotion_id: str, email: str | None, participant_key: str | None,
                     serials: Iterable[str], invoice_fingerprints: Iterable[str], decided_at: str, *,
                     claim_dir: str | None = None, documents: Iterable[DocumentIdentity] = ()) -> PriorUse:
        serials = sorted({s for s in serials if s})
        fingerprints = sorted({f for f in invoice_fingerprints if f})
        pairs = [_split_fingerprint(f) for f in fingerprints]
        documents = list(documents)
        for doc in documents:
            if doc.role not in self.max_distance:
                raise ValueError(f"document {doc.name!r}: unknown role {doc.role!r}")
            if doc.image_hash is not None and len(doc.image_hash) != 64:
                raise ValueError(f"document {doc.name!r}: image hash must be 64 hex digits")
        with self._transaction(f"recording claim {claim_id}") as conn:
            if conn.dialect.name == "postgresql":
                # Wait for the promotion's lock no longer than SQLite waits for its write lock.
                conn.execute(text("SELECT set_config('lock_timeout', :ms, true)"), {"ms": f"{self._timeout_ms}ms"})
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(promotion_id)})
            row = conn.execute(select(m.Claim.seq, m.Claim.released, m.Claim.participant_key, m.Claim.claim_dir)
                               .where(m.Claim.claim_id == claim_id).with_for_update()).first()
            if row is not None:
                holder = Holder(row.claim_dir, row.participant_key)
                why = holder.conflicts_with(claim_dir, participant_key)
                if why is not None:
                    raise ClaimIdConflict(claim_id, holder, why)  # the transaction records nothing
            if row is not None and row.released:
                conn.execute(delete(m.Claim).where(m.Claim.claim_id == claim_id))  # back of the queue
                row = None
            values = {"promotion_id": promotion_id, "email": email, "participant_key": participant_key,
                      "decided_at": decided_at}
            if claim_dir or row is None:
                values["claim_dir"] = claim_dir
            if row is None:
                seq = conn.execute(insert(m.Claim).values(claim_id=claim_id, released=False, **values)
                                   ).inserted_primary_key[0]
            else:
                seq = row.seq
                conn.execute(update(m.Claim).where(m.Claim.claim_id == claim_id).values(**values))
                conn.execute(delete(m.ClaimSerial).where(m.ClaimSerial.claim_id == claim_id))
                conn.execute(delete(m.InvoiceFingerprint).where(m.InvoiceFingerprint.claim_id == claim_id))
                mine = select(m.ClaimDocument.id).where(m.ClaimDocument.claim_id == claim_id)
                conn.execute(delete(m.ImageHashBand).where(m.ImageHashBand.doc_id.in_(mine)))
                conn.execute(delete(m.ClaimDocument).where(m.ClaimDocument.claim_id == claim_id))
            if serials:
                conn.execute(insert(m.ClaimSerial), [{"claim_id": claim_id, "serial": s} for s in serials])
            if pairs:
                conn.execute(insert(m.InvoiceFingerprint),
                             [{"claim_id": claim_id, "kind": k, "value": v} for k, v in pairs])
            self._insert_documents(conn, claim_id, promotion_id, documents)
            near = tuple(n for doc in documents for n in self._near(conn, seq, promotion_id, doc))
            return self._prior(conn, seq, promotion_id, email, participant_key, serials, pairs, near)

    @staticmethod
    def _insert_documents(conn: Connection, claim_id: str, promotion_id: str,
                          documents: list[DocumentIdentity]) -> None:
        """The claim's uploads and their band keys: two statements whatever their number (a round
        trip to PostgreSQL costs about a millisecond)."""
        if not documents:
            return
        D = m.ClaimDocument
        ids = conn.execute(insert(D).returning(D.id, sort_by_parameter_order=True),
                           [{"claim_id": claim_id, "name": d.name, "role": d.role, "image_hash": d.image_hash,
                             "identity": d.to_json()} for d in documents]).scalars().all()
        bands = [{"doc_id": doc_id, "key": k, "anchor": a} for doc_id, d in zip(ids, documents) if d.image_hash
                 for k in sorted(set(band_keys(d.image_hash, f"{promotion_id}\0{d.role}"))) for a in d.anchors()]
        if bands:
            conn.execute(insert(m.ImageHashBand), bands)

    def _near(self, conn: Connection, seq: int, promotion_id: str, doc: DocumentIdentity) -> list[NearDocument]:
        """Earlier uploads of the promotion whose image hash is within the role's distance of ``doc``'s,
        nearest first, through the band index; an upload with anchors (dates, serials read) is compared
        only with those sharing one or having none (``DocumentIdentity.anchors``)."""
        if not doc.image_hash:
            return []
        C, D, B = m.Claim, m.ClaimDocument, m.ImageHashBand
        limit = self.max_distance[doc.role]
        probes = sorted(set(band_keys(doc.image_hash, f"{promotion_id}\0{doc.role}", radius=band_radius(limit))))
        # Only the index (key, anchor, doc_id) is read to find the uploads sharing enough bands: one
        # seek per (key, anchor) pair (an IN list on both columns makes SQLite seek the key only).
        anchors = doc.anchors()
        if anchors == ("",):
            parts = [select(B.doc_id).where(B.key.in_(probes))]
        else:
            parts = [select(B.doc_id).where(B.key.in_(probes), B.anchor == a) for a in sorted({*anchors, ""})]
        every = parts[0] if len(parts) == 1 else union_all(*parts).subquery().select()
        column = every.selected_columns[0]
        sharing = every.with_only_columns(column).group_by(column).having(func.count() >= band_quorum(limit))
        query = (select(D.id, D.image_hash, C.seq).join(C, C.claim_id == D.claim_id)
                 .where(D.id.in_(sharing), D.role == doc.role, C.seq < seq, C.promotion_id == promotion_id,
                        C.released.is_(False)))
        near = sorted((d, other_seq, doc_id) for doc_id, value, other_seq in conn.execute(query)
                      if (d := phash_distance(doc.image_hash, value)) <= limit)[:self.max_near]
        if not near:
            return []
        rows = {r.id: r for r in conn.execute(select(D.id, D.claim_id, D.name, D.image_hash, D.identity)
                                              .where(D.id.in_([i for _, _, i in near])))}
        return [NearDocument(doc.name, rows[i].claim_id,
                             DocumentIdentity.from_json(rows[i].name, doc.role, rows[i].image_hash, rows[i].identity),
                             d) for d, _, i in near]

    def _prior(self, conn: Connection, seq: int, promotion_id: str, email: str | None,
               participant_key: str | None, serials: list[str], pairs: list[tuple[str, str]],
               near: tuple[NearDocument, ...] = ()) -> PriorUse:
        C = m.Claim
        earlier = (C.seq < seq, C.promotion_id == promotion_id, C.released.is_(False))

        serial_hits: dict[str, list[str]] = {}
        if serials:
            rows = conn.execute(select(m.ClaimSerial.serial, C.claim_id)
                                .join(C, C.claim_id == m.ClaimSerial.claim_id)
                                .where(*earlier, m.ClaimSerial.serial.in_(serials)).order_by(C.seq))
            for serial, cid in rows:
                serial_hits.setdefault(serial, []).append(cid)

        invoice_hits: dict[str, list[str]] = {}
        F = m.InvoiceFingerprint
        if pairs:
            rows = conn.execute(select(F.kind, F.value, C.claim_id).join(C, C.claim_id == F.claim_id)
                                .where(*earlier, or_(*(and_(F.kind == k, F.value == v) for k, v in pairs)))
                                .order_by(C.seq))
            for kind, value, cid in rows:
                invoice_hits.setdefault(f"{kind}:{value}", []).append(cid)

        def ids(column, value: str | None) -> tuple[str, ...]:
            if not value:
                return ()
            return tuple(conn.execute(select(C.claim_id).where(*earlier, column == value).order_by(C.seq))
                         .scalars())

        email_hits = ids(C.email, email)
        participant_hits = ids(C.participant_key, participant_key)
        every = {c for v in (*serial_hits.values(), *invoice_hits.values()) for c in v}
        every |= set(email_hits) | set(participant_hits) | {n.claim_id for n in near}
        claims: dict[str, PriorClaim] = {}
        if every:
            for cid, em, pk, at in conn.execute(select(C.claim_id, C.email, C.participant_key, C.decided_at)
                                                .where(C.claim_id.in_(sorted(every)))):
                claims[cid] = PriorClaim(cid, em, pk, at)
        return PriorUse({k: tuple(v) for k, v in serial_hits.items()},
                        {k: tuple(v) for k, v in invoice_hits.items()},
                        email_hits, participant_hits, claims, near)

    def claim_holder(self, claim_id: str) -> Holder | None:
        """Who holds ``claim_id`` here: the recorded claim (folder and claimant), else the folder of
        its newest stored decision; None when the store has never seen it."""
        C, D = m.Claim, m.Decision
        with self._transaction(f"looking up claim {claim_id}") as conn:
            row = conn.execute(select(C.claim_dir, C.participant_key).where(C.claim_id == claim_id)).first()
            folder = conn.execute(select(D.extra["claim_dir"].as_string()).where(D.claim_id == claim_id)
                                  .order_by(D.id.desc()).limit(1)).scalar()
        if row is None and folder is None:
            return None
        return Holder((row.claim_dir if row is not None else None) or folder,
                      row.participant_key if row is not None else None)

    def release_claim(self, claim_id: str) -> None:
        with self._transaction(f"releasing claim {claim_id}") as conn:
            conn.execute(update(m.Claim).where(m.Claim.claim_id == claim_id).values(released=True))

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ links between claims

    def set_links(self, claim_id: str, links: Iterable[tuple[str, str, str | None, str | None]]) -> None:
        """Replace the links ``claim_id``'s checks made: (other claim, check, reason, detail) each."""
        rows = [{"claim_id": claim_id, "other_claim_id": o, "check_name": c, "reason": r, "detail": d}
                for o, c, r, d in links]
        with self._transaction(f"linking claim {claim_id}") as conn:
            conn.execute(delete(m.ClaimLink).where(m.ClaimLink.claim_id == claim_id))
            if rows:
                conn.execute(insert(m.ClaimLink), rows)

    def links_for(self, claim_id: str) -> list[SavedLink]:
        """Every link made by or to ``claim_id``, oldest first."""
        L = m.ClaimLink
        with self._transaction(f"reading links of {claim_id}") as conn:
            rows = conn.execute(select(L.claim_id, L.other_claim_id, L.check_name, L.reason, L.detail, L.created_at)
                                .where(or_(L.claim_id == claim_id, L.other_claim_id == claim_id))
                                .order_by(L.id)).all()
        return [SavedLink(*r[:-1], _utc(r.created_at)) for r in rows]

    # ------------------------------------------------------------------ decisions and reviewers

    def save_decision(self, decision: Mapping[str, Any] | Any) -> int:
        """Keep one decision run (a ``Decision`` or its ``to_dict()``); returns its id. Runs are never replaced."""
        record = decision.to_dict() if hasattr(decision, "to_dict") else dict(decision)
        missing = [k for k in ("claim_id", "decision", "pipeline_version", "config_hash") if not record.get(k)]
        if missing:
            raise ValueError(f"decision without {', '.join(missing)}")
        # What is stored is what a decision.json holds: plain JSON.
        record = json.loads(json.dumps(record, default=str))
        row = {k: record.get(k) for k in _DECISION_FIELDS}
        row["reasons"] = row["reasons"] or []
        row["checks"] = row["checks"] or []
        row["extra"] = {k: v for k, v in record.items() if k not in _DECISION_FIELDS}
        with self._transaction(f"saving a decision for {record['claim_id']}") as conn:
            return conn.execute(insert(m.Decision).values(**row)).inserted_primary_key[0]

    def decisions_for(self, claim_id: str) -> list[SavedDecision]:
        """Every decision run for ``claim_id``, oldest first."""
        with self._transaction(f"reading decisions for {claim_id}") as conn:
            rows = conn.execute(select(m.Decision).where(m.Decision.claim_id == claim_id)
                                .order_by(m.Decision.id)).all()
        out = []
        for r in rows:
            record = {"claim_id": r.claim_id, "decision": r.decision, "score": r.score, "reasons": r.reasons,
                      "checks": r.checks, "reward": r.reward, "pipeline_version": r.pipeline_version,
                      "config_hash": r.config_hash, **(r.extra or {})}
            out.append(SavedDecision(r.id, r.claim_id, r.decision, r.pipeline_version, r.config_hash,
                                     _utc(r.created_at), record))
        return out

    def record_action(self, claim_id: str, reviewer: str, action: str, *, reason_code: str | None = None,
                      message: str | None = None) -> int:
        """Keep what a reviewer did (approve, reject, request_info); returns its id."""
        if action not in m.REVIEWER_ACTIONS:
            raise ValueError(f"reviewer action {action!r}: expected one of {', '.join(m.REVIEWER_ACTIONS)}")
        if not reviewer:
            raise ValueError("reviewer action without a reviewer")
        with self._transaction(f"recording a reviewer action for {claim_id}") as conn:
            return conn.execute(insert(m.ReviewerAction).values(
                claim_id=claim_id, reviewer=reviewer, action=action, reason_code=reason_code, message=message)
            ).inserted_primary_key[0]

    def actions_for(self, claim_id: str) -> list[SavedAction]:
        """Every reviewer action on ``claim_id``, oldest first."""
        A = m.ReviewerAction
        with self._transaction(f"reading reviewer actions for {claim_id}") as conn:
            rows = conn.execute(select(A.id, A.claim_id, A.reviewer, A.action, A.reason_code, A.message,
                                       A.created_at).where(A.claim_id == claim_id).order_by(A.id)).all()
        return [SavedAction(*r[:-1], _utc(r.created_at)) for r in rows]

    def approved_retailers(self, after: tuple[int, int] = (0, 0)) -> tuple[list[str], tuple[int, int]]:
        """The shops named by approved claims, as claimed, read since ``after`` (the marks this
        returned before: last decision id, last reviewer action id), and the new marks.

        A shop counts when the pipeline approved the claim with its retailer check passed (the name
        was found on the invoice), or when a reviewer approved the claim. The retailer check uses
        them to recognise a seller the alias file does not know (issue #16).
        """
        D, A = m.Decision, m.ReviewerAction
        last_decision, last_action = after
        names: list[str] = []
        with self._transaction("reading the shops of approved claims") as conn:
            for row_id, checks in conn.execute(select(D.id, D.checks).where(D.id > last_decision,
                                                                           D.decision == "approve")
                                               .order_by(D.id)):
                last_decision = max(last_decision, row_id)
                names += [c.get("expected") for c in checks or ()
                          if isinstance(c, dict) and c.get("name") == "retailer" and c.get("status") == "pass"]
            newest = conn.execute(select(func.max(D.id))).scalar() or 0
            last_decision = max(last_decision, newest)
            approved = conn.execute(select(A.id, A.claim_id).where(A.id > last_action, A.action == "approve")
                                    .order_by(A.id)).all()
            for action_id, claim_id in approved:
                last_action = max(last_action, action_id)
                checks = conn.execute(select(D.checks).where(D.claim_id == claim_id).order_by(D.id.desc())
                                      .limit(1)).scalar()
                names += [c.get("expected") for c in checks or ()
                          if isinstance(c, dict) and c.get("name") == "retailer" and c.get("status") != "skipped"]
        return [n for n in dict.fromkeys(names) if isinstance(n, str) and n.strip()], (last_decision, last_action)

    def __enter__(self) -> SqlClaimStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SqlClaimStore({self.engine.url!r})"
