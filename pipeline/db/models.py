"""The claim store's tables as SQLAlchemy 2 models: claims and what they used (serials,
invoice fingerprints), every decision run, and what reviewers did.

The schema itself is created by the Alembic migrations in ``migrations/``; these models
must match them (a test compares the two).

>>> sorted(Base.metadata.tables)  # doctest: +NORMALIZE_WHITESPACE
['api_claims', 'claim_documents', 'claim_links', 'claim_serials', 'claims', 'decisions', 'image_hash_bands',
 'invoice_fingerprints', 'invoice_word_counts', 'invoice_words', 'reviewer_actions', 'webhook_attempts']
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    false,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["Base", "Claim", "ClaimSerial", "InvoiceFingerprint", "Decision", "ReviewerAction", "ClaimDocument",
           "ImageHashBand", "InvoiceWord", "InvoiceWordCount", "SHOP_INVOICES", "ClaimLink", "ApiClaim",
           "WebhookAttempt", "FINGERPRINT_KINDS", "REVIEWER_ACTIONS", "API_STATUSES"]

FINGERPRINT_KINDS = ("sha256", "phash", "number")
"""'sha256:<hex>' the file's bytes, 'phash:<hex>' a perceptual hash of the image (near-duplicate
photos), 'number:<retailer>:<invoice number key>'."""

REVIEWER_ACTIONS = ("approve", "reject", "request_info")

API_STATUSES = ("queued", "processing", "decided", "failed")
"""An uploaded claim's way through the intake API (``pipeline.api``)."""

# SQLite only numbers rows without reuse with INTEGER PRIMARY KEY AUTOINCREMENT: a released
# claim recorded again must go behind every claim, so seq may never be handed out twice.
_SEQ = BigInteger().with_variant(Integer, "sqlite")
_JSON = JSON().with_variant(JSONB(), "postgresql")

# Named constraints so migrations can drop them by name on every backend.
_NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=_NAMING)
    type_annotation_map = {dict[str, Any]: _JSON, list[Any]: _JSON}


class Claim(Base):
    """One claim as the duplicate and limit rules count it."""

    __tablename__ = "claims"
    __table_args__ = (
        Index("ix_claims_promotion_email", "promotion_id", "email"),
        Index("ix_claims_promotion_participant", "promotion_id", "participant_key"),
        {"sqlite_autoincrement": True},
    )

    seq: Mapped[int] = mapped_column(_SEQ, primary_key=True, autoincrement=True)
    """Order recorded: a claim is 'earlier' than another when its seq is smaller."""
    claim_id: Mapped[str] = mapped_column(String(200), unique=True)
    promotion_id: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    participant_key: Mapped[str | None] = mapped_column(String(320))
    decided_at: Mapped[str | None] = mapped_column(String(64))
    """ISO time of the verification that recorded the claim, as the caller gave it."""
    claim_dir: Mapped[str | None] = mapped_column(Text)
    """The folder the claim was verified from (absolute), when it came from one: with
    ``participant_key``, who holds the claim_id (another folder or claimant is a conflict)."""
    released: Mapped[bool] = mapped_column(default=False, server_default=false())
    """Rejected or withdrawn: no longer counted."""
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now,
                                                     server_default=func.current_timestamp())


class ClaimSerial(Base):
    """A serial key (``serial_key``) a claim names."""

    __tablename__ = "claim_serials"

    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.claim_id", ondelete="CASCADE"), primary_key=True)
    serial: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)


class InvoiceFingerprint(Base):
    """One fingerprint of an invoice a claim uses; ``kind:value`` is the caller's key."""

    __tablename__ = "invoice_fingerprints"
    __table_args__ = (
        CheckConstraint("kind IN ('sha256', 'phash', 'number')", name="kind"),
        Index("ix_invoice_fingerprints_kind_value", "kind", "value"),
    )

    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.claim_id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(500), primary_key=True)


