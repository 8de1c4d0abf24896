"""The reading cascade (pipeline/cascade.py): policy, combination, cache, on real documents and engines."""
from __future__ import annotations

import json
import shutil
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.cache import CachedReader, ReadCache
from pipeline.cascade import cascade_checks, combine_checks, contested, engine_config, with_context
from pipeline.config import load_config
from pipeline.decision import Check, Evidence
from pipeline.read import read_document
from pipeline.records import DocumentRead, Line, Page, Word
from pipeline.verify import verify_claim
from tests.test_checks import INVOICE, claim, doc

DATA = Path(__file__).parent / "data" / "sroie"
SAMPLES = Path(__file__).resolve().parents[1] / "sample_invoices"
CFG = load_config()
TESSERACT_ONLY = CFG.model_copy(update={"cascade": CFG.cascade.model_copy(update={"engines": ["tesseract"]})})
ENGINES = ("tesseract", "ppocr")


class EngineCountingReader:
    """The real read_document, its calls counted per engine."""

    def __init__(self):
        self.calls: Counter = Counter()

    def __call__(self, *args, config, **kwargs):
        self.calls[config.ocr.engine] += 1
        return read_document(*args, config=config, **kwargs)


def _ev(source="ocr"):
    return Evidence("invoice.jpg", 1, (1, 2, 3, 4), source)


# ------------------------------------------------------------------ combining two readings (pure)

def test_a_field_passes_when_either_reading_proves_it():
    first = [Check(name="retailer", product=None, status="uncertain", score=40, expected="Shell", evidence=_ev(),
                   reason="RETAILER_NOT_FOUND")]
    second = [Check(name="retailer", product=None, status="pass", score=97, expected="Shell", found="SHELL",
                    evidence=_ev())]
    combined = combine_checks(first, second, ENGINES)[0]
    assert combined.status == "pass" and combined.evidence.engine == "ppocr"
    combined = combine_checks(second, first, ENGINES)[0]
    assert combined.status == "pass" and combined.evidence.engine == "tesseract"


def test_a_fail_one_engine_does_not_confirm_is_uncertain():
    fail = Check(name="purchase_date", product=None, status="fail", score=0, expected="2018-03-18", found="18/03/19",
                 evidence=_ev(), reason="DATE_MISMATCH")
    unsure = Check(name="purchase_date", product=None, status="uncertain", score=0, expected="2018-03-18",
                   evidence=_ev(), reason="DATE_NOT_FOUND")
    for first, second in ((fail, unsure), (unsure, fail)):
        combined = combine_checks([first], [second], ENGINES)[0]
        assert combined.status == "uncertain" and combined.reason == "DATE_NOT_FOUND"
        assert "did not confirm" in combined.detail
    skipped = Check(name="purchase_date", product=None, status="skipped", score=0)
    combined = combine_checks([fail], [skipped], ENGINES)[0]
    assert combined.status == "uncertain" and combined.reason == "DATE_UNCLEAR"


def test_a_second_pass_against_a_first_confident_fail_is_uncertain_never_a_pass():
    """A near-miss model: Tesseract read the Ti that makes it another card, PP-OCR's reading proves
    the claimed RTX 5060. The readings disagree: review. What Tesseract proved stays proved (PP-OCR
    was called for other fields; its misreading must not send a genuine claim to review)."""
    passed = Check(name="product_on_invoice", product="RTX 5060", status="pass", score=96, expected="RTX 5060",
                   found="GeForce RTX 5060 8G", evidence=_ev())
    failed = Check(name="product_on_invoice", product="RTX 5060", status="fail", score=20, expected="RTX 5060",
                   found="GeForce RTX 5060 Ti 8G", evidence=_ev(), reason="PRODUCT_MISMATCH")
    combined = combine_checks([failed], [passed], ENGINES)[0]
    assert combined.status == "uncertain" and combined.reason == "PRODUCT_UNCERTAIN"
    assert "disagree" in combined.detail and "5060 Ti" in combined.detail and combined.score < 50
    assert combined.evidence.engine == "ppocr"
    combined = combine_checks([passed], [failed], ENGINES)[0]
    assert combined.status == "pass" and combined.evidence.engine == "tesseract"


