"""Reused invoices found by what they say (issue #17): the words of each shop's invoices and how
many invoices of the shop show each word (invoice_word_counts), and the index of the rare ones
(invoice_words). Invoices recorded before are not in it until their claim is verified again.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "invoice_word_counts",
        sa.Column("key", sa.BigInteger(), nullable=False),
        sa.Column("word", sa.BigInteger(), nullable=False),
        sa.Column("documents", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "word", name="pk_invoice_word_counts"),
    )
    op.create_table(
        "invoice_words",
        sa.Column("key", sa.BigInteger(), nullable=False),
        sa.Column("word", sa.BigInteger(), nullable=False),
        sa.Column("doc_id", _SEQ, nullable=False),
        sa.PrimaryKeyConstraint("key", "word", "doc_id", name="pk_invoice_words"),
        sa.ForeignKeyConstraint(["doc_id"], ["claim_documents.id"], ondelete="CASCADE",
                                name="fk_invoice_words_doc_id_claim_documents"),
    )
    op.create_index("ix_invoice_words_doc_id", "invoice_words", ["doc_id"])


def downgrade() -> None:
    op.drop_table("invoice_words")
    op.drop_table("invoice_word_counts")
