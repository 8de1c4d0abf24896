"""The read cache: re-runs read nothing again; OCR-setting changes do; corrupt entries recompute;
errors that belong to the document are remembered; checks are kept per claim; where it lives."""
from __future__ import annotations

import multiprocessing as mp

import pytest

from pipeline.cache import CachedReader, ReadCache, default_cache_dir, read_key
from pipeline.config import load_config
from pipeline.errors import DocumentError, EngineError
from pipeline.read import read_document
from pipeline.records import DocumentRead, Line, Page, Word

from .conftest import digital_pdf

CFG = load_config()


class CountingReader:
    """The real read_document, counted."""

    def __init__(self):
        self.calls = 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return read_document(*args, **kwargs)


def test_second_read_is_a_hit_and_equal(tmp_path, invoice_lines):
    pdf = digital_pdf(tmp_path / "inv.pdf", [invoice_lines])
    counting = CountingReader()
    reader = CachedReader(ReadCache(tmp_path / "cache"), counting)
    first = reader(pdf, "inv.pdf", languages=["eng"], config=CFG)
    second = reader(pdf, "renamed.pdf", languages=["eng"], config=CFG)
    assert counting.calls == 1 and reader.cache.hits == 1
    assert second.pages == first.pages and second.name == "renamed.pdf"


def test_key_ignores_thresholds_and_policy_but_not_ocr_settings():
    base = read_key("ab" * 32, CFG, languages=["eng"], barcodes=False, ocr=True)
    policy = CFG.model_copy(update={"decision": CFG.decision.model_copy(update={"approve_min_score": 0.1}),
                                    "matching": CFG.matching.model_copy(update={"readable_min_chars": 1})})
    assert read_key("ab" * 32, policy, languages=["eng"], barcodes=False, ocr=True) == base
    psm = CFG.model_copy(update={"ocr": CFG.ocr.model_copy(update={"psm": 6})})
    assert read_key("ab" * 32, psm, languages=["eng"], barcodes=False, ocr=True) != base
    assert read_key("ab" * 32, CFG, languages=["fra", "eng"], barcodes=False, ocr=True) != base
    assert read_key("ab" * 32, CFG, languages=["eng"], barcodes=True, ocr=True) != base
    assert read_key("cd" * 32, CFG, languages=["eng"], barcodes=False, ocr=True) != base


def test_corrupt_entry_is_detected_and_recomputed(tmp_path, invoice_lines):
    pdf = digital_pdf(tmp_path / "inv.pdf", [invoice_lines])
    counting = CountingReader()
    reader = CachedReader(ReadCache(tmp_path / "cache"), counting)
    reader(pdf, languages=["eng"], config=CFG)
    [entry] = list((tmp_path / "cache").rglob("*.v2"))
    entry.write_text(entry.read_text()[:50])  # torn write / disk trouble
    again = reader(pdf, languages=["eng"], config=CFG)
    assert counting.calls == 2 and reader.cache.corrupt == 1 and again.pages[0].source == "pdf_text"
    reader(pdf, languages=["eng"], config=CFG)
    assert counting.calls == 2  # rewritten whole