def test_a_fail_both_engines_read_stands_and_text_layers_name_no_engine():
    fail = Check(name="retailer", product=None, status="fail", score=0, expected="Shell", found="Petronas",
                 evidence=_ev("pdf_text"), reason="RETAILER_MISMATCH")
    combined = combine_checks([fail], [fail], ENGINES)[0]
    assert combined.status == "fail" and combined.evidence.engine is None
    assert "engine" not in combined.to_dict()["evidence"]


def test_a_code_both_engines_misread_differently_is_uncertain_the_same_other_code_rejects():
    """A claimed CHK 4JH read "43H" by Tesseract and "4JM" by PP-OCR: each engine fails it, but they
    disagree on what the sticker shows, so no other code was read: review. Both reading 4KH (or a
    look-alike of it) is another code; a barcode is one exact read whatever the engine."""
    def chk(found, source="ocr"):
        return Check(name="chk_code", product=0, status="fail", score=40, expected="4JH", found=found,
                     evidence=_ev(source), reason="CHK_MISMATCH")
    combined = combine_checks([chk("43H")], [chk("4JM")], ENGINES)[0]
    assert combined.status == "uncertain" and combined.reason == "CHK_UNREADABLE"
    assert "'4JM'" in combined.detail and "'43H'" in combined.detail
    assert combined_status(chk("4KH"), chk("CHK: 4KH")) == "fail"
    assert combined_status(chk("4KB"), chk("4K8")) == "fail"  # B and 8 look alike
    assert combined_status(chk("4KH"), chk("4KB")) == "uncertain"  # H and B do not
    assert combined_status(chk("4KH"), chk("4JM", "barcode")) == "fail"
    serial = Check(name="serial_number", product=0, status="fail", score=40, expected="602-7C35-010B",
                   found="S/N: 602-7C36-010B", evidence=_ev(), reason="SERIAL_MISMATCH")
    assert combined_status(serial, replace(serial, found="6027C36O1OB")) == "fail"
    assert combined_status(serial, replace(serial, found="602-7C35-01OB9")) == "uncertain"
    date = Check(name="purchase_date", product=None, status="fail", score=0, expected="2018-03-18",
                 found="19/03/18", evidence=_ev(), reason="DATE_MISMATCH")
    assert combined_status(date, replace(date, found="18/04/18")) == "fail"  # each read its date with confidence


def combined_status(a: Check, b: Check) -> str:
    return combine_checks([a], [b], ENGINES)[0].status


def test_a_fail_stands_where_the_other_reading_shows_the_same_other_date_either_way_round():
    """One engine reads "Fakturadato: 19.02.2020" against a claimed 21.02; the other loses the label
    and reads a second, unlabelled date, so its own check is uncertain, yet it shows 19.02.2020 where
    no label calls it another date: the engines agree, the fail stands (DATE_MISMATCH), in either order.
    Where the other reading shows the claimed date too, it stays a question."""
    wrong = claim(date="2020-02-21")
    labelled = doc(*INVOICE)[1]
    unlabelled = doc(*INVOICE[:3], "19.02.2020", "Ref 25.02.2020", *INVOICE[4:])[1]
    with_claimed = doc(*INVOICE[:3], "19.02.2020", "Ref 21.02.2020", *INVOICE[4:])[1]
    for first, second, engine in ((labelled, unlabelled, "ppocr"), (unlabelled, labelled, "tesseract")):
        checks, _ = cascade_checks(wrong, [("invoice.jpg", first)], [], CFG, lambda *a, s=second, **known: s)
        date = next(c for c in checks if c.name == "purchase_date")
        assert date.status == "fail" and date.reason == "DATE_MISMATCH"
        assert f"{engine}'s reading shows it too" in date.detail
    checks, _ = cascade_checks(wrong, [("invoice.jpg", labelled)], [], CFG, lambda *a, **known: with_claimed)
    assert next(c for c in checks if c.name == "purchase_date").status == "uncertain"


def test_checks_out_of_step_are_an_error():
    with pytest.raises(ValueError):
        combine_checks([Check(name="retailer", product=None, status="pass", score=90)],
                       [Check(name="purchase_date", product=None, status="pass", score=90)], ENGINES)


# ------------------------------------------------------------------ the cascade on real documents

