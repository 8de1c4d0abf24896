"""What is loaded, for people: ``claimcheck promotions list`` and ``promotions show ID``.

Each has a dict form (for ``--json``) and a text form.

>>> "amd-msi-cashback-2020" in list_promotions_text()
True
"""
from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from .rewards import reward_cell
from .terms import Terms, load_promotions

__all__ = ["list_promotions", "list_promotions_text", "show_promotion", "show_promotion_text"]


def _summary(t: Terms) -> dict:
    return {
        "id": t.id,
        "name": t.name,
        "kind": t.kind,
        "period": [t.period.start.isoformat(timespec="minutes"), t.period.end.isoformat(timespec="minutes")],
        "territories": sorted(t.territories),
        "categories": sorted(t.categories),
        "bundles": list(t.bundles),
        "reward": t.reward.kind,
        "invented": len(t.invented),
        "file": t.file,
    }


def list_promotions(folder: str | Path | None = None) -> list[dict]:
    """One summary per loaded promotion, by id."""
    return [_summary(t) for _, t in sorted(load_promotions(folder).items())]


def list_promotions_text(folder: str | Path | None = None) -> str:
    rows = list_promotions(folder)
    if not rows:
        return "no promotions loaded\n"
    width = max(len(r["id"]) for r in rows)
    out = []
    for r in rows:
        period = f"{r['period'][0][:10]}..{r['period'][1][:10]}"
        where = ",".join(r["territories"]) if len(r["territories"]) <= 4 else f"{len(r['territories'])} territories"
        flag = f"  [{r['invented']} invented]" if r["invented"] else ""
        out.append(f"{r['id']:<{width}}  {period}  {where:<16} {r['name']}{flag}")
    return "\n".join(out) + "\n"


def show_promotion(promotion_id: str, folder: str | Path | None = None) -> dict:
    """Everything a terms file says, as loaded (validated, defaults filled in)."""
    promotions = load_promotions(folder)
    t = promotions.get(promotion_id)
    if t is None:
        known = ", ".join(sorted(promotions)) or "none"
        raise ConfigError(message=f"unknown promotion {promotion_id!r} (loaded: {known})")
    data = t.model_dump(mode="json")
    data["file"] = t.file
    return data


def _money(x: float) -> str:
    return f"{x:g}"


