"""Verifying with a claim store: every decision run is kept (with where the claim is), invoice
images are matched by perceptual hash, and two worker processes verifying at the same moment
against PostgreSQL never both get what only one may have (a serial, an invoice, a claim limit).

The PostgreSQL cases work in a database of their own (CREATE DATABASE, dropped at the end) and
skip only when no server answers (see test_db_store)."""
from __future__ import annotations

import io
import json
import multiprocessing
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from pipeline.batch import run_batch
from pipeline.config import load_config, with_overrides
from pipeline.db import SqlClaimStore, migrate
from pipeline.imagehash import phash_distance, phash_file, phash_image
from pipeline.verify import verify_claim

from .test_db_store import postgres  # noqa: F401 - fixture

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_invoices" / "demo-no-komplett-duo-genuine"
OTHER = REPO / "sample_invoices" / "i2d-oyo-png-genuine"
CFG = load_config()


def _claim(folder: Path, claim_id: str, email: str, *, invoice: bytes | None = None,
           serial: str = "602-7C35-010B1912000123") -> Path:
    """A copy of the Komplett sample claim, naming the AMD/MSI cashback promotion."""
    shutil.copytree(SAMPLE, folder)
    data = json.loads((folder / "claim.json").read_text())
    data.update(claim_id=claim_id, promotion_id="amd-msi-cashback-2020", submitted_at="2020-03-20T10:15:00+01:00")
    data["claimant"]["email"] = email
    data["products"][0]["serial"] = serial
    (folder / "claim.json").write_text(json.dumps(data))
    if invoice is not None:
        (folder / "faktura.jpg").write_bytes(invoice)
    if serial != "602-7C35-010B1912000123":  # a sticker showing the serial claimed: a genuine claim
        from pipeline.samples import save_png, sticker_image

        save_png(sticker_image(serial, "A1C", "MEG X570 ACE"), folder / "sticker.png")
    return folder


def _recompressed(path: Path, scale: float = 0.8, quality: int = 60) -> bytes:
    image = Image.open(path).convert("RGB")
    image = image.resize((round(image.width * scale), round(image.height * scale)))
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def _store_cfg(url: str):
    return with_overrides(CFG, store_url=url)


# ------------------------------------------------------------------------------ every decision run kept

def test_verify_with_a_store_keeps_every_run_with_the_claim_folder(tmp_path):
    url = f"sqlite:///{tmp_path / 'claims.sqlite3'}"
    folder = _claim(tmp_path / "a", "C-A", "kari@example.no")
    first = verify_claim(folder, _store_cfg(url))
    second = verify_claim(folder, _store_cfg(url))
    no_promotion = verify_claim(SAMPLE, _store_cfg(url))
    with SqlClaimStore(url) as store:
        runs = store.decisions_for("C-A")
        [plain] = store.decisions_for("DEMO-NO-001")
    assert [r.decision for r in runs] == [first.decision, second.decision]
    for run in runs:
        assert run.record["claim_dir"] == str(folder.resolve())
        assert run.pipeline_version == first.pipeline_version and run.config_hash == first.config_hash
        assert run.record["checks"] == first.to_dict()["checks"]
    assert plain.record["claim_dir"] == str(SAMPLE.resolve()) and plain.decision == no_promotion.decision


