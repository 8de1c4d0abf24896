"""Integrity: signals that a proof of purchase was reused, edited or is not what it claims.

Each signal is a check with a stable reason code and evidence (document, page, box, what was
found). The duplicate rules across claims live in ``pipeline.promotions.duplicates`` (they need
the claim store); the product condition in ``pipeline.promotions.condition``.

``INTEGRITY_CHECKS``: the check names the reviewer page lists under "Integrity".
"""
from __future__ import annotations

__all__ = ["INTEGRITY_CHECKS"]

INTEGRITY_CHECKS = ("duplicate_invoice", "duplicate_serial", "duplicate_serial_photo", "product_condition",
                    "invoice_sums", "invoice_dates", "pdf_revisions", "pdf_editor", "pdf_hidden_text", "pdf_fonts",
                    "image_editor", "image_screen", "image_patch")
