"""What a claim earns: the reward table's cell for the territory's currency and the bundle.

A territory's currency with its own table (NOK for Norway in the 2020 cashback) is paid from
it as printed. Any other is paid the ``set_in`` amount (EUR) times ``reward.conversion``,
rounded to whole units; while the file says ``conversion_confirmed = false`` the reward
says ``"provisional": true`` so nobody pays a placeholder rate unawares.

>>> from pipeline.promotions.terms import load_promotions
>>> t = load_promotions()["amd-msi-cashback-2020"]
>>> reward_for(t, "NO", "duo", {"motherboard": "x570-enthusiast", "cpu": "ryzen-high"})
{'amount': 692, 'currency': 'NOK', 'bundle': 'duo'}
"""
from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

from .terms import Terms

__all__ = ["reward_for", "reward_cell"]


def _number(x: float) -> int | float:
    return int(x) if float(x).is_integer() else x


def _round(x: float) -> int:
    return int(Decimal(str(x)).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def reward_cell(terms: Terms, currency: str, bundle: str, row_group: str, col_group: str) -> float | None:
    """The printed amount of one cell, or None when the table has no such cell."""
    r = terms.reward
    if r.kind != "table" or currency not in r.table or bundle not in r.bundles:
        return None
    cell = r.table[currency].get(row_group, {}).get(col_group)
    return None if cell is None else cell[r.bundles.index(bundle)]


def reward_for(terms: Terms, territory: str, bundle: str | None, groups: Mapping[str, str]) -> dict | None:
    """The reward for a claim from ``territory`` completing ``bundle``, whose products are of
    ``groups`` (category -> product group id); None when the terms give no amount for it."""
    t = terms.territory(territory)
    r = terms.reward
    if t is None:
        return None
    if r.kind == "item":
        return {"amount": None, "currency": None, "bundle": bundle, "item": r.item}
    if r.kind == "fixed":
        if t.currency in r.amounts:
            return {"amount": _number(r.amounts[t.currency]), "currency": t.currency, "bundle": bundle}
        base = next(iter(r.amounts))
        return _converted(terms, r.amounts[base], base, t.currency, bundle)
    if bundle is None:
        return None
    row, col = groups.get(r.rows), groups.get(r.columns)
    if row is None or col is None:
        return None
    own = reward_cell(terms, t.currency, bundle, row, col)
    if own is not None:
        return {"amount": _number(own), "currency": t.currency, "bundle": bundle}
    base = reward_cell(terms, r.set_in, bundle, row, col)
    if base is None:
        return None
    if t.currency == r.set_in:
        return {"amount": _number(base), "currency": t.currency, "bundle": bundle}
    return _converted(terms, base, r.set_in, t.currency, bundle)


def _converted(terms: Terms, amount: float, base: str, currency: str, bundle: str | None) -> dict | None:
    rate = terms.reward.conversion.get(currency)
    if rate is None:
        return None
    out = {"amount": _round(amount * rate), "currency": currency, "bundle": bundle,
           "converted_from": {"amount": _number(amount), "currency": base, "rate": rate}}
    if not terms.reward.conversion_confirmed:
        out["provisional"] = True
    return out
