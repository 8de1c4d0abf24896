"""The claim store (duplicates and limits): first-recorded wins, re-verifying is idempotent,
several processes at once cannot both be first, and the duplicate checks across claims.

Every store here is the one implementation, ``SqlClaimStore``, on an SQLite file and on
PostgreSQL (the PostgreSQL cases skip only when no server answers; see test_db_store)."""
from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from pipeline.db import SqlClaimStore, open_store
from pipeline.errors import ConfigError
from pipeline.promotions import ClaimStore
from pipeline.promotions.store import ENV_STORE, default_store_path

from .test_db_store import db_url, pg_url, postgres  # noqa: F401 - fixtures
from .test_promotions_rules import (
    AIO,
    BOARD,
    CPU,
    LINES,
    PROMOTIONS,
    claim,
    get,
    invoice,
    komplett,
    nota,
    portal_claim,
    run,
)

AT = "2020-03-20T10:00:00+00:00"


@pytest.fixture
def store(db_url):  # noqa: F811 - the fixture imported above
    s = open_store(db_url)
    yield s
    s.close()


def record(store, claim_id, *, serials=(), invoices=(), email=None, participant=None, promotion="p"):
    return store.record_claim(claim_id, promotion, email, participant or email, list(serials), list(invoices), AT)


# ------------------------------------------------------------------------------ the store itself

def test_first_claim_is_new_and_the_second_sees_it(store):
    assert record(store, "C-1", serials=["S1"], invoices=["sha256:aa"], email="a@x.no").is_new
    prior = record(store, "C-2", serials=["S1", "S2"], invoices=["sha256:aa"], email="a@x.no")
    assert prior.serials == {"S1": ("C-1",)}
    assert prior.invoices == {"sha256:aa": ("C-1",)}
    assert prior.email_claims == ("C-1",) and prior.participant_claims == ("C-1",)
    assert prior.claims["C-1"].email == "a@x.no" and prior.claims["C-1"].decided_at == AT


def test_re_verifying_a_claim_is_not_a_duplicate_of_itself_nor_of_later_claims(store):
    record(store, "C-1", serials=["S1"], email="a@x.no")
    record(store, "C-2", serials=["S1"], email="a@x.no")
    assert record(store, "C-1", serials=["S1"], email="a@x.no").is_new
    assert record(store, "C-1", serials=["S1"], email="a@x.no").is_new
    assert record(store, "C-2", serials=["S1"], email="a@x.no").serials == {"S1": ("C-1",)}


def test_re_recording_replaces_a_claims_serials(store):
    record(store, "C-1", serials=["S1"])
    record(store, "C-1", serials=["S9"])  # the claimant corrected the serial
    assert record(store, "C-2", serials=["S1"]).is_new
    assert record(store, "C-3", serials=["S9"]).serials == {"S9": ("C-1",)}


def test_promotions_are_counted_apart(store):
    record(store, "C-1", serials=["S1"], email="a@x.no", promotion="p")
    assert record(store, "C-2", serials=["S1"], email="a@x.no", promotion="q").is_new


def test_a_released_claim_frees_its_serial_and_goes_to_the_back_when_recorded_again(store):
    record(store, "C-1", serials=["S1"])
    store.release_claim("C-1")
    assert record(store, "C-2", serials=["S1"]).is_new
    assert record(store, "C-1", serials=["S1"]).serials == {"S1": ("C-2",)}


def test_counts_list_claims_in_the_order_recorded(store):
    for i in range(4):
        record(store, f"C-{i}", email="a@x.no")
    assert record(store, "C-9", email="a@x.no").email_claims == ("C-0", "C-1", "C-2", "C-3")


def test_the_store_persists_across_connections(tmp_path):
    path = tmp_path / "deep" / "claims.sqlite3"
    with open_store(path) as s:
        record(s, "C-1", serials=["S1"])
    with open_store(path) as s:
        assert record(s, "C-2", serials=["S1"]).serials == {"S1": ("C-1",)}


def test_the_store_follows_the_protocol(store):
    assert isinstance(store, ClaimStore)


