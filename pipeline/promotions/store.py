"""The claims already seen, for the duplicate and limit rules: the small ``ClaimStore``
interface and what it answers (``PriorUse``); ``pipeline.db.open_store`` opens one.

The one implementation is ``pipeline.db.SqlClaimStore`` (SQLAlchemy 2, schema migrated with
Alembic): an SQLite file by default, PostgreSQL by URL. ``record_claim`` checks and records
in one transaction, so two processes recording the same serial at once cannot both be first.
It returns what *earlier* claims of the same promotion used: earlier means recorded first.
Re-verifying a claim keeps its place, so it never becomes a duplicate of itself nor of a
claim recorded after it; a claim_id already held by another claim folder or claimant is a
``ClaimIdConflict`` (nothing recorded), never a re-verification. ``release_claim`` takes a
claim out of the counts (it was rejected or withdrawn); recorded again later, it goes to the
back of the queue.

Serials and invoice fingerprints are stored as given: callers pass comparable keys
(``serial_key``; ``sha256:...``, ``number:<retailer>:<number>``; ``phash:...`` kept by older
versions matches only exactly). Uploads that may only *look* like earlier ones are passed as
``documents`` (``DocumentIdentity``: image hash and what the upload says): the store finds the
earlier ones whose image hash is near (an index, not a scan) and returns them in
``PriorUse.documents``; the duplicate rules decide from what both say.

>>> from pipeline.db import open_store
>>> store = open_store("sqlite://")
>>> store.record_claim("C-1", "p", "a@x.no", "a@x.no", ["S1"], ["sha256:ab"], "2020-03-20T10:00:00+00:00").is_new
True
>>> store.record_claim("C-2", "p", "b@x.no", "b@x.no", ["S1"], [], "2020-03-21T10:00:00+00:00").serials
{'S1': ('C-1',)}
>>> store.close()
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ..errors import ClaimcheckError, ConfigError

if TYPE_CHECKING:
    from .duplicates import DocumentIdentity

# Opening a store (``open_store``, ``store_url``) is ``pipeline.db``'s: the SQL store implements this
# interface, so it comes after it in the stage order (tests/test_import_graph.py).
__all__ = ["ClaimStore", "PriorUse", "PriorClaim", "NearDocument", "ClaimIdConflict", "Holder",
           "default_store_path", "ENV_STORE"]

ENV_STORE = "CLAIMCHECK_STORE"


@dataclass(frozen=True)
class PriorClaim:
    claim_id: str
    email: str | None
    participant_key: str | None
    decided_at: str | None


@dataclass(frozen=True)
class NearDocument:
    """An earlier claim's upload whose image hash is near one of this claim's."""

    document: str
    """This claim's document (its name)."""
    claim_id: str
    """The earlier claim."""
    other: DocumentIdentity
    """What the earlier upload says (its name, role, hash, numbers, dates, word hashes)."""
    distance: int
    """Bits between the two image hashes (-1: not both hashed)."""
    how: str = "image"
    """How it was found: 'image' (its hash is near), 'content' (the same shop, date and total read:
    ``DocumentIdentity.content``) or 'words' (words rare at the claimed shop that both show:
    ``DocumentIdentity.shop``)."""
    shared_words: int = 0
    """Found by 'words': how many rare words both show."""


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
    documents: tuple[NearDocument, ...] = ()
    """Earlier uploads that look like this claim's (nearest first), to be compared by content."""

    @property
    def is_new(self) -> bool:
        return not (self.serials or self.invoices or self.email_claims or self.participant_claims or self.documents)


@dataclass(frozen=True)
class Holder:
    """Who holds a claim_id in a store: the folder it was verified from and its claimant, where known."""

    claim_dir: str | None
    participant_key: str | None

    def conflicts_with(self, claim_dir: str | None, participant_key: str | None) -> str | None:
        """Why a claim from ``claim_dir`` by ``participant_key`` is not the holder (None: it is, as far as
        anything known tells: an unknown folder or claimant is no evidence of another claim)."""
        if self.participant_key and participant_key and self.participant_key != participant_key:
            return "another claimant"
        if self.claim_dir and claim_dir and self.claim_dir != claim_dir:
            return f"the claim in {self.claim_dir}"
        return None


class ClaimIdConflict(ClaimcheckError):
    """A claim_id already held by another claim (another folder or claimant): recording it would
    replace that claim's serials and invoices, so nothing is recorded."""

    default_code = "CLAIM_ID_CONFLICT"

    def __init__(self, claim_id: str, holder: Holder, why: str) -> None:
        super().__init__("CLAIM_ID_CONFLICT", f"The claim_id {claim_id} is already held by {why}.")
        self.claim_id, self.holder, self.why = claim_id, holder, why


@runtime_checkable
class ClaimStore(Protocol):
    """Where claims are remembered. Small on purpose: an implementation only has to do these
    three things, each in one transaction (``SqlClaimStore`` also keeps every decision run)."""

    def record_claim(self, claim_id: str, promotion_id: str, email: str | None, participant_key: str | None,
                     serials: Iterable[str], invoice_fingerprints: Iterable[str], decided_at: str, *,
                     claim_dir: str | None = None, documents: Iterable[DocumentIdentity] = ()) -> PriorUse:
        """Record (or re-record) a claim and return what earlier claims used, atomically. A claim_id
        held by another folder or claimant raises ClaimIdConflict and records nothing."""
        ...

    def release_claim(self, claim_id: str) -> None:
        """Stop counting a claim (rejected, withdrawn): its serials and invoice become free."""
        ...

    def close(self) -> None:
        ...


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
