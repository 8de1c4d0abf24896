"""The SQLAlchemy claim store, on a SQLite file and on PostgreSQL: the same behaviour as the
SQLite store, decisions kept per run, reviewer actions, migrations, and workers racing.

PostgreSQL: ``$CLAIMCHECK_TEST_POSTGRES`` (an admin URL), else 127.0.0.1:5432 database ``test``
as user postgres, then root. Each session works in a database of its own, dropped at the end.
The PostgreSQL tests skip only when no server answers, and never under CI (``$CI`` set).
"""
from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import uuid
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import OperationalError

from pipeline.db import SqlClaimStore, StoreError, migrate, open_sql_store, sql_url
from pipeline.db.engine import alembic_config, head_revision, make_engine
from pipeline.db.models import Base
from pipeline.decision import Check, Decision, Reason
from pipeline.errors import ConfigError
from pipeline.promotions import ClaimStore

from .test_promotions_rules import claim, get, komplett, run

AT = "2020-03-20T10:00:00+00:00"
TABLES = {"claims", "claim_serials", "invoice_fingerprints", "decisions", "reviewer_actions", "claim_documents",
          "image_hash_bands", "claim_links", "invoice_word_counts", "invoice_words"}


# ------------------------------------------------------------------------------ databases

def _admin_url() -> str:
    """A URL to an existing PostgreSQL database we may create databases from, or skip/fail."""
    given = os.environ.get("CLAIMCHECK_TEST_POSTGRES")
    candidates = [sql_url(given)] if given else [f"postgresql+psycopg://{user}@127.0.0.1:5432/test"
                                                  for user in ("postgres", "root")]
    errors = []
    for url in candidates:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return url
        except OperationalError as exc:
            errors.append(f"{url}: {str(exc.orig).strip().splitlines()[0]}")
        finally:
            engine.dispose()
    reason = "PostgreSQL unreachable: " + "; ".join(errors)
    if os.environ.get("CI"):
        pytest.fail(reason + " (CI must run the PostgreSQL tests)")
    pytest.skip(reason)


class _Postgres:
    """Creates and drops uniquely named databases next to the admin database."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def new_database(self) -> str:
        name = f"claimcheck_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return self.admin.url.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres() -> Iterator[_Postgres]:
    pg = _Postgres(_admin_url())
    yield pg
    pg.drop_all()


@pytest.fixture(scope="session")
def pg_url(postgres) -> str:
    url = postgres.new_database()
    migrate(url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> Iterator[str]:
    """A migrated, empty claim store database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'claims.sqlite3'}"
        return
    url = request.getfixturevalue("pg_url")
    yield url
    _empty(url)