@pytest.mark.parametrize("url,expected", [
    ("sqlite:///relative/claims.db", "relative/claims.db"),
    ("sqlite:///{tmp}/abs/claims.db", "{tmp}/abs/claims.db"),
    ("sqlite://", None),
    ("plain/path.sqlite3", "{tmp}/plain/path.sqlite3"),
])
def test_store_urls(url, expected, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    with open_store(url.format(tmp=tmp_path)) as s:
        assert isinstance(s, SqlClaimStore) and s.engine.dialect.name == "sqlite"
        assert s.engine.url.database == (expected.format(tmp=tmp_path) if expected else None)
        assert record(s, "C-1", serials=["S1"]).is_new


def test_a_postgresql_url_opens_the_same_store(pg_url):  # noqa: F811
    with open_store(pg_url.replace("postgresql+psycopg://", "postgresql://")) as s:
        assert isinstance(s, SqlClaimStore) and s.engine.dialect.name == "postgresql"


def test_other_databases_are_refused_with_a_clear_error():
    with pytest.raises(ConfigError, match="mysql"):
        open_store("mysql://claims@db/claims")


def test_default_store_path(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV_STORE, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_store_path() == tmp_path / "claimcheck" / "claims.sqlite3"
    monkeypatch.setenv(ENV_STORE, f"sqlite:///{tmp_path}/env.sqlite3")
    assert default_store_path() == tmp_path / "env.sqlite3"
    s = open_store(None)
    try:
        assert isinstance(s, SqlClaimStore) and Path(s.engine.url.database) == tmp_path / "env.sqlite3"
    finally:
        s.close()


def test_reopening_a_migrated_store_does_not_run_alembic(tmp_path, monkeypatch):
    from alembic import command

    open_store(tmp_path / "claims.sqlite3").close()
    calls = []
    monkeypatch.setattr(command, "upgrade", lambda *a, **k: calls.append(a))
    for _ in range(3):
        open_store(tmp_path / "claims.sqlite3").close()
    assert calls == []
    (tmp_path / "claims.sqlite3").unlink()  # deleted and made again: migrated again
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"claims.sqlite3{suffix}").unlink(missing_ok=True)
    monkeypatch.undo()
    with open_store(tmp_path / "claims.sqlite3") as s:
        assert record(s, "C-1", serials=["S1"]).is_new


def test_an_unopenable_store_is_a_config_error(tmp_path):
    (tmp_path / "dir.sqlite3").mkdir()
    with pytest.raises(ConfigError, match="cannot open"):
        open_store(tmp_path / "dir.sqlite3")


# ------------------------------------------------------------------------------ several processes

def _race(path: str, worker: int, rounds: int, barrier, results) -> None:
    store = open_store(path)
    try:
        for r in range(rounds):
            barrier.wait(timeout=60)
            prior = store.record_claim(f"C-{r}-{worker}", "p", f"w{worker}@x.no", f"w{worker}@x.no",
                                       [f"SERIAL-{r}"], [], AT)
            results.put((r, worker, not prior.serials))
    finally:
        store.close()


@pytest.mark.parametrize("workers", [2, 4])
def test_processes_recording_the_same_serial_at_once_exactly_one_is_first(tmp_path, workers):
    path = str(tmp_path / "claims.sqlite3")
    open_store(path).close()  # create the schema once, as a deployment would
    # spawn: a fresh interpreter per worker, as a deployment has (a forked child would inherit
    # whatever earlier tests left in this process: Prefect's threads and stream handlers).
    ctx = multiprocessing.get_context("spawn")
    rounds = 25
    barrier = ctx.Barrier(workers)
    results = ctx.Queue()
    procs = [ctx.Process(target=_race, args=(path, w, rounds, barrier, results)) for w in range(workers)]
    for p in procs:
        p.start()
    for p in procs:  # a few dozen small results fit the queue's pipe: joining first cannot deadlock
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * workers
    got = [results.get(timeout=5) for _ in range(rounds * workers)]
    for r in range(rounds):
        first = [w for rr, w, new in got if rr == r and new]
        assert len(first) == 1, (r, got)


# ------------------------------------------------------------------------------ through apply_promotion

def test_the_same_serial_in_two_claims(store):
    a = run(claim(claim_id="C-A", email="a@example.no"), [komplett(number="40211")], store=store)
    assert get(a, "duplicate_serial", 0).status == "pass"
    b = run(claim(claim_id="C-B", email="b@example.no"), [komplett(number="50999", name="other.jpg")], store=store)
    check = get(b, "duplicate_serial", 0)
    assert (check.status, check.reason) == ("fail", "SERIAL_ALREADY_CLAIMED")
    assert "C-A" in check.detail and b.reward is None
    again = run(claim(claim_id="C-A", email="a@example.no"), [komplett(number="40211")], store=store)
    assert get(again, "duplicate_serial", 0).status == "pass" and again.reward is not None


def test_serials_differing_only_by_look_alikes_are_the_same(store):
    run(claim(claim_id="C-A", email="a@example.no"), store=store)
    board = dict(BOARD, serial="602-7C35-01OB1912000123")   # O for 0
    b = run(claim(claim_id="C-B", email="b@example.no", products=(board, CPU)), [komplett(number="777777")],
            store=store)
    assert get(b, "duplicate_serial", 0).reason == "SERIAL_ALREADY_CLAIMED"


def test_the_same_invoice_file_from_another_participant(store):
    inv = komplett()
    run(claim(claim_id="C-A", email="a@example.no"), [inv], store=store)
    other = dict(BOARD, serial="602-7C35-010B1912000999")
    b = run(claim(claim_id="C-B", email="b@example.no", products=(other, CPU)), [inv], store=store)
    check = get(b, "duplicate_invoice")
    assert (check.status, check.reason, check.found) == ("fail", "INVOICE_ALREADY_USED", "C-A")


def test_a_re_photographed_invoice_is_caught_by_retailer_and_number(store):
    run(claim(claim_id="C-A", email="a@example.no"), [komplett(number="40211")], store=store)
    photo = invoice("Komplett AS", "FAKTURA Fakturanr: 4O211", "Fakturadato: 19.02.2020", LINES["board"],
                    LINES["cpu"], name="new-photo.jpg", sha="f" * 64)
    other = dict(BOARD, serial="602-7C35-010B1912000999")
    b = run(claim(claim_id="C-B", email="b@example.no", products=(other, CPU), invoices=("new-photo.jpg",)),
            [photo], store=store)
    check = get(b, "duplicate_invoice")
    assert check.reason == "INVOICE_ALREADY_USED" and "invoice number 4O211" in check.detail
    assert check.evidence.document == "new-photo.jpg" and check.evidence.bbox is not None


def test_the_same_invoice_number_at_another_retailer_is_another_invoice(store):
    run(claim(claim_id="C-A", email="a@example.no"), [komplett(number="40211")], store=store)
    other = dict(BOARD, serial="602-7C35-010B1912000999")
    inv = invoice("Elkjøp Nordic AS", "Fakturanr: 40211", "Fakturadato: 19.02.2020", LINES["board"], LINES["cpu"],
                  name="elkjop.jpg", sha="e" * 64)
    b = run(claim(claim_id="C-B", email="b@example.no", retailer="Elkjøp", products=(other, CPU),
                  invoices=("elkjop.jpg",)), [inv], store=store)
    assert get(b, "duplicate_invoice").status == "pass"


def test_one_claim_per_participant_in_the_cashback(store):
    run(claim(claim_id="C-A", email="kari.nordmann@gmail.com"), store=store)
    other = dict(BOARD, serial="602-7C35-010B1912000999")
    b = run(claim(claim_id="C-B", email="KariNordmann+2@googlemail.com", products=(other, CPU)),
            [komplett(number="88888", name="b.jpg")], store=store)
    check = get(b, "redeem_limit")
    assert (check.status, check.reason) == ("fail", "CLAIM_LIMIT_REACHED") and "C-A" in check.detail


def test_two_products_with_one_serial_in_a_claim(store):
    twin = dict(CPU, serial=BOARD["serial"])
    out = run(claim(products=(BOARD, twin)), store=store)
    assert get(out, "duplicate_serial", 0).status == "pass"
    assert get(out, "duplicate_serial", 1).reason == "SERIAL_ALREADY_CLAIMED"


def test_without_a_store_the_duplicate_checks_are_skipped():
    out = run(claim())
    for name, product in (("duplicate_serial", 0), ("duplicate_invoice", None), ("redeem_limit", None)):
        assert get(out, name, product).status == "skipped"
    assert [c.product for c in out.checks if c.name == "duplicate_serial"] == [0]  # only products with a serial


class _BrokenStore:
    def record_claim(self, *args):
        raise sqlite3.OperationalError("database is locked")

    def release_claim(self, claim_id):
        pass

    def close(self):
        pass


def test_a_failing_store_sends_the_claim_to_review():
    out = run(claim(), store=_BrokenStore())
    check = get(out, "duplicate_invoice")
    assert (check.status, check.reason) == ("uncertain", "CLAIM_STORE_UNAVAILABLE")
    assert "database is locked" in check.detail


def test_a_claim_without_email_cannot_be_counted(store):
    out = run(claim(email=None), store=store)
    assert get(out, "redeem_limit").reason == "CLAIMANT_EMAIL_MISSING"


# ------------------------------------------------------------------------------ portal limits

def _portal(claim_id, email, serial, *, number="INV/2025/II/00042", sha=None, store):
    product = dict(AIO, serial=serial)
    c = portal_claim("boost-your-success", product, date="2025-02-15", claim_id=claim_id, email=email)
    inv = nota("15/02/2025", "MSI Modern AM242 12M", number=number)
    if sha:
        inv = (inv[0], type(inv[1])(inv[1].name, inv[1].kind, sha, inv[1].pages))
    return run(c, [inv], terms=PROMOTIONS["boost-your-success"], store=store)


def test_portal_two_redemptions_per_email(store):
    assert _portal("P-1", "budi@example.id", "SER-1", number="A-1001", store=store).reward is not None
    second = _portal("P-2", "budi@example.id", "SER-2", number="A-1002", store=store)
    assert get(second, "redeem_limit").status == "pass"
    third = _portal("P-3", "budi@example.id", "SER-3", number="A-1003", store=store)
    assert get(third, "redeem_limit").reason == "CLAIM_LIMIT_REACHED" and third.reward is None
    other = _portal("P-4", "sari@example.id", "SER-4", number="A-1004", store=store)
    assert get(other, "redeem_limit").status == "pass"


def test_portal_one_invoice_for_several_products_of_one_participant(store):
    _portal("P-1", "budi@example.id", "SER-1", sha="1" * 64, store=store)
    same_person = _portal("P-2", "budi@example.id", "SER-2", sha="1" * 64, store=store)
    check = get(same_person, "duplicate_invoice")
    assert check.status == "pass" and "same participant" in check.detail
    stranger = _portal("P-3", "sari@example.id", "SER-3", sha="1" * 64, store=store)
    assert get(stranger, "duplicate_invoice").reason == "INVOICE_ALREADY_USED"


def test_the_portals_participant_id_identifies_a_participant(store):
    def with_pid(claim_id, email, serial, number):
        c = claim(claim_id=claim_id, email=email, products=(dict(BOARD, serial=serial), CPU))
        data = c.model_dump(mode="json")
        data["claimant"]["participant_id"] = "member-42"
        return type(c).model_validate(data), [komplett(number=number, name=f"{claim_id}.jpg")]

    c, inv = with_pid("C-A", "a@example.no", "SER-A", "11111")
    run(c, inv, store=store)
    c, inv = with_pid("C-B", "other@example.no", "SER-B", "22222")
    assert get(run(c, inv, store=store), "redeem_limit").reason == "CLAIM_LIMIT_REACHED"
