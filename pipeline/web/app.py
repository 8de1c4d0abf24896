"""The reviewer workspace: a FastAPI app with server-rendered pages over the claim store.

Routes: ``/login``, ``/logout`` (POST), ``/`` (the queue), ``/claims/{claim_id}``,
``/claims/{claim_id}/documents/{name}`` (the file as uploaded; ``?page=N`` the page as the
pipeline read it, PNG) and ``/claims/{claim_id}/actions`` (POST: approve, reject,
request_info). Every page but ``/login`` needs a signed-in reviewer; every POST needs the
session's CSRF token. Reviewer actions are added to the store, never replacing the
pipeline's decisions.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.middleware.sessions import SessionMiddleware

from ..config import Config, load_config
from ..db import SqlClaimStore
from ..db import models as m
from . import auth, claims, queries

__all__ = ["WebSettings", "create_app", "DEFAULT_DB"]

HERE = Path(__file__).resolve().parent
DEFAULT_DB = "sqlite:///out/claimcheck.db"
SESSION_MAX_AGE_S = 8 * 3600
STATUS_CLASS = {"pass": "pass", "fail": "fail", "uncertain": "uncertain"}
REQUEST_INFO_DAYS = 14
_DOC_HEADERS = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}


@dataclass
class WebSettings:
    db_url: str = DEFAULT_DB
    users_file: Path | None = None
    """The reviewers' TOML file (default: ``auth.default_users_file()``)."""
    config_path: Path | None = None
    secret: str | None = None
    """Session signing key (default: $CLAIMCHECK_SECRET, else secret.key beside the users file)."""
    secure_cookie: bool = False
    """Mark the session cookie Secure (serve over HTTPS, e.g. behind a proxy)."""


class _SignedOut(Exception):
    pass


class _Forbidden(Exception):
    pass