def _empty(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE " + ", ".join(sorted(TABLES)) + " RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def store(db_url) -> Iterator[SqlClaimStore]:
    s = SqlClaimStore(db_url)
    yield s
    s.close()


def record(store, claim_id, *, serials=(), invoices=(), email=None, participant=None, promotion="p"):
    return store.record_claim(claim_id, promotion, email, participant or email, list(serials), list(invoices), AT)


# ------------------------------------------------------------------------------ the claim store protocol

def test_the_store_follows_the_protocol(store):
    assert isinstance(store, ClaimStore)


def test_first_claim_is_new_and_the_second_sees_it(store):
    assert record(store, "C-1", serials=["S1"], invoices=["sha256:aa", "number:komplett:40211"], email="a@x.no").is_new
    prior = record(store, "C-2", serials=["S1", "S2"], invoices=["number:komplett:40211"], email="a@x.no")
    assert prior.serials == {"S1": ("C-1",)}
    assert prior.invoices == {"number:komplett:40211": ("C-1",)}
    assert prior.email_claims == ("C-1",) and prior.participant_claims == ("C-1",)
    assert prior.claims["C-1"].email == "a@x.no" and prior.claims["C-1"].decided_at == AT


def test_re_verifying_a_claim_is_not_a_duplicate_of_itself_nor_of_later_claims(store):
    record(store, "C-1", serials=["S1"], email="a@x.no")
    record(store, "C-2", serials=["S1"], email="a@x.no")
    assert record(store, "C-1", serials=["S1"], email="a@x.no").is_new
    assert record(store, "C-1", serials=["S1"], email="a@x.no").is_new
    assert record(store, "C-2", serials=["S1"], email="a@x.no").serials == {"S1": ("C-1",)}


def test_re_recording_replaces_a_claims_serials_and_invoices(store):
    record(store, "C-1", serials=["S1"], invoices=["sha256:aa"])
    record(store, "C-1", serials=["S9"], invoices=["sha256:bb"])  # the claimant corrected them
    assert record(store, "C-2", serials=["S1"], invoices=["sha256:aa"]).is_new
    prior = record(store, "C-3", serials=["S9"], invoices=["sha256:bb"])
    assert prior.serials == {"S9": ("C-1",)} and prior.invoices == {"sha256:bb": ("C-1",)}


def test_a_claim_id_held_by_another_folder_or_claimant_is_a_conflict_that_records_nothing(store):
    from pipeline.promotions.store import ClaimIdConflict, Holder

    store.record_claim("C-1", "p", "a@x.no", "a@x.no", ["S1"], ["sha256:aa"], AT, claim_dir="/claims/a")
    for email, folder, why in (("b@x.no", "/claims/a", "another claimant"), ("a@x.no", "/claims/b", "/claims/a")):
        with pytest.raises(ClaimIdConflict) as info:
            store.record_claim("C-1", "p", email, email, ["S2"], ["sha256:bb"], AT, claim_dir=folder)
        assert why in info.value.message and info.value.code == "CLAIM_ID_CONFLICT"
    assert record(store, "C-2", serials=["S1", "S2"], invoices=["sha256:aa", "sha256:bb"]).serials == {"S1": ("C-1",)}
    assert store.claim_holder("C-1") == Holder("/claims/a", "a@x.no") and store.claim_holder("C-9") is None
    # the same claim from the same folder is re-verified as before; unknown folder or claimant: no evidence
    assert store.record_claim("C-1", "p", "a@x.no", "a@x.no", ["S1"], [], AT, claim_dir="/claims/a").is_new
    assert store.record_claim("C-1", "p", None, None, ["S1"], [], AT).is_new


def test_promotions_are_counted_apart(store):
    record(store, "C-1", serials=["S1"], email="a@x.no", promotion="p")
    assert record(store, "C-2", serials=["S1"], email="a@x.no", promotion="q").is_new


def test_a_released_claim_frees_its_serial_and_goes_to_the_back_when_recorded_again(store):
    record(store, "C-1", serials=["S1"], invoices=["phash:f0f0"])
    store.release_claim("C-1")
    assert record(store, "C-2", serials=["S1"], invoices=["phash:f0f0"]).is_new
    prior = record(store, "C-1", serials=["S1"], invoices=["phash:f0f0"])
    assert prior.serials == {"S1": ("C-2",)} and prior.invoices == {"phash:f0f0": ("C-2",)}


def test_counts_list_claims_in_the_order_recorded(store):
    for i in range(4):
        record(store, f"C-{i}", email="a@x.no")
    assert record(store, "C-9", email="a@x.no").email_claims == ("C-0", "C-1", "C-2", "C-3")


def test_the_store_persists_across_connections(db_url):
    with open_sql_store(db_url) as s:
        record(s, "C-1", serials=["S1"])
    with open_sql_store(db_url) as s:
        assert record(s, "C-2", serials=["S1"]).serials == {"S1": ("C-1",)}


def test_an_unknown_fingerprint_kind_is_refused_before_touching_the_store(store):
    with pytest.raises(ValueError, match="invoice fingerprint 'md5:aa'"):
        record(store, "C-1", invoices=["md5:aa"])
    assert record(store, "C-1").is_new


def test_the_duplicate_rules_run_on_the_store(store):
    a = run(claim(claim_id="C-A", email="a@example.no"), [komplett(number="40211")], store=store)
    assert get(a, "duplicate_serial", 0).status == "pass"
    b = run(claim(claim_id="C-B", email="b@example.no"), [komplett(number="50999", name="other.jpg")], store=store)
    check = get(b, "duplicate_serial", 0)
    assert (check.status, check.reason) == ("fail", "SERIAL_ALREADY_CLAIMED") and "C-A" in check.detail
    assert b.reward is None


# ------------------------------------------------------------------------------ decisions and reviewers

def _decision(decision: str, version: str, config_hash: str) -> Decision:
    return Decision("C-1", decision, 0.5, (Reason("SERIAL_ALREADY_CLAIMED", "error", "seen before"),),
                    (Check(name="duplicate_serial", product=0, status="fail", score=0, expected="S1", found="C-0"),),
                    None, version, config_hash,
                    extra={"timing_ms": 12})


def test_every_decision_run_is_kept_with_what_produced_it(store):
    first = store.save_decision(_decision("review", "0.1.0", "sha256:aaa"))
    second = store.save_decision(dict(_decision("reject", "0.2.0", "sha256:bbb").to_dict(), score=0.1))
    store.save_decision(dict(_decision("approve", "0.2.0", "sha256:bbb").to_dict(), claim_id="C-2"))
    runs = store.decisions_for("C-1")
    assert [r.id for r in runs] == [first, second]
    assert [(r.decision, r.pipeline_version, r.config_hash) for r in runs] == [
        ("review", "0.1.0", "sha256:aaa"), ("reject", "0.2.0", "sha256:bbb")]
    assert runs[0].record == _decision("review", "0.1.0", "sha256:aaa").to_dict()
    assert runs[1].record["score"] == 0.1 and runs[1].record["checks"][0]["found"] == "C-0"
    assert runs[0].created_at.tzinfo is not None
    assert abs(runs[0].created_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
    assert store.decisions_for("C-9") == []


def test_a_decision_must_say_what_produced_it(store):
    with pytest.raises(ValueError, match="config_hash"):
        store.save_decision({"claim_id": "C-1", "decision": "approve", "pipeline_version": "0.1.0"})


def test_reviewer_actions_are_stored_in_order(store):
    a = store.record_action("C-1", "kari", "request_info", reason_code="INVOICE_UNREADABLE",
                            message="Please upload a sharper photo of the invoice.")
    b = store.record_action("C-1", "ola", "approve")
    actions = store.actions_for("C-1")
    assert [x.id for x in actions] == [a, b]
    assert (actions[0].reviewer, actions[0].action, actions[0].reason_code) == (
        "kari", "request_info", "INVOICE_UNREADABLE")
    assert actions[0].message.startswith("Please upload") and actions[1].message is None
    assert actions[1].created_at.tzinfo is not None
    with pytest.raises(ValueError, match="'escalate'"):
        store.record_action("C-1", "kari", "escalate")


def _run(claim_id: str, decision: str, retailer: str, status: str) -> dict:
    return {"claim_id": claim_id, "decision": decision, "pipeline_version": "0.2.0", "config_hash": "sha256:x",
            "checks": [{"name": "retailer", "product": None, "status": status, "score": 0, "expected": retailer,
                        "found": None, "evidence": None}]}


def test_the_shops_of_approved_claims_are_read_on_from_where_the_last_read_stopped(store):
    store.save_decision(_run("C-1", "approve", "Brightline Store", "pass"))
    store.save_decision(_run("C-2", "review", "Corner Computers", "uncertain"))
    store.save_decision(_run("C-3", "reject", "Widget World", "fail"))
    names, marks = store.approved_retailers()
    assert names == ["Brightline Store"]
    assert store.approved_retailers(marks) == ([], marks)
    store.record_action("C-2", "kari", "approve")  # a reviewer approved what the pipeline doubted
    store.save_decision(_run("C-4", "approve", "Brightline Store", "pass"))
    names, marks = store.approved_retailers(marks)
    assert names == ["Brightline Store", "Corner Computers"]
    assert store.approved_retailers(marks)[0] == []


# ------------------------------------------------------------------------------ urls, failures

@pytest.mark.parametrize("url,expected", [
    ("postgresql://claims@db/claims", "postgresql+psycopg://claims@db/claims"),
    ("postgres://claims@db/claims", "postgresql+psycopg://claims@db/claims"),
    ("postgresql+psycopg2://claims@db/claims", "postgresql+psycopg://claims@db/claims"),
    ("sqlite:////abs/claims.db", "sqlite:////abs/claims.db"),
    ("sqlite://", "sqlite://"),
])
def test_urls(url, expected):
    assert sql_url(url) == expected


def test_a_plain_path_is_a_sqlite_file(tmp_path):
    path = tmp_path / "deep" / "claims.sqlite3"
    with open_sql_store(str(path)) as s:
        assert record(s, "C-1").is_new
    assert path.is_file()


def test_other_databases_are_refused():
    with pytest.raises(ConfigError, match="mysql is not supported"):
        sql_url("mysql://claims@db/claims")


def test_an_unreachable_database_is_a_config_error():
    with pytest.raises(ConfigError, match="cannot open"):
        SqlClaimStore("postgresql://nobody@127.0.0.1:1/claims", timeout_s=2)


def test_a_failing_database_is_a_store_error_the_rules_turn_into_review(tmp_path):
    store = SqlClaimStore(tmp_path / "claims.sqlite3")
    with store.engine.begin() as conn:
        conn.execute(text("DROP TABLE claim_serials"))
    with pytest.raises(StoreError, match="recording claim C-1 failed") as caught:
        record(store, "C-1", serials=["S1"])
    assert caught.value.code == "CLAIM_STORE_UNAVAILABLE"
    out = run(claim(claim_id="C-2"), store=store)
    assert get(out, "duplicate_invoice").reason == "CLAIM_STORE_UNAVAILABLE"
    store.close()


def test_a_writer_stuck_on_the_same_promotion_is_waited_for_only_so_long(pg_url):
    from pipeline.db.store import _lock_key

    engine = create_engine(pg_url)
    store = SqlClaimStore(pg_url, timeout_s=0.5)
    try:
        with engine.begin() as other:  # another worker, in the middle of recording a claim of "p"
            other.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key("p")})
            with pytest.raises(StoreError, match="lock timeout"):
                record(store, "C-1", serials=["S1"])
            assert record(store, "C-2", serials=["S1"], promotion="q").is_new  # other promotions go on
    finally:
        store.close()
        engine.dispose()
        _empty(pg_url)


