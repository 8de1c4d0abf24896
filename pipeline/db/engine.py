"""Connecting to the claim store's database and bringing its schema up to date.

URLs: ``sqlite:///relative.db``, ``sqlite:////abs/path.db``, ``sqlite://`` (memory), a plain
path (a SQLite file), or ``postgresql://user@host/db`` (any ``postgres[ql][+driver]://``;
the driver becomes psycopg 3).

>>> sql_url("postgresql://claims@db:5432/claims")
'postgresql+psycopg://claims@db:5432/claims'
>>> sql_url("sqlite://")
'sqlite://'
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from ..errors import ConfigError

__all__ = ["sql_url", "make_engine", "migrate", "alembic_config", "MIGRATIONS", "is_sqlite", "head_revision",
           "is_current"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
"""The Alembic scripts, found next to this module so an installed package can migrate too."""


def sql_url(url: str | Path) -> str:
    """A SQLAlchemy URL for what a user wrote: plain paths become SQLite files, PostgreSQL uses psycopg 3."""
    text = str(url).strip()
    if not text:
        raise ConfigError(message="claim store: empty database URL")
    if "://" not in text:
        return "sqlite:///" + str(Path(text).expanduser().resolve())
    scheme, rest = text.split("://", 1)
    base = scheme.split("+", 1)[0].lower()
    if base in ("postgresql", "postgres"):
        return f"postgresql+psycopg://{rest}"
    if base == "sqlite":
        return text
    raise ConfigError(message=f"claim store {text!r}: {scheme} is not supported; use sqlite:///PATH or postgresql://")


def is_sqlite(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str | Path, *, timeout_s: float = 30.0) -> Engine:
    """An engine for ``url``. SQLite transactions begin with ``BEGIN IMMEDIATE`` (a second writer
    waits up to ``timeout_s``) so that checking and recording a claim is one atomic step there too."""
    try:
        parsed = make_url(sql_url(url))
    except ArgumentError as exc:
        raise ConfigError(message=f"claim store {url!r}: not a database URL: {exc}") from exc
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": max(1, int(timeout_s))})
    database = parsed.database or ""
    memory = database in ("", ":memory:")
    if not memory:
        path = Path(database).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        parsed = parsed.set(database=str(path))
    # One connection for a memory database: each new one would be a new, empty database.
    engine = create_engine(parsed, connect_args={"timeout": timeout_s, "check_same_thread": False},
                           **({"poolclass": StaticPool} if memory else {}))

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Take transactions out of the driver's hands (it would BEGIN DEFERRED lazily) ...
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        if not memory:
            cursor.execute("PRAGMA journal_mode = WAL")
            # WAL + NORMAL: never corrupt; a power cut may lose the last commits, not a crashed process.
            # Saves an fsync per transaction (two per claim: record_claim and save_decision).
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        # ... and lock for writing from the first statement: two writers never both read "no prior".
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def alembic_config(url: str | Path | None = None, *, connection: Connection | None = None):
    """An Alembic Config for the packaged migrations, for ``alembic.command`` calls."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        # ConfigParser interpolates '%': a URL-encoded password must survive it.
        config.set_main_option("sqlalchemy.url", sql_url(url).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


_REVISION = re.compile(r'^(down_)?revision(?:\s*:[^=]*)?\s*=\s*["\']?([\w-]+|None)["\']?\s*$', re.M)


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest migration's revision id (read once per process). Read off the scripts' own
    ``revision = ...`` lines (importing Alembic costs ~0.3 s per process); Alembic decides when
    that reading is not plain (a merge, a branch)."""
    revisions, parents = set(), set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        for down, value in _REVISION.findall(script.read_text(encoding="utf-8")):
            (parents if down else revisions).add(value)
    heads = revisions - parents
    if len(heads) == 1:
        return heads.pop()
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def is_current(engine: Engine) -> bool:
    """Is the schema at ``engine`` already at the newest revision? One query, no Alembic run.

    Asked on every open rather than remembered per URL: a store file may be deleted and made
    again by the same process (the lab empties its store before each run)."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except SQLAlchemyError:
        return False  # no alembic_version table yet (a new database), or it cannot be read: migrate
    return rows == [head_revision()]


def migrate(target: str | Path | Engine, revision: str = "head") -> None:
    """Bring the database at ``target`` (a URL or an engine) to ``revision`` (``alembic upgrade``).

    A database already at head is left alone after one ``SELECT`` (opening a store per claim costs
    ~1 ms instead of an Alembic run's ~30 ms)."""
    engine = target if isinstance(target, Engine) else make_engine(target)
    if revision == "head" and is_current(engine):
        if engine is not target:
            engine.dispose()
        return
    from alembic import command

    try:
        # One transaction for the whole upgrade: on SQLite it is BEGIN IMMEDIATE and on PostgreSQL
        # env.py takes an advisory lock in it, so processes opening a new store at once migrate in turn.
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection=connection), revision)
    except SQLAlchemyError as exc:
        raise ConfigError(message=f"claim store {engine.url!r}: cannot open or migrate: {exc}") from exc
    finally:
        if engine is not target:
            engine.dispose()
