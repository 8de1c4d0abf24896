"""The promotion checks of the contract, one plain function each, and ``apply_promotion``
which runs them all for a claim and works out the reward.

Rules that need care, and how they are decided:

- *Which purchase date.* The invoice's, not the claimant's: when the ``purchase_date``
  document check passed, the claimed date is printed on the invoice and is used; otherwise
  every date read on the invoices (``find_dates``, the claim country's day/month convention)
  is. All inside the period: pass; none inside: fail; some: uncertain.
- *Days, not times.* An invoice shows a day. A purchase dated on the first or the last day
  of the period counts (the period runs 00:01 to 23:59: we cannot tell 00:00 from 00:01).
- *Claim window.* ``submitted_at`` is turned into the territory's local time (a time without
  an offset is taken as local). Fixed times: a start is inclusive from its minute, an end
  through its minute. Days after purchase count the invoice date as day 1.
- *Bundles.* Products count towards a bundle when they are eligible and found on the same
  invoice; uploads showing the same invoice number are one invoice (a two-page invoice
  photographed twice). The last bundle of the terms that the invoice completes is rewarded.
- *Duplicates and limits* go through a ``ClaimStore``; without one they are skipped.

>>> # apply_promotion(claim, invoices, doc_checks, terms=terms, store=None, config=config).reward
"""
from __future__ import annotations

import datetime as dt
import itertools
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from ..checks import Read, date_is_sure, dates_read, invoice_date
from ..claim import Claim
from ..config import Config, default_config
from ..decision import Check, Evidence
from ..errors import ClaimcheckError
from ..extract.facts import invoice_facts
from ..extract.invoice_numbers import InvoiceNumber
from ..extract.labels import Knowledge, canonical_category, default_knowledge
from ..extract.normalise import model_tokens, normalise_text
from ..extract.sellers import SellerLine, find_names, names_in
from ..matching.models import match_model, models_equivalent
from ..matching.retailer import resolve_retailer, strip_legal_form
from ..matching.serials import serial_key  # the one serial identity (re-exported: other callers import it here)
from ..records import DocumentRead, Line, Page, Word
from .condition import check_product_condition
from .duplicates import DocumentIdentity, compare, invoice_identity, merged, photo_identity
from .rewards import reward_for
from .store import ClaimIdConflict, ClaimStore, NearDocument, PriorUse
from .terms import ProductGroup, Terms, Territory

__all__ = [
    "PromotionOutcome", "Eligibility", "InvoiceDate", "apply_promotion", "invoice_dates",
    "check_promotion_period", "check_claim_window", "check_territory", "check_retailer_eligible",
    "check_product_eligible", "check_bundle", "check_required_documents", "invoice_fingerprints",
    "document_identities", "serial_key", "PER_PRODUCT_CHECKS", "canonical_email", "participant_key", "PROMOTION_CHECKS",
]

PROMOTION_CHECKS = ("promotion_period", "claim_window", "territory", "retailer_eligible", "product_eligible",
                    "product_condition", "bundle", "duplicate_serial", "duplicate_invoice", "duplicate_serial_photo",
                    "redeem_limit")
PER_PRODUCT_CHECKS = ("product_eligible", "product_condition", "duplicate_serial")

_RANK = {"pass": 3, "uncertain": 2, "fail": 1, "skipped": 0}


@dataclass(frozen=True)
class PromotionOutcome:
    checks: tuple[Check, ...]
    reward: dict | None
    """{"amount": 692, "currency": "NOK", "bundle": "duo"}, or None when nothing is earned."""
    facts: dict = field(default_factory=dict)
    """What the rules worked from (territory, purchase date, bundle, fingerprints), for reviewers."""


