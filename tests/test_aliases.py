"""Retailer aliases learned from reviewers' approvals (`claimcheck retailers learn`), used as an
extra alias file (issue #16: legal entity vs brand is knowledge as data)."""
from __future__ import annotations

from typer.testing import CliRunner

from pipeline.cache import checks_key
from pipeline.checks import check_retailer
from pipeline.claim import load_claim
from pipeline.cli import app
from pipeline.config import load_config
from pipeline.db import SqlClaimStore
from pipeline.matching.retailer import load_retailers
from pipeline.records import DocumentRead, Line, Page, Word
from pipeline.web.aliases import propose_aliases


def _run(store, claim_id: str, claimed: str, found: str | None, status: str = "uncertain") -> None:
    store.save_decision({
        "claim_id": claim_id, "decision": "review", "pipeline_version": "0.2.0", "config_hash": "sha256:x",
        "checks": [{"name": "retailer", "product": None, "status": status, "score": 40, "expected": claimed,
                    "found": found, "evidence": None}]})


def _store(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'claims.sqlite3'}"
    with SqlClaimStore(url) as store:
        for claim_id in ("C-1", "C-2"):  # the IKEA franchisee's receipts, approved by reviewers
            _run(store, claim_id, "IKEA", "IKANO HANDEL SDN BHD")
            store.record_action(claim_id, "kari", "approve")
        _run(store, "C-3", "Komplett.no", "Nordic Webshop Holding AS", status="fail")  # a known retailer's entity
        store.record_action("C-3", "ola", "approve")
        _run(store, "C-4", "MR. D.I.Y. SDN BHD", "MR. O.1.¥. SON BHD")  # a misreading of the claim itself
        store.record_action("C-4", "kari", "approve")
        _run(store, "C-5", "Corner Computers", "Brightline Store")  # rejected by the reviewer: no alias
        store.record_action("C-5", "kari", "reject", reason_code="RETAILER_MISMATCH")
        _run(store, "C-6", "Acme", "Tax Invoice")  # no shop name
        store.record_action("C-6", "kari", "approve")
    return url


def test_approvals_against_another_seller_read_propose_aliases(tmp_path):
    with SqlClaimStore(_store(tmp_path)) as store:
        proposals = propose_aliases(store)
        assert [(p.retailer_id, p.found, p.field, p.claims) for p in proposals] == [
            ("ikea", "IKANO HANDEL SDN BHD", "legal_names", ("C-1", "C-2")),
            ("komplett.no", "Nordic Webshop Holding AS", "legal_names", ("C-3",)),
        ]
        assert [p.retailer_id for p in propose_aliases(store, min_claims=2)] == ["ikea"]


def test_learned_aliases_make_the_brand_pass(tmp_path):
    out = tmp_path / "learned.toml"
    result = CliRunner().invoke(app, ["retailers", "learn", "--db", _store(tmp_path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = load_retailers(extra=out)
    assert data.retailers["ikea"].legal_names == ("IKANO HANDEL SDN BHD",)
    assert "Nordic Webshop Holding AS" in data.retailers["komplett.no"].legal_names

    lines = ["IKANO HANDEL SDN BHD", "(123456-X)", "TAX INVOICE", "Date: 12/03/2024"]
    page = Page(1, 800, 1200, "ocr", tuple(
        Line(tuple(Word(t, 95.0, (10 + 90 * i, 20 + 30 * y, 90 + 90 * i, 40 + 30 * y))
                   for i, t in enumerate(text.split())))
        for y, text in enumerate(lines)))
    invoice = [("receipt.jpg", DocumentRead("receipt.jpg", "jpeg", "0" * 64, (page,)))]
    claim = load_claim({"claim_id": "C-9", "purchase": {"date": "2024-03-12", "retailer": "IKEA", "country": "MY"},
                        "products": [], "documents": {"invoices": ["receipt.jpg"]}})[0]
    plain = load_config()
    assert check_retailer(claim, invoice, plain).reason == "RETAILER_NOT_FOUND"  # unknown: a person decides
    cfg_file = tmp_path / "my.toml"
    cfg_file.write_text(f'[matching]\nretailer_aliases = "{out}"\n')
    learned = load_config(cfg_file)
    assert check_retailer(claim, invoice, learned).status == "pass"
    # cached document checks are keyed by the alias file's content, not only its name
    before = checks_key("{}", [], learned)
    out.write_text(out.read_text() + '\n[retailers."brightline"]\nnames = ["Brightline"]\n')
    assert checks_key("{}", [], load_config(cfg_file)) != before
