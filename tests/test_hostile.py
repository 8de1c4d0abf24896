"""The hostile-input suite (issue #11): what an attacker or a careless portal sends must never
hang, crash or exhaust a run. Every document here is generated (``pipeline.hostile``): content
bombs, deep JSON, lone surrogates, NUL and bidi controls, TIFFs of hundreds of pages, thousands of
products, fuzzed claim.json; each goes through the real readers and through ``batch``, and the
tests assert one decision per claim, the run's end, and bounded time and memory."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from pipeline import hostile
from pipeline.batch import BatchSummary, ResultWriter, run_batch
from pipeline.claim import load_claim
from pipeline.config import load_config
from pipeline.errors import ClaimError, DocumentError
from pipeline.verify import verify_claim

from .conftest import REPO, TEST_DATA

MB = 1024 * 1024


def in_fresh_process(code: str, timeout: float = 120) -> dict:
    """Run ``code`` (which sets ``RESULT``, a dict) in a new Python; its RESULT with the process's
    peak resident memory (``peak_mb``) and the wall time (``seconds``) it took."""
    # VmHWM, not getrusage's ru_maxrss: on Linux a child's ru_maxrss starts at its parent's
    # size when it was forked (this test process, hundreds of MB into a suite).
    script = textwrap.dedent(code) + textwrap.dedent("""
        import json as _j
        with open("/proc/self/status") as _f:
            RESULT["peak_mb"] = next(int(l.split()[1]) for l in _f if l.startswith("VmHWM:")) / 1024
        print(_j.dumps(RESULT))
    """)
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=timeout,
                          cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["seconds"] = time.monotonic() - started
    return result


# ---------------------------------------------------------------------------- documents

def _read_code(path: Path) -> str:
    return f"""
        import time
        from pipeline.errors import ClaimcheckError
        from pipeline.read import read_document
        t = time.monotonic()
        try:
            read_document({str(path)!r})
            RESULT = {{"code": None}}
        except ClaimcheckError as exc:
            RESULT = {{"code": exc.code, "message": exc.message}}
        RESULT["read_s"] = time.monotonic() - t
    """


def test_a_pdf_whose_content_inflates_to_300_mb_is_refused_in_seconds_without_the_memory(tmp_path):
    # Before: memory past 2 GB, then 8 GB, and no answer after 600 s (the PDF timeout was only
    # looked at between pages, and pdfplumber was laying out 300 MB of glyphs on page 1).
    path = tmp_path / "bomb.pdf"
    path.write_bytes(hostile.content_bomb_pdf(inflated_mb=300))
    assert path.stat().st_size < 1 * MB
    got = in_fresh_process(_read_code(path))
    assert got["code"] == "DOCUMENT_TOO_LARGE" and "inflates to more than 4 MB" in got["message"], got
    assert got["read_s"] < 5 and got["peak_mb"] < 400, got


def test_a_content_bomb_in_a_pdf_encrypted_with_the_empty_password_is_deciphered_and_refused(tmp_path):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(hostile.content_bomb_pdf(inflated_mb=40))))
    writer.encrypt(user_password="", owner_password="owner", algorithm="AES-128")
    path = tmp_path / "locked-bomb.pdf"
    with open(path, "wb") as fh:
        writer.write(fh)
    from pipeline.read import read_document

    with pytest.raises(DocumentError) as info:
        read_document(path)
    assert info.value.code == "DOCUMENT_TOO_LARGE"


def _pdf_with_stream(head: str, data: bytes) -> bytes:
    return hostile._pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                         b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
                         f"<< /Length {len(data)} {head} >>\nstream\n".encode() + data + b"\nendstream"])


def test_run_length_and_image_bombs_are_refused_from_the_stream_and_its_header():
    from pipeline.ocr.pdf import check_streams

    limits = load_config().ingest
    rle = _pdf_with_stream("/Filter /RunLengthDecode", b"\x81\x00" * 100_000)  # 200 KB -> 12.8 MB
    with pytest.raises(DocumentError) as info:
        check_streams(rle, "rle.pdf", limits)
    assert info.value.code == "DOCUMENT_TOO_LARGE"
    image = _pdf_with_stream("/Type /XObject /Subtype /Image /Width 100000 /Height 100000 /BitsPerComponent 8 "
                             "/ColorSpace /DeviceGray /Filter /FlateDecode", b"x\x9c\x03\x00\x00\x00\x00\x01")
    with pytest.raises(DocumentError) as info:
        check_streams(image, "image.pdf", limits)
    assert "100000x100000" in info.value.message


def test_the_stream_limits_pass_every_real_and_sample_pdf():
    from pipeline.ocr.pdf import check_streams

    limits = load_config().ingest
    pdfs = sorted({*(REPO / "sample_invoices").rglob("*.pdf"), *TEST_DATA.rglob("*.pdf")})
    assert len(pdfs) >= 10
    for path in pdfs:
        check_streams(path.read_bytes(), path.name, limits)  # raises on a false refusal


@pytest.mark.parametrize("pages", [500, 1500])
def test_a_tiff_of_hundreds_of_2000x2000_pages_is_refused_from_its_headers(tmp_path, pages):
    # Before: 500 pages were decoded whole (2.09 GB) before the page limit refused them; 1,500
    # ended in MemoryError (6 GB here) and no decision.
    path = tmp_path / "pages.tif"
    path.write_bytes(hostile.many_pages_tiff(pages))
    got = in_fresh_process(_read_code(path))
    assert got["code"] == "DOCUMENT_TOO_LARGE" and "more than 20 pages" in got["message"], got
    assert got["read_s"] < 3 and got["peak_mb"] < 300, got


def test_one_page_of_a_20_page_16_mp_tiff_is_decoded_alone(tmp_path):
    path = tmp_path / "scan.tif"
    path.write_bytes(hostile.many_pages_tiff(20, 4000, 4000, rgb=True))
    got = in_fresh_process(f"""
        from pipeline.ingest import decode_image_page, image_page_count, load_upload
        upload = load_upload({str(path)!r})
        RESULT = {{"pages": image_page_count(upload), "shape": list(decode_image_page(upload, 7).shape)}}
    """)
    # all 20 pages would be 20 x 48 MB = 960 MB
    assert got["pages"] == 20 and got["shape"] == [4000, 4000, 3] and got["peak_mb"] < 350, got


# ---------------------------------------------------------------------------- claim.json

def _claim_file(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "claim"
    folder.mkdir(exist_ok=True)
    (folder / "claim.json").write_text(text, encoding="utf-8")
    return folder


def _error(source) -> ClaimError:
    with pytest.raises(ClaimError) as info:
        load_claim(source)
    return info.value


@pytest.mark.parametrize("levels", [200_000, 100_000, 17])
def test_deeply_nested_json_is_too_large_not_a_recursion_error(tmp_path, levels):
    # Before: RecursionError out of json.loads, and verify crashed with no decision.
    folder = _claim_file(tmp_path, hostile.deep_json(levels))
    err = _error(folder)
    assert err.code == "CLAIM_TOO_LARGE", err.message
    decision = verify_claim(folder, store=None)
    assert decision.decision == "review" and [r.code for r in decision.reasons] == ["CLAIM_TOO_LARGE"]


@pytest.mark.parametrize("where,value,needle", [
    ("claim_id", "C-\ud800", "U+D800 (a lone surrogate)"),
    ("claim_id", "C-1\u202egnp.exe", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("retailer", "Komplett.no\x00", "U+0000"),
    ("retailer", "Komplett\u2066.no", "U+2066 LEFT-TO-RIGHT ISOLATE"),
])
def test_claim_text_no_claim_may_hold_is_refused_at_load(tmp_path, where, value, needle):
    claim = hostile.genuine_claim("C-1", promotion_id=None)
    if where == "claim_id":
        claim["claim_id"] = value
    else:
        claim["purchase"]["retailer"] = value
    folder = _claim_file(tmp_path, json.dumps(claim))  # ASCII JSON: the surrogate as a \ud800 escape
    err = _error(folder)
    assert err.code == "CLAIM_INVALID" and needle in err.message, err.message
    decision = verify_claim(folder, store=None).to_dict()
    assert decision["reasons"][0]["code"] == "CLAIM_INVALID"
    json.dumps(decision, ensure_ascii=False).encode("utf-8")  # printable and storable, whatever the claim held
    assert "\u202e" not in decision["claim_id"] and "\ud800" not in decision["claim_id"]


@pytest.mark.parametrize("change,code", [
    (lambda c: c.update(products=c["products"] * 30), "CLAIM_TOO_LARGE"),  # 60 > 50 products
    (lambda c: c["documents"].update(invoices=[f"i{i}.pdf" for i in range(30)]), "CLAIM_TOO_LARGE"),
    (lambda c: c["purchase"].update(retailer="K" * 5000), "CLAIM_TOO_LARGE"),
    (lambda c: c.update(claim_id="C" * 201), "CLAIM_INVALID"),
    (lambda c: c.update(notes=[1e999]), None),  # becomes Infinity in JSON: not a JSON number
])
def test_claim_limits_from_config(tmp_path, change, code):
    claim = hostile.genuine_claim("C-1", promotion_id=None)
    change(claim)
    folder = _claim_file(tmp_path, json.dumps(claim))
    err = _error(folder)
    assert err.code == (code or "CLAIM_INVALID"), err.message


def test_a_2_mb_claim_with_20000_products_is_refused_before_it_is_parsed(tmp_path):
    # Before: 20,000 products in a 2 MB claim.json took 84 s (118 s here) of checks.
    hostile.write_case("20000-products", tmp_path / "many")
    started = time.monotonic()
    decision = verify_claim(tmp_path / "many", store=None)
    assert [r.code for r in decision.reasons] == ["CLAIM_TOO_LARGE"] and time.monotonic() - started < 5


def test_verify_prints_a_decision_for_every_hostile_claim_json(tmp_path):
    # Before: a lone surrogate (UnicodeEncodeError) and deep JSON (RecursionError) crashed verify.
    root = tmp_path / "corpus"
    cases = ("deep-json", "lone-surrogate", "bidi-override", "nul-in-field")
    hostile.write_corpus(root, list(cases))
    cli = Path(sys.executable).parent / "claimcheck"
    env = dict(os.environ, CLAIMCHECK_STORE=str(tmp_path / "store.sqlite3"))
    for case in cases:
        proc = subprocess.run([str(cli), "verify", str(root / case)], capture_output=True, timeout=120, env=env)
        assert proc.returncode == 0, proc.stderr[-2000:]
        decision = json.loads(proc.stdout.decode("utf-8"))
        assert decision["decision"] == "review" and decision["reasons"][0]["code"].startswith("CLAIM_"), decision


def test_a_bug_met_on_one_claim_is_an_internal_error_decision_with_the_error(tmp_path):
    folder = tmp_path / "c"
    hostile._genuine_folder(folder, hostile.genuine_claim("C-BUG", promotion_id=None))

    def broken_reader(*_a, **_k):
        raise KeyError("a bug in a reader")

    decision = verify_claim(folder, store=None, reader=broken_reader).to_dict()
    assert decision["decision"] == "review" and decision["reasons"][0]["code"] == "INTERNAL_ERROR"
    assert "KeyError" in decision["checks"][0]["detail"] and decision["claim_id"] == "C-BUG"


def test_the_result_writer_writes_any_text(tmp_path):
    # Before: a lone surrogate in a result made json.dumps(ensure_ascii=False) + a UTF-8 file fail,
    # and `batch` exited 1 on every re-run, losing the results in flight. U+0085 and U+2028 (which
    # JSON leaves raw but str.splitlines breaks at) tore a result in two (found by the fuzzer below).
    from pipeline.batch import already_done

    out = tmp_path / "out.jsonl"
    odd = ["C-\ud800", "C-\udcff\x00", "C-\u202e1", "Kari Nordmann ✓ 日本", "C-\x85-\u2028-\u2029-\x1c"]
    with ResultWriter(out, BatchSummary(), progress=False, todo=len(odd)) as write:
        for i, claim_id in enumerate(odd):
            write({"claim_id": claim_id, "decision": "review", "claim_path": f"{claim_id}/{i}/claim.json"})
    back = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["claim_id"] for r in back] == odd
    assert already_done(out) == {f"{claim_id}/{i}/claim.json" for i, claim_id in enumerate(odd)}


_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=30)
_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _TEXT,
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
                     max_leaves=20)


def _fuzzed_claim():
    """A claim.json as a careless portal might send it: the contract's fields with any values."""
    return st.fixed_dictionaries({
        "claim_id": st.one_of(_TEXT, _JSON),
        "purchase": st.one_of(st.fixed_dictionaries({"date": st.one_of(st.just("2020-02-19"), _TEXT, _JSON)},
                                                    optional={"retailer": _JSON, "country": _JSON}), _JSON),
        "documents": st.one_of(st.fixed_dictionaries({"invoices": st.lists(_TEXT, max_size=3)}), _JSON),
    }, optional={"products": st.lists(st.dictionaries(st.sampled_from(["model", "serial", "chk"]), _JSON), max_size=3),
                 "promotion_id": _JSON, "claimant": _JSON, "extra": _JSON})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_fuzzed_claim())
