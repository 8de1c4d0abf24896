"""A reject needs positive evidence (issue #16): the real invoices behind the issue, rebuilt.

Four of ten genuine claims on real invoices were rejected with RETAILER_MISMATCH: a shop whose
name is only in its logo ("Billing Address" was taken for the shop), a claim naming the seller
with extra words ("<name> - for testing", the PDF and its scan), and a claim naming the webshop's
legal entity ("<Company> Nederland B.V.") against an invoice headed by its brand and town. Those
documents are held back; these are faithful stand-ins, built here as a digital PDF (reportlab,
the logo an embedded image) and its office scan, verified end to end with the real engines.
"""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from pipeline.config import load_config
from pipeline.lab.degrade import scan
from pipeline.lab.sheet import pil_font
from pipeline.verify import verify_claim

CFG = load_config()

BODY = [
    "INVOICE",
    "Billing Address",
    "Hans Jansen",
    "Kerkstraat 12",
    "3511 LX Utrecht",
    "",
    "Invoice number: INV-2024-0117",
    "Invoice date: 12-03-2024",
    "Order date: 10-03-2024",
    "Delivery date: 14-03-2024",
    "Due date: 26-03-2024",
    "",
    "Description                      Qty   Amount",
    "Lumio USB-C Dock D200             1    89.95",
    "Shipping                          1     4.95",
    "Total EUR                              94.90",
]


