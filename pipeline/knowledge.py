"""The knowledge base: every data file claimcheck decides with, in one registry, with one content hash.

What claimcheck *knows* (month names and date labels, retailers and their aliases, the model catalogue
and vocabulary, OCR confusions, invoice labels, integrity signals, promotion labels, reason codes) is
data in TOML files shipped in the package. Each file is registered here once: its path, the loader that
validates it into a typed record, and the stages whose results depend on it. From that one list come

- ``knowledge_hash()``: the content hash of all the files, part of ``config_hash`` (a change to
  ``retailers.toml`` changes the identity of every decision made with it);
- ``knowledge_hash("checks")``: the hash of the files the document checks read, part of the key of the
  cached document checks (``pipeline.cache.checks_key``): a change there recomputes exactly those;
- ``load_knowledge()``: every file loaded and validated, as one typed record.

The configuration (``data/default.toml``, merged with ``--config``) is not knowledge: its values are in
``config_hash`` through the validated ``Config``. Promotion terms are identified per decision by their
own hash (``promotion.terms_sha256``).

>>> sorted(KNOWLEDGE)[:3]
['catalogue', 'confusions', 'dates']
>>> knowledge_hash().startswith("sha256:")
True
"""
from __future__ import annotations

import hashlib
import importlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

__all__ = ["KnowledgeFile", "KNOWLEDGE", "Knowledge", "knowledge_hash", "knowledge_files", "load_knowledge",
           "PACKAGE_ROOT"]

PACKAGE_ROOT = Path(__file__).resolve().parent
"""The ``pipeline`` package folder: knowledge paths are relative to it."""

CHECKS = "checks"
"""The document checks and integrity signals (cached per claim and reads)."""
RULES = "rules"
"""The promotion rules (never cached: recomputed on every run)."""
DECIDE = "decide"
"""The decision: severities and messages of reason codes."""


@dataclass(frozen=True)
class KnowledgeFile:
    name: str
    """The name the knowledge is known by (``Knowledge.get(name)``)."""
    path: str
    """The file, relative to the ``pipeline`` package."""
    loader: str
    """``module:function`` returning the file's validated, typed record (called with no argument)."""
    used_by: frozenset[str]
    """The stages whose results depend on the file (``checks``, ``rules``, ``decide``)."""


def _file(name: str, path: str, loader: str, *used_by: str) -> KnowledgeFile:
    return KnowledgeFile(name, path, loader, frozenset(used_by))


KNOWLEDGE: MappingProxyType[str, KnowledgeFile] = MappingProxyType({f.name: f for f in (
    _file("dates", "data/dates.toml", "pipeline.extract.dates:default_date_knowledge", CHECKS, RULES),
    _file("invoice", "data/invoice.toml", "pipeline.extract.invoice:invoice_knowledge", CHECKS, RULES),
    _file("confusions", "data/confusions.toml", "pipeline.extract.normalise:load_confusions", CHECKS, RULES),
    _file("folding", "data/folding.toml", "pipeline.extract.folding:folding_table", CHECKS, RULES),
    _file("models", "data/models.toml", "pipeline.extract.normalise:load_model_vocabulary", CHECKS, RULES),
    _file("model_scoring", "data/model_scoring.toml", "pipeline.matching.models:model_scoring", CHECKS, RULES),
    _file("catalogue", "data/catalogue.toml", "pipeline.matching.catalogue:load_catalogue", CHECKS, RULES),
    _file("retailers", "data/retailers.toml", "pipeline.matching.retailer:load_retailers", CHECKS, RULES),
    _file("stickers", "data/stickers.toml", "pipeline.matching.serials:default_sticker_labels", CHECKS),
    _file("integrity", "data/integrity.toml", "pipeline.integrity.knowledge:default_integrity", CHECKS),
    _file("labels", "data/labels.toml", "pipeline.extract.labels:default_knowledge", CHECKS, RULES),
    _file("reasons", "data/reasons.toml", "pipeline.config:default_reasons", DECIDE),
)})
"""Every knowledge file, by name. ``tests/test_knowledge.py`` fails on a data file not listed here."""


def knowledge_files(stage: str | None = None) -> list[KnowledgeFile]:
    """The registered files (those a stage depends on, if given), in name order."""
    return [f for _, f in sorted(KNOWLEDGE.items()) if stage is None or stage in f.used_by]


@lru_cache(maxsize=64)
def _file_digest(path: str, stamp: tuple[int, int]) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _digest(f: KnowledgeFile) -> str:
    path = PACKAGE_ROOT / f.path
    st = path.stat()  # an edited file is hashed again; config_hash runs per decision
    return _file_digest(str(path), (st.st_mtime_ns, st.st_size))


def knowledge_hash(stage: str | None = None) -> str:
    """'sha256:<hex>' over the names and bytes of the knowledge files (those ``stage`` depends on)."""
    digest = hashlib.sha256()
    for f in knowledge_files(stage):
        digest.update(f"{f.path}\0{_digest(f)}\n".encode())
    return "sha256:" + digest.hexdigest()


@dataclass(frozen=True)
class Knowledge:
    """Every knowledge file, loaded and validated by its own loader."""
    records: MappingProxyType[str, Any]
    """The typed record of each file, by name."""
    hash: str
    """``knowledge_hash()`` of the files loaded."""

    def get(self, name: str) -> Any:
        return self.records[name]


def load_knowledge() -> Knowledge:
    """Load and validate every registered file (a broken one raises ``ConfigError`` naming it)."""
    records = {}
    for f in knowledge_files():
        module, _, function = f.loader.partition(":")
        records[f.name] = getattr(importlib.import_module(module), function)()
    return Knowledge(MappingProxyType(records), knowledge_hash())
