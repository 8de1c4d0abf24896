"""The intake API: a FastAPI app with its own router under ``/api/v1`` and bearer-token auth.

- ``POST /api/v1/claims`` (scope ``claims:write``): multipart, a form field ``claim`` (the claim
  JSON) and one ``files`` part per document listed, its filename the listed name. 202 with the
  claim's status once it is written and queued; a retry under the same ``Idempotency-Key`` (or,
  without one, the same claim_id) gets the first answer again, different content under it 409.
- ``GET /api/v1/claims/{claim_id}`` (``claims:read``): status and, once decided, the decision.
- ``GET /api/v1/claims?status=&since=&limit=&cursor=`` (``claims:read``): in arrival order, a page
  at a time; ``next_cursor`` continues the list.
- ``GET /api/v1/health``: no token; the queue's counts.
OpenAPI: ``/api/v1/openapi.json``, pages at ``/api/v1/docs``.
"""
# No ``from __future__ import annotations`` here: FastAPI must see the routes' Depends(...) of
# closures as objects, not as strings it would resolve against the module's globals.
import base64
import datetime as dt
import logging
import shutil
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ..config import Config, with_overrides
from ..db import SqlClaimStore
from ..db import models as m
from .intake import IntakeError, Problem, clear_incoming, commit_claim, parse_claim, stage_files
from .jobs import ClaimQueue, now_utc
from .settings import ApiSettings
from .tokens import ApiToken, RateLimiter, TokenBook

__all__ = ["create_api_app", "ApiContext", "API_PREFIX"]

API_PREFIX = "/api/v1"
_log = logging.getLogger(__name__)


@dataclass
class ApiContext:
    """What the routes share: the store, its queue, settings, tokens and the background threads."""

    store: SqlClaimStore
    config: Config
    settings: ApiSettings
    tokens: TokenBook
    db_url: str
    queue: ClaimQueue = field(init=False)
    limiter: RateLimiter = field(init=False)
    root: Path = field(init=False)
    worker: Any = None
    sender: Any = None

    def __post_init__(self) -> None:
        self.queue = ClaimQueue(self.store.engine)
        self.limiter = RateLimiter(self.settings.tokens.rate_per_minute, self.settings.tokens.burst)
        self.root = Path(self.settings.intake.root).resolve()


def _error(status: int, code: str, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "code": code, "message": message, "problems": []}},
                        status_code=status, headers=headers)


class _Refused(Exception):
    def __init__(self, response: JSONResponse) -> None:
        self.response = response


class _TooLarge(Exception):
    pass


class _BodyLimit:
    """Counts an upload's bytes as they arrive and stops reading past ``[intake].max_request_bytes``
    (a Content-Length over it is refused before any byte is read)."""

    def __init__(self, app, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].startswith(API_PREFIX):
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            response = _error(413, "REQUEST_TOO_LARGE", f"the upload is {int(length)} bytes; the limit is {self.limit}")
            return await response(scope, receive, send)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge()
            return message

        return await self.app(scope, counted, send)


def _scoped(ctx: ApiContext, scope: str):
    def check(request: Request, authorization: Annotated[str | None, Header()] = None) -> ApiToken:
        kind, _, value = (authorization or "").partition(" ")
        token = ctx.tokens.find(value.strip()) if kind.lower() == "bearer" and value.strip() else None
        if token is None:
            raise _Refused(_error(401, "UNAUTHORIZED", "send a valid API token as 'Authorization: Bearer <token>'",
                                  {"WWW-Authenticate": 'Bearer realm="claimcheck"'}))
        if scope not in token.scopes:
            raise _Refused(_error(403, "FORBIDDEN", f"the token {token.name!r} lacks the scope {scope}"))
        wait = ctx.limiter.wait_s(token.name)
        if wait > 0:
            raise _Refused(_error(429, "RATE_LIMITED", f"too many requests for token {token.name!r}; "
                                                       f"retry in {wait:.1f} s",
                                  {"Retry-After": str(max(1, round(wait + 0.5)))}))
        return token
    return check


