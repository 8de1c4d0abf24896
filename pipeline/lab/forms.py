"""The document forms a lab report groups genuine claims by (light: the report needs no generator).

>>> form_family("scan_pdf"), form_family("hard_photo")
('scan', 'hard_photo')
"""
from __future__ import annotations

__all__ = ["FORM_FAMILIES", "form_family"]

FORM_FAMILIES = ("pdf", "scan", "photo", "hard_photo", "receipt", "hard_receipt")


def form_family(form: str | None) -> str:
    """The document form a report groups by: pdf, scan, photo, hard_photo, receipt, hard_receipt."""
    return {"scan_pdf": "scan", "receipt_photo": "receipt", "receipt_scan": "receipt"}.get(form or "", form or "")