def test_a_reused_claim_id_is_a_conflict_for_review_not_a_re_verification(tmp_path):
    # Before: a second claim with the first's claim_id, from another claimant, replaced the first's
    # records and was approved; the first dropped out of the reviewer queue.
    from pipeline.web import queries

    url = f"sqlite:///{tmp_path / 'claims.sqlite3'}"
    first = _claim(tmp_path / "a", "C-REUSED", "kari@example.no")
    assert verify_claim(first, _store_cfg(url)).decision == "approve"
    mallory = _claim(tmp_path / "b", "C-REUSED", "mallory@example.no", serial="602-7C35-010B1912000999")
    kari_elsewhere = _claim(tmp_path / "c", "C-REUSED", "kari@example.no", serial="602-7C35-010B1912000998")
    for folder, why in ((mallory, "another claimant"), (kari_elsewhere, str(first.resolve()))):
        d = verify_claim(folder, _store_cfg(url))
        assert d.decision == "review" and [r.code for r in d.reasons] == ["CLAIM_ID_CONFLICT"], d.reasons
        assert d.claim_id == "C-REUSED" and d.extra["conflict"]["why"].endswith(why) and d.reward is None
    with SqlClaimStore(url) as store:
        assert store.decisions_for("C-REUSED")[-1].record["claim_dir"] == str(first.resolve())
        rows = {r.claim_id: r for r in queries.queue(store.engine)}
        assert rows["C-REUSED"].decision == "approve" and rows["C-REUSED"].claim_dir == str(first.resolve())
        conflicts = [r for r in rows.values() if r.claim_id.startswith("C-REUSED [conflict ")]
        assert sorted(r.claim_dir for r in conflicts) == sorted([str(mallory.resolve()), str(kari_elsewhere.resolve())])
        assert all(r.state == "needs_review" for r in conflicts)
    # the first claim's serial is still its own, and re-verifying it from its folder works as before
    assert verify_claim(first, _store_cfg(url)).decision == "approve"
    thief = _claim(tmp_path / "d", "C-OTHER", "ola@example.no")
    assert "SERIAL_ALREADY_CLAIMED" in [r.code for r in verify_claim(thief, _store_cfg(url)).reasons]


def test_a_reused_claim_id_without_a_promotion_is_a_conflict_too(tmp_path):
    url = f"sqlite:///{tmp_path / 'claims.sqlite3'}"
    verify_claim(SAMPLE, _store_cfg(url))
    copy = tmp_path / "copy"
    shutil.copytree(SAMPLE, copy)
    d = verify_claim(copy, _store_cfg(url))
    assert [r.code for r in d.reasons] == ["CLAIM_ID_CONFLICT"] and d.decision == "review"
    assert verify_claim(SAMPLE, _store_cfg(url)).decision != "review" or "CLAIM_ID_CONFLICT" not in [
        r.code for r in verify_claim(SAMPLE, _store_cfg(url)).reasons]


def test_an_unprocessable_claim_is_kept_too(tmp_path):
    url = f"sqlite:///{tmp_path / 'claims.sqlite3'}"
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "claim.json").write_text("{not json")
    decision = verify_claim(folder, _store_cfg(url))
    with SqlClaimStore(url) as store:
        [run] = store.decisions_for(decision.claim_id)
    assert run.decision == decision.decision and run.record["claim_dir"] == str(folder.resolve())


def test_batch_keeps_every_run_with_claim_path_and_claim_dir(tmp_path):
    url = f"sqlite:///{tmp_path / 'claims.sqlite3'}"
    root = tmp_path / "backlog"
    _claim(root / "x" / "C-X", "C-X", "x@example.no")
    _claim(root / "C-Y", "C-Y", "y@example.no", serial="602-7C35-010B1912000999")
    run_batch(root, tmp_path / "out.jsonl", workers=1, progress=False, store_url=url)
    run_batch(root, tmp_path / "out.jsonl", workers=2, progress=False, store_url=url, force=True)
    lines = {d["claim_id"]: d for d in map(json.loads, (tmp_path / "out.jsonl").read_text().splitlines())}
    with SqlClaimStore(url) as store:
        for claim_id, rel in (("C-X", "x/C-X/claim.json"), ("C-Y", "C-Y/claim.json")):
            runs = store.decisions_for(claim_id)
            assert len(runs) == 2
            assert {r.record["claim_path"] for r in runs} == {rel} == {lines[claim_id]["claim_path"]}
            assert {r.record["claim_dir"] for r in runs} == {str((root / rel).parent.resolve())}
            assert runs[-1].decision == lines[claim_id]["decision"]


def test_a_batch_worker_keeps_one_store_open_and_notices_a_new_file(tmp_path, monkeypatch):
    from pipeline import work

    monkeypatch.setattr(work, "_STORE", None)
    path = tmp_path / "claims.sqlite3"
    config = _store_cfg(str(path))
    first = work._shared_store(config)
    assert isinstance(first, SqlClaimStore) and work._shared_store(config) is first
    first.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)  # emptied, as the lab does before each run
    second = work._shared_store(config)
    assert second is not first and second.record_claim("C-1", "p", None, None, ["S"], [], "2020-01-01").is_new
    other = work._shared_store(_store_cfg(str(tmp_path / "other.sqlite3")))
    assert other is not second
    work._close_store()
    assert work._shared_store(CFG.model_copy(update={"store": CFG.store.model_copy(update={"enabled": False})})) \
        is None


