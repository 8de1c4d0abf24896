"""Integrity (issue #17): what each upload says (claim_documents), the index of image hashes
(image_hash_bands) and links between claims a duplicate rule put side by side (claim_links).

Image hashes stored before as 'phash:' invoice fingerprints become invoice documents whose
content is unknown: an image match with one goes to a reviewer, as the duplicate rules say.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "claim_documents",
        sa.Column("id", _SEQ, primary_key=True, autoincrement=True),
        sa.Column("claim_id", sa.String(200), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("image_hash", sa.String(64)),
        sa.Column("identity", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_claim_documents"),
        sa.ForeignKeyConstraint(["claim_id"], ["claims.claim_id"], ondelete="CASCADE",
                                name="fk_claim_documents_claim_id_claims"),
        sa.CheckConstraint("role IN ('invoice', 'serial_photo')", name="ck_claim_documents_role"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_claim_documents_claim_id", "claim_documents", ["claim_id"])

    op.create_table(
        "image_hash_bands",
        sa.Column("doc_id", _SEQ, nullable=False),
        sa.Column("key", sa.BigInteger(), nullable=False),
        sa.Column("anchor", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("doc_id", "key", "anchor", name="pk_image_hash_bands"),
        sa.ForeignKeyConstraint(["doc_id"], ["claim_documents.id"], ondelete="CASCADE",
                                name="fk_image_hash_bands_doc_id_claim_documents"),
    )
    op.create_index("ix_image_hash_bands_doc_id", "image_hash_bands", ["doc_id"])
    op.create_index("ix_image_hash_bands_key_anchor", "image_hash_bands", ["key", "anchor", "doc_id"])

    op.create_table(
        "claim_links",
        sa.Column("id", _SEQ, primary_key=True, autoincrement=True),
        sa.Column("claim_id", sa.String(200), nullable=False),
        sa.Column("other_claim_id", sa.String(200), nullable=False),
        sa.Column("check_name", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(64)),
        sa.Column("detail", sa.Text()),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.current_timestamp(),
                  nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_claim_links"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_claim_links_claim_id", "claim_links", ["claim_id"])
    op.create_index("ix_claim_links_other_claim_id", "claim_links", ["other_claim_id"])
    _index_old_phashes()


def _index_old_phashes() -> None:
    """Earlier 'phash:' fingerprints as invoice documents of unknown content, in the index."""
    from pipeline.imagehash import band_keys  # the keys the running code looks up

    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT f.claim_id, f.value, c.promotion_id FROM invoice_fingerprints f "
        "JOIN claims c ON c.claim_id = f.claim_id WHERE f.kind = 'phash'")).all()
    docs = sa.Table("claim_documents", sa.MetaData(), sa.Column("id", _SEQ, primary_key=True),
                    sa.Column("claim_id"), sa.Column("name"), sa.Column("role"), sa.Column("image_hash"),
                    sa.Column("identity"))
    bands = sa.table("image_hash_bands", sa.column("doc_id"), sa.column("key"), sa.column("anchor"))
    for claim_id, value, promotion in rows:
        if len(value) != 64:
            continue
        try:
            keys = band_keys(value, f"{promotion}\0invoice")
        except ValueError:
            continue
        doc_id = conn.execute(sa.insert(docs).values(claim_id=claim_id, name="(image hash kept before 0002)",
                                                     role="invoice", image_hash=value, identity=None)
                              ).inserted_primary_key[0]
        conn.execute(sa.insert(bands), [{"doc_id": doc_id, "key": k, "anchor": ""} for k in sorted(set(keys))])


def downgrade() -> None:
    op.drop_table("claim_links")
    op.drop_table("image_hash_bands")
    op.drop_table("claim_documents")
