#!/usr/bin/env python3
"""Build the bundled demo claims in sample_invoices/ (deterministic; re-run to refresh).

Synthetic product claims (digital PDF and photo-like invoices, serial stickers with
a real Code 128) covering each document check's failure, plus real receipts and
invoices from the real-world documents folder ($CLAIMCHECK_REALWORLD, e.g. a copy of SROIE and
invoice2data's test set beside the checkout) turned into claims by its make_claims.py.
Every claim folder gets an expected.json (docs/contract.md). Then GENERATED_N claims
from the lab's generator (pipeline.lab.generate, seed GENERATED_SEED): invoices in the
promotions' languages as PDFs, scans and phone photos, sticker photos, and every failure
the checks exist for; their expected.json also names the scenario and the truth. Then the
EXTRA claims (numbered from GENERATED_N + 1): one of each scenario added after the set was
first committed (same-template buyers, logo-only shops, legal-entity / extra-word / partial
shop names, several dates, look-alike models), two of them hard phone photos.

`python scripts/make_demo_samples.py --extras` writes only the EXTRA claims (the committed
0001-0045 were made by the generator of commit 092fe8e and are kept as they are).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from pipeline.samples import InvoiceSpec, invoice_image, invoice_pdf, photo_like, save_jpeg, save_png, sticker_image

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "sample_invoices"
GENERATED_N, GENERATED_SEED = 45, 1
# (scenario, hard phone photo): the source claim of the same-template buyer first
EXTRA = [("promo_genuine_duo", False), ("promo_same_template", False), ("genuine_sibling_model", True),
         ("genuine_logo_only", False), ("genuine_legal_entity", False), ("genuine_extra_words", False),
         ("genuine_partial_name", False), ("genuine_several_dates", True)]


def extras() -> None:
    from pipeline.lab.generator import write_scenarios

    first = GENERATED_N + 1
    for folder in OUT.iterdir():
        if folder.is_dir() and folder.name[:4].isdigit() and int(folder.name[:4]) >= first:
            shutil.rmtree(folder)
    write_scenarios(OUT, GENERATED_SEED, [name for name, _ in EXTRA], first_index=first,
                    hard_share=[hard for _, hard in EXTRA])
REALWORLD = Path(os.environ.get("CLAIMCHECK_REALWORLD", REPO.parent / "shared" / "realworld"))

AMAZON_FR = InvoiceSpec(
    title="FACTURE", retailer="Amazon EU S.a r.l.",
    retailer_lines=("5 Rue Plaetis, L-2338 Luxembourg", "www.amazon.fr", "N° TVA FR12487773327"),
    number="FR9001A2B3C4", date_label="Date de la facture / Date de livraison", date_text="11/10/2019",
    items=(("MSI GEFORCE RTX 3060TI SIG GAMING TRIO OC", "1049,00 EUR"),
           ('MSI 27" LED - Optix MAG27CQ', "420,90 EUR")),
    total="Total 1469,90 EUR", footer=("Vendu par Amazon EU S.a r.l.",))

KOMPLETT_NO = InvoiceSpec(
    title="FAKTURA", retailer="Komplett.no",
    retailer_lines=("Komplett AS, Postboks 2094, 3202 Sandefjord", "Org.nr. 980 284 158 MVA"),
    number="204417811", date_label="Fakturadato:", date_text="19.02.2020",
    items=(("MSI MEG X570 ACE hovedkort", "3 990,00"), ("AMD Ryzen 9 3900X prosessor", "5 490,00")),
    total="Totalt inkl. mva NOK 9 480,00", footer=("Takk for handelen!",))

MINDFACTORY_DE = InvoiceSpec(
    title="RECHNUNG", retailer="Mindfactory AG",
    retailer_lines=("Preussenstrasse 14, 26388 Wilhelmshaven", "USt-IdNr. DE814196577", "www.mindfactory.de"),
    number="RE-2020-118823", date_label="Rechnungsdatum:", date_text="03.03.2020",
    items=(("MSI GeForce RTX 3060 Gaming X 12G", "329,00 EUR"),),
    total="Gesamtbetrag 329,00 EUR")


def claim(folder: Path, claim_id: str, *, date: str, retailer: str | None, country: str,
          products: list[dict], invoices: list[str], photos: list[str], expected: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    data = {
        "claim_id": claim_id, "promotion_id": None, "submitted_at": None,
        "claimant": {"email": f"{claim_id.lower()}@example.com", "country": country},
        "purchase": {"date": date, "retailer": retailer, "channel": "online_retailer", "country": country},
        "products": products,
        "documents": {"invoices": invoices, "serial_photos": photos},
    }
    (folder / "claim.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    (folder / "expected.json").write_text(json.dumps(expected, indent=2) + "\n")


def synthetic() -> None:
    gpu = {"model": "GeForce RTX 3060 Ti Gaming Trio", "serial": "BA3T01946000V", "chk": "7F2",
           "category": "graphics_card"}
    d = OUT / "demo-fr-amazon-gpu-genuine"
    d.mkdir(parents=True, exist_ok=True)
    invoice_pdf(AMAZON_FR, d / "facture.pdf")
    save_jpeg(photo_like(sticker_image(gpu["serial"], gpu["chk"], "RTX 3060 Ti GAMING TRIO"), angle=-3, seed=1),
              d / "sticker.jpg")
    claim(d, "DEMO-FR-001", date="2019-10-11", retailer="amazon.fr", country="FR", products=[gpu],
          invoices=["facture.pdf"], photos=["sticker.jpg"],
          expected={"decision": "approve", "reasons": [], "checks": {
              "purchase_date": "pass", "retailer": "pass", "product_on_invoice": "pass",
              "serial_number": "pass", "chk_code": "pass"}})

    board = {"model": "MEG X570 ACE", "serial": "602-7C35-010B1912000123", "chk": "A1C", "category": "motherboard"}
    cpu = {"model": "AMD Ryzen 9 3900X", "serial": None, "chk": None, "category": "cpu"}
    d = OUT / "demo-no-komplett-duo-genuine"
    d.mkdir(parents=True, exist_ok=True)
    save_jpeg(photo_like(invoice_image(KOMPLETT_NO), angle=2.5, seed=2), d / "faktura.jpg")
    save_png(sticker_image(board["serial"], board["chk"], board["model"], ean="4719072660000"), d / "sticker.png")
    claim(d, "DEMO-NO-001", date="2020-02-19", retailer="Komplett.no", country="NO", products=[board, cpu],
          invoices=["faktura.jpg"], photos=["sticker.png"],
          expected={"decision": "approve", "reasons": [], "checks": {
              "purchase_date": "pass", "retailer": "pass", "product_on_invoice": "pass", "serial_number": "pass"}})

    d = OUT / "demo-no-komplett-wrong-date"
    shutil.copytree(OUT / "demo-no-komplett-duo-genuine", d, dirs_exist_ok=True)
    claim(d, "DEMO-NO-002", date="2020-02-21", retailer="Komplett.no", country="NO", products=[board, cpu],
          invoices=["faktura.jpg"], photos=["sticker.png"],
          expected={"decision": "reject", "reasons": ["DATE_MISMATCH"], "checks": {"purchase_date": "fail"}})

    d = OUT / "demo-no-komplett-serial-off-by-one"
    shutil.copytree(OUT / "demo-no-komplett-duo-genuine", d, dirs_exist_ok=True)
    claim(d, "DEMO-NO-003", date="2020-02-19", retailer="Komplett.no", country="NO",
          products=[{**board, "serial": "602-7C35-010B1912000124"}, cpu],
          invoices=["faktura.jpg"], photos=["sticker.png"],
          expected={"decision": "reject", "reasons": ["SERIAL_MISMATCH"], "checks": {"serial_number": "fail"}})

    d = OUT / "demo-de-near-miss-model"
    d.mkdir(parents=True, exist_ok=True)
    invoice_pdf(MINDFACTORY_DE, d / "rechnung.pdf")
    claim(d, "DEMO-DE-001", date="2020-03-03", retailer="Mindfactory", country="DE",
          products=[{"model": "MSI GeForce RTX 3060 Ti Gaming X", "serial": None, "chk": None,
                     "category": "graphics_card"}],
          invoices=["rechnung.pdf"], photos=[],
          expected={"decision": "reject", "reasons": ["PRODUCT_MISMATCH"], "checks": {"product_on_invoice": "fail"}})

    d = OUT / "demo-corrupt-upload"
    d.mkdir(parents=True, exist_ok=True)
    full = (OUT / "demo-no-komplett-duo-genuine" / "faktura.jpg").read_bytes()
    (d / "invoice.jpg").write_bytes(full[: len(full) // 3])
    claim(d, "DEMO-BAD-001", date="2020-02-19", retailer="Komplett.no", country="NO", products=[],
          invoices=["invoice.jpg"], photos=[],
          expected={"decision": "review", "reasons": ["DOCUMENT_UNREADABLE"], "checks": {"invoice_readable": "fail"}})

    d = OUT / "demo-invalid-json"
    d.mkdir(parents=True, exist_ok=True)
    (d / "claim.json").write_text('{"claim_id": "DEMO-BAD-002", "purchase": {"date": "2020-02-19",\n')
    (d / "expected.json").write_text(json.dumps({"decision": "review", "reasons": ["CLAIM_INVALID"]}, indent=2) + "\n")


def realworld() -> None:
    """A few real receipts and invoices, through the real-world folder's make_claims.py."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        make = [sys.executable, str(REALWORLD / "make_claims.py")]
        subprocess.run(make + ["sroie", str(REALWORLD / "sroie"), str(tmp / "sroie"), "--limit", "3"], check=True)
        subprocess.run(make + ["invoice2data", str(REALWORLD / "invoice2data"), str(tmp / "i2d")], check=True)
        keep = sorted((tmp / "sroie").iterdir()) + sorted(p for p in (tmp / "i2d").iterdir() if "oyo" in p.name)
        for src in keep:
            shutil.copytree(src, OUT / src.name, dirs_exist_ok=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["--extras"]:
        extras()
        raise SystemExit(0)
    if OUT.exists():
        for child in OUT.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
    OUT.mkdir(exist_ok=True)
    synthetic()
    realworld()
    from pipeline.lab import generate

    generate(OUT, n=GENERATED_N, seed=GENERATED_SEED, kinds="all", progress=True)
    extras()
    print(f"{sum(1 for _ in OUT.rglob('claim.json'))} claims in {OUT}", file=sys.stderr)
