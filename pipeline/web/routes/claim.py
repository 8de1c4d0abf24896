"""``/claims/{id}``: one claim's page: its documents page by page with the evidence boxes, its
checks, what was typed against what was read, integrity signals, linked claims, earlier actions."""
from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ...config import Config
from .. import claims, queries
from ..pages import WebState, queue_filter, reason_messages, render, reviewer, state

router = APIRouter()

STATUS_CLASS = {"pass": "pass", "fail": "fail", "uncertain": "uncertain"}
REQUEST_INFO_DAYS = 14


def claim_context(web: WebState, claim_id: str):
    """(latest saved decision, its record, the claim's JSON, every saved decision), or None."""
    saved = web.store.decisions_for(claim_id)
    if not saved:
        return None
    latest = saved[-1]
    record = latest.record
    claim = claims.load_claim_json(record.get("claim_dir"))
    return latest, record, claim, saved


def request_info_message(config: Config, record: dict, claim: dict | None) -> str:
    """The message asking the claimant for more: the decision's reasons and the terms' period."""
    days = REQUEST_INFO_DAYS
    promotion_id = (claim or {}).get("promotion_id")
    if promotion_id:
        try:
            from ...promotions import load_promotions

            terms = load_promotions(config.promotions.dir or None).get(promotion_id)
            days = (terms.review.days_to_complete if terms and terms.review.days_to_complete else days)
        except Exception:  # noqa: BLE001 - the default period is the terms' usual one
            pass
    asks = [r.get("message") for r in record.get("reasons") or [] if isinstance(r, dict) and r.get("message")]
    lead = " ".join(dict.fromkeys(asks)) or "We need a little more from you to check your claim."
    return (f"{lead} Please complete your claim within {days} days; after that it can no longer be "
            "accepted, thanks.")


def _documents(web: WebState, claim_id: str, record: dict, claim: dict | None, checks: list[dict]):
    """Each document with its pages and the boxes of the checks found on them; and which box each
    check's row links to."""
    documents = []
    claim_dir = record.get("claim_dir")
    box_id = 0
    boxes_by_check: dict[int, str] = {}
    for name in claims.document_names(claim):
        path = claims.resolve_document(claim_dir, claim, name)
        n_pages = claims.page_count(path, web.config) if path else 0
        pages = []
        for page in range(1, n_pages + 1):
            boxes = []
            for i, c in enumerate(checks):
                ev = c.get("evidence") or {}
                bbox = ev.get("bbox")
                if ev.get("document") != name or (ev.get("page") or 1) != page or not bbox or len(bbox) != 4:
                    continue
                if c.get("status") not in STATUS_CLASS:
                    continue
                box_id += 1
                boxes_by_check[i] = f"box-{box_id}"
                product = c.get("product")
                label = c["name"] + (f" #{product + 1}" if isinstance(product, int) else "")
                boxes.append({"id": f"box-{box_id}", "status": c["status"], "cls": STATUS_CLASS[c["status"]],
                              "bbox": ",".join(str(int(v)) for v in bbox), "label": label,
                              "found": c.get("found"), "engine": ev.get("engine")})
            pages.append({"number": page, "boxes": boxes,
                          "src": f"{claims.claim_href(claim_id)}/documents/{quote(name)}?page={page}"})
        kind = "invoice" if name in ((claim or {}).get("documents") or {}).get("invoices", []) else "serial photo"
        documents.append({"name": name, "kind": kind, "available": path is not None, "pages": pages,
                          "href": f"{claims.claim_href(claim_id)}/documents/{quote(name)}"})
    return documents, boxes_by_check


@router.get("/claims/{claim_seg}", response_class=HTMLResponse)
def claim_page(request: Request, claim_seg: str):
    user = reviewer(request)
    web = state(request)
    claim_id = claims.from_url_id(claim_seg)
    found = claim_context(web, claim_id)
    if found is None:
        return render(request, "not_found.html", status_code=404, what=f"claim {claim_id}")
    latest, record, claim, saved = found
    row = queries.latest_decision(web.store.engine, claim_id)
    checks = [c for c in record.get("checks") or [] if isinstance(c, dict)]
    models = [p.get("model") for p in (claim or {}).get("products") or [] if isinstance(p, dict)]
    documents, boxes_by_check = _documents(web, claim_id, record, claim, checks)
    check_rows = [{**c, "box": boxes_by_check.get(i),
                   "model": (models[c["product"]] if isinstance(c.get("product"), int)
                             and c["product"] < len(models) else None)}
                  for i, c in enumerate(checks)]
    typed = claims.typed_vs_read(claim, checks)
    for t in typed:
        for i, c in enumerate(checks):
            if c.get("evidence") is t["evidence"] and i in boxes_by_check:
                t["box"] = boxes_by_check[i]
    pipeline_codes = [r.get("code") for r in record.get("reasons") or [] if isinstance(r, dict)]
    messages = reason_messages(web.config)
    reject_codes = [c for c in pipeline_codes if c in messages] + [c for c in messages if c not in pipeline_codes]
    prev_id, next_id = queries.neighbours(web.store.engine, queue_filter(request), claim_id)
    return render(request, "claim.html", user=user, claim_id=claim_id, record=record, claim=claim,
                  row=row, decided_at=latest.created_at, runs=len(saved), documents=documents,
                  checks=check_rows, typed=typed, actions=web.store.actions_for(claim_id),
                  integrity=claims.integrity_rows(check_rows), links=claims.linked_claims(web.store, claim_id),
                  reject_codes=reject_codes, messages=messages,
                  info_message=request_info_message(web.config, record, claim),
                  prev_id=prev_id, next_id=next_id, queue_qs=request.session.get("queue_qs", ""))
