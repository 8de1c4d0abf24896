"""``/claims/{id}/actions`` (POST): a reviewer approves, rejects (with a reason code) or asks the
claimant for more. Actions are added to the store, never replacing the pipeline's decisions."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, RedirectResponse

from ...db import models as m
from .. import claims, queries
from ..pages import checked_form, reason_messages, reviewer, state
from .claim import claim_context, request_info_message

router = APIRouter()

_DONE = {"approve": "approved", "reject": "rejected", "request_info": "more information requested"}


@router.post("/claims/{claim_seg}/actions")
async def act(request: Request, claim_seg: str):
    user = reviewer(request)
    web = state(request)
    claim_id = claims.from_url_id(claim_seg)
    form = await checked_form(request)
    if not web.store.decisions_for(claim_id):
        return PlainTextResponse("no such claim", status_code=404)
    action = str(form.get("action") or "")
    if action not in m.REVIEWER_ACTIONS:
        return PlainTextResponse(f"unknown action {action!r}", status_code=400)
    code = str(form.get("reason_code") or "").strip() or None
    message = str(form.get("message") or "").strip() or None
    messages = reason_messages(web.config)
    if code is not None and code not in messages:
        return PlainTextResponse(f"unknown reason code {code!r}", status_code=400)
    if action == "reject" and code is None:
        return PlainTextResponse("a rejection needs a reason", status_code=400)
    if action == "reject" and message is None:
        message = messages[code]
    if action == "request_info" and message is None:
        _l, record, claim, _s = claim_context(web, claim_id)
        message = request_info_message(web.config, record, claim)
    if action == "approve":
        code = None
    web.store.record_action(claim_id, user, action, reason_code=code, message=message)
    request.session["flash"] = f"{claim_id}: {_DONE[action]}" + (f" ({code})" if code else "") + "."
    following = queries.queue(web.store.engine, queries.QueueFilter(state="needs_review", limit=2))
    following = [r.claim_id for r in following if r.claim_id != claim_id]
    return RedirectResponse(claims.claim_href(following[0]) if following else "/", status_code=303)
