"""The read cache: re-runs read nothing again; OCR-setting changes do; corrupt entries recompute."""
from __future__ import annotations

import multiprocessing as mp

from pipeline.cache import CachedReader, ReadCache, read_key
from pipeline.config import load_config
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
    [entry] = list((tmp_path / "cache").rglob("*.json"))
    entry.write_text(entry.read_text()[:50])  # torn write / disk trouble
    again = reader(pdf, languages=["eng"], config=CFG)
    assert counting.calls == 2 and reader.cache.corrupt == 1 and again.pages[0].source == "pdf_text"
    reader(pdf, languages=["eng"], config=CFG)
    assert counting.calls == 2  # rewritten whole


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
