"""The claims already seen, for the duplicate and limit rules: a small interface and an
embedded SQLite implementation (stdlib ``sqlite3``).

``record_claim`` checks and records in one transaction (``BEGIN IMMEDIATE``: a second
writer waits), so two processes recording the same serial at once cannot both be first.
It returns what *earlier* claims of the same promotion used: earlier means recorded first.
Re-verifying a claim keeps its place, so it never becomes a duplicate of itself nor of a
claim recorded after it. ``release_claim`` takes a claim out of the counts (it was rejected
or withdrawn); recorded again later, it goes to the back of the queue.

Serials and invoice fingerprints are stored as given: callers pass comparable keys
(``serial_key``; ``sha256:...``, ``number:<retailer>:<number>``).

>>> store = SqliteClaimStore(":memory:")
>>> store.record_claim("C-1", "p", "a@x.no", "a@x.no", ["S1"], ["sha256:ab"], "2020-03-20T10:00:00+00:00").is_new
True
>>> store.record_claim("C-2", "p", "b@x.no", "b@x.no", ["S1"], [], "2020-03-21T10:00:00+00:00").serials
{'S1': ('C-1',)}
"""
from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from ..errors import ConfigError

__all__ = ["ClaimStore", "PriorUse", "PriorClaim", "SqliteClaimStore", "open_store", "default_store_path",
           "ENV_STORE"]

ENV_STORE = "CLAIMCHECK_STORE"


@dataclass(frozen=True)
class PriorClaim:
    claim_id: str
    email: str | None
    participant_key: str | None
    decided_at: str | None


@dataclass(frozen=True)
class PriorUse:
    """What claims recorded before this one (other claim ids, same promotion) used."""

    serials: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Serial key -> earlier claim ids that named it."""
    invoices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Invoice fingerprint -> earlier claim ids that used it."""
    email_claims: tuple[str, ...] = ()
    """Earlier claims from the same email."""
    participant_claims: tuple[str, ...] = ()
    """Earlier claims from the same participant."""
    claims: Mapping[str, PriorClaim] = field(default_factory=dict)
    """Every claim id above, with who made it."""

    @property
    def is_new(self) -> bool:
        return not (self.serials or self.invoices or self.email_claims or self.participant_claims)


