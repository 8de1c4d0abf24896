"""Alembic environment for the claim store.

Used two ways: programmatically by ``pipeline.db.migrate`` (a connection, already in a
transaction, is handed over in ``config.attributes["connection"]``), and by the ``alembic``
command with the repository's ``alembic.ini`` (the URL comes from ``-x url=...``, then
``$CLAIMCHECK_STORE``, then ``sqlalchemy.url`` in the ini).
"""
from __future__ import annotations

import hashlib
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import text

from pipeline.db.engine import make_engine, sql_url
from pipeline.db.models import Base

config = context.config
target_metadata = Base.metadata

# A fixed key: every process migrating the same PostgreSQL database takes the same lock.
_MIGRATION_LOCK = int.from_bytes(hashlib.sha256(b"claimcheck:migrations").digest()[:8], "big", signed=True)

if config.config_file_name and not config.attributes.get("connection"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or os.environ.get("CLAIMCHECK_STORE") \
        or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("no database: pass -x url=..., set CLAIMCHECK_STORE or sqlalchemy.url")
    return sql_url(url)


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True,
                      dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    try:
        with engine.begin() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
