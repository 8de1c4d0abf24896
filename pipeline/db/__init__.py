"""The claim store on SQLAlchemy 2: a SQLite file by default, PostgreSQL by URL, schema
migrations with Alembic.

>>> store = open_sql_store("sqlite://")
>>> store.record_claim("C-1", "p", None, None, ["S1"], [], "2020-03-20T10:00:00+00:00").is_new
True
>>> store.close()
"""
from __future__ import annotations

from pathlib import Path

from .engine import make_engine, migrate, sql_url
from .store import SavedAction, SavedDecision, SqlClaimStore, StoreError

__all__ = ["open_sql_store", "migrate", "make_engine", "sql_url", "SqlClaimStore", "StoreError", "SavedDecision",
           "SavedAction"]


def open_sql_store(url: str | Path, **options) -> SqlClaimStore:
    """The claim store at ``url`` (``sqlite:///path``, a path, ``postgresql://...``), its schema brought up
    to date; ``options`` go to ``SqlClaimStore`` (``timeout_s``, ``phash_max_distance``)."""
    return SqlClaimStore(url, **options)
