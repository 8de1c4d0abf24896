"""The sample-claim generator: deterministic, and every label agrees with its claim and documents.

The labels are checked against the documents' truth (what was printed, photographed and
bought), never against what the pipeline outputs.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import shutil
from pathlib import Path

import pytest
from PIL import Image

from pipeline.lab.catalogue import AMD_PROMOTION, NEAR_MISS, VOUCHER_PROMOTION
from pipeline.lab.generator import generate, generated_set
from pipeline.lab.locales import LOCALES
from pipeline.lab.scenarios import REVIEW_CODES, SCENARIOS, _allocate, plan_set, same_serial

N, SEED = 36, 5


COMMITTED = Path(__file__).resolve().parents[1] / "sample_invoices"


@pytest.fixture(scope="module", params=["fresh", "committed"])
def sample_set(request, tmp_path_factory) -> Path:
    """A set generated now, and the generated claims committed in sample_invoices/."""
    out = tmp_path_factory.mktemp("lab-set")
    if request.param == "fresh":
        generate(out, n=N, seed=SEED)
        return out
    for expected in sorted(COMMITTED.glob("*/expected.json")):
        if "scenario" in json.loads(expected.read_text()):
            shutil.copytree(expected.parent, out / expected.parent.name)
    (out / ".committed").touch()
    return out


def _claims(root: Path) -> list[tuple[Path, dict, dict]]:
    out = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        out.append((folder, json.loads((folder / "claim.json").read_text()),
                    json.loads((folder / "expected.json").read_text())))
    return out


def _printed(model: str, lines: list[str]) -> bool:
    """The model is on the invoice as a whole name (a till may wrap it onto the next line)."""
    text = " ".join(lines).lower()
    return re.search(r"(?<![a-z0-9])" + re.escape(model.lower()) + r"(?![a-z0-9])", text) is not None


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes(sample_set, tmp_path):
    if (sample_set / ".committed").exists():
        pytest.skip("the committed set's labels are checked below; its bytes are not regenerated here")
    again = tmp_path / "again"
    generate(again, n=N, seed=SEED)
    assert _digest(again) == _digest(sample_set)


def test_other_seed_other_claims(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    generate(a, n=3, seed=1, kinds="documents")
    generate(b, n=3, seed=2, kinds="documents")
    assert _digest(a) != _digest(b)


def test_plan_is_balanced_and_covers_every_scenario():
    plan = plan_set(60, 1, "all")
    assert len(plan) == 60
    assert set(plan) == set(SCENARIOS)
    docs = plan_set(500, 1, "documents")
    assert {SCENARIOS[s].kind for s in docs} == {"documents"}
    genuine = sum(s.startswith("genuine") for s in docs)
    assert 0.4 < genuine / 500 < 0.6
    # claims that copy an earlier claim come after every claim they may copy
    first_dependent = min(i for i, s in enumerate(plan) if SCENARIOS[s].depends)
    assert all(not SCENARIOS[s].depends for s in plan[:first_dependent])


def test_allocate_sums_and_keeps_each_scenario():
    counts = _allocate({"a": 10, "b": 1, "c": 1}, 5)
    assert sum(counts.values()) == 5 and min(counts.values()) >= 1


def test_every_scenario_in_the_set(sample_set):
    assert {e["scenario"] for _, _, e in _claims(sample_set)} == set(SCENARIOS)


def test_label_shape_and_decision_follow_from_reasons(sample_set):
    for folder, claim, exp in _claims(sample_set):
        assert exp["decision"] in ("approve", "review", "reject"), folder
        assert isinstance(exp["reasons"], list) and isinstance(exp["checks"], dict)
        if any(code not in REVIEW_CODES for code in exp["reasons"]):
            assert exp["decision"] == "reject", folder
        elif exp["reasons"]:
            assert exp["decision"] == "review", folder
        else:
            assert exp["decision"] == "approve", folder
            assert set(exp["checks"].values()) == {"pass"}, folder
        assert exp["kind"] == SCENARIOS[exp["scenario"]].kind
        assert (claim["promotion_id"] is None) == (exp["kind"] == "documents"), folder
        for doc in claim["documents"]["invoices"] + claim["documents"]["serial_photos"]:
            assert (folder / doc).exists(), (folder, doc)


def _swap(day: dt.date):
    try:
        return day.replace(month=day.day, day=day.month)
    except ValueError:
        return None


def test_purchase_date_label_matches_the_printed_dates(sample_set):
    for folder, claim, exp in _claims(sample_set):
        if "purchase_date" not in exp["checks"]:
            continue
        inv = exp["truth"]["invoice"]
        printed = [dt.date.fromisoformat(d) for d in inv["dates"]]
        claimed = dt.date.fromisoformat(claim["purchase"]["date"])
        assert any(inv["date_text"] in line for line in inv["lines"]), folder
        if exp["checks"]["purchase_date"] == "pass":
            assert claimed in printed, folder
        else:
            assert claimed not in printed and claimed not in [_swap(d) for d in printed], folder
        if exp["scenario"] == "wrong_date":
            assert claimed.isoformat() != inv["date"] and exp["checks"]["purchase_date"] == "fail"


def test_genuine_claims_fields_are_printed(sample_set):
    for folder, claim, exp in _claims(sample_set):
        if exp["decision"] != "approve":
            continue
        inv = exp["truth"]["invoice"]
        text = "\n".join(inv["lines"]).lower()
        assert claim["purchase"]["date"] == inv["date"], folder
        assert inv["date_text"].lower() in text
        assert inv["retailer"].lower() in text
        for product in claim["products"]:
            assert _printed(product["model"], inv["lines"]), (folder, product["model"])
        serials = [s["serial"] for s in exp["truth"]["stickers"]]
        for product in claim["products"]:
            if product["serial"]:
                assert any(same_serial(product["serial"], s) for s in serials), folder


def test_product_labels(sample_set):
    for folder, claim, exp in _claims(sample_set):
        status = exp["checks"].get("product_on_invoice")
        if status is None:
            continue
        missing = [p["model"] for p in claim["products"] if not _printed(p["model"], exp["truth"]["invoice"]["lines"])]
        assert (status == "pass") == (not missing), folder
        if "PRODUCT_MISMATCH" in exp["reasons"]:
            bought = exp["truth"]["invoice"]["models"]
            assert any(m in NEAR_MISS.get(b, ()) for m in missing for b in bought), folder
        if exp["scenario"] == "product_not_on_invoice":
            assert exp["reasons"] == ["PRODUCT_NOT_ON_INVOICE"], folder


def test_retailer_labels(sample_set):
    for folder, claim, exp in _claims(sample_set):
        status = exp["checks"].get("retailer")
        if status is None:
            continue
        inv = exp["truth"]["invoice"]
        loc = LOCALES[claim["purchase"]["country"]]
        own = next(r for r in loc.retailers if r.id == inv["retailer_id"] and r.name == inv["retailer"])
        if status == "pass":
            assert claim["purchase"]["retailer"] in own.claimed, folder
        else:
            assert claim["purchase"]["retailer"] not in own.claimed, folder
            text = " ".join(inv["lines"]).lower()
            assert claim["purchase"]["retailer"].lower() not in text, folder


def test_serial_labels(sample_set):
    for folder, claim, exp in _claims(sample_set):
        stickers = exp["truth"]["stickers"]
        for product in claim["products"]:
            if not product["serial"]:
                continue
            real = next(s for s in stickers if s["model"] == product["model"] or exp["scenario"] == "near_miss_model")
            status = exp["checks"]["serial_number"]
            if not real["readable"]:
                assert status == "uncertain" and "SERIAL_UNREADABLE" in exp["reasons"], folder
            elif status == "pass":
                assert same_serial(product["serial"], real["serial"]), folder
            else:
                assert not same_serial(product["serial"], real["serial"]), folder
                differing = sum(a != b for a, b in zip(product["serial"], real["serial"]))
                assert exp["scenario"] != "serial_off_by_one" or differing == 1, folder


def _decode(path: Path) -> list[str]:
    import numpy as np
    import zxingcpp

    return [b.text for b in zxingcpp.read_barcodes(np.asarray(Image.open(path).convert("L")))]


def test_sticker_photos_hold_what_the_truth_says(sample_set):
    checked = 0
    for folder, _claim, exp in _claims(sample_set):
        for sticker in exp["truth"]["stickers"]:
            texts = _decode(folder / sticker["file"])
            if not sticker["readable"]:
                assert sticker["serial"] not in texts, folder
            elif sticker["level"] == "easy":
                assert sticker["serial"] in texts, folder
                checked += 1
    assert checked >= 3


def test_digital_pdfs_carry_the_printed_text(sample_set):
    import pdfplumber

    seen = 0
    for folder, _claim, exp in _claims(sample_set):
        inv = exp["truth"]["invoice"]
        if inv["form"] != "pdf" or inv["corrupt"]:
            continue
        with pdfplumber.open(folder / inv["file"]) as pdf:
            text = "\n".join(page.extract_text() or "" for page in pdf.pages)
        assert inv["date_text"] in text, folder
        for model in inv["models"]:
            assert model in text, folder
        seen += 1
    assert seen >= 1


def test_corrupt_uploads_are_really_corrupt(sample_set):
    for folder, claim, exp in _claims(sample_set):
        if exp["scenario"] != "corrupt_upload":
            continue
        data = (folder / claim["documents"]["invoices"][0]).read_bytes()
        if data[:4] == b"%PDF":
            assert b"%%EOF" not in data[-1024:], folder
        elif data:
            with pytest.raises(OSError):
                Image.open(io.BytesIO(data)).load()
        assert exp == {**exp, "decision": "review", "reasons": ["DOCUMENT_UNREADABLE"]}


def test_promotion_labels_follow_the_terms(sample_set):
    claims = _claims(sample_set)
    earlier: list[tuple[dict, dict]] = []
    for folder, claim, exp in claims:
        scenario = exp["scenario"]
        inv = exp["truth"]["invoice"]
        day = dt.date.fromisoformat(inv["date"])
        submitted = dt.datetime.fromisoformat(claim["submitted_at"]).date()
        if claim["promotion_id"] == AMD_PROMOTION.id:
            in_period = AMD_PROMOTION.period[0] <= day <= AMD_PROMOTION.period[1]
            assert (exp["checks"]["promotion_period"] == "pass") == in_period, folder
            if scenario == "claim_too_early":
                assert submitted < day + dt.timedelta(days=29), folder
            elif scenario == "claim_window_closed":
                assert submitted > AMD_PROMOTION.window[1], folder
            elif exp["checks"]["claim_window"] == "pass":
                assert AMD_PROMOTION.earliest_claim(day) <= submitted <= AMD_PROMOTION.window[1], folder
            assert (exp["checks"]["territory"] == "pass") == (AMD_PROMOTION.tier(claim["claimant"]["country"])
                                                               is not None)
            if scenario == "retailer_excluded":
                assert inv["retailer_id"] == "ebay" or not inv["seller"].startswith("Amazon"), folder
            approved = [(c, e) for c, e in earlier if e["decision"] == "approve"
                        and c["promotion_id"] == AMD_PROMOTION.id]
            if scenario == "serial_already_claimed":
                mine = {p["serial"] for p in claim["products"] if p["serial"]}
                assert any(mine & {p["serial"] for p in c["products"]} for c, _ in approved), folder
            if scenario == "invoice_reused":
                key = (inv["retailer_id"], inv["number"])
                assert any((e["truth"]["invoice"]["retailer_id"], e["truth"]["invoice"]["number"]) == key
                           for _, e in approved), folder
            if scenario == "claim_limit_reached":
                assert any(c["claimant"]["email"].lower() == claim["claimant"]["email"].lower()
                           and c["submitted_at"] < claim["submitted_at"] for c, _ in approved), folder
            if scenario.startswith("promo_genuine") and claim["purchase"]["country"] == "NO":
                assert exp["reward"]["currency"] == "NOK" and exp["reward"]["amount"] > 0
        elif claim["promotion_id"] == VOUCHER_PROMOTION.id:
            in_period = VOUCHER_PROMOTION.period[0] <= day <= VOUCHER_PROMOTION.period[1]
            assert (exp["decision"] == "approve") == in_period, folder
        earlier.append((claim, exp))


def test_sizes_fit_a_repository(sample_set):
    total = 0
    for path in sample_set.rglob("*"):
        if path.suffix == ".jpg" and path.stat().st_size:
            try:
                size = Image.open(path).size
            except OSError:
                continue  # the corrupt upload
            # phone-photo sized (a quarter-turned portrait photo is wider than tall), never camera-raw
            assert 600 <= max(size) <= 2500, (path, size)
        if path.is_file():
            total += path.stat().st_size
    assert total / len(_claims(sample_set)) < 400_000


def test_regenerating_replaces_only_generated_claims(tmp_path):
    generate(tmp_path, n=3, seed=4, kinds="documents")
    own = tmp_path / "demo-hand-made"
    own.mkdir()
    (own / "claim.json").write_text("{}")
    folders = generate(tmp_path, n=2, seed=4, kinds="documents")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([f.name for f in folders] + [own.name])


def test_generated_set_is_made_once_per_parameters(tmp_path):
    claims = generated_set(tmp_path, n=2, seed=4, kinds="documents")
    first = _digest(claims)
    marker = next(claims.iterdir()) / "touched"
    marker.write_text("x")
    assert generated_set(tmp_path, n=2, seed=4, kinds="documents") == claims and marker.exists()  # kept
    generated_set(tmp_path, n=2, seed=5, kinds="documents")  # another set: regenerated
    assert not marker.exists() and _digest(claims) != first