def test_the_cli_takes_db_and_the_old_store_name(tmp_path):
    cli = Path(sys.executable).parent / "claimcheck"
    for option, name in (("--db", "a.sqlite3"), ("--store", "b.sqlite3")):
        proc = subprocess.run([str(cli), "verify", str(SAMPLE), option, str(tmp_path / name)],
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        with SqlClaimStore(tmp_path / name) as store:
            assert [r.decision for r in store.decisions_for("DEMO-NO-001")] == [json.loads(proc.stdout)["decision"]]


# ------------------------------------------------------------------------------ perceptual hash

def test_a_recompressed_resized_copy_is_near_and_another_invoice_is_not(tmp_path):
    original = phash_file(SAMPLE / "faktura.jpg")
    (tmp_path / "copy.jpg").write_bytes(_recompressed(SAMPLE / "faktura.jpg"))
    copy = phash_file(tmp_path / "copy.jpg")
    other = phash_file(OTHER / "invoice.png")
    limit = CFG.matching.invoice_phash_max_distance
    assert phash_distance(original, copy) <= limit < phash_distance(original, other)
    assert phash_file(REPO / "sample_invoices" / "demo-fr-amazon-gpu-genuine" / "facture.pdf") is None  # PDFs: no


def test_phash_is_stable_under_scale_and_sees_a_different_page():
    page = np.full((400, 300), 255, np.uint8)
    page[40:80, 20:280] = 0
    page[200:220, 20:150] = 0
    other = np.full((400, 300), 255, np.uint8)
    other[300:380, 150:280] = 0
    limit = CFG.matching.invoice_phash_max_distance
    third = cv2.resize(page, (100, 134), interpolation=cv2.INTER_AREA)  # scaled down as image tools do
    assert phash_distance(phash_image(page), phash_image(third)) <= limit
    assert phash_distance(phash_image(page), phash_image(other)) > 2 * limit


def test_a_page_saved_sideways_hashes_like_the_original_once_turned_as_the_reader_turned_it(tmp_path):
    from PIL import Image

    image = Image.open(SAMPLE / "faktura.jpg")
    image.transpose(Image.Transpose.ROTATE_90).save(tmp_path / "sideways.png")  # 90 degrees anticlockwise
    original = phash_file(SAMPLE / "faktura.jpg")
    assert phash_distance(original, phash_file(tmp_path / "sideways.png")) > 2 * CFG.matching.invoice_phash_max_distance
    assert phash_distance(original, phash_file(tmp_path / "sideways.png", rotation=90)) <= 2


def test_the_store_finds_near_image_hashes_only_within_the_limit(tmp_path):
    from pipeline.promotions.duplicates import DocumentIdentity

    a = phash_file(SAMPLE / "faktura.jpg")
    (tmp_path / "copy.jpg").write_bytes(_recompressed(SAMPLE / "faktura.jpg"))
    near = phash_file(tmp_path / "copy.jpg")
    far = f"{int(a, 16) ^ int('f' * 16, 16):064x}"  # 64 bits away
    limit = CFG.matching.invoice_phash_max_distance
    with SqlClaimStore("sqlite://", phash_max_distance=limit) as store:
        at = "2020-03-20T10:00:00+00:00"

        def record(claim_id, value):
            return store.record_claim(claim_id, "p", None, None, [], [], at,
                                      documents=[DocumentIdentity("faktura.jpg", "invoice", value)])
        assert record("C-1", a).is_new
        [found] = record("C-2", near).documents
        assert (found.claim_id, found.document, found.distance) == ("C-1", "faktura.jpg", phash_distance(a, near))
        assert found.other.image_hash == a and found.distance <= limit
        assert record("C-3", far).is_new
        other = store.record_claim("C-4", "another promotion", None, None, [], [], at,
                                   documents=[DocumentIdentity("faktura.jpg", "invoice", a)])
        assert other.is_new  # promotions are counted apart


def test_verify_records_each_upload_and_catches_a_recompressed_copy(tmp_path):
    url = f"sqlite:///{tmp_path / 'claims.sqlite3'}"
    first = verify_claim(_claim(tmp_path / "a", "C-A", "a@example.no"), _store_cfg(url)).to_dict()
    roles = {d["role"]: d for d in first["promotion"]["documents"]}
    assert roles["invoice"]["image_hash"] and roles["invoice"]["numbers"] and roles["serial_photo"]["image_hash"]
    assert first["decision"] == "approve", first["reasons"]
    copy = _recompressed(SAMPLE / "faktura.jpg")
    second = verify_claim(_claim(tmp_path / "b", "C-B", "b@example.no", invoice=copy,
                                 serial="602-7C35-010B1912000999"), _store_cfg(url)).to_dict()
    check = next(c for c in second["checks"] if c["name"] == "duplicate_invoice")
    assert (check["status"], check["reason"], check["found"]) == ("fail", "INVOICE_ALREADY_USED", "C-A")
    with SqlClaimStore(url) as store, store.engine.connect() as conn:
        from sqlalchemy import text

        rows = conn.execute(text("SELECT claim_id, role FROM claim_documents WHERE image_hash IS NOT NULL")).all()
    # the rejected claim is released (no longer counted), not forgotten
    assert sorted(rows) == [("C-A", "invoice"), ("C-A", "serial_photo"), ("C-B", "invoice"), ("C-B", "serial_photo")]


# ------------------------------------------------------------------------------ two workers, PostgreSQL

def _verify_at_once(folder: str, url: str, barrier, results) -> None:
    config = with_overrides(load_config(), store_url=url)
    barrier.wait(timeout=120)
    decision = verify_claim(folder, config).to_dict()
    results.put((decision["claim_id"], decision["decision"],
                 {(c["name"], c["product"]): (c["status"], c.get("reason")) for c in decision["checks"]}))


SCENARIOS = {
    # Every claim is a copy of the genuine sample (the same invoice file): the one recorded first is
    # approved, so no rejection releases anything while the other is being checked.
    # two claimants, the same serial
    "duplicate_serial": (("duplicate_serial", 0), "SERIAL_ALREADY_CLAIMED",
                         [dict(email="a@example.no"), dict(email="b@example.no")]),
    # two claimants, the same invoice, each their own serial
    "duplicate_invoice": (("duplicate_invoice", None), "INVOICE_ALREADY_USED",
                          [dict(email="a@example.no"), dict(email="b@example.no", serial="602-7C35-010B1912000999")]),
    # one claimant twice (one claim per participant), own serials
    "redeem_limit": (("redeem_limit", None), "CLAIM_LIMIT_REACHED",
                     [dict(email="a@example.no"), dict(email="a@example.no", serial="602-7C35-010B1912000999")]),
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_two_processes_verifying_at_once_never_both_get_it(scenario, postgres, tmp_path):  # noqa: F811
    check, reason, variants = SCENARIOS[scenario]
    url = postgres.new_database()
    migrate(url)
    folders = [_claim(tmp_path / f"c{i}", f"C-{scenario}-{i}", v["email"],
                      serial=v.get("serial", "602-7C35-010B1912000123")) for i, v in enumerate(variants)]
    for folder in folders:  # each genuine on its own; its reads cached, so both reach the store at once
        assert verify_claim(folder, CFG, store=None).decision == "approve"
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    procs = [ctx.Process(target=_verify_at_once, args=(str(f), url, barrier, results)) for f in folders]
    for p in procs:
        p.start()
    got = [results.get(timeout=600) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert [p.exitcode for p in procs] == [0, 0]
    outcomes = [checks[check] for _, _, checks in got]
    assert sorted(o[1] == reason for o in outcomes) == [False, True], got
    assert [d for _, d, _ in got].count("approve") <= 1, got
    first = next(g for g in got if g[2][check][1] != reason)
    assert first[2][check][0] == "pass" and first[1] == "approve", got  # the sample is genuine
