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
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    String,
    Text,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from ..errors import ClaimcheckError
from ..imagehash import band_keys, band_quorum, band_radius, phash_distance
from ..promotions.duplicates import DocumentIdentity
from ..promotions.store import ClaimIdConflict, Holder, NearDocument, PriorClaim, PriorUse
from . import models as m
from .engine import is_sqlite, make_engine, migrate

__all__ = ["SqlClaimStore", "StoreError", "SavedDecision", "SavedAction", "SavedLink", "RareWords", "words_key"]

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


def _CLAIM_COLUMNS() -> tuple:  # noqa: N802 - a column list, built per statement
    C = m.Claim
    return (C.claim_id, C.seq, C.email, C.participant_key, C.decided_at)


def _DOC_COLUMNS() -> tuple:  # noqa: N802 - a column list, built per statement
    D = m.ClaimDocument
    return (D.id.label("doc_id"), D.name.label("doc_name"), D.image_hash.label("doc_hash"),
            D.identity.label("doc_identity"))


def _content_keys(doc: DocumentIdentity, promotion_id: str) -> list[int]:
    """Index keys of an invoice's content (``DocumentIdentity.content``: shop, date, total), in the
    band index's key space (a 64-bit hash of another scope: never equal to a band's key)."""
    return sorted({int.from_bytes(hashlib.blake2b(f"{promotion_id}\0content\0{c}".encode(), digest_size=8).digest(),
                                  "big", signed=True) for c in doc.content})


def _content_anchor(doc: DocumentIdentity) -> str:
    """'#' for an invoice whose number was read with confidence, '' for one whose number was not. An
    invoice with a number needs no content candidates that have one too: the same number is found
    exactly (shop + number), another number is another invoice."""
    return "#" if doc.numbers else ""


def _index_rows(doc: DocumentIdentity, promotion_id: str) -> list[tuple[int, str]]:
    """(key, anchor) rows of ``image_hash_bands`` for one upload: its hash's bands once per anchor,
    and its content keys (anchor ``_content_anchor``)."""
    rows = [(k, _content_anchor(doc)) for k in _content_keys(doc, promotion_id)]
    if doc.image_hash:
        rows += [(k, a) for k in sorted(set(band_keys(doc.image_hash, f"{promotion_id}\0{doc.role}")))
                 for a in doc.anchors()]
    return rows


@dataclass(frozen=True)
class RareWords:
    """When a word is rare at a shop, and how many rare words an earlier invoice must share with a
    new one to be compared with it (``[duplicates]`` rare_word_*, rare_words_*; see default.toml).

    A word is rare when at most ``max(min_df, share x the shop's invoices)`` earlier invoices of
    the shop show it, never more than ``max_df``; the word index keeps an invoice in a word's list
    only while the word's count is at most ``max_df`` (a template word's list stops growing)."""

    share: float
    min_df: int
    max_df: int
    shared: int
    asked: int

    @classmethod
    def from_config(cls, duplicates=None) -> RareWords:
        """From a ``DuplicatesConfig`` (None: the packaged configuration's)."""
        if duplicates is None:
            from ..config import load_config

            duplicates = load_config().duplicates
        return cls(duplicates.rare_word_share, duplicates.rare_word_min_df, duplicates.rare_word_max_df,
                   duplicates.rare_words_shared, duplicates.rare_words_asked)


def words_key(promotion_id: str, shop: str) -> int:
    """The word index's key of one shop in one promotion (a signed 64-bit hash)."""
    return int.from_bytes(hashlib.blake2b(f"{promotion_id}\0words\0{shop}".encode(), digest_size=8).digest(),
                          "big", signed=True)


def _word_rows(documents: Iterable[DocumentIdentity], promotion_id: str) -> list[tuple[str, int, int]]:
    """(document name, key, word) of every word of the invoices with a shop, and (name, key,
    ``SHOP_INVOICES``) once per invoice: what the word index counts and lists."""
    out = []
    for d in documents:
        if d.role == "invoice" and d.shop:
            key = words_key(promotion_id, d.shop)
            out += [(d.name, key, m.SHOP_INVOICES)] + [(d.name, key, int(w, 16)) for w in sorted(set(d.words))]
    return out