@runtime_checkable
class ClaimStore(Protocol):
    """Where claims are remembered. Small on purpose: a PostgreSQL implementation only has to
    do these three things, each in one transaction."""

    def record_claim(self, claim_id: str, promotion_id: str, email: str | None, participant_key: str | None,
                     serials: Iterable[str], invoice_fingerprints: Iterable[str], decided_at: str) -> PriorUse:
        """Record (or re-record) a claim and return what earlier claims used, atomically."""
        ...

    def release_claim(self, claim_id: str) -> None:
        """Stop counting a claim (rejected, withdrawn): its serials and invoice become free."""
        ...

    def close(self) -> None:
        ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS claims (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    claim_id TEXT NOT NULL UNIQUE,
    promotion_id TEXT NOT NULL,
    email TEXT,
    participant_key TEXT,
    decided_at TEXT,
    released INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS claims_email ON claims (promotion_id, email);
CREATE INDEX IF NOT EXISTS claims_participant ON claims (promotion_id, participant_key);
CREATE TABLE IF NOT EXISTS claim_serials (
    claim_id TEXT NOT NULL REFERENCES claims (claim_id) ON DELETE CASCADE,
    serial TEXT NOT NULL,
    PRIMARY KEY (claim_id, serial)
);
CREATE INDEX IF NOT EXISTS claim_serials_serial ON claim_serials (serial);
CREATE TABLE IF NOT EXISTS claim_invoices (
    claim_id TEXT NOT NULL REFERENCES claims (claim_id) ON DELETE CASCADE,
    fingerprint TEXT NOT NULL,
    PRIMARY KEY (claim_id, fingerprint)
);
CREATE INDEX IF NOT EXISTS claim_invoices_fp ON claim_invoices (fingerprint);
"""


class SqliteClaimStore:
    """A ClaimStore in one SQLite file, safe for several processes on one machine.

    timeout_s: how long a writer waits for another's transaction before giving up.
    """

    def __init__(self, path: str | Path, *, timeout_s: float = 30.0) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).expanduser().parent.mkdir(parents=True, exist_ok=True)
            self.path = str(Path(self.path).expanduser())
        try:
            # autocommit mode (isolation_level=None): transactions are begun explicitly below.
            self._db = sqlite3.connect(self.path, timeout=timeout_s, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA foreign_keys = ON")
            if self.path != ":memory:":
                self._db.execute("PRAGMA journal_mode = WAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise ConfigError(message=f"claim store {self.path}: cannot open: {exc}") from exc
        self._lock = threading.Lock()

    def record_claim(self, claim_id: str, promotion_id: str, email: str | None, participant_key: str | None,
                     serials: Iterable[str], invoice_fingerprints: Iterable[str], decided_at: str) -> PriorUse:
        serials = sorted({s for s in serials if s})
        fingerprints = sorted({f for f in invoice_fingerprints if f})
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute("SELECT seq, released FROM claims WHERE claim_id = ?", (claim_id,)).fetchone()
                if row is not None and row[1]:
                    db.execute("DELETE FROM claims WHERE claim_id = ?", (claim_id,))  # back of the queue
                    row = None
                if row is None:
                    seq = db.execute(
                        "INSERT INTO claims (claim_id, promotion_id, email, participant_key, decided_at)"
                        " VALUES (?, ?, ?, ?, ?)", (claim_id, promotion_id, email, participant_key, decided_at)
                    ).lastrowid
                else:
                    seq = row[0]
                    db.execute("UPDATE claims SET promotion_id = ?, email = ?, participant_key = ?, decided_at = ?"
                               " WHERE claim_id = ?", (promotion_id, email, participant_key, decided_at, claim_id))
                    db.execute("DELETE FROM claim_serials WHERE claim_id = ?", (claim_id,))
                    db.execute("DELETE FROM claim_invoices WHERE claim_id = ?", (claim_id,))
                db.executemany("INSERT INTO claim_serials (claim_id, serial) VALUES (?, ?)",
                               [(claim_id, s) for s in serials])
                db.executemany("INSERT INTO claim_invoices (claim_id, fingerprint) VALUES (?, ?)",
                               [(claim_id, f) for f in fingerprints])
                prior = self._prior(seq, promotion_id, email, participant_key, serials, fingerprints)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return prior

    def _prior(self, seq: int, promotion_id: str, email: str | None, participant_key: str | None,
               serials: list[str], fingerprints: list[str]) -> PriorUse:
        earlier = "c.seq < ? AND c.promotion_id = ? AND c.released = 0"

        def grouped(table: str, column: str, values: list[str]) -> dict[str, tuple[str, ...]]:
            if not values:
                return {}
            marks = ",".join("?" * len(values))
            rows = self._db.execute(
                f"SELECT t.{column}, c.claim_id FROM {table} t JOIN claims c ON c.claim_id = t.claim_id"
                f" WHERE {earlier} AND t.{column} IN ({marks}) ORDER BY c.seq", (seq, promotion_id, *values))
            out: dict[str, list[str]] = {}
            for value, cid in rows:
                out.setdefault(value, []).append(cid)
            return {k: tuple(v) for k, v in out.items()}

        def ids(column: str, value: str | None) -> tuple[str, ...]:
            if not value:
                return ()
            rows = self._db.execute(f"SELECT c.claim_id FROM claims c WHERE {earlier} AND c.{column} = ?"
                                    " ORDER BY c.seq", (seq, promotion_id, value))
            return tuple(r[0] for r in rows)

        serial_hits = grouped("claim_serials", "serial", serials)
        invoice_hits = grouped("claim_invoices", "fingerprint", fingerprints)
        email_hits = ids("email", email)
        participant_hits = ids("participant_key", participant_key)
        every = {c for v in (*serial_hits.values(), *invoice_hits.values()) for c in v}
        every |= set(email_hits) | set(participant_hits)
        claims: dict[str, PriorClaim] = {}
        if every:
            marks = ",".join("?" * len(every))
            for cid, em, pk, at in self._db.execute(
                    f"SELECT claim_id, email, participant_key, decided_at FROM claims WHERE claim_id IN ({marks})",
                    tuple(every)):
                claims[cid] = PriorClaim(cid, em, pk, at)
        return PriorUse(serial_hits, invoice_hits, email_hits, participant_hits, claims)

    def release_claim(self, claim_id: str) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("UPDATE claims SET released = 1 WHERE claim_id = ?", (claim_id,))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> SqliteClaimStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SqliteClaimStore({self.path!r})"


def default_store_path() -> Path:
    """``$CLAIMCHECK_STORE``, else ``$XDG_DATA_HOME/claimcheck/claims.sqlite3`` (``~/.local/share``)."""
    env = os.environ.get(ENV_STORE)
    if env:
        return Path(_sqlite_path(env)).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "claimcheck" / "claims.sqlite3"


def _sqlite_path(url: str) -> str:
    """A path from 'sqlite:///relative.db', 'sqlite:////abs/path.db', 'sqlite://' (memory) or a plain path."""
    if url.startswith("sqlite://"):
        rest = url[len("sqlite://"):]
        if rest in ("", "/", "/:memory:"):
            return ":memory:"
        return rest[1:] if rest.startswith("/") else rest
    if "://" in url:
        scheme = url.split("://", 1)[0]
        raise ConfigError(message=f"claim store {url!r}: {scheme} is not supported yet; use sqlite:///PATH or a path")
    return url


def open_store(url: str | None = None) -> ClaimStore:
    """The claim store at ``url``: 'sqlite:///path', a plain path, or 'postgresql://...' (SQLAlchemy,
    migrated with Alembic on open); else the default SQLite file."""
    text = str(url or "").strip()
    if not text:
        return SqliteClaimStore(default_store_path())
    if text.split("://", 1)[0].split("+", 1)[0].lower() in ("postgresql", "postgres"):
        from ..db import open_sql_store  # SQLAlchemy only when a database server is asked for

        return open_sql_store(text)
    return SqliteClaimStore(_sqlite_path(text))