def _receipt_claim(tmp_path: Path, number: str, *, date: str | None = None, retailer: str | None = None) -> Path:
    key = json.loads((DATA / f"{number}.json").read_text())
    day, month, year = key["date"].split("/")
    folder = tmp_path / f"sroie-{number}"
    folder.mkdir()
    shutil.copy(DATA / f"{number}.jpg", folder / "invoice.jpg")
    claim = {"claim_id": f"sroie-{number}", "promotion_id": None,
             "claimant": {"email": None, "country": "MY"},
             "purchase": {"date": date or f"{int(year) + 2000 if len(year) == 2 else year}-{month}-{day}",
                          "retailer": retailer or key["company"], "channel": None, "country": "MY"},
             "products": [], "documents": {"invoices": ["invoice.jpg"], "serial_photos": []}}
    (folder / "claim.json").write_text(json.dumps(claim))
    return folder


def _checks(decision) -> dict:
    return {c.name: c for c in decision.checks}


def test_a_receipt_tesseract_proves_is_not_read_again(tmp_path):
    counting = EngineCountingReader()
    reader = CachedReader(ReadCache(tmp_path / "cache"), counting)
    decision = verify_claim(_receipt_claim(tmp_path, "019"), CFG, reader=reader, store=None)
    checks = _checks(decision)
    assert checks["purchase_date"].status == checks["retailer"].status == "pass"
    assert checks["purchase_date"].evidence.engine == "tesseract"
    assert counting.calls == {"tesseract": 1}


def test_an_unproven_field_is_read_again_and_a_warm_rerun_reads_nothing(tmp_path):
    # Tesseract reads the shop of receipt 047 as "RESTAURANT SIH TiS": the retailer is unproven
    claim = _receipt_claim(tmp_path, "047")
    counting = EngineCountingReader()
    reader = CachedReader(ReadCache(tmp_path / "cache"), counting)
    first = verify_claim(claim, CFG, reader=reader, store=None)
    assert counting.calls == {"tesseract": 1, "ppocr": 1}
    assert _checks(first)["purchase_date"].status == "pass"
    assert _checks(first)["retailer"].status != "fail"
    again = verify_claim(claim, CFG, reader=CachedReader(ReadCache(tmp_path / "cache"), counting), store=None)
    assert counting.calls == {"tesseract": 1, "ppocr": 1}  # nothing read the second time
    assert [c.to_dict() for c in again.checks] == [c.to_dict() for c in first.checks]
    # new matching thresholds: the checks are computed again, from both cached readings
    looser = CFG.model_copy(update={"matching": CFG.matching.model_copy(update={"date_repaired_score": 89})})
    verify_claim(claim, looser, reader=CachedReader(ReadCache(tmp_path / "cache"), counting), store=None)
    assert counting.calls == {"tesseract": 1, "ppocr": 1}


def test_a_wrong_date_never_passes_and_a_fail_needs_both_engines(tmp_path):
    counting = EngineCountingReader()
    reader = CachedReader(ReadCache(tmp_path / "cache"), counting)
    decision = verify_claim(_receipt_claim(tmp_path, "047", date="2018-03-19"), CFG, reader=reader, store=None)
    date = _checks(decision)["purchase_date"]
    assert counting.calls["ppocr"] == 1
    assert date.status in ("fail", "uncertain")
    if date.status == "fail":  # both engines read 09/03/2018 with confidence
        assert date.reason == "DATE_MISMATCH"


def test_tesseract_only_policy_reads_once(tmp_path):
    counting = EngineCountingReader()
    reader = CachedReader(ReadCache(tmp_path / "cache"), counting)
    verify_claim(_receipt_claim(tmp_path, "047"), TESSERACT_ONLY, reader=reader, store=None)
    assert counting.calls == {"tesseract": 1}


def test_a_pdf_with_a_text_layer_pays_nothing_extra(tmp_path):
    # the product is not on this invoice (a field unproven), but its PDF text layer is what OCR would read
    folder = tmp_path / "claim"
    shutil.copytree(SAMPLES / "0002-id-product-not-on-invoice", folder)
    counting = EngineCountingReader()
    decision = verify_claim(folder, CFG, reader=CachedReader(ReadCache(tmp_path / "cache"), counting), store=None)
    assert _checks(decision)["product_on_invoice"].status != "pass"
    assert counting.calls["ppocr"] == 0