def test_fuzzed_claims_load_or_are_refused_with_a_reason(claim):
    try:
        load_claim(claim)
    except ClaimError as err:
        assert err.code in ("CLAIM_INVALID", "CLAIM_TOO_LARGE") and err.message


@settings(max_examples=2, deadline=None, phases=[Phase.explicit, Phase.generate],  # a batch per example: no shrinking
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(_fuzzed_claim(), min_size=8, max_size=8))
@example([{"claim_id": "", "purchase": {"date": "2020-02-19", "retailer": {"o\x85k\u2028\x00": None}},
           "documents": {"invoices": []}}] * 8)  # the fuzzer's find: a key that str.splitlines breaks at
def test_fuzzed_claim_files_through_batch_get_one_decision_each(tmp_path_factory, claims):
    root = tmp_path_factory.mktemp("fuzz")
    for i, claim in enumerate(claims):
        (root / f"c{i}").mkdir()
        (root / f"c{i}" / "claim.json").write_text(json.dumps(claim), encoding="utf-8")
    out = root / "out.jsonl"
    summary = run_batch(root, out, workers=1, progress=False)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert summary.processed == 8 and sorted(r["claim_path"] for r in rows) == [f"c{i}/claim.json" for i in range(8)]
    assert all(r["decision"] in ("review", "reject", "approve") for r in rows)