class ClaimDocument(Base):
    """One upload of a claim as the duplicate rules compare it (``DocumentIdentity``): its image
    hash and what it says (invoice numbers and dates read with confidence, hashed words)."""

    __tablename__ = "claim_documents"
    __table_args__ = (CheckConstraint("role IN ('invoice', 'serial_photo')", name="role"),
                      {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(_SEQ, primary_key=True, autoincrement=True)
    claim_id: Mapped[str] = mapped_column(ForeignKey("claims.claim_id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(500))
    role: Mapped[str] = mapped_column(String(16))
    image_hash: Mapped[str | None] = mapped_column(String(64))
    identity: Mapped[str | None] = mapped_column(Text)
    """``DocumentIdentity.to_json()``: numbers, dates, serials, word hashes."""


class ImageHashBand(Base):
    """The index of image hashes: one row per band of a document's hash (and per anchor).

    ``key`` is ``pipeline.imagehash.band_keys`` of the hash within promotion and role; ``anchor``
    is a date (invoice) or serial (photo) read with confidence, '' when not: a look-up for an
    upload with anchors asks only for its own and '' (``DocumentIdentity.anchors``)."""

    __tablename__ = "image_hash_bands"
    __table_args__ = (Index("ix_image_hash_bands_key_anchor", "key", "anchor", "doc_id"),)

    doc_id: Mapped[int] = mapped_column(ForeignKey("claim_documents.id", ondelete="CASCADE"), primary_key=True,
                                        index=True)
    key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    anchor: Mapped[str] = mapped_column(String(200), primary_key=True)


SHOP_INVOICES = -1
"""``InvoiceWordCount.word`` of the row counting the shop's invoices (word hashes are >= 0)."""


class InvoiceWordCount(Base):
    """How many invoices of one shop (in one promotion) show a word: which words are the shop's
    template (every invoice shows them) and which are rare there (a buyer's name, street, lines).
    ``key`` is ``pipeline.db.store.words_key`` of promotion and shop, ``word`` a ``word_hash`` as a
    number; the row of word ``SHOP_INVOICES`` counts the shop's invoices."""

    __tablename__ = "invoice_word_counts"

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    word: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    documents: Mapped[int] = mapped_column(Integer)


class InvoiceWord(Base):
    """The word index of invoices: (shop, word) -> the invoices showing it, kept only while the word
    is seen on at most ``[duplicates].rare_word_max_df`` invoices of the shop (a template word's
    list stops growing there: it is never looked up)."""

    __tablename__ = "invoice_words"

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    word: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    doc_id: Mapped[int] = mapped_column(ForeignKey("claim_documents.id", ondelete="CASCADE"), primary_key=True,
                                        index=True)


class ClaimLink(Base):
    """Two claims a duplicate rule put side by side (a possibly edited copy, an image match that
    could not be read): shown on both claims' pages."""

    __tablename__ = "claim_links"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(_SEQ, primary_key=True, autoincrement=True)
    claim_id: Mapped[str] = mapped_column(String(200), index=True)
    """The claim whose check made the link (the later one)."""
    other_claim_id: Mapped[str] = mapped_column(String(200), index=True)
    check_name: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now,
                                                    server_default=func.current_timestamp())


class Decision(Base):
    """One verification run's decision; every run is kept, tagged with what produced it."""

    __tablename__ = "decisions"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(_SEQ, primary_key=True, autoincrement=True)
    claim_id: Mapped[str] = mapped_column(String(200), index=True)
    decision: Mapped[str] = mapped_column(String(32))
    score: Mapped[float | None] = mapped_column(Float)
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    checks: Mapped[list[Any]] = mapped_column(default=list)
    reward: Mapped[dict[str, Any] | None] = mapped_column(_JSON)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """The decision's added fields (promotion facts, extracted values, timings)."""
    pipeline_version: Mapped[str] = mapped_column(String(64))
    config_hash: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now,
                                                    server_default=func.current_timestamp())


class ReviewerAction(Base):
    """What a person did with a claim after the pipeline's decision."""

    __tablename__ = "reviewer_actions"
    __table_args__ = (CheckConstraint("action IN ('approve', 'reject', 'request_info')", name="action"),
                      {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(_SEQ, primary_key=True, autoincrement=True)
    claim_id: Mapped[str] = mapped_column(String(200), index=True)
    reviewer: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(16))
    reason_code: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now,
                                                    server_default=func.current_timestamp())


class ApiClaim(Base):
    """A claim uploaded through the intake API (issue #14): where its files are, how far it got,
    the answer its upload was given (returned again to a retry) and its decision once decided."""

    __tablename__ = "api_claims"
    __table_args__ = (CheckConstraint("status IN ('queued', 'processing', 'decided', 'failed')", name="status"),
                      Index("ix_api_claims_status_lease", "status", "lease_until"),
                      Index("ix_api_claims_webhook", "webhook_state", "webhook_next_at"),
                      {"sqlite_autoincrement": True})

    seq: Mapped[int] = mapped_column(_SEQ, primary_key=True, autoincrement=True)
    """Order of arrival: the list's cursor."""
    claim_id: Mapped[str] = mapped_column(String(200), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    """The Idempotency-Key header, else the claim_id."""
    content_sha256: Mapped[str] = mapped_column(String(64))
    """Over the claim JSON as sent and each file's name and sha256: what makes a retry 'the same'."""
    token_name: Mapped[str] = mapped_column(String(64))
    claim_dir: Mapped[str] = mapped_column(Text)
    files: Mapped[dict[str, Any]] = mapped_column()
    """File name -> sha256 of its bytes."""
    status: Mapped[str] = mapped_column(String(16))
    response: Mapped[dict[str, Any]] = mapped_column()
    """The 202 body the first upload got."""
    decision: Mapped[dict[str, Any] | None] = mapped_column(_JSON)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Verification runs started (a run cut short by a crash is started again)."""
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    """While processing: the worker holding it renews this; past it, another worker may take the claim."""
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    """With a Prefect server: the verify_claim deployment's flow run."""
    webhook_state: Mapped[str | None] = mapped_column(String(16))
    """None (no webhook configured when decided), 'pending', 'delivered' or 'failed'."""
    webhook_next_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now,
                                                    server_default=func.current_timestamp())
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now,
                                                    server_default=func.current_timestamp(), index=True)


class WebhookAttempt(Base):
    """One try at delivering a claim's decision to the webhook URL."""

    __tablename__ = "webhook_attempts"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(_SEQ, primary_key=True, autoincrement=True)
    claim_id: Mapped[str] = mapped_column(String(200), index=True)
    delivery_id: Mapped[str] = mapped_column(String(64))
    """The same for every try of one delivery (the receiver's de-duplication key)."""
    attempt: Mapped[int] = mapped_column(Integer)
    url: Mapped[str] = mapped_column(Text)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now,
                                                    server_default=func.current_timestamp())