def test_engine_config_keys_reads_apart():
    from pipeline.cache import read_key

    ppocr = engine_config(CFG, "ppocr")
    assert engine_config(CFG, "tesseract") is CFG and ppocr.ocr.engine == "ppocr"
    args = {"languages": ["eng"], "barcodes": False, "ocr": True}
    assert read_key("0" * 64, CFG, **args) != read_key("0" * 64, ppocr, **args)


def test_evidence_on_a_document_the_second_engine_did_not_read_is_the_first_engines():
    first = [Check(name="retailer", product=None, status="uncertain", score=40, expected="Shell", evidence=_ev(),
                   reason="RETAILER_NOT_FOUND")]
    second = [Check(name="retailer", product=None, status="uncertain", score=45, expected="Shell", evidence=_ev(),
                    reason="RETAILER_NOT_FOUND")]
    assert combine_checks(first, second, ENGINES, set())[0].evidence.engine == "tesseract"
    assert combine_checks(first, second, ENGINES, {"invoice.jpg"})[0].evidence.engine == "ppocr"


def test_region_reading_is_asked_for_invoices_not_for_stickers():
    # the first reading is handed to the second engine for invoices ([ppocr].regions); a sticker is read whole
    from pipeline.cascade import _second_reads
    from pipeline.records import DocumentRead, Page

    first = DocumentRead("a.jpg", "image", "0" * 64, (Page(1, 100, 100, "ocr"),))
    asked = []

    def read_again(name, config, barcodes, **kwargs):
        asked.append((name, barcodes, kwargs.get("known") is first))
        return first

    ppocr_cfg = engine_config(CFG, "ppocr")
    ppocr_cfg = ppocr_cfg.model_copy(update={"ppocr": ppocr_cfg.ppocr.model_copy(update={"regions": True})})
    _second_reads([("a.jpg", first)], ppocr_cfg, read_again, False, set())
    _second_reads([("s.jpg", first)], ppocr_cfg, read_again, True, set())
    whole = ppocr_cfg.model_copy(update={"ppocr": ppocr_cfg.ppocr.model_copy(update={"regions": False})})
    _second_reads([("b.jpg", first)], whole, read_again, False, set())
    assert asked == [("a.jpg", False, True), ("s.jpg", True, False), ("b.jpg", False, False)]


# ------------------------------------------------------------------ region reading: the lines a fail rests on

REGIONS = engine_config(CFG, "tesseract").model_copy(update={"ppocr": CFG.ppocr.model_copy(update={"regions": True})})


def _second_reading_of(text_lines):
    """A second engine's reading of the invoice, and the first readings it was handed (``known``)."""
    handed = []

    def read_again(name, config, barcodes, known=None):
        handed.append(known)
        return doc(*text_lines)[1]
    return read_again, handed


def test_a_region_reading_is_handed_the_first_reading_without_the_lines_a_fail_rests_on():
    # Tesseract reads "Fakturadato: 19.02.2020" (confidence 95) against a claimed 21.02: a fail. The
    # region reading must read that line itself, so it is withheld from what PP-OCR is told was read.
    wrong = claim(date="2020-02-21")
    first = [doc(*INVOICE)]
    read_again, handed = _second_reading_of(INVOICE)
    checks, escalated = cascade_checks(wrong, first, [], REGIONS, read_again)
    assert escalated["invoices"] == ["ppocr"] and len(handed) == 1
    lines = [line.text for line in handed[0].pages[0].lines]
    assert "Fakturadato: 19.02.2020" not in lines and "Komplett AS" in lines
    assert len(lines) == len(first[0][1].pages[0].lines) - 1
    date = {c.name: c for c in checks}["purchase_date"]
    assert date.status == "fail" and date.reason == "DATE_MISMATCH"  # both engines read 19.02.2020

    # the second engine reads that line as the claimed date: the readings disagree, a person looks
    read_again, _ = _second_reading_of([x.replace("19.02", "21.02") for x in INVOICE])
    date = {c.name: c for c in cascade_checks(wrong, first, [], REGIONS, read_again)[0]}["purchase_date"]
    assert date.status == "uncertain"
    # the second engine cannot read the line (it is not in its reading): one engine only, review
    read_again, _ = _second_reading_of([x for x in INVOICE if not x.startswith("Fakturadato")])
    date = {c.name: c for c in cascade_checks(wrong, first, [], REGIONS, read_again)[0]}["purchase_date"]
    assert date.status == "uncertain" and date.reason != "DATE_MISMATCH"