def _fmt(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M")


def _readable(reads: Sequence[Read]) -> list[tuple[str, DocumentRead]]:
    return [(n, d) for n, d in reads if isinstance(d, DocumentRead) and d.pages]


def _source(doc: DocumentRead, page: int | None) -> str | None:
    return doc.pages[page - 1].source if page and 1 <= page <= len(doc.pages) else None


def _find(checks: Sequence[Check], name: str, product: int | None = None) -> Check | None:
    return next((c for c in checks if c.name == name and c.product == product), None)


# ------------------------------------------------------------------------------ purchase period

@dataclass(frozen=True)
class InvoiceDate:
    date: dt.date
    raw: str
    evidence: Evidence | None
    decisive: bool = True
    """The purchase's own date: the claimed date found on the invoice, or the invoice's own date
    (``pipeline.checks.invoice_date``) read with confidence. Only a decisive date rejects a claim
    for its period or its days since purchase; another date read (order, delivery, due) never does."""


def invoice_dates(claim: Claim, invoices: Sequence[Read], doc_checks: Sequence[Check] = (),
                  config: Config | None = None) -> tuple[list[InvoiceDate], bool]:
    """The invoice's purchase date candidates, and whether they are the claimed date confirmed
    on the invoice (the ``purchase_date`` check passed). Distinct dates, the decisive one (if any)
    first, then in reading order."""
    pd = _find(doc_checks, "purchase_date")
    if pd is not None and pd.status == "pass":
        return [InvoiceDate(claim.purchase.date, pd.found or claim.purchase.date.isoformat(), pd.evidence)], True
    config = config or default_config()
    found = dates_read(claim, _readable(invoices), config)
    own, _ = invoice_date(found)
    out: dict[dt.date, InvoiceDate] = {}
    if own is not None and date_is_sure(own[1], own[2], config):
        name, doc, d = own
        out[d.date] = InvoiceDate(d.date, d.raw, Evidence(name, d.page, d.bbox, _source(doc, d.page)), True)
    for name, doc, d in found:
        out.setdefault(d.date, InvoiceDate(d.date, d.raw, Evidence(name, d.page, d.bbox, _source(doc, d.page)),
                                           False))
    return list(out.values()), False


def check_promotion_period(terms: Terms, dates: Sequence[InvoiceDate], confirmed: bool,
                           territory: Territory | None) -> Check:
    p = terms.period
    zone = territory.timezone if territory else terms.timezone
    expected = f"{_fmt(p.start)} .. {_fmt(p.end)} ({zone})"
    if not dates:
        return Check(name="promotion_period", product=None, status="uncertain", score=0, expected=expected,
                     reason="DATE_NOT_FOUND", detail="no date could be read on the invoice")
    decisive = [d for d in dates if d.decisive]
    if decisive and not confirmed:
        # The invoice's own date decides; its order, delivery or due dates say nothing of the purchase.
        d = decisive[0]
        if p.contains_day(d.date):
            return Check(name="promotion_period", product=None, status="pass", score=100, expected=expected,
                         found=d.raw, evidence=d.evidence,
                         detail=f"{d.date.isoformat()} is inside the period (the invoice's own date)")
        when = "before" if d.date < p.start.date() else "after"
        return Check(name="promotion_period", product=None, status="fail", score=0, expected=expected, found=d.raw,
                     evidence=d.evidence, reason="PURCHASE_OUTSIDE_PERIOD",
                     detail=f"the invoice is dated {d.date.isoformat()}, {when} the purchase period")
    inside = [d for d in dates if p.contains_day(d.date)]
    outside = [d for d in dates if not p.contains_day(d.date)]
    if not outside:
        d = inside[0]
        how = "the claimed date, found on the invoice" if confirmed else "every date read on the invoice"
        return Check(name="promotion_period", product=None, status="pass", score=100, expected=expected, found=d.raw,
                     evidence=d.evidence, detail=f"{d.date.isoformat()} is inside the period ({how})")
    if not inside and confirmed:
        d = outside[0]
        when = "before" if d.date < p.start.date() else "after"
        return Check(name="promotion_period", product=None, status="fail", score=0, expected=expected, found=d.raw,
                     evidence=d.evidence, reason="PURCHASE_OUTSIDE_PERIOD",
                     detail=f"the invoice is dated {d.date.isoformat()}, {when} the purchase period")
    if not inside:
        d = outside[0]
        return Check(name="promotion_period", product=None, status="uncertain", score=30, expected=expected,
                     found=d.raw, evidence=d.evidence, reason="PROMOTION_PERIOD_UNCERTAIN",
                     detail="every date read on the invoice is outside the period ("
                     + ", ".join(x.date.isoformat() for x in dates)
                     + "), but none is its own date read with confidence (an order or delivery date "
                       "is no purchase date)")
    d = outside[0]
    return Check(name="promotion_period", product=None, status="uncertain", score=50, expected=expected, found=d.raw,
                 evidence=d.evidence, reason="PROMOTION_PERIOD_UNCERTAIN",
                 detail="the invoice shows dates inside and outside the period: "
                 + ", ".join(x.date.isoformat() for x in dates))


def purchase_day(dates: Sequence[InvoiceDate]) -> dt.date | None:
    """The day the purchase was made, for counting days: the decisive date, else the earliest
    invoice date (due and delivery dates come later)."""
    decisive = [d.date for d in dates if d.decisive]
    return decisive[0] if decisive else min((d.date for d in dates), default=None)


# ------------------------------------------------------------------------------ claim window

def check_claim_window(terms: Terms, submitted_at: dt.datetime | None, purchase: dt.date | None,
                       territory: Territory | None, *, decisive: bool = True) -> Check:
    """Submitted inside the claim window? ``decisive``: ``purchase`` is the purchase's own date (see
    ``InvoiceDate``); counting days from any other date read can only make the claim uncertain."""
    w = terms.claim_window
    zone_name = territory.timezone if territory else terms.timezone
    parts = []
    if w.opens or w.closes:
        parts.append(f"{_fmt(w.opens) if w.opens else '…'} .. {_fmt(w.closes) if w.closes else '…'} ({zone_name})")
    if w.first_day:
        parts.append(f"from day {w.first_day} after purchase (day 1 = invoice date)")
    if w.last_day:
        parts.append(f"until day {w.last_day} after purchase")
    expected = "; ".join(parts) or None
    if w.is_open_ended:
        return Check(name="claim_window", product=None, status="skipped", score=0,
                     detail="the terms set no claim window")
    if submitted_at is None:
        return Check(name="claim_window", product=None, status="uncertain", score=0, expected=expected,
                     reason="CLAIM_WINDOW_UNKNOWN", detail="the claim gives no submitted_at")
    zone = ZoneInfo(zone_name)
    local = submitted_at.astimezone(zone) if submitted_at.tzinfo else submitted_at.replace(tzinfo=zone)
    wall = local.replace(tzinfo=None)
    found = f"{wall:%Y-%m-%d %H:%M:%S} {zone_name}"
    if w.opens and wall < w.opens:
        return Check(name="claim_window", product=None, status="fail", score=0, expected=expected, found=found,
                     reason="CLAIM_TOO_EARLY", detail=f"submitted before the claim window opens ({_fmt(w.opens)})")
    if w.closes and wall >= w.closes + dt.timedelta(minutes=1):
        return Check(name="claim_window", product=None, status="fail", score=0, expected=expected, found=found,
                     reason="CLAIM_WINDOW_CLOSED", detail=f"submitted after the claim window closed ({_fmt(w.closes)})")
    if w.first_day or w.last_day:
        if purchase is None:
            return Check(name="claim_window", product=None, status="uncertain", score=0, expected=expected, found=found,
                         reason="DATE_NOT_FOUND",
                         detail="the days since purchase cannot be counted: no date read on the invoice")
        day = (wall.date() - purchase).days + 1
        found += f", day {day} after purchase"
        early = w.first_day and day < w.first_day
        late = w.last_day and day > w.last_day
        if (early or late) and not decisive:
            return Check(name="claim_window", product=None, status="uncertain", score=30, expected=expected,
                         found=found, reason="DATE_NOT_FOUND",
                         detail=f"day {day} counted from {purchase.isoformat()}, a date read on the invoice that is "
                         "not its own date read with confidence")
        if early:
            earliest = purchase + dt.timedelta(days=w.first_day - 1)
            return Check(name="claim_window", product=None, status="fail", score=0, expected=expected, found=found,
                         reason="CLAIM_TOO_EARLY",
                         detail=f"submitted on day {day} after the purchase of {purchase.isoformat()}; claims are "
                         f"accepted from day {w.first_day} ({earliest.isoformat()})")
        if late:
            return Check(name="claim_window", product=None, status="fail", score=0, expected=expected, found=found,
                         reason="CLAIM_WINDOW_CLOSED",
                         detail=f"submitted on day {day} after the purchase; claims are accepted until day "
                                f"{w.last_day}")
    return Check(name="claim_window", product=None, status="pass", score=100, expected=expected, found=found)


# ------------------------------------------------------------------------------ territory

def _country(code: str | None) -> str | None:
    if not code or not code.strip():
        return None
    code = code.strip().upper()
    return "GB" if code == "UK" else code


def resolve_territory(claim: Claim, terms: Terms) -> tuple[str | None, Territory | None]:
    """The claimant's territory: where they live, else where they bought."""
    residence = _country(claim.claimant.country if claim.claimant else None)
    code = residence or _country(claim.purchase.country)
    return code, (terms.territory(code) if code else None)


def check_territory(claim: Claim, terms: Terms) -> Check:
    codes = sorted(terms.territories)
    tiers = sorted({t.tier for t in terms.territories.values()})
    expected = ", ".join(codes) if len(tiers) == 1 else "; ".join(
        f"tier {n}: " + ", ".join(c for c in codes if terms.territories[c].tier == n) for n in tiers)
    code, territory = resolve_territory(claim, terms)
    if code is None:
        return Check(name="territory", product=None, status="uncertain", score=0, expected=expected,
                     reason="TERRITORY_UNKNOWN", detail="the claim gives no country")
    if territory is None:
        return Check(name="territory", product=None, status="fail", score=0, expected=expected, found=code,
                     reason="TERRITORY_NOT_ELIGIBLE", detail=f"{code} is not a territory of this promotion")
    found = f"{code} ({territory.name}, tier {territory.tier}, {territory.currency})"
    residence = _country(claim.claimant.country if claim.claimant else None)
    bought = _country(claim.purchase.country)
    if terms.participants.purchase_in_residence and residence and bought and bought != residence:
        if terms.territory(bought) is None:
            return Check(name="territory", product=None, status="fail", score=0, expected=expected,
                         found=f"bought in {bought}", reason="TERRITORY_NOT_ELIGIBLE",
                         detail=f"bought in {bought}, which is not a territory of this promotion")
        return Check(name="territory", product=None, status="uncertain", score=50, expected=expected,
                     found=f"{found}, bought in {bought}", reason="TERRITORY_MISMATCH",
                     detail=f"the claimant lives in {residence} but bought in {bought}")
    return Check(name="territory", product=None, status="pass", score=100, expected=expected, found=found)


# ------------------------------------------------------------------------------ retailer

def _retailer_names(name: str) -> list[str]:
    """A claimed retailer and every alias of the known retailer(s) it names."""
    out = [name]
    for r in resolve_retailer(name):
        out += [r.id, *r.names, *r.legal_names, *r.domains]
    return out


def check_retailer_eligible(claim: Claim, invoices: Sequence[Read], terms: Terms, *,
                            knowledge: Knowledge | None = None,
                            sold_by: Mapping[str, Sequence[SellerLine]] | None = None) -> Check:
    """sold_by: each invoice's "sold by" lines as every reading of it shows them (the reading
    cascade's second engine may read the line the first could not); by default, from ``invoices``."""
    rules = terms.retailers
    claimed = claim.purchase.retailer
    excluded = list(rules.excluded)
    expected_parts = []
    if excluded:
        expected_parts.append("not " + ", ".join(excluded))
    if rules.third_party_sellers == "excluded":
        expected_parts.append("no third-party marketplace seller")
    if rules.partners:
        expected_parts.append("a partner retailer")
    expected = "; ".join(expected_parts) or "any retailer"
    if claimed:
        hit = names_in(claimed, excluded)
        if hit:
            return Check(name="retailer_eligible", product=None, status="fail", score=0, expected=expected,
                         found=claimed, reason="RETAILER_EXCLUDED",
                         detail=f"the claimed retailer is {hit[0]}, which this promotion excludes")
    good = _readable(invoices)
    if good and excluded:
        hits = [(n, h) for n, doc in good for h in find_names(doc.pages, excluded)]
        top = [(n, h) for n, h in hits if h.top]
        if top or hits:
            n, h = (top or hits)[0]
            status, reason = ("fail", "RETAILER_EXCLUDED") if top else ("uncertain", "RETAILER_MAYBE_EXCLUDED")
            return Check(name="retailer_eligible", product=None, status=status, score=0 if top else 40,
                         expected=expected, found=h.found, evidence=Evidence(n, h.page, h.bbox), reason=reason,
                         detail=f"the invoice shows {h.name}" + (" at its top" if top else ""))
    if good and rules.third_party_sellers == "excluded":
        sellers = [(n, s) for n, doc in good
                   for s in (sold_by[n] if sold_by is not None and n in sold_by else
                             invoice_facts(doc, country=claim.country, knowledge=knowledge).sellers(claimed))]
        third = [(n, s) for n, s in sellers if not s.first_party]
        if third:
            n, s = next(((n, s) for n, s in third if not s.again), third[0])
            # mixed sellers, or a line only the cascade's second engine read: a person looks
            mixed = len(third) < len(sellers) or s.again
            return Check(name="retailer_eligible", product=None, status="uncertain" if mixed else "fail",
                         score=40 if mixed else 0, expected=expected, found=s.line,
                         evidence=Evidence(n, s.page, s.bbox),
                         reason="RETAILER_MAYBE_EXCLUDED" if mixed else "RETAILER_EXCLUDED",
                         detail=f"{s.marketplace} invoice: sold by {s.seller}, a third-party seller"
                         + (" (other items are sold by the marketplace itself)" if len(third) < len(sellers) else "")
                         + (" (read by the second OCR engine only)" if s.again else ""))
    if rules.partners:
        names = _retailer_names(claimed) if claimed else []
        partner = next((p for p in rules.partners for n in names if names_in(n, [p]) or names_in(p, [n])), None)
        if partner is None and good:
            hits = [(n, h) for n, doc in good for h in find_names(doc.pages, rules.partners)]
            partner = hits[0][1].name if hits else None
        if partner is None:
            return Check(name="retailer_eligible", product=None, status="uncertain", score=50, expected=expected,
                         found=claimed, reason="RETAILER_NOT_PARTNER",
                         detail="the retailer is not on the promotion's partner list")
        return Check(name="retailer_eligible", product=None, status="pass", score=100, expected=expected,
                     found=claimed or partner, detail=f"partner retailer {partner}")
    if not good:
        return Check(name="retailer_eligible", product=None, status="uncertain", score=30, expected=expected,
                     found=claimed, reason="INVOICE_UNREADABLE",
                     detail="no readable invoice to look for marketplace sellers on")
    return Check(name="retailer_eligible", product=None, status="pass", score=100, expected=expected, found=claimed)


# ------------------------------------------------------------------------------ products

@dataclass(frozen=True)
class Eligibility:
    """Which eligible product a claimed product is."""

    index: int
    status: str
    """'pass', 'uncertain' or 'fail'."""
    group: str | None
    category: str | None
    model: str | None
    """The eligible model's canonical name (or the category, for category-wide groups)."""
    score: int


def _line_page(text: str) -> Page:
    words = tuple(Word(t, 100.0, (i * 10, 0, i * 10 + 9, 10)) for i, t in enumerate(text.split()))
    return Page(1, max(10, 10 * len(words)), 10, "claim", (Line(words),))


def _overlap(a: str, b: str) -> float:
    """Share of tokens two model names have in common (Jaccard), brands dropped."""
    ta, tb = set(model_tokens(a)), set(model_tokens(b))
    return len(ta & tb) / len(ta | tb) if ta | tb else 0.0


_CANDIDATES: dict[tuple, tuple[Terms, list]] = {}


def _model_candidates(model: str, terms: Terms, thresholds: dict) -> list[tuple[tuple, str, str, ProductGroup,
                                                                                 object]]:
    """``_match_candidates``, remembered per process for the same terms object, model and thresholds:
    a batch names the same few models again and again (a fresh list each time: callers append)."""
    key = (model, id(terms), tuple(sorted(thresholds.items())))
    hit = _CANDIDATES.get(key)
    if hit is None or hit[0] is not terms:
        if len(_CANDIDATES) > 4096:
            _CANDIDATES.clear()
        hit = _CANDIDATES[key] = (terms, _match_candidates(model, terms, thresholds))  # holding terms pins its id
    return list(hit[1])


def _match_candidates(model: str, terms: Terms, thresholds: dict) -> list[tuple[tuple, str, str, ProductGroup,
                                                                                object]]:
    """Every eligible name matched against the claimed model. Ranked by status, then: a pass by
    its score, anything else by the tokens shared first, so the "closest" model named to a
    reviewer is the one that looks like the claim ("MAG X570 TOMAHAWK" -> "... TOMAHAWK WIFI")."""
    page = [_line_page(model)]
    out = []
    for gid, group in terms.products.items():
        for names in group.names:
            for name in names:
                overlap = _overlap(name, model)
                if models_equivalent(name, model):
                    out.append(((3, 101, overlap), gid, names[0], group, None))
                    continue
                m = match_model(name, page, **thresholds)
                rank = _RANK[m.status]
                key = (rank, m.score, overlap) if rank == 3 else (rank, overlap, m.score)
                out.append((key, gid, names[0], group, m))
    return out


def check_product_eligible(claim: Claim, index: int, terms: Terms, territory_code: str | None, *,
                           thresholds: dict | None = None,
                           knowledge: Knowledge | None = None) -> tuple[Check, Eligibility]:
    """Is the claimed product on the eligible list (and admitted in the claimant's territory)?

    thresholds: ``match_model`` keyword arguments (pass_score, uncertain_score, ...).
    """
    product = claim.product_list[index]
    model = (product.model or "").strip() or None
    category = canonical_category(product.category, knowledge)
    thresholds = thresholds or {}
    cands = _model_candidates(model, terms, thresholds) if model else []
    for gid, group in terms.products.items():
        if group.any_model and category == group.category:
            cands.append(((3, 100, 1.0), gid, group.category, group, None))
    if not cands:
        listed = any(not g.any_model for g in terms.products.values())
        if not model and (listed or not category):
            return (Check(name="product_eligible", product=index, status="uncertain", score=0, found=product.category,
                          reason="PRODUCT_MODEL_MISSING", detail="no model claimed"),
                    Eligibility(index, "uncertain", None, category, None, 0))
        # Only category-wide groups are left to try, and the claim's category is not one of them.
        open_cats = sorted({g.category for g in terms.products.values() if g.any_model})
        expected = ("a " + " / ".join(open_cats)) if open_cats else None
        if category:
            status, reason, why = "fail", "PRODUCT_NOT_ELIGIBLE", f"category {category!r} is not eligible"
        else:
            status, reason, why = "uncertain", "PRODUCT_ELIGIBILITY_UNCERTAIN", "no category claimed"
        return (Check(name="product_eligible", product=index, status=status, score=0, expected=expected,
                      found=model or product.category, reason=reason, detail=why),
                Eligibility(index, status, None, category, None, 0))
    key, gid, name, group, match = max(cands, key=lambda c: c[0])
    status = {3: "pass", 2: "uncertain"}.get(key[0], "fail")
    score = 100 if match is None else match.score
    overlap = _overlap(name, model) if model else 0.0
    found = model or product.category
    if status == "fail":
        near = match is not None and match.reason == "different_model"
        why = "not on the eligible list"
        if overlap >= 0.3:  # name the closest only when it looks like the claim, never an unrelated model
            why += f"; closest: {name}" + (f" ({match.detail})" if near else "")
        return (Check(name="product_eligible", product=index, status="fail", score=score, found=found,
                      reason="PRODUCT_NOT_ELIGIBLE", detail=why),
                Eligibility(index, "fail", None, category, None, score))
    if status == "uncertain":
        why = match.detail if match is not None else ""
        return (Check(name="product_eligible", product=index, status="uncertain", score=score, expected=name,
                      found=found, reason="PRODUCT_ELIGIBILITY_UNCERTAIN",
                      detail=f"close to the eligible {name}: {why}".rstrip(": ")),
                Eligibility(index, "uncertain", gid, group.category, name, score))
    label = group.label or gid
    territory = terms.territory(territory_code) if territory_code else None
    if group.tiers is not None or group.territories is not None:
        where = ", ".join(c for c, t in sorted(terms.territories.items()) if group.admitted_in(c, t))
        if territory is None:
            return (Check(name="product_eligible", product=index, status="uncertain", score=50, expected=name,
                          found=found, reason="TERRITORY_UNKNOWN",
                          detail=f"{label} is eligible only in {where}; the claimant's territory is not known"),
                    Eligibility(index, "uncertain", gid, group.category, name, 50))
        if not group.admitted_in(territory_code, territory):
            return (Check(name="product_eligible", product=index, status="fail", score=0, expected=name, found=found,
                          reason="PRODUCT_NOT_ELIGIBLE",
                          detail=f"{label} is eligible only in {where}, not in {territory_code}"),
                    Eligibility(index, "fail", gid, group.category, name, 0))
    detail = f"{label} ({group.category})"
    if category and category != group.category:
        detail += f"; claimed as {category}"
    return (Check(name="product_eligible", product=index, status="pass", score=score, expected=name, found=found,
                  detail=detail),
            Eligibility(index, "pass", gid, group.category, name, score))


# ------------------------------------------------------------------------------ bundles

@dataclass(frozen=True)
class _Item:
    index: int
    group: str
    category: str
    sure: bool


def _fill(parts: Sequence[str], items: Sequence[_Item]) -> tuple[_Item, ...] | None:
    """Items filling every part (one item per part), the surest filling first; None if none."""
    best = None
    for combo in itertools.permutations(items, len(parts)):
        if all(p in (it.group, it.category) for p, it in zip(parts, combo)):
            sure = sum(it.sure for it in combo)
            if best is None or sure > best[0]:
                best = (sure, combo)
    return best[1] if best else None


def _best_bundle(terms: Terms, items: Sequence[_Item]) -> tuple[str, tuple[_Item, ...]] | None:
    """The last bundle of the terms that ``items`` complete."""
    for bid in reversed(list(terms.bundles)):
        filled = _fill(terms.bundles[bid].parts, items)
        if filled is not None:
            return bid, filled
    return None


def _invoice_groups(invoices: Sequence[Read], numbers: dict[str, list[InvoiceNumber]]) -> dict[str, int]:
    """Upload name -> invoice id: uploads showing the same invoice number are one invoice."""
    names = [n for n, _ in invoices]
    group = {n: i for i, n in enumerate(names)}
    for a, b in itertools.combinations(names, 2):
        if {x.key for x in numbers.get(a, [])} & {x.key for x in numbers.get(b, [])}:
            old, new = group[b], group[a]
            group = {k: (new if v == old else v) for k, v in group.items()}
    return group


def _on_invoices(claim: Claim, index: int, invoices: Sequence[Read], doc_checks: Sequence[Check],
                 thresholds: dict) -> dict[str, str]:
    """Upload name -> 'pass'/'uncertain' for the uploads the claimed product was found on."""
    check = _find(doc_checks, "product_on_invoice", index)
    if check is not None:
        if check.status in ("pass", "uncertain") and check.evidence is not None:
            return {check.evidence.document: check.status}
        return {}
    model = claim.product_list[index].model
    if not model:
        return {}
    out = {}
    for name, doc in _readable(invoices):
        m = match_model(model, doc.pages, **thresholds)
        if m.status in ("pass", "uncertain"):
            out[name] = m.status
    return out


def check_bundle(claim: Claim, invoices: Sequence[Read], doc_checks: Sequence[Check], terms: Terms,
                 eligible: Sequence[Eligibility], numbers: dict[str, list[InvoiceNumber]], *,
                 thresholds: dict | None = None) -> tuple[Check, str | None, dict[str, str]]:
    """Which bundle the invoice supports: eligible products claimed and found on one invoice.

    Returns the check, the bundle rewarded (or None) and its products' groups by category.
    """
    if not terms.bundles:
        return Check(name="bundle", product=None, status="skipped", score=0,
                     detail="the terms define no bundles"), None, {}
    thresholds = thresholds or {}
    candidates = [e for e in eligible if e.status in ("pass", "uncertain") and e.group]
    claimed = _best_bundle(terms, [_Item(e.index, e.group, e.category, e.status == "pass") for e in candidates])
    labels = " / ".join(terms.bundles)
    if claimed is None:
        have = ", ".join(sorted({e.category for e in candidates})) or "no eligible product"
        first = next(iter(terms.bundles.values()))
        return (Check(name="bundle", product=None, status="fail", score=0, expected=labels, found=have,
                      reason="BUNDLE_INCOMPLETE",
                      detail=f"the eligible products claimed do not make a bundle (the smallest: {first.label})"),
                None, {})
    if not _readable(invoices):
        return (Check(name="bundle", product=None, status="uncertain", score=0, expected=claimed[0],
                      reason="INVOICE_UNREADABLE", detail="no readable invoice to find the bundle's products on"),
                None, {})
    groups = _invoice_groups(invoices, numbers)
    where = {e.index: _on_invoices(claim, e.index, invoices, doc_checks, thresholds) for e in candidates}
    best = None  # (rank, sure, bundle id, filling, invoice id)
    order = list(terms.bundles)
    for inv in sorted(set(groups.values())):
        items = []
        for e in candidates:
            statuses = [s for n, s in where[e.index].items() if groups.get(n) == inv]
            if statuses:
                sure = e.status == "pass" and "pass" in statuses
                items.append(_Item(e.index, e.group, e.category, sure))
        found = _best_bundle(terms, items)
        if found is not None:
            bid, filling = found
            key = (order.index(bid), all(it.sure for it in filling))
            if best is None or key > best[:2]:
                best = (*key, bid, filling, inv)
    claimed_id = claimed[0]
    anywhere = [_Item(e.index, e.group, e.category, True) for e in candidates if where[e.index]]
    split = _best_bundle(terms, anywhere)
    split_ok = split is not None and order.index(split[0]) >= order.index(claimed_id)
    if best is None:
        if split_ok and len(set(groups.values())) > 1:
            return (Check(name="bundle", product=None, status="uncertain", score=30, expected=claimed_id,
                          reason="BUNDLE_SPLIT_INVOICES",
                          detail="the products of the bundle are on different invoices"), None, {})
        return (Check(name="bundle", product=None, status="fail", score=0, expected=claimed_id,
                      reason="BUNDLE_INCOMPLETE", detail="no invoice shows the products of a bundle together"),
                None, {})
    rank, sure, bid, filling, inv = best
    doc = next(n for n, g in groups.items() if g == inv)
    evidence = Evidence(doc)
    chosen = {it.category: it.group for it in filling}
    found = f"{bid}: " + ", ".join(f"{it.category} {it.group}" for it in filling)
    if rank < order.index(claimed_id):
        if split_ok and len(set(groups.values())) > 1:
            return (Check(name="bundle", product=None, status="uncertain", score=40, expected=claimed_id, found=found,
                          evidence=evidence, reason="BUNDLE_SPLIT_INVOICES",
                          detail=f"{claimed_id} is claimed but its products are on different invoices; one invoice "
                          f"supports {bid}"), bid, chosen)
        return (Check(name="bundle", product=None, status="uncertain", score=40, expected=claimed_id, found=found,
                      evidence=evidence, reason="BUNDLE_REDUCED",
                      detail=f"{claimed_id} is claimed but the invoice supports only {bid}"), bid, chosen)
    if not sure:
        unsure = [it for it in filling if not it.sure]
        elig = {e.index: e for e in candidates}
        reason = ("PRODUCT_ELIGIBILITY_UNCERTAIN" if any(elig[it.index].status != "pass" for it in unsure)
                  else "PRODUCT_UNCERTAIN")
        return (Check(name="bundle", product=None, status="uncertain", score=60, expected=claimed_id, found=found,
                      evidence=evidence, reason=reason,
                      detail="a product of the bundle is only uncertainly eligible or found on the invoice"),
                bid, chosen)
    return Check(name="bundle", product=None, status="pass", score=100, expected=claimed_id, found=found,
                 evidence=evidence, detail=terms.bundles[bid].label), bid, chosen


# ------------------------------------------------------------------------------ documents

def check_required_documents(claim: Claim, terms: Terms, numbers: dict[str, list[InvoiceNumber]],
                             readable: bool) -> list[Check]:
    """What the terms require beyond an invoice: a serial photo, serial numbers, an invoice number."""
    req = terms.documents
    if not (req.serial_photo or req.serial_number or req.chk_code or req.invoice_number):
        return []
    out = []
    if req.serial_photo and not claim.documents.serial_photos:
        out.append(Check(name="required_documents", product=None, status="fail", score=0,
                         expected="serial number photo", reason="SERIAL_PHOTO_MISSING",
                         detail="the terms require a photo of the serial number"))
    if req.serial_number:
        for i, p in enumerate(claim.product_list):
            if not (p.serial or "").strip():
                out.append(Check(name="required_documents", product=i, status="fail", score=0, expected="serial number",
                                 reason="SERIAL_REQUIRED", detail="the terms require each product's serial number"))
    if req.chk_code:
        for i, p in enumerate(claim.product_list):
            if not (p.chk or "").strip():
                out.append(Check(name="required_documents", product=i, status="fail", score=0, expected="CHK code",
                                 reason="CHK_REQUIRED", detail="the terms require each product's CHK code"))
    if req.invoice_number and readable:
        found = [(n, x) for n, xs in numbers.items() for x in xs]
        if not found:
            out.append(Check(name="required_documents", product=None, status="uncertain", score=30,
                             expected="invoice number", reason="INVOICE_NUMBER_NOT_FOUND",
                             detail="the terms require the invoice number on the invoice"))
    if not out:
        out.append(Check(name="required_documents", product=None, status="pass", score=100,
                         detail="every document the terms require is there"))
    return out


# ------------------------------------------------------------------------------ duplicates

def canonical_email(email: str | None) -> str | None:
    """One person's address however written: case, '+tags' and Gmail's dots ignored.

    >>> canonical_email("Kari.Nordmann+cashback@GoogleMail.com")
    'karinordmann@gmail.com'
    """
    text = (email or "").strip().casefold()
    if "@" not in text:
        return text or None
    local, _, domain = text.rpartition("@")
    local = local.split("+", 1)[0]
    if domain in ("gmail.com", "googlemail.com"):
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def _email(claim: Claim) -> str | None:
    """The email as given, for the per-email limit: only case and spaces ignored."""
    email = claim.claimant.email if claim.claimant else None
    return (email or "").strip().casefold() or None


def participant_key(claim: Claim) -> str | None:
    """Who a claim is from: the claimant's ``participant_id`` when the portal gives one, else
    the canonical email."""
    c = claim.claimant
    if c is None:
        return None
    pid = (c.model_extra or {}).get("participant_id")
    if isinstance(pid, str | int) and str(pid).strip():
        return f"id:{str(pid).strip()}"
    return canonical_email(c.email)


def _retailer_key(name: str | None) -> str | None:
    if not name or not normalise_text(name):
        return None
    known = resolve_retailer(name)
    if len(known) == 1:
        return known[0].id
    return strip_legal_form(name).replace(" ", "")


Readings = Mapping[str, Sequence[tuple[DocumentRead, Sequence[InvoiceNumber]]]]
"""Invoice name -> each reading of it (the first, then the reading cascade's later engines') with
the invoice numbers found in that reading."""


def _readings(invoices: Sequence[Read], numbers: dict[str, list[InvoiceNumber]],
              later: Mapping[str, Sequence[tuple[DocumentRead, Sequence[InvoiceNumber]]]] | None) -> Readings:
    return {name: [(doc, numbers.get(name, [])), *(later or {}).get(name, ())]
            for name, doc in invoices if isinstance(doc, DocumentRead)}


def invoice_fingerprints(claim: Claim, invoices: Sequence[Read], numbers: dict[str, list[InvoiceNumber]],
                         later: Readings | None = None) -> dict[str, tuple[str, Evidence]]:
    """Fingerprint -> (how it reads, evidence): each upload's sha256, and the retailer with each
    invoice number read (when a retailer is claimed: numbers repeat across shops), in any of its
    readings (``later``: the reading cascade's later engines'). Look-alike images are found from
    ``document_identities`` instead: a picture alone proves nothing."""
    out: dict[str, tuple[str, Evidence]] = {}
    retailer = _retailer_key(claim.purchase.retailer)
    for name, readings in _readings(invoices, numbers, later).items():
        out[f"sha256:{readings[0][0].sha256}"] = (f"the same file as {name}", Evidence(name))
        if retailer:
            for doc, found in readings:
                for n in found:
                    if len(n.key) >= 4:
                        out.setdefault(f"number:{retailer}:{n.key}", (
                            f"invoice number {n.number}", Evidence(name, n.page, n.bbox, _source(doc, n.page))))
    return out


def document_identities(claim: Claim, invoices: Sequence[Read], photos: Sequence[Read],
                        numbers: dict[str, list[InvoiceNumber]], image_hashes: Mapping[str, str],
                        config: Config | None, later: Readings | None = None) -> list[DocumentIdentity]:
    """What each upload says, for comparing it with earlier look-alike uploads (``duplicates``): an
    invoice's readings (the first and ``later`` ones) merged."""
    min_conf = config.duplicates.read_min_conf if config is not None else 80.0
    out = []
    shop = _retailer_key(claim.purchase.retailer)
    for name, readings in _readings(invoices, numbers, later).items():
        out.append(merged(*(invoice_identity(name, doc, found, country=claim.country,
                                             image_hash=image_hashes.get(name), min_conf=min_conf, shop=shop)
                            for doc, found in readings)))
    for name, doc in photos:
        if isinstance(doc, DocumentRead):
            out.append(photo_identity(name, doc, image_hash=image_hashes.get(name), serial_key=serial_key))
    return out


@dataclass(frozen=True)
class _Match:
    """An earlier look-alike upload, judged by what both say."""

    near: NearDocument
    mine: DocumentIdentity
    relation: str
    detail: str
    number: str = "unknown"
    """What the invoice numbers showed (``Comparison.fields['number']``; 'near': one character apart)."""


def _judge(near: Sequence[NearDocument], mine: Sequence[DocumentIdentity], config: Config | None) -> list[_Match]:
    words = config.duplicates.differing_words if config is not None else 3
    own = {(d.role, d.name): d for d in mine}
    out = []
    for n in near:
        me = own.get((n.other.role, n.document))
        if me is None:
            continue
        near = ({"near_min_chars": config.duplicates.near_number_min_chars,
                 "near_max_diff": config.duplicates.near_number_max_diff} if config is not None else {})
        c = compare(me, n.other, differing_words=words, by=n.how, **near)
        if n.how in ("content", "words"):
            how = ("has the shop, date and total of" if n.how == "content" else
                   f"shares {n.shared_words} words rare at the shop with")
            apart = f"; image hashes {n.distance} bits apart" if n.distance >= 0 else ""
        else:
            how, apart = "looks like", f"; image hashes {n.distance} bits apart"
        out.append(_Match(n, me, c.relation, f"{n.document} {how} {n.other.name} of claim {n.claim_id} "
                                           f"({apart[2:] or 'not both images'}); {c.describe()}",
                          c.fields.get("number", "unknown")))
    return out


def _duplicate_checks(claim: Claim, terms: Terms, prior: PriorUse | None, fingerprints: dict,
                      serial_keys: dict[int, str], store_error: str | None, matches: Sequence[_Match] = (),
                      photos: bool = False) -> list[Check]:
    out = []
    limits = terms.limits
    if prior is None:
        why = store_error or "no claim store given"
        status, reason = ("uncertain", "CLAIM_STORE_UNAVAILABLE") if store_error else ("skipped", None)
        for i in serial_keys:
            out.append(Check(name="duplicate_serial", product=i, status=status, score=0,
                             found=claim.product_list[i].serial, reason=reason, detail=why))
        out.append(Check(name="duplicate_invoice", product=None, status=status, score=0, reason=reason, detail=why))
        out.append(Check(name="duplicate_serial_photo", product=None, status=status if photos else "skipped", score=0,
                         reason=reason if photos else None, detail=why if photos else "no serial photo"))
        out.append(Check(name="redeem_limit", product=None, status=status, score=0, reason=reason, detail=why))
        return out
    me = participant_key(claim)

    def reuse_allowed(cid: str) -> bool:
        other = prior.claims.get(cid)
        same = me is not None and other is not None and other.participant_key == me
        return limits.invoice_reuse == "allowed" or (limits.invoice_reuse == "same_participant" and same)

    seen: dict[str, int] = {}
    for i, key in serial_keys.items():
        serial = claim.product_list[i].serial
        expected = f"claimed at most {limits.per_serial} time(s)"
        if key in seen:
            out.append(Check(name="duplicate_serial", product=i, status="fail", score=0, expected=expected,
                             found=serial, reason="SERIAL_ALREADY_CLAIMED",
                             detail=f"the same serial is given for product {seen[key]} of this claim"))
            continue
        seen[key] = i
        earlier = prior.serials.get(key, ())
        if len(earlier) >= limits.per_serial:
            out.append(Check(name="duplicate_serial", product=i, status="fail", score=0, expected=expected,
                             found=serial, reason="SERIAL_ALREADY_CLAIMED",
                             detail="already claimed in " + ", ".join(earlier)))
        else:
            out.append(Check(name="duplicate_serial", product=i, status="pass", score=100, expected=expected,
                             found=serial))
    if not fingerprints:
        out.append(Check(name="duplicate_invoice", product=None, status="skipped", score=0,
                         detail="no readable invoice"))
    else:
        clashes, allowed = [], []
        for fp, ids in prior.invoices.items():
            for cid in ids:
                (allowed if reuse_allowed(cid) else clashes).append((fp, cid))
        expected = {"never": "not used before", "same_participant": "not used by another participant",
                    "allowed": "may be reused"}[limits.invoice_reuse]
        looks = [x for x in matches if x.mine.role == "invoice" and not reuse_allowed(x.near.claim_id)]
        same = [x for x in looks if x.relation == "same"]
        doubt = ([x for x in looks if x.relation == "edited"] or [x for x in looks if x.relation == "unreadable"])
        if clashes:
            fp, cid = clashes[0]
            how, evidence = fingerprints.get(fp, (fp, None))
            out.append(Check(name="duplicate_invoice", product=None, status="fail", score=0, expected=expected,
                             found=cid, evidence=evidence, reason="INVOICE_ALREADY_USED",
                             detail=f"{how} was used in " + ", ".join(sorted({c for _, c in clashes}))))
        elif same:
            x = same[0]
            out.append(Check(name="duplicate_invoice", product=None, status="fail", score=0, expected=expected,
                             found=x.near.claim_id, evidence=_match_evidence(x), reason="INVOICE_ALREADY_USED",
                             detail=x.detail + ": the same invoice number"))
        elif doubt:
            x = doubt[0]
            reason = "INVOICE_POSSIBLY_EDITED" if x.relation == "edited" else "INVOICE_POSSIBLY_REUSED"
            why = ("only the number differs: an edited copy?" if x.relation == "edited"
                   else "the invoice numbers differ in one character: one misread, or two of one series?"
                   if x.number == "near" else "the invoice numbers could not both be read with confidence")
            out.append(Check(name="duplicate_invoice", product=None, status="uncertain", score=40, expected=expected,
                             found=x.near.claim_id, evidence=_match_evidence(x), reason=reason,
                             detail=f"{x.detail}: {why}"))
        else:
            notes = []
            if allowed:
                notes.append("used before by the same participant in " + ", ".join(sorted({c for _, c in allowed})))
            others = sorted({x.near.claim_id for x in matches if x.mine.role == "invoice"
                             and x.relation == "different"})
            if others:
                notes.append("looks like the invoice(s) of " + ", ".join(others) + ", which say otherwise: "
                             "other invoices of the same shop")
            out.append(Check(name="duplicate_invoice", product=None, status="pass", score=100, expected=expected,
                             detail="; ".join(notes) or None))
    out.append(_photo_check(matches, reuse_allowed) if photos else
               Check(name="duplicate_serial_photo", product=None, status="skipped", score=0, detail="no serial photo"))
    out.append(_limit_check(claim, limits, prior))
    return out


def _match_evidence(x: _Match) -> Evidence:
    if x.mine.number_bbox is not None:
        page, bbox = x.mine.number_bbox
        return Evidence(x.near.document, page, bbox)
    return Evidence(x.near.document)


def _photo_check(matches: Sequence[_Match], reuse_allowed) -> Check:
    """``duplicate_serial_photo``: a serial photo that looks like another claim's, unless the serials
    decoded from the two differ (another sticker of the same kind)."""
    looks = [x for x in matches if x.mine.role == "serial_photo" and not reuse_allowed(x.near.claim_id)]
    doubt = [x for x in looks if x.relation in ("same", "unreadable")]
    expected = "a photo not used in another claim"
    if doubt:
        x = doubt[0]
        why = ("the same serial is decoded from both" if x.relation == "same"
               else "no serial could be decoded to tell them apart")
        return Check(name="duplicate_serial_photo", product=None, status="uncertain", score=40, expected=expected,
                     found=x.near.claim_id, evidence=Evidence(x.near.document), reason="SERIAL_PHOTO_REUSED",
                     detail=f"{x.detail}: {why}")
    return Check(name="duplicate_serial_photo", product=None, status="pass", score=100, expected=expected)


def _takes_documents(store: ClaimStore) -> bool:
    """Whether the store compares look-alike uploads (a ``ClaimStore`` of an older protocol does not)."""
    import inspect

    try:
        params = inspect.signature(store.record_claim).parameters
    except (TypeError, ValueError):
        return False
    return "documents" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _link(store, claim_id: str, checks: Sequence[Check]) -> None:
    """Keep the claims a duplicate check sent to a person next to this one (both claims' pages show it)."""
    set_links = getattr(store, "set_links", None)
    if set_links is None:
        return
    links = [(c.found, c.name, c.reason, c.detail) for c in checks
             if c.name in ("duplicate_invoice", "duplicate_serial_photo") and c.status == "uncertain" and c.found]
    try:
        set_links(claim_id, links)
    except (sqlite3.Error, OSError, ClaimcheckError):
        pass  # the decision stands; only the link is not kept


def _limit_check(claim: Claim, limits, prior: PriorUse) -> Check:
    rules = []
    if limits.per_participant:
        rules.append(("participant", limits.per_participant, prior.participant_claims, participant_key(claim)))
    if limits.per_email:
        rules.append(("email", limits.per_email, prior.email_claims, _email(claim)))
    if not rules:
        return Check(name="redeem_limit", product=None, status="skipped", score=0,
                     detail="the terms set no claim limit")
    expected = "; ".join(f"at most {n} per {what}" for what, n, _, _ in rules)
    if all(who is None for *_, who in rules):
        return Check(name="redeem_limit", product=None, status="uncertain", score=0, expected=expected,
                     reason="CLAIMANT_EMAIL_MISSING", detail="the claim gives no email to count claims by")
    for what, n, earlier, who in rules:
        if who is not None and len(earlier) >= n:
            return Check(name="redeem_limit", product=None, status="fail", score=0, expected=expected,
                         found=f"{len(earlier)} earlier claim(s)", reason="CLAIM_LIMIT_REACHED",
                         detail=f"this {what} already claimed in " + ", ".join(earlier))
    count = max(len(e) for _, _, e, _ in rules)
    return Check(name="redeem_limit", product=None, status="pass", score=100, expected=expected,
                 found=f"{count} earlier claim(s)")


# ------------------------------------------------------------------------------ orchestration

def _unknown(claim: Claim) -> PromotionOutcome:
    why = f"unknown promotion {claim.promotion_id!r}"
    checks = [Check(name="promotion_terms", product=None, status="fail", score=0, expected=claim.promotion_id,
                    reason="PROMOTION_UNKNOWN", detail=f"no terms file for promotion {claim.promotion_id!r}")]
    for name in PROMOTION_CHECKS:
        if name in ("product_eligible", "product_condition"):
            checks += [Check(name=name, product=i, status="skipped", score=0, detail=why)
                       for i in range(len(claim.product_list))]
        elif name == "duplicate_serial":
            checks += [Check(name=name, product=i, status="skipped", score=0, detail=why)
                       for i, p in enumerate(claim.product_list) if (p.serial or "").strip()]
        else:
            checks.append(Check(name=name, product=None, status="skipped", score=0, detail=why))
    return PromotionOutcome(tuple(checks), None, {"promotion": claim.promotion_id})


def apply_promotion(claim: Claim, invoices: Sequence[Read], doc_checks: Sequence[Check], *,
                    terms: Terms | None, store: ClaimStore | None, config: Config | None = None,
                    now: dt.datetime | None = None, knowledge: Knowledge | None = None,
                    photos: Sequence[Read] = (), image_hashes: Mapping[str, str] | None = None,
                    claim_dir: str | None = None,
                    sold_by: Mapping[str, Sequence[SellerLine]] | None = None,
                    later_reads: Mapping[str, Sequence[DocumentRead]] | None = None) -> PromotionOutcome:
    """Every promotion check of the contract for ``claim`` under ``terms``, and the reward.

    invoices, photos: the invoice and serial-photo reads; doc_checks: the document checks already
    run (their ``purchase_date`` and ``product_on_invoice`` results are reused). store: where claims
    are remembered; the claim is recorded in it, and claims it was compared with are linked to it
    (``set_links``, when the store keeps links). now: the decision time recorded (UTC now).
    image_hashes: upload name -> perceptual hash (``pipeline.imagehash``), to find look-alike uploads.
    later_reads: invoice name -> its readings by the reading cascade's later engines: what they read
    (invoice numbers, dates, words) is part of what the invoice says for the duplicate rules.
    claim_dir: the folder the claim came from; its claim_id held by another folder or claimant
    raises ClaimIdConflict (``verify_claim`` decides it), nothing recorded.
    sold_by: each invoice's marketplace "sold by" lines over all its readings (``check_retailer_eligible``).
    """
    if terms is None:
        return _unknown(claim)
    kb = knowledge or default_knowledge()
    thresholds = dict((config.matching.get("model", {}) if config is not None else {}) or {})
    code, territory = resolve_territory(claim, terms)
    dates, confirmed = invoice_dates(claim, invoices, doc_checks, config)
    good = _readable(invoices)
    numbers = {n: list(invoice_facts(doc, country=claim.country, knowledge=kb).invoice_numbers) for n, doc in good}

    checks = [
        check_promotion_period(terms, dates, confirmed, territory),
        check_claim_window(terms, claim.submitted_at, purchase_day(dates), territory,
                           decisive=any(d.decisive for d in dates)),
        check_territory(claim, terms),
        check_retailer_eligible(claim, invoices, terms, knowledge=kb, sold_by=sold_by),
    ]
    eligible = []
    product_checks = []
    for i in range(len(claim.product_list)):
        check, elig = check_product_eligible(claim, i, terms, code, thresholds=thresholds, knowledge=kb)
        product_checks.append(check)
        eligible.append(elig)
    bundle_check, bundle, groups = check_bundle(claim, invoices, doc_checks, terms, eligible, numbers,
                                                thresholds=thresholds)
    if bundle is not None:
        # A product the bundle does not need does not sink it: it earns nothing, and a person is told.
        used = {e.index for e in eligible if e.group and groups.get(e.category) == e.group}
        product_checks = [
            Check(name=c.name, product=c.product, status="uncertain", score=c.score, expected=c.expected, found=c.found,
                  evidence=c.evidence, reason="PRODUCT_NOT_IN_BUNDLE",
                  detail=(c.detail or "") + "; not part of the rewarded bundle")
            if c.status == "fail" and c.reason == "PRODUCT_NOT_ELIGIBLE" and c.product not in used else c
            for c in product_checks]
    if not claim.product_list:
        product_checks = [Check(name="product_eligible", product=None, status="uncertain", score=0,
                                reason="PRODUCT_MODEL_MISSING", detail="no product claimed")]
    checks += product_checks
    min_conf = config.duplicates.read_min_conf if config is not None else 80.0
    checks += [check_product_condition(claim, i, invoices, doc_checks, terms, min_conf=min_conf, knowledge=kb,
                                       later=later_reads)
               for i in range(len(claim.product_list))]
    checks.append(bundle_check)

    serial_keys = {i: serial_key(p.serial) for i, p in enumerate(claim.product_list)
                   if (p.serial or "").strip() and serial_key(p.serial)}
    later = {name: [(d, list(invoice_facts(d, country=claim.country, knowledge=kb).invoice_numbers)) for d in docs]
             for name, docs in (later_reads or {}).items()}
    fingerprints = invoice_fingerprints(claim, invoices, numbers, later)
    identities = document_identities(claim, invoices, photos, numbers, image_hashes or {}, config, later)
    prior, store_error, matches = None, None, []
    if store is not None:
        email = _email(claim)
        decided = (now or dt.datetime.now(dt.UTC)).isoformat()
        try:
            more = {"documents": identities} if identities and _takes_documents(store) else {}
            prior = store.record_claim(claim.claim_id, terms.id, email, participant_key(claim),
                                       sorted(set(serial_keys.values())), sorted(fingerprints), decided,
                                       **({"claim_dir": claim_dir} if claim_dir else {}), **more)
            matches = _judge(prior.documents, identities, config)
        except ClaimIdConflict:
            raise
        except (sqlite3.Error, OSError, ClaimcheckError) as exc:
            store_error = f"the claim store failed: {exc}"
    dup_checks = _duplicate_checks(claim, terms, prior, fingerprints, serial_keys, store_error, matches,
                                   photos=any(d.role == "serial_photo" for d in identities))
    checks += dup_checks
    _link(store, claim.claim_id, dup_checks)
    # a number the cascade's later engine read counts too (a hard photo Tesseract read little of)
    every_number = {name: [*numbers.get(name, []), *(x for _, xs in later.get(name, ()) for x in xs)]
                    for name in {*numbers, *later}}
    checks += check_required_documents(claim, terms, every_number, bool(good))

    reward = None
    if territory is not None and not any(c.status == "fail" for c in checks):
        if terms.bundles:
            reward = reward_for(terms, code, bundle, groups) if bundle else None
        elif any(e.status == "pass" for e in eligible):
            reward = reward_for(terms, code, None, {})
    facts = {
        "promotion": terms.id,
        "terms_sha256": terms.digest,
        "territory": code,
        "purchase_date": (purchase_day(dates).isoformat() if dates else None),
        "bundle": bundle,
        "invoice_numbers": {n: [x.number for x in xs] for n, xs in numbers.items() if xs},
        "fingerprints": sorted(fingerprints),
        "documents": [{"document": d.name, "role": d.role, "image_hash": d.image_hash, "numbers": list(d.numbers),
                       "dates": list(d.dates), "serials": list(d.serials)} for d in identities],
    }
    return PromotionOutcome(tuple(checks), reward, facts)