def _logo(name: str) -> bytes:
    """The shop's name as a logo: white bold letters on a dark badge, an image, not text."""
    img = Image.new("RGB", (900, 160), (20, 40, 90))
    draw = ImageDraw.Draw(img)
    draw.ellipse((20, 20, 140, 140), fill=(240, 170, 30))
    draw.text((170, 35), name, fill=(255, 255, 255), font=pil_font("serif", True, 80))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def invoice_pdf(path: Path, header: list[str], *, logo: str | None = None) -> Path:
    """An A4 invoice with a text layer: the header lines (or a logo image), then the body."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    y = 790
    if logo:
        c.drawImage(ImageReader(io.BytesIO(_logo(logo))), 60, 760, width=270, height=48)
        y = 730
    for k, line in enumerate(header):
        c.setFont("Helvetica-Bold" if k == 0 else "Helvetica", 16 if k == 0 else 11)
        c.drawString(60, y, line)
        y -= 22 if k == 0 else 16
    y -= 14
    for line in BODY:
        c.setFont("Courier-Bold" if line == "INVOICE" else "Courier", 14 if line == "INVOICE" else 10.5)
        c.drawString(60, y, line)
        y -= 17
    c.showPage()
    c.save()
    return path


def scanned_png(pdf: Path, out: Path) -> Path:
    """The PDF as an office scan at 200 dpi (grey, a hair of skew, noise)."""
    import pypdfium2 as pdfium

    page = pdfium.PdfDocument(str(pdf))[0]
    image = np.asarray(page.render(scale=200 / 72).to_pil().convert("RGB"))
    Image.fromarray(scan(image, np.random.default_rng(16))).save(out)
    return out


def claim_folder(folder: Path, document: Path, *, retailer: str, date: str = "2024-03-12") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    name = "invoice" + document.suffix
    (folder / name).write_bytes(document.read_bytes())
    (folder / "claim.json").write_text(json.dumps({
        "claim_id": folder.name, "promotion_id": None,
        "claimant": {"email": None, "country": "NL"},
        "purchase": {"date": date, "retailer": retailer, "channel": None, "country": "NL"},
        "products": [], "documents": {"invoices": [name], "serial_photos": []},
    }))
    return folder


def verify(folder: Path) -> tuple[str, dict, list]:
    decision = verify_claim(folder, CFG, store=None).to_dict()
    return decision["decision"], {c["name"]: c for c in decision["checks"]}, decision["reasons"]


def test_a_shop_named_only_in_its_logo_is_asked_for_not_rejected(tmp_path):
    pdf = invoice_pdf(tmp_path / "logo.pdf", [], logo="Brightline")
    verdict, checks, reasons = verify(claim_folder(tmp_path / "logo-genuine", pdf, retailer="Brightline Electronics"))
    assert verdict == "review", reasons
    assert (checks["retailer"]["status"], checks["retailer"]["reason"]) == ("uncertain", "RETAILER_NOT_FOUND")
    assert checks["retailer"]["found"] is None  # "Billing Address" is no shop
    assert checks["purchase_date"]["status"] == "pass"
    message = next(r["message"] for r in reasons if r["code"] == "RETAILER_NOT_FOUND")
    assert message.startswith("We could not find the store name Brightline Electronics on your invoice")


def test_the_order_delivery_and_due_dates_are_not_the_invoice_date(tmp_path):
    pdf = invoice_pdf(tmp_path / "logo.pdf", [], logo="Brightline")
    # a wrong date: the invoice's own date (12-03-2024) contradicts it, the other dates do not matter
    verdict, checks, reasons = verify(claim_folder(tmp_path / "wrong-date", pdf, retailer="Brightline",
                                                   date="2024-03-19"))
    assert verdict == "reject"
    assert (checks["purchase_date"]["status"], checks["purchase_date"]["found"]) == ("fail", "12-03-2024")
    message = next(r["message"] for r in reasons if r["code"] == "DATE_MISMATCH")
    assert message.startswith("Your invoice is dated 12-03-2024, not 2024-03-19 as you entered.")


@pytest.mark.parametrize("form", ["pdf", "scan"])
def test_a_claim_naming_the_seller_with_extra_words_is_not_rejected(tmp_path, form):
    pdf = invoice_pdf(tmp_path / "named.pdf", ["Brightline", "Oudegracht 201, 3511 NK Utrecht"])
    doc = pdf if form == "pdf" else scanned_png(pdf, tmp_path / "named.png")
    folder = claim_folder(tmp_path / f"testing-{form}", doc, retailer="Brightline - for testing")
    verdict, checks, reasons = verify(folder)
    assert verdict != "reject", reasons
    assert checks["retailer"]["status"] in ("pass", "uncertain")
    assert checks["purchase_date"]["status"] == "pass"


@pytest.mark.parametrize("form", ["pdf", "scan"])
def test_a_legal_entity_claimed_against_its_brand_and_town_is_not_rejected(tmp_path, form):
    pdf = invoice_pdf(tmp_path / "brand.pdf", ["Brightline", "Utrecht"])
    doc = pdf if form == "pdf" else scanned_png(pdf, tmp_path / "brand.png")
    verdict, checks, reasons = verify(claim_folder(tmp_path / f"entity-{form}", doc,
                                                   retailer="Brightline Nederland B.V."))
    assert verdict != "reject", reasons
    assert checks["retailer"]["status"] == "pass", checks["retailer"]


@pytest.mark.parametrize("form", ["pdf", "scan"])
def test_an_invoice_from_another_registered_company_is_still_rejected(tmp_path, form):
    pdf = invoice_pdf(tmp_path / "other.pdf", ["Lumen Retail B.V.", "KvK 12345678  BTW NL123456789B01",
                                               "Stationsplein 1, 3511 ED Utrecht"])
    doc = pdf if form == "pdf" else scanned_png(pdf, tmp_path / "other.png")
    verdict, checks, reasons = verify(claim_folder(tmp_path / f"other-{form}", doc, retailer="Brightline"))
    assert verdict == "reject", checks["retailer"]
    assert (checks["retailer"]["status"], checks["retailer"]["reason"]) == ("fail", "RETAILER_MISMATCH")
    message = next(r["message"] for r in reasons if r["code"] == "RETAILER_MISMATCH")
    assert message.startswith("The invoice you uploaded is from Lumen Retail B.V., not Brightline.")


def test_a_shop_the_claim_store_knows_is_recognised_on_the_invoice(tmp_path):
    from pipeline.db import SqlClaimStore

    pdf = invoice_pdf(tmp_path / "shop.pdf", ["Lumio Computers", "Oudegracht 201, 3511 NK Utrecht"])
    with SqlClaimStore(f"sqlite:///{tmp_path / 'claims.sqlite3'}") as store:
        wrong = claim_folder(tmp_path / "wrong-shop", pdf, retailer="Brightline")
        # nothing on the invoice says who Lumio Computers is: a person decides
        assert verify_claim(wrong, CFG, store=store).decision == "review"
        # a genuine claim at that shop, approved, teaches the store the name
        assert verify_claim(claim_folder(tmp_path / "genuine", pdf, retailer="Lumio Computers"), CFG,
                            store=store).decision == "approve"
        decision = verify_claim(wrong, CFG, store=store).to_dict()
        retailer = next(c for c in decision["checks"] if c["name"] == "retailer")
        assert (decision["decision"], retailer["found"]) == ("reject", "Lumio Computers"), retailer
        assert "a shop named in earlier claims" in retailer["detail"]
