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


def test_a_pasted_value_changes_only_its_patch(tmp_path):
    import io

    import numpy as np
    from PIL import Image, ImageDraw

    from pipeline.lab.degrade import jpeg_bytes, photo_params, photograph
    from pipeline.lab.sheet import pil_font
    from pipeline.lab.tamper import paste_value

    page = Image.new("RGB", (900, 400), (250, 250, 248))
    ImageDraw.Draw(page).text((500, 120), "17.02.2020", fill=(20, 20, 20), font=pil_font("sans", False, 30))
    rng = np.random.default_rng(3)
    photo = photograph(np.asarray(page), photo_params(rng, "easy", allow_turn=False), rng, out_width=900)
    for out in ("jpeg", "png"):
        path = tmp_path / f"invoice-{out}.jpg"
        path.write_bytes(jpeg_bytes(photo, 80))  # the phone's photo; the forger saves it as ``out``
        before = np.asarray(Image.open(path).convert("L")).astype(int)
        ys, xs = np.nonzero(before[60:260, 380:760] < 120)
        box = (380 + int(xs.min()), 60 + int(ys.min()), 380 + int(xs.max()) + 1, 60 + int(ys.max()) + 1)
        how = paste_value(path, box, "23.02.2020", np.random.default_rng(7), background="flat", out=out)
        after = np.asarray(Image.open(io.BytesIO(path.read_bytes())).convert("L")).astype(int)
        assert path.read_bytes()[:4] == (b"\x89PNG" if out == "png" else b"\xff\xd8\xff\xe0")
        x0, y0, x1, y1 = how["box"]
        assert x0 <= box[0] and y0 <= box[1] and x1 >= box[2] and y1 >= box[3]
        changed = np.abs(after - before) > (40 if out == "jpeg" else 0)
        assert changed[y0:y1, x0:x1].any()
        outside = changed.copy()
        outside[max(0, y0 - 8):y1 + 8, max(0, x0 - 8):x1 + 8] = False  # JPEG blocks at the patch's edge
        assert not outside.any()
