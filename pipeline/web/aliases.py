"""Retailer aliases learned from reviewers' decisions (``claimcheck retailers learn``).

A legal entity and its brand are one shop ("IKANO HANDEL SDN BHD" runs the IKEA stores, "Komplett
Services AS" is Komplett.no); the alias file (``pipeline/data/retailers.toml``) says so as data.
What it does not know yet, reviewers show: they approve a claim although the retailer check read
another seller on the invoice. Each approved claim whose newest decision's retailer check did not
pass, with a seller read (``found``) that is a shop name other than the claimed one, proposes that
seller as an alias of the claimed shop: a legal name if it carries a company form, else a name.

The proposals are written in the alias file's format, for a person to check and then use as an
extra alias file (``[matching] retailer_aliases``, merged over the packaged one) or to copy into
``retailers.toml``. A proposal needs ``min_claims`` approvals (claims of different claimants are
not told apart here: a reviewer approves each one).

>>> p = AliasProposal("ikea", "IKEA", "IKANO HANDEL SDN BHD", "legal_names", ("C-1", "C-2"))
>>> print(proposals_toml([p], header=False), end="")
[retailers."ikea"]
names = ["IKEA"]
legal_names = ["IKANO HANDEL SDN BHD"]
# approved claims: IKANO HANDEL SDN BHD: C-1, C-2
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass

from rapidfuzz import fuzz
from sqlalchemy import func, select

from ..db import models as m
from ..extract.normalise import fold_confusables, normalise_text
from ..matching.retailer import (
    RetailerData,
    is_shop_name,
    load_retailers,
    resolve_retailer,
    strip_entity,
    strip_legal_form,
)

__all__ = ["AliasProposal", "propose_aliases", "proposals_toml"]


@dataclass(frozen=True)
class AliasProposal:
    retailer_id: str
    """The retailer of the alias file the claimed name resolves to, or a new id from the claimed name."""
    claimed: str
    found: str
    """The seller read on the invoice, to become an alias."""
    field: str
    """'legal_names' or 'names'."""
    claims: tuple[str, ...]


def _misread(claimed: str, found: str, data: RetailerData) -> bool:
    """Whether ``found`` reads as the claimed name itself, OCR look-alikes folded ("MR. O.1.¥." for
    "MR. D.I.Y."): no alias to learn."""
    a, b = (fold_confusables(strip_entity(x, data).replace(" ", "")) for x in (claimed, found))
    return fuzz.ratio(a, b) >= 75


def _new_id(claimed: str) -> str:
    return "-".join(normalise_text(claimed).split()) or "retailer"


def propose_aliases(store, data: RetailerData | None = None, *, min_claims: int = 1) -> list[AliasProposal]:
    """What reviewers' approvals teach the alias file (see the module docstring), most claims first."""
    data = data or load_retailers()
    A, D = m.ReviewerAction, m.Decision
    newest_action = select(func.max(A.id)).group_by(A.claim_id)
    newest_decision = select(func.max(D.id)).group_by(D.claim_id)
    with store.engine.connect() as conn:
        approved = {r.claim_id for r in conn.execute(select(A.claim_id).where(A.id.in_(newest_action),
                                                                            A.action == "approve"))}
        rows = conn.execute(select(D.claim_id, D.checks).where(D.id.in_(newest_decision))
                            .order_by(D.claim_id)).all()
    seen: dict[tuple[str, str], list[str]] = defaultdict(list)
    names: dict[tuple[str, str], tuple[str, str, str]] = {}
    for claim_id, checks in rows:
        if claim_id not in approved:
            continue
        check = next((c for c in checks or () if isinstance(c, dict) and c.get("name") == "retailer"), None)
        if not check or check.get("status") not in ("fail", "uncertain"):
            continue
        claimed, found = check.get("expected"), " ".join(str(check.get("found") or "").split())
        if not claimed or not found or not is_shop_name(found, data) or _misread(claimed, found, data):
            continue  # nothing read, or a (mis)reading of the claimed name itself
        known = resolve_retailer(claimed, data)
        rid = known[0].id if len(known) == 1 else _new_id(claimed)
        retailer = data.retailers.get(rid)
        if retailer is not None and normalise_text(found) in {normalise_text(n) for n in
                                                              retailer.names + retailer.legal_names}:
            continue
        field = "legal_names" if strip_legal_form(found, data) != normalise_text(found) else "names"
        key = (rid, normalise_text(found))
        seen[key].append(claim_id)
        names.setdefault(key, (claimed, found, field))
    out = [AliasProposal(rid, *names[(rid, key)], tuple(ids)) for (rid, key), ids in seen.items()
           if len(ids) >= min_claims]
    return sorted(out, key=lambda p: (-len(p.claims), p.retailer_id, p.found))


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a TOML basic string


def proposals_toml(proposals: list[AliasProposal], data: RetailerData | None = None, *, header: bool = True) -> str:
    """The proposals as ``[retailers."<id>"]`` tables (an extra alias file); a retailer the alias
    data does not know gets the claimed names as its ``names``."""
    by_id: dict[str, list[AliasProposal]] = defaultdict(list)
    for p in proposals:
        by_id[p.retailer_id].append(p)
    lines = []
    if header:
        lines += ["# Retailer aliases proposed by `claimcheck retailers learn` from reviewers' approvals: each",
                  "# seller read on an invoice a reviewer approved a claim for, as an alias of the shop claimed.",
                  "# Check each before use; then give this file as [matching] retailer_aliases.", ""]
    for rid, group in by_id.items():
        lines.append(f"[retailers.{_quote(rid)}]")
        fields = {"names": [], "legal_names": []}
        if data is None or rid not in data.retailers:
            fields["names"] += list(dict.fromkeys(p.claimed for p in group))
        notes = []
        for p in group:
            fields[p.field].append(p.found)
            notes.append(f"{p.found}: {', '.join(p.claims)}")
        for field, values in fields.items():
            if values:
                lines.append(f"{field} = [{', '.join(_quote(v) for v in values)}]")
        lines.append(f"# approved claims: {'; '.join(notes)}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n" if lines else ""
