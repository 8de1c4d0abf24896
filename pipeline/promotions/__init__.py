"""Promotion terms as data, and the rules that apply them to a claim.

- ``terms``: one validated TOML file per promotion (``promotions/*.toml``), ``load_promotions``.
- ``rules``: the contract's promotion checks and ``apply_promotion`` (checks + reward).
- ``rewards``: the reward table lookup; ``store``: claims already seen (duplicates, limits).
- ``invoice_numbers``, ``sellers``: what the rules read off an invoice.
- ``describe``: ``promotions list`` / ``promotions show`` for people.

>>> terms = load_promotions()["amd-msi-cashback-2020"]
>>> list(terms.bundles)
['duo', 'trio-gungnir', 'trio-sekira']
"""
from __future__ import annotations

from ..extract.invoice_numbers import InvoiceNumber, find_invoice_numbers
from .describe import list_promotions, list_promotions_text, show_promotion, show_promotion_text
from .rewards import reward_for
from .rules import PROMOTION_CHECKS, PromotionOutcome, apply_promotion
from .store import ClaimStore, PriorClaim, PriorUse
from .terms import ENV_PROMOTIONS_DIR, Terms, default_promotions_dir, load_promotions, load_terms

__all__ = [
    "ClaimStore", "ENV_PROMOTIONS_DIR", "InvoiceNumber", "PROMOTION_CHECKS", "PriorClaim", "PriorUse",
    "PromotionOutcome", "Terms", "apply_promotion", "default_promotions_dir",
    "find_invoice_numbers", "list_promotions", "list_promotions_text", "load_promotions", "load_terms",
    "reward_for", "show_promotion", "show_promotion_text",
]
