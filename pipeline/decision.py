"""The decision records of ``docs/contract.md``: checks, reasons, the decision.

>>> Check(name="retailer", product=None, status="pass", score=97).to_dict()["status"]
'pass'
>>> Check(name="retailer", product=None, status="maybe", score=97)
Traceback (most recent call last):
ValueError: 'maybe' is not a valid Status
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from .records import BBox

__all__ = ["Evidence", "Check", "Reason", "Decision", "Status", "STATUSES"]


class Status(StrEnum):
    """A check's outcome. A ``str``: ``Status.PASS == "pass"``, and the JSON holds the plain string."""
    PASS = "pass"
    FAIL = "fail"
    UNCERTAIN = "uncertain"
    """Read badly or not found: a reviewer decides, never a reject."""
    SKIPPED = "skipped"
    """Does not apply to this claim; not counted in the score."""


STATUSES = tuple(s.value for s in Status)


@dataclass(frozen=True)
class Evidence:
    document: str
    """The document's name as the claim gives it."""
    page: int | None = None
    bbox: BBox | None = None
    source: str | None = None
    """'ocr', 'pdf_text' or 'barcode'."""
    engine: str | None = None
    """The OCR engine whose reading proved (or contradicted) the value: 'tesseract' or 'ppocr'; the
    box is in that reading. None where no OCR reading was the evidence (a text layer, a barcode)."""

    def to_dict(self) -> dict:
        d = {"document": self.document, "page": self.page, "bbox": list(self.bbox) if self.bbox else None}
        if self.source:
            d["source"] = self.source
        if self.engine:
            d["engine"] = self.engine
        return d


@dataclass(frozen=True, kw_only=True)
class Check:
    """One check's outcome (keyword-only: nine fields are too many to pass by position)."""
    name: str
    product: int | None
    """Index of the claimed product it is about; None for the whole claim."""
    status: Status
    """A ``Status``; a plain string is converted (and an unknown one refused)."""
    score: int
    expected: str | None = None
    found: str | None = None
    evidence: Evidence | None = None
    reason: str | None = None
    """Reason code this check raises when it fails or is uncertain."""
    detail: str | None = None
    """Why, in a reviewer's words (for the reviewer, not the claimant)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", Status(self.status))

    def to_dict(self) -> dict:
        d = {
            "name": self.name,
            "product": self.product,
            "status": self.status.value,
            "score": int(self.score),
            "expected": self.expected,
            "found": self.found,
            "evidence": self.evidence.to_dict() if self.evidence else None,
        }
        if self.reason:
            d["reason"] = self.reason
        if self.detail:
            d["detail"] = self.detail
        return d


@dataclass(frozen=True)
class Reason:
    code: str
    severity: str
    message: str

    def to_dict(self) -> dict:
        return {"code": self.code, "severity": self.severity, "message": self.message}


@dataclass(frozen=True)
class Decision:
    claim_id: str
    decision: str
    score: float
    reasons: tuple[Reason, ...]
    checks: tuple[Check, ...]
    reward: dict | None
    pipeline_version: str
    config_hash: str
    extra: dict = field(default_factory=dict)
    """Added fields (claim_path, timings, errors): the contract allows additions."""

    def to_dict(self) -> dict:
        return {
            "claim_id": self.claim_id,
            "decision": self.decision,
            "score": round(self.score, 3),
            "reasons": [r.to_dict() for r in self.reasons],
            "checks": [c.to_dict() for c in self.checks],
            "reward": self.reward,
            "pipeline_version": self.pipeline_version,
            "config_hash": self.config_hash,
            **self.extra,
        }
