"""The claim store on SQLAlchemy 2: a SQLite file by default, PostgreSQL by URL, schema
migrations with Alembic.

>>> store = open_sql_store("sqlite://")
>>> store.record_claim("C-1", "p", None, None, ["S1"], [], "2020-03-20T10:00:00+00:00").is_new
True
>>> store.close()
"""
from __future__ import annotations

import os
from pathlib import Path

from ..promotions.store import ENV_STORE, default_store_path
from .engine import make_engine, migrate, sql_url
from .store import RareWords, SavedAction, SavedDecision, SqlClaimStore, StoreError

__all__ = ["open_store", "store_url", "open_sql_store", "migrate", "make_engine", "sql_url", "SqlClaimStore",
           "StoreError", "SavedDecision", "SavedAction", "RareWords"]


def open_sql_store(url: str | Path, **options) -> SqlClaimStore:
    """The claim store at ``url`` (``sqlite:///path``, a path, ``postgresql://...``), its schema brought up
    to date; ``options`` go to ``SqlClaimStore`` (``timeout_s``, ``phash_max_distance``)."""
    return SqlClaimStore(url, **options)


def store_url(url: str | Path | None = None) -> str:
    """What ``open_store(url)`` opens, as a SQLAlchemy URL: ``url``; else ``$CLAIMCHECK_STORE``
    (a path, an SQLite or a PostgreSQL URL); else the default SQLite file."""
    text = str(url or "").strip()
    if not text:
        env = os.environ.get(ENV_STORE, "").strip()
        if "://" in env and not env.lower().startswith("sqlite"):
            text = env  # $CLAIMCHECK_STORE may name a server too
        else:
            path = default_store_path()
            text = "sqlite://" if str(path) == ":memory:" else str(path)
    return sql_url(text)


def open_store(url: str | Path | None = None, **options) -> SqlClaimStore:
    """The claim store at ``url``: 'sqlite:///path', a plain path, 'sqlite://' (memory) or
    'postgresql://...'; else ``$CLAIMCHECK_STORE`` or the default SQLite file (``store_url``).
    Always the SQLAlchemy store, its schema brought up to date (Alembic; a store already at head
    costs one query). ``options`` go to ``SqlClaimStore`` (``timeout_s``, ``phash_max_distance``, ``near``)."""
    return open_sql_store(store_url(url), **options)
