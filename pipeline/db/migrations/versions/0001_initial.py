"""The claim store: claims, their serials and invoice fingerprints, decisions, reviewer actions.

Revision ID: 0001
Revises:
Create Date: 2025-06-01
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _created_at() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.current_timestamp(),
                     nullable=False)


def upgrade() -> None:
    op.create_table(
        "claims",
        sa.Column("seq", _SEQ, primary_key=True, autoincrement=True),
        sa.Column("claim_id", sa.String(200), nullable=False),
        sa.Column("promotion_id", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320)),
        sa.Column("participant_key", sa.String(320)),
        sa.Column("decided_at", sa.String(64)),
        sa.Column("released", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.func.current_timestamp(),
                  nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_claims"),
        sa.UniqueConstraint("claim_id", name="uq_claims_claim_id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_claims_promotion_email", "claims", ["promotion_id", "email"])
    op.create_index("ix_claims_promotion_participant", "claims", ["promotion_id", "participant_key"])

    op.create_table(
        "claim_serials",
        sa.Column("claim_id", sa.String(200), nullable=False),
        sa.Column("serial", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("claim_id", "serial", name="pk_claim_serials"),
        sa.ForeignKeyConstraint(["claim_id"], ["claims.claim_id"], ondelete="CASCADE",
                                name="fk_claim_serials_claim_id_claims"),
    )
    op.create_index("ix_claim_serials_serial", "claim_serials", ["serial"])

    op.create_table(
        "invoice_fingerprints",
        sa.Column("claim_id", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(500), nullable=False),
        sa.PrimaryKeyConstraint("claim_id", "kind", "value", name="pk_invoice_fingerprints"),
        sa.ForeignKeyConstraint(["claim_id"], ["claims.claim_id"], ondelete="CASCADE",
                                name="fk_invoice_fingerprints_claim_id_claims"),
        sa.CheckConstraint("kind IN ('sha256', 'phash', 'number')", name="ck_invoice_fingerprints_kind"),
    )
    op.create_index("ix_invoice_fingerprints_kind_value", "invoice_fingerprints", ["kind", "value"])

    op.create_table(
        "decisions",
        sa.Column("id", _SEQ, primary_key=True, autoincrement=True),
        sa.Column("claim_id", sa.String(200), nullable=False),
        sa.Column("decision", sa.String(32), nullable=False),
        sa.Column("score", sa.Float()),
        sa.Column("reasons", _JSON, nullable=False),
        sa.Column("checks", _JSON, nullable=False),
        sa.Column("reward", _JSON),
        sa.Column("extra", _JSON, nullable=False),
        sa.Column("pipeline_version", sa.String(64), nullable=False),
        sa.Column("config_hash", sa.String(100), nullable=False),
        _created_at(),
        sa.PrimaryKeyConstraint("id", name="pk_decisions"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_decisions_claim_id", "decisions", ["claim_id"])

    op.create_table(
        "reviewer_actions",
        sa.Column("id", _SEQ, primary_key=True, autoincrement=True),
        sa.Column("claim_id", sa.String(200), nullable=False),
        sa.Column("reviewer", sa.String(200), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("reason_code", sa.String(64)),
        sa.Column("message", sa.Text()),
        _created_at(),
        sa.PrimaryKeyConstraint("id", name="pk_reviewer_actions"),
        sa.CheckConstraint("action IN ('approve', 'reject', 'request_info')", name="ck_reviewer_actions_action"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_reviewer_actions_claim_id", "reviewer_actions", ["claim_id"])


def downgrade() -> None:
    op.drop_table("reviewer_actions")
    op.drop_table("decisions")
    op.drop_table("invoice_fingerprints")
    op.drop_table("claim_serials")
    op.drop_table("claims")