# The promotion's advisory lock, waited for no longer than ``timeout_s``: one statement (the select
# list is evaluated in order, so the timeout is set before the wait).
_PG_LOCK = text("SELECT set_config('lock_timeout', :ms, true), pg_advisory_xact_lock(:key)")

# A new claim and everything it used, in one statement (data-modifying CTEs; the foreign keys are
# checked at its end): on PostgreSQL a round trip costs ~0.5-2 ms, five inserts were five of them.
_PG_INSERT = text("""
WITH c AS (INSERT INTO claims (claim_id, promotion_id, email, participant_key, decided_at, claim_dir, released)
           VALUES (:claim_id, :promotion_id, :email, :participant_key, :decided_at, :claim_dir, false)
           RETURNING seq),
s AS (INSERT INTO claim_serials (claim_id, serial)
      SELECT :claim_id, x FROM unnest(CAST(:serials AS text[])) AS x),
f AS (INSERT INTO invoice_fingerprints (claim_id, kind, value)
      SELECT :claim_id, k, v FROM unnest(CAST(:kinds AS text[]), CAST(:fp_values AS text[])) AS t(k, v)),
d AS (INSERT INTO claim_documents (claim_id, name, role, image_hash, identity)
      SELECT :claim_id, n, r, h, i
      FROM unnest(CAST(:names AS text[]), CAST(:roles AS text[]), CAST(:hashes AS text[]),
                  CAST(:identities AS text[])) AS t(n, r, h, i)
      RETURNING id, name, role),
b AS (INSERT INTO image_hash_bands (doc_id, key, anchor)
      SELECT d.id, t.k, t.a FROM d
      JOIN unnest(CAST(:b_names AS text[]), CAST(:b_roles AS text[]), CAST(:b_keys AS bigint[]),
                  CAST(:b_anchors AS text[])) AS t(n, r, k, a) ON d.name = t.n AND d.role = t.r),
w AS (SELECT * FROM unnest(CAST(:w_names AS text[]), CAST(:w_keys AS bigint[]), CAST(:w_words AS bigint[]))
      AS t(n, k, w)),
wc AS (INSERT INTO invoice_word_counts (key, word, documents)
       SELECT k, w, count(*) FROM w GROUP BY k, w
       ON CONFLICT (key, word) DO UPDATE SET documents = invoice_word_counts.documents + EXCLUDED.documents
       RETURNING key, word, documents),
p AS (INSERT INTO invoice_words (key, word, doc_id)
      SELECT w.k, w.w, d.id FROM w JOIN d ON d.name = w.n AND d.role = 'invoice'
      JOIN wc ON wc.key = w.k AND wc.word = w.w
      WHERE w.w >= 0 AND wc.documents <= :max_df)
SELECT seq FROM c
""")


def _pg_insert_params(claim_id: str, values: dict, claim_dir: str | None, serials: list[str],
                      pairs: list[tuple[str, str]], documents: list[DocumentIdentity], promotion_id: str,
                      max_df: int) -> dict:
    bands = [(d.name, d.role, k, a) for d in documents for k, a in _index_rows(d, promotion_id)]
    words = _word_rows(documents, promotion_id)
    return {"claim_id": claim_id, **values, "claim_dir": claim_dir, "serials": serials,
            "w_names": [w[0] for w in words], "w_keys": [w[1] for w in words], "w_words": [w[2] for w in words],
            "max_df": max_df,
            "kinds": [k for k, _ in pairs], "fp_values": [v for _, v in pairs],
            "names": [d.name for d in documents], "roles": [d.role for d in documents],
            "hashes": [d.image_hash for d in documents], "identities": [d.to_json() for d in documents],
            "b_names": [b[0] for b in bands], "b_roles": [b[1] for b in bands],
            "b_keys": [b[2] for b in bands], "b_anchors": [b[3] for b in bands]}


