"""The tampered-set generator (pipeline/lab/tamper.py): each kind writes a claim folder with its
label, the edit is really in the file, and the same seed gives the same set."""
from __future__ import annotations

import json

from pipeline.extract.dates import find_dates_in_text
from pipeline.integrity.documents import _runs
from pipeline.lab.tamper import KINDS, make_set
from pipeline.ocr.pdf import pdf_forensics, revisions

KINDS_HERE = ("pdf_overlay_date", "pdf_font_date", "pdf_editor", "sums_total", "used_product")


def test_a_small_tampered_set(tmp_path):
    genuine, tampered = make_set(tmp_path / "a", n_genuine=3, n_per_kind=1, seed=5, kinds=KINDS_HERE)
    assert len(genuine) == 3 and [t.kind for t in tampered] == list(KINDS_HERE)
    for t in tampered:
        label = json.loads((t.folder / "expected.json").read_text())
        assert label["tamper"] == t.kind and tuple(label["catches"]) == KINDS[t.kind]
        assert (t.folder / "claim.json").exists()
    by_kind = {t.kind: t.folder for t in tampered}
    claim = json.loads((by_kind["pdf_overlay_date"] / "claim.json").read_text())
    pdf = (by_kind["pdf_overlay_date"] / claim["documents"]["invoices"][0]).read_bytes()
    assert len(revisions(pdf)) == 2  # saved again as an incremental update
    chars = pdf_forensics(pdf, "x.pdf").pages[0]
    shown = {d.date.isoformat() for r in _runs([c for c in chars if c.contrast > 24])
             for d in find_dates_in_text("".join(c.text for c in r))}
    assert claim["purchase"]["date"] in shown  # the claim types the date the edited invoice shows
    again, _ = make_set(tmp_path / "b", n_genuine=3, n_per_kind=1, seed=5, kinds=KINDS_HERE[:1])
    first = sorted(p.name for p in genuine[0].iterdir())
    assert first == sorted(p.name for p in again[0].iterdir())
    assert all((genuine[0] / n).read_bytes() == (again[0] / n).read_bytes() for n in first if n != "expected.json")