def show_promotion_text(promotion_id: str, folder: str | Path | None = None) -> str:
    show_promotion(promotion_id, folder)  # raises for an unknown id
    t = load_promotions(folder)[promotion_id]
    lines = [f"{t.name}  ({t.id}, {t.kind})", f"file: {t.file}"]
    if t.summary:
        lines.append(t.summary)
    lines.append("")
    lines.append(f"purchase period: {t.period.start:%Y-%m-%d %H:%M} .. {t.period.end:%Y-%m-%d %H:%M} local time")
    w = t.claim_window
    if not w.is_open_ended:
        parts = []
        if w.opens or w.closes:
            a = f"{w.opens:%Y-%m-%d %H:%M}" if w.opens else "…"
            b = f"{w.closes:%Y-%m-%d %H:%M}" if w.closes else "…"
            parts.append(f"{a} .. {b} local time")
        if w.first_day:
            parts.append(f"from day {w.first_day} after purchase (day 1 = invoice date)")
        if w.last_day:
            parts.append(f"until day {w.last_day} after purchase")
        lines.append("claim window: " + "; ".join(parts))
    lines.append("")
    lines.append("territories:")
    for code, x in sorted(t.territories.items(), key=lambda kv: (kv[1].tier, kv[0])):
        lines.append(f"  {code}  {x.name:<16} tier {x.tier}  {x.currency}  {x.timezone}")
    lines.append("")
    lines.append("eligible products:")
    for gid, g in t.products.items():
        only = []
        if g.tiers:
            only.append("tier " + "/".join(str(n) for n in g.tiers) + " only")
        if g.territories:
            only.append("only in " + ", ".join(g.territories))
        head = f"  {gid} ({g.category}{'; ' + '; '.join(only) if only else ''})"
        lines.append(head + (f": {g.label}" if g.label else ""))
        if g.any_model:
            lines.append(f"    any {g.category} model")
        for names in g.names:
            lines.append("    " + names[0] + (f"  (also: {', '.join(names[1:])})" if len(names) > 1 else ""))
        if g.note:
            lines.append(f"    note: {g.note}")
    if t.bundles:
        lines.append("")
        lines.append("bundles (all on one invoice; the last one completed is rewarded):")
        for bid, b in t.bundles.items():
            lines.append(f"  {bid}: {' + '.join(b.parts)}  - {b.label}")
    lines.append("")
    lines += _reward_lines(t)
    r = t.retailers
    lines.append("")
    lines.append("retailers: " + ("excluded: " + ", ".join(r.excluded) if r.excluded else "any"))
    if r.third_party_sellers == "excluded":
        lines.append("  third-party sellers on marketplaces are excluded")
    if r.partners:
        lines.append("  partners: " + ", ".join(r.partners))
    if r.note:
        lines.append(f"  note: {r.note}")
    lim = t.limits
    limit = [f"{n} per {what}" for what, n in (("participant", lim.per_participant), ("email", lim.per_email)) if n]
    limit.append(f"each serial {lim.per_serial} time(s)")
    limit.append(f"invoice reuse: {lim.invoice_reuse}")
    lines.append("limits: " + "; ".join(limit))
    if t.conditions:
        lines.append("products bought: " + " or ".join(t.conditions) + " (read from each product's invoice line)")
    d = t.documents
    req = [x for x, on in (("serial photo", d.serial_photo), ("serial numbers", d.serial_number),
                           ("CHK codes", d.chk_code), ("invoice number on the invoice", d.invoice_number)) if on]
    lines.append("required: invoice" + (", " + ", ".join(req) if req else ""))
    if d.invoice_formats or d.invoice_max_width_px:
        lines.append(f"  portal uploads: {', '.join(d.invoice_formats)}"
                     + (f", at most {d.invoice_max_width_px} px wide" if d.invoice_max_width_px else ""))
    if d.note:
        lines.append(f"  note: {d.note}")
    conditions = list(t.participants.conditions)
    if t.review.days_to_complete:
        conditions.append(f"an incomplete claim must be completed within {t.review.days_to_complete} days")
    if t.review.returns_void_claim:
        conditions.append("returning a product voids the claim")
    if conditions:
        lines.append("not checked from documents (for reviewers):")
        lines += [f"  - {c}" for c in conditions]
    for n in t.notes:
        lines.append(f"note: {n}")
    if t.invented:
        lines.append("")
        lines.append("INVENTED (not given by the source; confirm before relying on it):")
        lines += [f"  - {x}" for x in t.invented]
    return "\n".join(lines) + "\n"


def _reward_lines(t: Terms) -> list[str]:
    r = t.reward
    head = f"reward ({r.kind}{', ' + r.label if r.label else ''}):"
    if r.kind == "item":
        return [head, f"  {r.item}"]
    if r.kind == "fixed":
        return [head] + [f"  {_money(v)} {c}" for c, v in r.amounts.items()]
    out = [head, f"  set in {r.set_in}; cells: {' / '.join(r.bundles)}"]
    cols = list(dict.fromkeys(c for rows in r.table.values() for cols in rows.values() for c in cols))
    for currency, rows in r.table.items():
        out.append(f"  {currency}:" + "".join(f"  {c:>18}" for c in cols))
        for row in rows:
            cells = []
            for c in cols:
                vals = [reward_cell(t, currency, b, row, c) for b in r.bundles]
                cells.append(" / ".join("-" if v is None else _money(v) for v in vals))
            out.append(f"    {row:<18}" + "".join(f"  {x:>18}" for x in cells))
    if r.conversion:
        state = "confirmed" if r.conversion_confirmed else "NOT CONFIRMED"
        out.append(f"  conversion per 1 {r.set_in} ({state}): "
                   + ", ".join(f"{c} {v:g}" for c, v in r.conversion.items()))
    return out
