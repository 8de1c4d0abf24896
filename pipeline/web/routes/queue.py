"""``/``: the pre-scored queue, filtered and sorted.

The pages are plain functions: FastAPI runs them on its thread pool, so a slow database or a page
being rendered never holds up the event loop (sign-in, other reviewers)."""
from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from .. import queries
from ..pages import render, reviewer, state

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def queue_page(request: Request):
    user = reviewer(request)
    web = state(request)
    engine = web.store.engine
    params = dict(request.query_params)
    f = queries.QueueFilter.from_params(params)
    request.session["queue_qs"] = f.to_query()  # what the filter kept: bounded, whatever was sent
    rows = queries.queue(engine, f)
    counts = queries.state_counts(engine)

    def sort_link(key: str) -> str:
        p = {k: v for k, v in params.items() if k not in ("sort", "dir") and v}
        p["sort"] = key
        if f.sort == key and not f.desc:
            p["dir"] = "desc"
        return "/?" + urlencode(p)

    def state_link(state_name: str | None) -> str:
        p = {k: v for k, v in params.items() if k != "state" and v}
        if state_name:
            p["state"] = state_name
        return "/?" + urlencode(p)

    return render(request, "queue.html", user=user, rows=rows, counts=counts, f=f, params=params,
                  total=sum(counts.values()), states=queries.STATES, sorts=queries.SORTS,
                  sort_link=sort_link, state_link=state_link,
                  promotions=queries.promotion_ids(engine), reasons=sorted(web.config.reasons))