# ------------------------------------------------------------------------------ migrations

@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    return request.getfixturevalue("postgres").new_database()


def test_upgrade_matches_the_models_and_downgrade_removes_everything(empty_url):
    engine = make_engine(empty_url)
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(connection=conn), "head")
        assert TABLES <= set(inspect(engine).get_table_names())
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
            assert context.get_current_revision() == head_revision()
        with engine.begin() as conn:
            command.downgrade(alembic_config(connection=conn), "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        migrate(engine)  # and back up, as opening a store does
        assert TABLES <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_a_store_of_the_first_schema_keeps_its_claims_through_the_upgrade(empty_url):
    from pipeline.promotions.store import Holder

    engine = make_engine(empty_url)
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(connection=conn), "0001")
            conn.execute(text("INSERT INTO claims (claim_id, promotion_id, email, participant_key, released) "
                              "VALUES ('C-OLD', 'p', 'a@x.no', 'a@x.no', false)"))
    finally:
        engine.dispose()
    with SqlClaimStore(empty_url) as store:  # migrated to head on open
        assert store.claim_holder("C-OLD") == Holder(None, "a@x.no")
        assert store.record_claim("C-OLD", "p", "a@x.no", "a@x.no", ["S1"], [], AT, claim_dir="/x").is_new
        assert store.claim_holder("C-OLD") == Holder("/x", "a@x.no")