def test_a_first_reading_with_nothing_unsettled_is_handed_whole():
    name, first = doc(*INVOICE)
    unsure = Check(name="retailer", product=None, status="uncertain", score=40,
                   evidence=Evidence(name, 1, (10, 20, 200, 40), "ocr"), reason="RETAILER_NOT_FOUND")
    elsewhere = Check(name="purchase_date", product=None, status="fail", score=0,
                      evidence=Evidence("other.jpg", 1, (10, 20, 200, 40), "ocr"), reason="DATE_MISMATCH")
    assert contested(first, [unsure, elsewhere], name) is first
    # an uncertain check's value found on a line ("Invoice Date:" Tesseract could not place) is read again
    placed = replace(unsure, found="Komplett AS", evidence=Evidence(name, 1, (10, 20, 200, 40), "ocr"))
    assert len(contested(first, [placed], name).pages[0].lines) == len(first.pages[0].lines) - 1
    on_text_layer = replace(elsewhere, evidence=Evidence(name, 1, (10, 20, 200, 40), "pdf_text"))
    assert contested(first, [on_text_layer], name) is first


def _page_at(*rows: tuple[int, str, float]) -> DocumentRead:
    """An invoice page of (y, text, confidence) rows, its words 12 px a character from x = 10."""
    lines = []
    for y, text, conf in rows:
        x, words = 10, []
        for token in text.split():
            words.append(Word(token, conf, (x, y, x + 12 * len(token), y + 20)))
            x += 12 * len(token) + 10
        lines.append(Line(tuple(words)))
    return DocumentRead("invoice.jpg", "jpeg", "0" * 64, (Page(1, 800, 1200, "ocr", tuple(lines)),))


def test_a_region_reading_is_judged_with_the_first_readings_well_read_lines_as_context():
    # Tesseract reads every line with confidence but misses the shop's (a logo); PP-OCR reads only
    # that line: alone, one line is no readable invoice, with the lines Tesseract read well it is the
    # page, and the shop passes on PP-OCR's reading of it.
    body = [text for text in INVOICE[1:] if not text.startswith("Org.nr")]  # no registration number to go by
    rows = [(60 + 40 * i, text, 95.0) for i, text in enumerate(body)]
    first = _page_at((20, "~", 12.0), *rows)
    second = _page_at((18, "Komplett AS", 92.0))
    seen: list = []
    checks, escalated = cascade_checks(claim(), [("invoice.jpg", first)], [], REGIONS,
                                       lambda name, config, barcodes, known=None: second, seen=seen)
    shop = {c.name: c for c in checks}["retailer"]
    assert escalated["invoices"] == ["ppocr"]
    assert seen == [("invoice.jpg", second)]  # the promotion rules get what PP-OCR read, not the carried lines
    assert shop.status == "pass" and shop.evidence.engine == "ppocr"
    merged, carried = with_context(second, first, REGIONS.ppocr.region_known_conf)
    assert [line.text for line in carried[1]] == body  # the badly read line is not carried
    assert merged.pages[0].lines[0].text == "Komplett AS" and len(merged.pages[0].lines) == len(body) + 1
    # alone, PP-OCR's line is too little to judge (no readable invoice): the shop would stay unproven
    from pipeline.checks import document_checks

    alone = {c.name: c for c in document_checks(claim(), [("invoice.jpg", second)], [], CFG)}
    assert alone["retailer"].status == "skipped"