# ---------------------------------------------------------------------------- claims in watched workers

def _big_photo_claim(folder: Path, claim_id: str) -> Path:
    """A claim whose invoice is a 42-megapixel photo: ~8 s and ~700 MB to read."""
    import cv2
    import numpy as np

    folder.mkdir(parents=True)
    img = np.full((6000, 7000, 3), 255, np.uint8)
    for i in range(40):
        cv2.putText(img, f"INVOICE LINE {i}  TOTAL 100.00", (200, 200 + i * 140), cv2.FONT_HERSHEY_SIMPLEX, 3,
                    (0, 0, 0), 6)
    cv2.imwrite(str(folder / "invoice.jpg"), img, [cv2.IMWRITE_JPEG_QUALITY, 80])
    claim = hostile.genuine_claim(claim_id, promotion_id=None, invoices=["invoice.jpg"])
    claim["documents"]["serial_photos"] = []
    (folder / "claim.json").write_text(json.dumps(claim))
    return folder


def _config_file(tmp_path: Path, **batch) -> Path:
    path = tmp_path / "limits.toml"
    path.write_text("[cache]\nenabled = false\n[batch]\n" + "".join(f"{k} = {v}\n" for k, v in batch.items()))
    return path


@pytest.fixture(scope="module")
def slow_and_quick(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("limits")
    _big_photo_claim(root / "big", "C-BIG")
    hostile.write_case("nul-in-field", root / "quick")
    return root


@pytest.mark.parametrize("limit,code", [({"claim_timeout_s": 2}, "OCR_TIMEOUT"),
                                        ({"claim_max_memory_mb": 400}, "DOCUMENT_TOO_LARGE")])
def test_a_claim_over_its_time_or_memory_is_stopped_and_the_batch_goes_on(slow_and_quick, tmp_path, limit, code):
    out = tmp_path / "out.jsonl"
    started = time.monotonic()
    summary = run_batch(slow_and_quick, out, workers=2, progress=False, config_path=_config_file(tmp_path, **limit))
    rows = {r["claim_path"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert summary.processed == 2 and set(rows) == {"big/claim.json", "quick/claim.json"}
    big = rows["big/claim.json"]
    assert big["decision"] == "review" and big["claim_id"] == "C-BIG", big
    assert big["reasons"][0]["code"] == code and "its worker was stopped" in big["checks"][0]["detail"], big
    assert rows["quick/claim.json"]["reasons"][0]["code"] == "CLAIM_INVALID"
    assert time.monotonic() - started < 60 and summary.peak_worker_mb > 0


def test_a_worker_that_dies_is_replaced_its_claim_tried_once_more_then_engine_failed(slow_and_quick, tmp_path):
    import signal

    from pipeline.pool import ClaimPool

    config = load_config(_config_file(tmp_path, claim_timeout_s=120))
    claim = str(slow_and_quick / "big" / "claim.json")

    def kill_the_worker_running_it(pool, not_pid=None) -> int:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            busy = [w for w in list(pool._pool) if w.job is not None and w.proc.pid != not_pid]
            if busy:
                time.sleep(0.5)
                os.kill(busy[0].proc.pid, signal.SIGKILL)  # what a segfault in an engine does
                return busy[0].proc.pid
            time.sleep(0.05)
        raise AssertionError("no worker took the claim")

    with ClaimPool(1, config) as pool:
        future = pool.submit(claim, "big/claim.json")
        first = kill_the_worker_running_it(pool)
        kill_the_worker_running_it(pool, not_pid=first)
        result = future.result(timeout=60)
        assert result["reasons"][0]["code"] == "ENGINE_FAILED" and pool.killed["crash"] == 2
        # ... and the pool goes on with a fresh worker
        quick = pool.submit(str(slow_and_quick / "quick" / "claim.json"), "quick/claim.json").result(timeout=60)
        assert quick["reasons"][0]["code"] == "CLAIM_INVALID"


def test_a_worker_left_big_after_a_claim_is_replaced_before_the_next(slow_and_quick, tmp_path):
    from pipeline.pool import ClaimPool

    quick = str(slow_and_quick / "quick" / "claim.json")
    for recycle_mb, spawned in ((64, 2), (4096, 1)):  # every worker is above 64 MB once it has read a claim
        with ClaimPool(1, load_config(_config_file(tmp_path, worker_recycle_mb=recycle_mb))) as pool:
            for _ in range(2):
                assert pool.run(quick, "quick/claim.json")["reasons"][0]["code"] == "CLAIM_INVALID"
        assert pool.spawned == spawned and sum(pool.killed.values()) == 0


def test_a_second_batch_on_the_same_out_is_refused(tmp_path):
    # Before: two runs on one --out wrote every claim twice, without a warning.
    from pipeline.batch import locked_out

    root = tmp_path / "claims"
    hostile.write_case("nul-in-field", root / "a")
    out = tmp_path / "out.jsonl"
    cli = Path(sys.executable).parent / "claimcheck"
    with locked_out(out):  # a run in progress (this process; runs it starts share its hold)
        other = in_fresh_process(f"""
            from pipeline.batch import run_batch
            from pipeline.errors import ClaimcheckError
            try:
                run_batch({str(root)!r}, {str(out)!r}, workers=1, progress=False)
                RESULT = {{"code": None}}
            except ClaimcheckError as exc:
                RESULT = {{"code": exc.code}}
        """)
        assert other["code"] == "OUT_LOCKED"
        for engine in (["--no-prefect"], []):
            proc = subprocess.run([str(cli), "batch", str(root), "--out", str(out), *engine], capture_output=True,
                                  text=True, timeout=300)
            assert proc.returncode == 2 and "is being written by another batch" in proc.stderr, proc.stderr[-2000:]
    assert not out.exists() or out.read_text() == ""
    run_batch(root, out, workers=1, progress=False)  # the lock went with the first run
    assert len(out.read_text().splitlines()) == 1


# ---------------------------------------------------------------------------- the whole corpus

EXPECTED = {
    "pdf-content-bomb": ["DOCUMENT_TOO_LARGE"],
    "deep-json": ["CLAIM_TOO_LARGE"],
    "lone-surrogate": ["CLAIM_INVALID"],
    "nul-in-field": ["CLAIM_INVALID"],
    "bidi-override": ["CLAIM_INVALID"],
    "tiff-500-pages": ["DOCUMENT_TOO_LARGE"],
    "tiff-1500-pages": ["DOCUMENT_TOO_LARGE"],
    "20000-products": ["CLAIM_TOO_LARGE"],
}


def test_every_hostile_case_in_one_batch_ends_with_one_decision_per_claim(tmp_path):
    root = tmp_path / "corpus"
    folders = hostile.write_corpus(root)
    out = tmp_path / "out.jsonl"
    started = time.monotonic()
    summary = run_batch(root, out, workers=2, progress=False)
    seconds = time.monotonic() - started
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    claims = sorted(str(p.relative_to(root)) for f in folders.values() for p in f.rglob("claim.json"))
    assert sorted(r["claim_path"] for r in rows) == claims  # exactly one decision per claim
    assert summary.processed == len(claims) and seconds < 120 and summary.peak_worker_mb < 1536, summary.to_dict()
    by_case: dict[str, list[dict]] = {}
    for r in rows:
        by_case.setdefault(r["claim_path"].split("/")[0], []).append(r)
    for case, codes in EXPECTED.items():
        (row,) = by_case[case]
        assert row["decision"] == "review" and [r["code"] for r in row["reasons"]][:len(codes)] == codes, row
        json.dumps(row, ensure_ascii=False).encode("utf-8")
    # The same board, the second time in full-width characters: paid once (either may come first).
    serial = sorted([c["status"] for c in r["checks"] if c["name"] == "duplicate_serial"]
                    for r in by_case["fullwidth-serial"])
    assert serial == [["fail"], ["pass"]], by_case["fullwidth-serial"]
    # One claim_id, two claimants: the first recorded keeps it, the other is a conflict for a person.
    reuse = sorted([r["code"] for r in row["reasons"]] for row in by_case["claim-id-reuse"])
    assert reuse == [[], ["CLAIM_ID_CONFLICT"]], by_case["claim-id-reuse"]