def _safe_next(target: str | None) -> str:
    """Only paths of this site: no scheme, no '//host', no backslashes."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _shown(value):
    if isinstance(value, Markup):
        return Markup(claims.shown(str(value)))
    return claims.shown(value) if isinstance(value, str) else value


def _fmt_time(moment: dt.datetime | None) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else ""


def create_app(settings: WebSettings | None = None, *, store: SqlClaimStore | None = None,
               config: Config | None = None) -> FastAPI:
    settings = settings or WebSettings()
    users_file = Path(settings.users_file or auth.default_users_file())
    config = config or load_config(settings.config_path)
    store = store or SqlClaimStore(settings.db_url)
    secret = settings.secret or auth.load_secret(users_file)

    app = FastAPI(title="claimcheck reviewer workspace", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.store = store
    app.state.config = config
    app.state.users_file = users_file
    app.add_middleware(SessionMiddleware, secret_key=secret, session_cookie="claimcheck_session",
                       max_age=SESSION_MAX_AGE_S, same_site="lax", https_only=settings.secure_cookie)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    templates = Jinja2Templates(directory=HERE / "templates")
    # Every value a page shows goes through shown(): a right-to-left override in a claim_id (or any
    # field) is displayed as the escape it is, never reordering what the reviewer reads.
    templates.env.finalize = _shown
    templates.env.filters["fmt_time"] = _fmt_time
    templates.env.filters["claim_href"] = claims.claim_href
    templates.env.globals["state_labels"] = queries.STATE_LABELS

    @app.middleware("http")
    async def _headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
        return response

    @app.exception_handler(_SignedOut)
    async def _signed_out(request: Request, _exc: _SignedOut):
        if "/documents/" in request.url.path or request.method != "GET":
            return PlainTextResponse("sign in first", status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)

    @app.exception_handler(_Forbidden)
    async def _forbidden(_request: Request, exc: _Forbidden):
        return PlainTextResponse(str(exc) or "forbidden", status_code=403)

    # ------------------------------------------------------------------ helpers

    def csrf_token(request: Request) -> str:
        token = request.session.get("csrf")
        if not token:
            token = request.session["csrf"] = auth.new_csrf_token()
        return token

    def reviewer(request: Request) -> str:
        name = request.session.get("user")
        if not name or name not in auth.load_users(users_file):
            request.session.pop("user", None)
            raise _SignedOut()
        return name

    async def checked_form(request: Request):
        form = await request.form()
        if not auth.csrf_ok(request.session.get("csrf"), form.get("csrf_token")):
            raise _Forbidden("missing or invalid CSRF token: reload the page and try again")
        return form

    def render(request: Request, name: str, status_code: int = 200, **context) -> HTMLResponse:
        context.setdefault("user", request.session.get("user"))
        context["csrf_token"] = csrf_token(request)
        context["flash"] = request.session.pop("flash", None)
        return templates.TemplateResponse(request, name, context, status_code=status_code)

    def queue_filter(request: Request) -> queries.QueueFilter:
        from urllib.parse import parse_qsl

        return queries.QueueFilter.from_params(dict(parse_qsl(request.session.get("queue_qs", ""))))

    def reason_messages() -> dict[str, str]:
        return {code: spec.message for code, spec in sorted(config.reasons.items())}

    # ------------------------------------------------------------------ sign in and out

    throttle = auth.LoginThrottle(config.web.login_max_failures, config.web.login_max_failures_per_address,
                                  config.web.login_window_s)

    @app.get("/login", response_class=HTMLResponse)
    async def login_page(request: Request, next: str = "/"):
        return render(request, "login.html", next=_safe_next(next), error=None)

    @app.post("/login")
    async def login(request: Request):
        form = await checked_form(request)
        name = str(form.get("username") or "").strip()[:200]
        password = str(form.get("password") or "")
        target = _safe_next(str(form.get("next") or "/"))
        address = request.client.host if request.client else "unknown"
        refused = throttle.refused(name, address)
        if refused:
            return render(request, "login.html", status_code=429, next=target, error=refused)
        # scrypt costs ~50 ms of CPU: off the event loop, so other requests are not kept waiting
        if not await run_in_threadpool(auth.check_login, auth.load_users(users_file), name, password):
            throttle.failed(name, address)
            return render(request, "login.html", status_code=401, next=target,
                          error="Wrong name or password.")
        throttle.succeeded(name, address)
        request.session.clear()  # a new session on sign-in: nothing carried over from before
        request.session["user"] = name
        request.session["csrf"] = auth.new_csrf_token()
        request.session["since"] = dt.datetime.now(dt.UTC).isoformat()
        return RedirectResponse(target, status_code=303)

    @app.post("/logout")
    async def logout(request: Request):
        await checked_form(request)
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    # ------------------------------------------------------------------ the queue

    # The pages below are plain functions: FastAPI runs them on its thread pool, so a slow database
    # or a page being rendered never holds up the event loop (sign-in, other reviewers).
    @app.get("/", response_class=HTMLResponse)
    def queue_page(request: Request):
        user = reviewer(request)
        params = dict(request.query_params)
        f = queries.QueueFilter.from_params(params)
        request.session["queue_qs"] = f.to_query()  # what the filter kept: bounded, whatever was sent
        rows = queries.queue(store.engine, f)
        counts = queries.state_counts(store.engine)

        def sort_link(key: str) -> str:
            p = {k: v for k, v in params.items() if k not in ("sort", "dir") and v}
            p["sort"] = key
            if f.sort == key and not f.desc:
                p["dir"] = "desc"
            return "/?" + urlencode(p)

        def state_link(state: str | None) -> str:
            p = {k: v for k, v in params.items() if k != "state" and v}
            if state:
                p["state"] = state
            return "/?" + urlencode(p)

        return render(request, "queue.html", user=user, rows=rows, counts=counts, f=f, params=params,
                      total=sum(counts.values()), states=queries.STATES, sorts=queries.SORTS,
                      sort_link=sort_link, state_link=state_link,
                      promotions=queries.promotion_ids(store.engine), reasons=sorted(config.reasons))

    # ------------------------------------------------------------------ one claim

    def claim_context(claim_id: str):
        saved = store.decisions_for(claim_id)
        if not saved:
            return None
        latest = saved[-1]
        record = latest.record
        claim = claims.load_claim_json(record.get("claim_dir"))
        return latest, record, claim, saved

    @app.get("/claims/{claim_seg}", response_class=HTMLResponse)
    def claim_page(request: Request, claim_seg: str):
        user = reviewer(request)
        claim_id = claims.from_url_id(claim_seg)
        found = claim_context(claim_id)
        if found is None:
            return render(request, "not_found.html", status_code=404, what=f"claim {claim_id}")
        latest, record, claim, saved = found
        row = queries.latest_decision(store.engine, claim_id)
        checks = [c for c in record.get("checks") or [] if isinstance(c, dict)]
        models = [p.get("model") for p in (claim or {}).get("products") or [] if isinstance(p, dict)]
        documents = []
        claim_dir = record.get("claim_dir")
        box_id = 0
        boxes_by_check: dict[int, str] = {}
        for name in claims.document_names(claim):
            path = claims.resolve_document(claim_dir, claim, name)
            n_pages = claims.page_count(path, config) if path else 0
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
        messages = reason_messages()
        reject_codes = [c for c in pipeline_codes if c in messages] + [c for c in messages if c not in pipeline_codes]
        info_message = request_info_message(record, claim)
        prev_id, next_id = queries.neighbours(store.engine, queue_filter(request), claim_id)
        return render(request, "claim.html", user=user, claim_id=claim_id, record=record, claim=claim,
                      row=row, decided_at=latest.created_at, runs=len(saved), documents=documents,
                      checks=check_rows, typed=typed, actions=store.actions_for(claim_id),
                      integrity=claims.integrity_rows(check_rows), links=claims.linked_claims(store, claim_id),
                      reject_codes=reject_codes, messages=messages, info_message=info_message,
                      prev_id=prev_id, next_id=next_id, queue_qs=request.session.get("queue_qs", ""))

    def request_info_message(record: dict, claim: dict | None) -> str:
        days = REQUEST_INFO_DAYS
        promotion_id = (claim or {}).get("promotion_id")
        if promotion_id:
            try:
                from ..promotions import load_promotions

                terms = load_promotions(config.promotions.dir or None).get(promotion_id)
                days = (terms.review.days_to_complete if terms and terms.review.days_to_complete else days)
            except Exception:  # noqa: BLE001 - the default period is the terms' usual one
                pass
        asks = [r.get("message") for r in record.get("reasons") or [] if isinstance(r, dict) and r.get("message")]
        lead = " ".join(dict.fromkeys(asks)) or "We need a little more from you to check your claim."
        return (f"{lead} Please complete your claim within {days} days; after that it can no longer be "
                "accepted, thanks.")

    @app.get("/claims/{claim_seg}/documents/{name:path}")
    def document(request: Request, claim_seg: str, name: str, page: int | None = None):
        reviewer(request)
        claim_id = claims.from_url_id(claim_seg)
        found = claim_context(claim_id)
        if found is None:
            return PlainTextResponse("no such claim", status_code=404)
        _latest, record, claim, _saved = found
        if name not in claims.document_names(claim):
            return PlainTextResponse("no such document in this claim", status_code=404)
        path = claims.resolve_document(record.get("claim_dir"), claim, name)
        if path is None:
            return PlainTextResponse("document outside the claim's folder or missing", status_code=403)
        if page is not None:
            from ..errors import ClaimcheckError

            try:
                data = claims.render_page_png(path, page, config)
            except IndexError:
                return PlainTextResponse("no such page", status_code=404)
            except ClaimcheckError as exc:
                return PlainTextResponse(f"cannot render: {exc.message}", status_code=422)
            return Response(data, media_type="image/png", headers=_DOC_HEADERS)
        media = claims.media_type(path)
        if media is None:  # not a document type: never rendered by the browser
            return FileResponse(path, media_type="application/octet-stream", headers=_DOC_HEADERS,
                                filename=path.name, content_disposition_type="attachment")
        return FileResponse(path, media_type=media, headers=_DOC_HEADERS, filename=path.name,
                            content_disposition_type="inline")

    @app.post("/claims/{claim_seg}/actions")
    async def act(request: Request, claim_seg: str):
        user = reviewer(request)
        claim_id = claims.from_url_id(claim_seg)
        form = await checked_form(request)
        if not store.decisions_for(claim_id):
            return PlainTextResponse("no such claim", status_code=404)
        action = str(form.get("action") or "")
        if action not in m.REVIEWER_ACTIONS:
            return PlainTextResponse(f"unknown action {action!r}", status_code=400)
        code = str(form.get("reason_code") or "").strip() or None
        message = str(form.get("message") or "").strip() or None
        messages = reason_messages()
        if code is not None and code not in messages:
            return PlainTextResponse(f"unknown reason code {code!r}", status_code=400)
        if action == "reject" and code is None:
            return PlainTextResponse("a rejection needs a reason", status_code=400)
        if action == "reject" and message is None:
            message = messages[code]
        if action == "request_info" and message is None:
            _l, record, claim, _s = claim_context(claim_id)
            message = request_info_message(record, claim)
        if action == "approve":
            code = None
        store.record_action(claim_id, user, action, reason_code=code, message=message)
        done = {"approve": "approved", "reject": "rejected", "request_info": "more information requested"}[action]
        request.session["flash"] = f"{claim_id}: {done}" + (f" ({code})" if code else "") + "."
        following = queries.queue(store.engine, queries.QueueFilter(state="needs_review", limit=2))
        following = [r.claim_id for r in following if r.claim_id != claim_id]
        return RedirectResponse(claims.claim_href(following[0]) if following else "/", status_code=303)

    return app