def _cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"s{seq}".encode()).decode().rstrip("=")


def _after(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if text.startswith("s") and text[1:].isdigit():
            return int(text[1:])
    except (ValueError, UnicodeDecodeError):
        pass
    raise _Refused(_error(400, "BAD_CURSOR", "the cursor is not one this API gave"))


def _upload(ctx: ApiContext, claim_text: str | None, parts: list, key: str | None, token: ApiToken) -> JSONResponse:
    """Check, write and queue one upload (runs on the thread pool: file writes and fsyncs block)."""
    limits = ctx.config.ingest
    data, claim = parse_claim(claim_text, limits)
    if key is not None and (not key.strip() or len(key) > 255):
        raise IntakeError(400, "BAD_IDEMPOTENCY_KEY", [Problem("Idempotency-Key", "1 to 255 characters")])
    key = key or f"claim_id:{claim.claim_id}"
    received = now_utc()
    staged = stage_files(ctx.root, claim_text, claim, parts, limits, ctx.settings.intake.max_files,
                         {"claim_id": claim.claim_id, "idempotency_key": key, "token": token.name,
                          "received_at": received.isoformat()})
    earlier = ctx.queue.find(key, claim.claim_id)
    if earlier is not None:
        shutil.rmtree(staged.folder, ignore_errors=True)
        return _replay(earlier, staged.content_sha256, key)
    folder = commit_claim(ctx.root, staged, claim.claim_id, received)
    response = {"claim_id": claim.claim_id, "status": "queued", "received_at": received.isoformat(),
                "files": staged.files, "content_sha256": staged.content_sha256,
                "links": {"self": f"{API_PREFIX}/claims/{claim.claim_id}"}}
    row, created = ctx.queue.enqueue(claim_id=claim.claim_id, key=key, content_sha256=staged.content_sha256,
                                     token_name=token.name, claim_dir=str(folder), files=staged.files,
                                     response=response, received=received)
    if not created:  # a concurrent try got there first
        return _replay(row, staged.content_sha256, key)
    if ctx.worker is not None:
        ctx.worker.wake()
    return JSONResponse(response, status_code=202, headers={"Location": response["links"]["self"]})


def _replay(row, content_sha256: str, key: str) -> JSONResponse:
    """The first answer for the same content under the key or claim_id; 409 for different content."""
    if row.content_sha256 == content_sha256:
        return JSONResponse(row.response, status_code=202, headers={"Idempotent-Replayed": "true",
                                                                    "Location": row.response["links"]["self"]})
    what = "Idempotency-Key" if row.idempotency_key == key else "claim_id"
    return _error(409, "CONFLICT", f"this {what} was used before for an upload of different content")


def build_router(ctx: ApiContext) -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    writer, reader = _scoped(ctx, "claims:write"), _scoped(ctx, "claims:read")

    @router.post("/claims", status_code=202, summary="Upload a claim: its JSON and its documents")
    async def upload(request: Request, token: Annotated[ApiToken, Depends(writer)],
                     idempotency_key: Annotated[str | None, Header()] = None):
        try:
            form = await request.form(max_files=10_000, max_fields=50)
        except _TooLarge:
            return _error(413, "REQUEST_TOO_LARGE", f"the upload is larger than {ctx.settings.intake.max_request_bytes}"
                                                    " bytes")
        try:
            claims = [v for k, v in form.multi_items() if k == "claim"]
            others = sorted({k for k, _ in form.multi_items() if k not in ("claim", "files")})
            if others:
                raise IntakeError(422, "UNKNOWN_FIELDS", [Problem(k, "not a field of this request (claim, files)")
                                                          for k in others])
            if len(claims) > 1 or (claims and not isinstance(claims[0], str)):
                raise IntakeError(422, "CLAIM_INVALID", [Problem("claim", "send the claim JSON once, as a form "
                                                                          "field")])
            parts = []
            for value in form.getlist("files"):
                if not isinstance(value, UploadFile):
                    raise IntakeError(422, "FILES_DO_NOT_MATCH_CLAIM", [Problem("files", "each files part must be "
                                                                                         "a file")])
                parts.append((value.filename, value.file))
            return await run_in_threadpool(_upload, ctx, claims[0] if claims else None, parts, idempotency_key, token)
        except IntakeError as exc:
            return JSONResponse(exc.to_dict(), status_code=exc.status)
        finally:
            await form.close()

    @router.get("/claims/{claim_id:path}", summary="A claim's status and, once decided, its decision")
    def status(claim_id: str, token: Annotated[ApiToken, Depends(reader)]):
        row = ctx.queue.get(claim_id)
        if row is None:
            return _error(404, "NOT_FOUND", f"no claim {claim_id!r} was uploaded")
        return row.public()

    @router.get("/claims", summary="Claims in arrival order, a page at a time")
    def listing(token: Annotated[ApiToken, Depends(reader)],
                status: Annotated[str | None, Query(description="queued, processing, decided or failed")] = None,
                since: Annotated[dt.datetime | None, Query(description="changed at or after (ISO 8601)")] = None,
                limit: Annotated[int, Query(ge=1, le=500)] = 50,
                cursor: Annotated[str | None, Query(description="next_cursor of the page before")] = None):
        if status is not None and status not in m.API_STATUSES:
            return _error(422, "BAD_STATUS", f"status must be one of {', '.join(m.API_STATUSES)}")
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=dt.UTC)
        rows = ctx.queue.page(status=status, since=since, after=_after(cursor), limit=limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return {"claims": [r.public() for r in rows],
                "next_cursor": _cursor(rows[-1].seq) if more and rows else None}

    @router.get("/health", summary="Liveness and the queue's counts (no token)")
    def health():
        return {"ok": True, "claims": ctx.queue.counts(),
                "verifier": "prefect" if getattr(ctx.worker, "prefect", None) else "embedded"}

    return router


def create_api_app(store: SqlClaimStore, config: Config, settings: ApiSettings, tokens: TokenBook, *, db_url: str,
                   run_worker: bool = True, config_path: str | None = None) -> FastAPI:
    """The API app. ``run_worker``: verify queued claims in this process (and send webhooks) while it
    runs: on its own claim pool, or as runs of ``[prefect].deployment`` when a Prefect server is
    configured. ``config_path``: the pipeline config file, for those runs."""
    config = with_overrides(config, store_url=db_url)
    ctx = ApiContext(store, config, settings, tokens, db_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        ctx.root.mkdir(parents=True, exist_ok=True)
        left = clear_incoming(ctx.root)
        if left:
            _log.warning("removed %d upload(s) an earlier run left half-written", left)
        if run_worker:
            from ..prefect_server import configured_api_url
            from .webhooks import WebhookSender
            from .worker import EmbeddedWorker, PrefectRuns

            webhook = settings.webhook
            prefect = None
            if settings.prefect.deployment and configured_api_url():
                prefect = PrefectRuns(settings.prefect.deployment, db_url, config_path)
            ctx.worker = EmbeddedWorker(store, ctx.queue, config, settings, webhooks=bool(webhook.url),
                                        prefect=prefect).start()
            if webhook.url:
                ctx.sender = WebhookSender(ctx.queue, webhook, webhook.secret()).start()
        try:
            yield
        finally:
            for part in (ctx.worker, ctx.sender):
                if part is not None:
                    part.stop()

    app = FastAPI(title="claimcheck intake API", version="1", lifespan=lifespan,
                  openapi_url=f"{API_PREFIX}/openapi.json", docs_url=f"{API_PREFIX}/docs", redoc_url=None)
    app.state.api = ctx

    @app.exception_handler(_Refused)
    async def _refused(_request: Request, exc: _Refused):
        return exc.response

    app.include_router(build_router(ctx))
    app.add_middleware(_BodyLimit, limit=settings.intake.max_request_bytes)
    return app