@pytest.mark.parametrize("damage", [
    lambda b: b[: len(b) // 2],                                   # truncated
    lambda b: b.replace(b'"pdf_text"', b'"pdf_texT"', 1),          # garbled, still valid JSON: checksum
    lambda b: b"",                                                 # empty
    lambda b: b"\x00\xff" * 40,                                  # not text at all
    lambda b: b.split(b"\n", 1)[1],                               # header lost
])
def test_damaged_entries_are_detected_recomputed_and_overwritten(tmp_path, invoice_lines, damage):
    pdf = digital_pdf(tmp_path / "inv.pdf", [invoice_lines])
    counting = CountingReader()
    reader = CachedReader(ReadCache(tmp_path / "cache"), counting)
    first = reader(pdf, "inv.pdf", languages=["eng"], config=CFG)
    [entry] = list((tmp_path / "cache").rglob("*.v2"))
    entry.write_bytes(damage(entry.read_bytes()))
    again = reader(pdf, "inv.pdf", languages=["eng"], config=CFG)
    assert again == first and counting.calls == 2 and reader.cache.corrupt == 1
    assert reader(pdf, "inv.pdf", languages=["eng"], config=CFG) == first and counting.calls == 2


def test_an_entry_under_another_key_is_not_served(tmp_path):
    cache = ReadCache(tmp_path)
    cache.put("a" * 64, _doc(1))
    src = cache._entry_path("reads", "a" * 64)
    dst = cache._entry_path("reads", "b" * 64)
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(src.read_bytes())  # a file copied or renamed by hand
    assert cache.get("b" * 64) is None and cache.corrupt == 1


class FailingReader:
    def __init__(self, exc):
        self.exc, self.calls = exc, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        raise self.exc


def test_document_errors_and_timeouts_are_remembered_engine_failures_are_not(tmp_path):
    doc = tmp_path / "a.jpg"
    doc.write_bytes(b"not really a jpeg")
    for exc, kept in ((DocumentError("DOCUMENT_UNREADABLE", "The image a.jpg is damaged."), True),
                      (EngineError("OCR_TIMEOUT", "Reading page 1 of a.jpg took too long."), True),
                      (EngineError("ENGINE_MISSING", "tesseract is not installed"), False)):
        failing = FailingReader(exc)
        reader = CachedReader(ReadCache(tmp_path / exc.code), failing)
        for name in ("a.jpg", "b.jpg"):
            with pytest.raises(type(exc)) as raised:
                reader(doc, name, languages=["eng"], config=CFG)
            assert raised.value.code == exc.code
        assert failing.calls == (1 if kept else 2), exc.code
        if kept:  # the second claim names the same bytes b.jpg: its message says so
            assert "b.jpg" in raised.value.message and "a.jpg" not in raised.value.message


def test_where_the_cache_lives(monkeypatch, tmp_path):
    monkeypatch.setenv("CLAIMCHECK_CACHE_DIR", str(tmp_path / "env"))
    assert default_cache_dir() == tmp_path / "env"
    monkeypatch.delenv("CLAIMCHECK_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "claimcheck" / "reads"
    from pipeline.verify import default_reader

    monkeypatch.setenv("CLAIMCHECK_CACHE_DIR", str(tmp_path / "env"))
    configured = CFG.model_copy(update={"cache": CFG.cache.model_copy(update={"dir": str(tmp_path / "cfg")})})
    assert default_reader(configured).cache.folder == tmp_path / "cfg"  # [cache].dir wins over the env
    assert default_reader(CFG).cache.folder == tmp_path / "env"
    off = CFG.model_copy(update={"cache": CFG.cache.model_copy(update={"enabled": False})})
    assert not isinstance(default_reader(off), CachedReader)


def test_phash_values_are_kept_and_checked(tmp_path):
    cache = ReadCache(tmp_path)
    assert cache.get_phash("ab" * 32) is None
    cache.put_phash("ab" * 32, "0f" * 32)
    assert ReadCache(tmp_path).get_phash("ab" * 32) == "0f" * 32
    [entry] = list((tmp_path / "phash").rglob("*.v2"))
    entry.write_bytes(entry.read_bytes()[:-3])
    assert cache.get_phash("ab" * 32) is None and cache.corrupt == 1


def _doc(i: int) -> DocumentRead:
    words = tuple(Word(f"w{i}-{j}", 90.0, (j, 0, j + 5, 5)) for j in range(200))
    return DocumentRead("d", "png", "0" * 64, (Page(1, 10, 10, "ocr", (Line(words),)),))


def _writer(folder, i):
    cache = ReadCache(folder)
    for _ in range(30):
        cache.put("k" * 64, _doc(i))
        got = cache.get("k" * 64)
        assert got is not None and got.pages[0].lines[0].words[0].text.startswith("w")


def test_several_processes_writing_one_key_never_leave_a_torn_entry(tmp_path):
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(tmp_path, i)) for i in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert all(p.exitcode == 0 for p in procs)
    cache = ReadCache(tmp_path)
    assert cache.get("k" * 64) is not None and cache.corrupt == 0
    assert not list(tmp_path.rglob(".tmp-*"))