class SqlClaimStore:
    """A ClaimStore on any SQLAlchemy URL this project supports (see ``pipeline.db.engine.sql_url``).

    migrate_schema: bring the schema to the newest revision on open (``alembic upgrade head``).
    phash_max_distance: an invoice upload's image hash is near an earlier one that differs in at
    most this many bits (``[matching].invoice_phash_max_distance``); photo_phash_max_distance: the
    same for serial photos (``[duplicates].photo_phash_max_distance``). Fingerprints match exactly.
    max_near: at most this many near uploads (nearest first) are returned per upload.
    rare_words: when a word is rare at a shop (``RareWords``; None: the packaged ``[duplicates]``).
    timeout_s: how long to wait for a connection, and for another writer's transaction on the
    same promotion (PostgreSQL) or the same file (SQLite) before failing with StoreError.
    """

    def __init__(self, url: str | Path, *, migrate_schema: bool = True, timeout_s: float = 30.0,
                 phash_max_distance: int = 10, photo_phash_max_distance: int = 10, max_near: int = 25,
                 rare_words: RareWords | None = None) -> None:
        self.max_distance = {"invoice": phash_max_distance, "serial_photo": photo_phash_max_distance}
        self.max_near = max_near
        self.rare_words = rare_words or RareWords.from_config()
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
            pg = conn.dialect.name == "postgresql"
            if pg:
                # Wait for the promotion's lock no longer than SQLite waits for its write lock (one round trip).
                conn.execute(_PG_LOCK, {"ms": f"{self._timeout_ms}ms", "key": _lock_key(promotion_id)})
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
            # Every look-up first, in one statement (earlier = recorded before this claim: a new claim
            # is behind all), then the writes: on PostgreSQL each statement is a round trip.
            prior = self._prior(conn, row.seq if row is not None else None, promotion_id, email, participant_key,
                                serials, pairs, documents)
            values = {"promotion_id": promotion_id, "email": email, "participant_key": participant_key,
                      "decided_at": decided_at}
            if row is None and pg and len({(d.role, d.name) for d in documents}) == len(documents):
                conn.execute(_PG_INSERT, _pg_insert_params(claim_id, values, claim_dir, serials, pairs, documents,
                                                           promotion_id, self.rare_words.max_df))
                return prior
            if claim_dir or row is None:
                values["claim_dir"] = claim_dir
            if row is None:
                conn.execute(insert(m.Claim).values(claim_id=claim_id, released=False, **values))
            else:
                mine = select(m.ClaimDocument.id).where(m.ClaimDocument.claim_id == claim_id)
                self._forget_words(conn, claim_id, mine)  # counted in the promotion it was recorded in
                conn.execute(update(m.Claim).where(m.Claim.claim_id == claim_id).values(**values))
                conn.execute(delete(m.ClaimSerial).where(m.ClaimSerial.claim_id == claim_id))
                conn.execute(delete(m.InvoiceFingerprint).where(m.InvoiceFingerprint.claim_id == claim_id))
                conn.execute(delete(m.ImageHashBand).where(m.ImageHashBand.doc_id.in_(mine)))
                conn.execute(delete(m.ClaimDocument).where(m.ClaimDocument.claim_id == claim_id))
            if serials:
                conn.execute(insert(m.ClaimSerial), [{"claim_id": claim_id, "serial": s} for s in serials])
            if pairs:
                conn.execute(insert(m.InvoiceFingerprint),
                             [{"claim_id": claim_id, "kind": k, "value": v} for k, v in pairs])
            self._insert_documents(conn, claim_id, promotion_id, documents)
            return prior

    @staticmethod
    def _forget_words(conn: Connection, claim_id: str, mine) -> None:
        """Take a claim's earlier invoices out of the word index before it is recorded again."""
        W = m.InvoiceWordCount
        rows = conn.execute(select(m.Claim.promotion_id, m.ClaimDocument.name, m.ClaimDocument.identity)
                            .join_from(m.ClaimDocument, m.Claim, m.Claim.claim_id == m.ClaimDocument.claim_id)
                            .where(m.ClaimDocument.claim_id == claim_id, m.ClaimDocument.role == "invoice")).all()
        counted = Counter((key, word) for promotion_id, name, identity in rows
                          for _, key, word in _word_rows([DocumentIdentity.from_json(name, "invoice", None, identity)],
                                                         promotion_id))
        if counted:
            conn.execute(update(W).where(W.key == bindparam("k"), W.word == bindparam("w"))
                         .values(documents=W.documents - bindparam("n")),
                         [{"k": k, "w": w, "n": n} for (k, w), n in counted.items()])
        conn.execute(delete(m.InvoiceWord).where(m.InvoiceWord.doc_id.in_(mine)))

    def _index_words(self, conn: Connection, ids: list[int], documents: list[DocumentIdentity],
                     promotion_id: str) -> None:
        """Count each invoice's words at its shop, and list the invoice under those seen on at most
        ``rare_words.max_df`` of the shop's invoices (three statements whatever the number of words)."""
        rows = _word_rows(documents, promotion_id)
        if not rows:
            return
        W, P = m.InvoiceWordCount, m.InvoiceWord
        counted = Counter((key, word) for _, key, word in rows)
        upsert = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(W)
        upsert = upsert.on_conflict_do_update(index_elements=[W.key, W.word],
                                              set_={"documents": W.documents + upsert.excluded.documents})
        conn.execute(upsert, [{"key": k, "word": w, "documents": n} for (k, w), n in counted.items()])
        keys = sorted({k for k, _ in counted})
        listed = {(k, w) for k, w in conn.execute(
            select(W.key, W.word).where(W.key.in_(keys), W.word.in_(sorted({w for _, w in counted if w >= 0})),
                                        W.documents <= self.rare_words.max_df))}
        doc_id = {d.name: i for i, d in zip(ids, documents) if d.role == "invoice"}
        postings = [{"key": k, "word": w, "doc_id": doc_id[name]} for name, k, w in rows if (k, w) in listed]
        if postings:
            conn.execute(insert(P), postings)

    def _insert_documents(self, conn: Connection, claim_id: str, promotion_id: str,
                          documents: list[DocumentIdentity]) -> None:
        """The claim's uploads and their index keys: two statements whatever their number."""
        if not documents:
            return
        D = m.ClaimDocument
        ids = conn.execute(insert(D).returning(D.id, sort_by_parameter_order=True),
                           [{"claim_id": claim_id, "name": d.name, "role": d.role, "image_hash": d.image_hash,
                             "identity": d.to_json()} for d in documents]).scalars().all()
        bands = [{"doc_id": doc_id, "key": k, "anchor": a} for doc_id, d in zip(ids, documents)
                 for k, a in _index_rows(d, promotion_id)]
        if bands:
            conn.execute(insert(m.ImageHashBand), bands)
        self._index_words(conn, ids, documents, promotion_id)

    def _near_part(self, earlier: list, promotion_id: str, index: int, doc: DocumentIdentity):
        """The look-up of earlier uploads whose image hash may be within the role's distance of ``doc``'s
        (sharing enough bands of the index), as one part of ``_prior``'s statement; an upload with
        anchors (dates, serials read) asks only for those sharing one or having none
        (``DocumentIdentity.anchors``). The full hashes are compared in Python."""
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
        return (select(literal("n").label("tag"), literal(str(index)).label("key"), *_CLAIM_COLUMNS(),
                       *_DOC_COLUMNS())
                .join_from(D, C, C.claim_id == D.claim_id)
                .where(D.id.in_(sharing), D.role == doc.role, *earlier))

    def _content_part(self, earlier: list, promotion_id: str, index: int, doc: DocumentIdentity):
        """The look-up of earlier invoices with the same content key (shop, date, total), newest first,
        at most ``max_near``, as one part of ``_prior``'s statement: for an invoice whose number was
        read, only those whose number was not (``_content_anchor``)."""
        C, D, B = m.Claim, m.ClaimDocument, m.ImageHashBand
        anchors = [""] if doc.numbers else ["", "#"]
        found = (select(literal("c").label("tag"), literal(str(index)).label("key"), *_CLAIM_COLUMNS(),
                        *_DOC_COLUMNS())
                 .join_from(B, D, D.id == B.doc_id).join(C, C.claim_id == D.claim_id)
                 .where(B.key.in_(_content_keys(doc, promotion_id)), B.anchor.in_(anchors), D.role == "invoice",
                        *earlier)
                 .order_by(D.id.desc()).limit(self.max_near))
        return found.subquery().select()

    def _words_part(self, earlier: list, promotion_id: str, index: int, doc: DocumentIdentity):
        """The look-up of earlier invoices of ``doc``'s shop sharing at least ``rare_words.shared`` of
        its confident words that are rare at the shop (``RareWords``), most shared first, at most
        ``max_near``, as one part of ``_prior``'s statement: the shop's invoice count and its words'
        counts (primary-key seeks), then the lists of the rarest ``rare_words.asked`` words only
        (each at most ``max_df`` long). Its key column is 'index/shared'."""
        C, D, W, P = m.Claim, m.ClaimDocument, m.InvoiceWordCount, m.InvoiceWord
        rule = self.rare_words
        key = words_key(promotion_id, doc.shop)
        invoices = (select(W.documents).where(W.key == key, W.word == m.SHOP_INVOICES)
                    .scalar_subquery())
        share = func.coalesce(invoices, 0) * rule.share
        limit = case((share < rule.min_df, rule.min_df), (share > rule.max_df, rule.max_df), else_=share)
        rare = (select(W.word).where(W.key == key, W.word.in_(sorted({int(w, 16) for w in doc.sure_words})),
                                     W.documents <= limit)
                .order_by(W.documents, W.word).limit(rule.asked))
        shared = func.count().label("shared")
        sharing = (select(P.doc_id, shared).where(P.key == key, P.word.in_(rare.scalar_subquery()))
                   .group_by(P.doc_id).having(func.count() >= rule.shared).subquery())
        found = (select(literal("w").label("tag"),
                        (literal(f"{index}/") + cast(sharing.c.shared, String)).label("key"), *_CLAIM_COLUMNS(),
                        *_DOC_COLUMNS())
                 .join_from(sharing, D, D.id == sharing.c.doc_id).join(C, C.claim_id == D.claim_id)
                 .where(D.role == "invoice", *earlier)
                 .order_by(sharing.c.shared.desc(), D.id.desc()).limit(self.max_near))
        return found.subquery().select()

    def _prior(self, conn: Connection, seq: int | None, promotion_id: str, email: str | None,
               participant_key: str | None, serials: list[str], pairs: list[tuple[str, str]],
               documents: list[DocumentIdentity]) -> PriorUse:
        """What claims of the promotion recorded before ``seq`` (None: any) used: one statement, a
        UNION ALL of index look-ups (serials, invoice fingerprints, email, participant, look-alike
        uploads), each row with its claim's claimant."""
        C, F = m.Claim, m.InvoiceFingerprint
        earlier = [C.promotion_id == promotion_id, C.released.is_(False)]
        if seq is not None:
            earlier.append(C.seq < seq)
        no_doc = (cast(null(), BigInteger).label("doc_id"), cast(null(), String).label("doc_name"),
                  cast(null(), String).label("doc_hash"), cast(null(), Text).label("doc_identity"))

        def part(tag: str, key, source=None, *where):
            query = select(literal(tag).label("tag"), key.label("key"), *_CLAIM_COLUMNS(), *no_doc)
            if source is not None:
                query = query.join_from(source, C, C.claim_id == source.claim_id)
            return query.where(*where, *earlier)

        parts = []
        if serials:
            parts.append(part("s", m.ClaimSerial.serial, m.ClaimSerial, m.ClaimSerial.serial.in_(serials)))
        if pairs:
            same = or_(*(and_(F.kind == k, F.value == v) for k, v in pairs))
            parts.append(part("i", F.kind + ":" + F.value, F, same))
        if email:
            parts.append(part("e", literal(""), None, C.email == email))
        if participant_key:
            parts.append(part("p", literal(""), None, C.participant_key == participant_key))
        parts += [self._near_part(earlier, promotion_id, i, d) for i, d in enumerate(documents) if d.image_hash]
        parts += [self._content_part(earlier, promotion_id, i, d) for i, d in enumerate(documents)
                  if d.content and d.role == "invoice"]
        parts += [self._words_part(earlier, promotion_id, i, d) for i, d in enumerate(documents)
                  if d.shop and d.sure_words and d.role == "invoice"]
        if not parts:
            return PriorUse()
        query = parts[0] if len(parts) == 1 else union_all(*parts)
        rows = conn.execute(query.order_by(text("seq"))).all()

        serial_hits: dict[str, list[str]] = {}
        invoice_hits: dict[str, list[str]] = {}
        email_hits: list[str] = []
        participant_hits: list[str] = []
        near_rows: dict[int, list] = {}
        content_rows: dict[int, list] = {}
        word_rows: dict[int, list] = {}
        claims: dict[str, PriorClaim] = {}
        for r in rows:
            claims[r.claim_id] = PriorClaim(r.claim_id, r.email, r.participant_key, r.decided_at)
            if r.tag == "s":
                serial_hits.setdefault(r.key, []).append(r.claim_id)
            elif r.tag == "i":
                invoice_hits.setdefault(r.key, []).append(r.claim_id)
            elif r.tag == "e":
                email_hits.append(r.claim_id)
            elif r.tag == "p":
                participant_hits.append(r.claim_id)
            elif r.tag == "w":
                index, _, shared = r.key.partition("/")
                word_rows.setdefault(int(index), []).append((int(shared), r))
            else:
                (near_rows if r.tag == "n" else content_rows).setdefault(int(r.key), []).append(r)
        near: list[NearDocument] = []
        for index, found in sorted(near_rows.items()):
            doc = documents[index]
            limit = self.max_distance[doc.role]
            close = sorted((d, r.seq, r.doc_id, r) for r in found
                           if (d := phash_distance(doc.image_hash, r.doc_hash)) <= limit)[:self.max_near]
            near += [NearDocument(doc.name, r.claim_id,
                                  DocumentIdentity.from_json(r.doc_name, doc.role, r.doc_hash, r.doc_identity), d)
                     for d, _, _, r in close]
        seen = {(n.document, n.other.name, n.claim_id) for n in near}
        found_by = [(index, [(0, r) for r in found], "content") for index, found in sorted(content_rows.items())]
        found_by += [(index, sorted(found, key=lambda x: (-x[0], -x[1].doc_id)), "words")
                     for index, found in sorted(word_rows.items())]
        for index, found, how in found_by:
            doc = documents[index]
            for shared, r in found:
                if (doc.name, r.doc_name, r.claim_id) not in seen:
                    seen.add((doc.name, r.doc_name, r.claim_id))
                    d = phash_distance(doc.image_hash, r.doc_hash) if doc.image_hash and r.doc_hash else -1
                    near.append(NearDocument(doc.name, r.claim_id,
                                             DocumentIdentity.from_json(r.doc_name, "invoice", r.doc_hash,
                                                                        r.doc_identity), d, how, shared))
        used = {c for v in (*serial_hits.values(), *invoice_hits.values()) for c in v}
        used |= set(email_hits) | set(participant_hits) | {n.claim_id for n in near}
        return PriorUse({k: tuple(v) for k, v in serial_hits.items()},
                        {k: tuple(v) for k, v in invoice_hits.items()},
                        tuple(email_hits), tuple(participant_hits),
                        {c: p for c, p in claims.items() if c in used}, tuple(near))

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
