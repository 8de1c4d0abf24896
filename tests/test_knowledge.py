"""The knowledge base: every data file registered once, loaded validated, and its content hash in the
decision's identity (``config_hash``) and in the key of the cached document checks."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline import knowledge
from pipeline.cache import checks_key, read_key
from pipeline.config import config_hash, default_config
from pipeline.knowledge import CHECKS, KNOWLEDGE, knowledge_hash, load_knowledge

from .conftest import REPO

PACKAGE = REPO / "pipeline"
SAMPLE = REPO / "sample_invoices" / "0004-nl-territory-not-eligible"  # a digital PDF: read in a second


def test_every_data_file_of_the_package_is_registered_knowledge():
    # The configuration (in config_hash through Config itself) and the intake API's settings (how claims
    # arrive, never what is decided).
    config_files = {"data/default.toml", "data/api.toml"}
    terms = {str(p.relative_to(PACKAGE)) for p in (PACKAGE / "data" / "promotions").glob("*.toml")}
    files = {str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.toml")} - config_files - terms
    assert files == {f.path for f in KNOWLEDGE.values()}


def test_every_file_loads_into_its_validated_record():
    kb = load_knowledge()
    assert set(kb.records) == set(KNOWLEDGE) and kb.hash == knowledge_hash()
    assert "komplett.no" in kb.get("retailers").retailers
    assert kb.get("reasons")["DATE_MISMATCH"].severity == "reject"
    assert kb.get("dates").month_of("März") == 3


@pytest.fixture
def knowledge_copy(tmp_path, monkeypatch) -> Path:
    """The knowledge files copied to a folder the test may edit, registered as the package's."""
    root = tmp_path / "pipeline"
    for f in KNOWLEDGE.values():
        (root / f.path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PACKAGE / f.path, root / f.path)
    monkeypatch.setattr(knowledge, "PACKAGE_ROOT", root)
    return root


def _edit_one_line(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_one_line_of_retailers_changes_the_hash_and_the_checks_key_but_no_read_key(knowledge_copy):
    config = default_config()
    keys = ["a" * 64, "b" * 64]
    before = (knowledge_hash(), knowledge_hash(CHECKS), config_hash(config), checks_key("{}", keys, config),
              read_key("c" * 64, config, languages=["eng"], barcodes=True, ocr=True))
    _edit_one_line(knowledge_copy / "data" / "retailers.toml", 'domains = ["amazon.fr"]',
                   'domains = ["amazon.fr", "amazon-boutique.fr"]')
    after = (knowledge_hash(), knowledge_hash(CHECKS), config_hash(config), checks_key("{}", keys, config),
             read_key("c" * 64, config, languages=["eng"], barcodes=True, ocr=True))
    assert [a != b for a, b in zip(before, after)] == [True, True, True, True, False]


def test_reason_messages_change_the_identity_but_not_the_cached_document_checks(knowledge_copy):
    config = default_config()
    before = (config_hash(config), checks_key("{}", ["a" * 64], config))
    path = knowledge_copy / "data" / "reasons.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text + "\n# a comment is content too\n", encoding="utf-8")
    after = (config_hash(config), checks_key("{}", ["a" * 64], config))
    assert after[0] != before[0] and after[1] == before[1]


def test_a_cached_claim_recomputes_its_checks_and_rereads_nothing_after_a_retailer_edit(knowledge_copy, tmp_path):
    from pipeline.verify import verify_claim

    config = default_config().model_copy(update={"cache": default_config().cache.model_copy(
        update={"enabled": True, "dir": str(tmp_path / "cache")})})

    def entries(kind: str) -> int:
        return len(list((tmp_path / "cache" / kind).rglob("*.v*")))

    first = verify_claim(SAMPLE, config, store=False)
    reads, checks = entries("reads"), entries("checks")
    assert reads >= 1 and checks == 1
    again = verify_claim(SAMPLE, config, store=False)
    assert (entries("reads"), entries("checks")) == (reads, checks)  # all from the cache
    _edit_one_line(knowledge_copy / "data" / "retailers.toml", '[retailers."amazon.fr"]',
                   '[retailers."amazon.fr"]  # edited')
    edited = verify_claim(SAMPLE, config, store=False)
    assert (entries("reads"), entries("checks")) == (reads, checks + 1)  # new checks, the same reads
    assert first.to_dict()["decision"] == again.to_dict()["decision"] == edited.to_dict()["decision"]
    assert edited.config_hash != first.config_hash == again.config_hash