def test_a_carried_line_on_the_same_row_as_a_read_one_joins_it():
    # receipt: Tesseract read the price of the wrapped name's last row but not the word beside it;
    # PP-OCR, reading the product lines again, read "SLIM": one row, not two lines (a name wrapped
    # over three rows must not have the price in between)
    first = DocumentRead("r.jpg", "jpeg", "0" * 64, (Page(1, 800, 1200, "ocr", (
        Line((Word("7", 96, (560, 819, 575, 840)), Word("030,00", 96, (585, 817, 660, 843)))),
        Line((Word("TOTALT", 96, (200, 903, 300, 926)),)))),))
    own = DocumentRead("r.jpg", "jpeg", "0" * 64, (Page(1, 800, 1200, "ocr", (
        Line((Word("SUPER", 97, (200, 776, 280, 816)), Word("GAMINGX", 97, (290, 776, 400, 816)))),
        Line((Word("SLIM", 96, (200, 821, 270, 857)),)))),))
    merged, carried = with_context(own, first, REGIONS.ppocr.region_known_conf)
    assert [line.text for line in merged.pages[0].lines] == ["SUPER GAMINGX", "SLIM 7 030,00", "TOTALT"]
    assert [line.text for line in carried[1]] == ["7 030,00", "TOTALT"]


def test_a_fail_resting_only_on_a_carried_line_is_not_the_second_engines():
    # PP-OCR reads the shop's line; a date contradiction the merged page shows only on a line Tesseract
    # read (and PP-OCR never did) is Tesseract's reading: it cannot be PP-OCR's agreement.
    from pipeline.cascade import _first_engines

    first = _page_at((20, "Komplett AS", 95.0), (60, "Fakturadato: 19.02.2020", 95.0))
    own = _page_at((18, "Komplett AS", 92.0))
    merged, carried = with_context(own, first, REGIONS.ppocr.region_known_conf)
    date_box = merged.pages[0].lines[1].bbox
    fail = Check(name="purchase_date", product=None, status="fail", score=0, found="19.02.2020",
                 evidence=Evidence("invoice.jpg", 1, date_box, "ocr"), reason="DATE_MISMATCH")
    judged = _first_engines(fail, {"invoice.jpg": (own, carried)}, "tesseract")
    assert judged.status == "uncertain" and judged.reason != "DATE_MISMATCH"
    assert judged.evidence.engine == "tesseract"
    # the same fail on a line PP-OCR read itself stands as the second engine's
    shop_box = own.pages[0].lines[0].bbox
    on_own = replace(fail, evidence=Evidence("invoice.jpg", 1, shop_box, "ocr"))
    assert _first_engines(on_own, {"invoice.jpg": (own, carried)}, "tesseract") == on_own


def test_a_wrong_date_on_a_line_tesseract_read_well_is_read_by_both_engines_and_rejects(tmp_path):
    # Receipt 019: Tesseract reads "18/03/18 15 17 06051 02" with every word at 90 or more, a line
    # the region reading would not recognise again. Claimed 19/03: the line is handed to PP-OCR as
    # unread, PP-OCR reads 18/03/18 too, and the wrong date is rejected as with whole-page readings.
    from pipeline.ocr import ppocr

    folder = _receipt_claim(tmp_path, "019", date="2018-03-19")
    read = {}

    class Keeping(EngineCountingReader):
        def __call__(self, *args, config, **kwargs):
            doc = super().__call__(*args, config=config, **kwargs)
            read[config.ocr.engine] = (doc, kwargs.get("known"))
            return doc

    counting = Keeping()
    decision = verify_claim(folder, REGIONS, reader=CachedReader(ReadCache(tmp_path / "cache"), counting), store=None)
    date = _checks(decision)["purchase_date"]
    assert counting.calls == {"tesseract": 1, "ppocr": 1}
    assert (date.status, date.reason, decision.decision) == ("fail", "DATE_MISMATCH", "reject")
    second, handed = read["ppocr"]
    assert "18/03/18" in second.text.replace(" ", "")
    tesseract = read["tesseract"][0].pages[0]
    date_line = next(line for line in tesseract.lines if line.text.startswith("18/03/18"))
    assert min(w.conf for w in date_line.words) >= REGIONS.ppocr.region_known_conf
    assert date_line not in handed.pages[0].lines and len(handed.pages[0].lines) == len(tesseract.lines) - 1
    # handed the whole first reading, PP-OCR does not read the date line again (what a reject then lacked)
    from tests.test_ppocr import _receipt

    alone = ppocr.ocr_image(_receipt("019")[0], REGIONS.ppocr, known=tesseract)
    assert "18/03/18" not in alone.text.replace(" ", "")
