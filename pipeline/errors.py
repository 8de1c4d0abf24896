"""One exception family for claimcheck; every error carries a stable reason code.

A reason code is what a decision or a CLI error object shows (``DOCUMENT_UNREADABLE``);
the message is written for a person, never a traceback.

>>> DocumentError("DOCUMENT_TOO_LARGE", "The file is 40 MB; the limit is 25 MB.").code
'DOCUMENT_TOO_LARGE'
"""
from __future__ import annotations

__all__ = [
    "ClaimcheckError",
    "DocumentError",
    "EngineError",
    "ConfigError",
    "ClaimError",
]


class ClaimcheckError(Exception):
    """Base class: ``code`` is a stable UPPER_SNAKE reason, ``message`` is for people."""

    default_code = "INTERNAL_ERROR"

    def __init__(self, code: str | None = None, message: str = "", **details: object) -> None:
        self.code = code or self.default_code
        self.message = message or self.code
        self.details = details
        super().__init__(f"{self.code}: {self.message}")

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


class DocumentError(ClaimcheckError):
    """An uploaded document cannot be used: unreadable, too large, wrong type, encrypted, missing."""

    default_code = "DOCUMENT_UNREADABLE"


class EngineError(ClaimcheckError):
    """An external engine (Tesseract, zbar, PDF library) is missing, failed or timed out."""

    default_code = "ENGINE_FAILED"


class ConfigError(ClaimcheckError):
    """A configuration or data file is invalid; the message names the file and field."""

    default_code = "CONFIG_INVALID"


class ClaimError(ClaimcheckError):
    """A claim.json is missing, not JSON, or does not follow the contract."""

    default_code = "CLAIM_INVALID"
