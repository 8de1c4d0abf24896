"""The intake API (issue #14): uploaded claims and their way to a decision (api_claims), and
every webhook delivery attempt (webhook_attempts).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def _when(name: str, **kw) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), **kw)


def upgrade() -> None:
    op.create_table(
        "api_claims",
        sa.Column("seq", _SEQ, primary_key=True, autoincrement=True),
        sa.Column("claim_id", sa.String(200), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("token_name", sa.String(64), nullable=False),
        sa.Column("claim_dir", sa.Text(), nullable=False),
        sa.Column("files", _JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("response", _JSON, nullable=False),
        sa.Column("decision", _JSON),
        sa.Column("error", sa.Text()),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        _when("lease_until"),
        _when("started_at"),
        sa.Column("flow_run_id", sa.String(64)),
        sa.Column("webhook_state", sa.String(16)),
        _when("webhook_next_at"),
        _when("created_at", server_default=sa.func.current_timestamp(), nullable=False),
        _when("updated_at", server_default=sa.func.current_timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_api_claims"),
        sa.UniqueConstraint("claim_id", name="uq_api_claims_claim_id"),
        sa.UniqueConstraint("idempotency_key", name="uq_api_claims_idempotency_key"),
        sa.CheckConstraint("status IN ('queued', 'processing', 'decided', 'failed')", name="ck_api_claims_status"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_api_claims_status_lease", "api_claims", ["status", "lease_until"])
    op.create_index("ix_api_claims_webhook", "api_claims", ["webhook_state", "webhook_next_at"])
    op.create_index("ix_api_claims_updated_at", "api_claims", ["updated_at"])

    op.create_table(
        "webhook_attempts",
        sa.Column("id", _SEQ, primary_key=True, autoincrement=True),
        sa.Column("claim_id", sa.String(200), nullable=False),
        sa.Column("delivery_id", sa.String(64), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("status_code", sa.Integer()),
        sa.Column("error", sa.Text()),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        _when("created_at", server_default=sa.func.current_timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_attempts"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_webhook_attempts_claim_id", "webhook_attempts", ["claim_id"])


def downgrade() -> None:
    op.drop_table("webhook_attempts")
    op.drop_table("api_claims")