# ------------------------------------------------------------------------------ workers racing

def _race(url: str, worker: int, rounds: int, barrier, results) -> None:
    store = SqlClaimStore(url)
    try:
        for r in range(rounds):
            barrier.wait(timeout=60)
            prior = store.record_claim(f"C-{r}-{worker}", "race", "same@x.no", "same@x.no", [f"SERIAL-{r}"],
                                       [f"sha256:{r:064x}"], AT)
            results.put((r, worker, prior.serials.get(f"SERIAL-{r}", ()),
                         prior.invoices.get(f"sha256:{r:064x}", ()), prior.email_claims))
    finally:
        store.close()


@pytest.mark.parametrize("workers", [4])
def test_workers_recording_the_same_serial_at_once_take_turns(store, workers):
    """Exactly one worker per round sees nothing earlier; the others each see everyone committed
    before them: the claims form one queue, so at most one is approved."""
    url = store.engine.url.render_as_string(hide_password=False)
    ctx = multiprocessing.get_context("spawn")
    rounds = 20
    barrier = ctx.Barrier(workers)
    results = ctx.Queue()
    procs = [ctx.Process(target=_race, args=(url, w, rounds, barrier, results)) for w in range(workers)]
    for p in procs:
        p.start()
    got = [results.get(timeout=120) for _ in range(rounds * workers)]
    for p in procs:
        p.join(timeout=30)
    assert [p.exitcode for p in procs] == [0] * workers
    for r in range(rounds):
        this_round = [g for g in got if g[0] == r]
        for seen in (2, 3):  # serials, invoices
            queues = sorted((g[seen] for g in this_round), key=len)
            assert [len(q) for q in queues] == list(range(workers)), (r, this_round)
            assert all(queues[i] == queues[i + 1][:i] for i in range(workers - 1)), (r, this_round)
        ours = {f"C-{r}-{w}" for w in range(workers)}
        first = [g for g in this_round if not g[2] and not g[3] and not ours & set(g[4])]
        assert len(first) == 1, (r, this_round)
