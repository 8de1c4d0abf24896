"""The reviewer workspace: a FastAPI app with server-rendered pages over the claim store.

Routes, by concern (``routes/``): ``signin`` (``/login``, ``/logout`` POST), ``queue`` (``/``),
``claim`` (``/claims/{claim_id}``), ``documents`` (``/claims/{claim_id}/documents/{name}``: the
file as uploaded; ``?page=N`` the page as the pipeline read it, PNG) and ``actions``
(``/claims/{claim_id}/actions`` POST: approve, reject, request_info). What they share is in
``pages``. Every page but ``/login`` needs a signed-in reviewer; every POST needs the session's
CSRF token. Reviewer actions are added to the store, never replacing the pipeline's decisions.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from ..config import Config, load_config
from ..db import SqlClaimStore
from . import auth
from .pages import HERE, Forbidden, SignedOut, WebState, templates_for
from .routes import ROUTERS

__all__ = ["WebSettings", "create_app", "DEFAULT_DB"]

DEFAULT_DB = "sqlite:///out/claimcheck.db"
SESSION_MAX_AGE_S = 8 * 3600
_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
}


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


def create_app(settings: WebSettings | None = None, *, store: SqlClaimStore | None = None,
               config: Config | None = None) -> FastAPI:
    settings = settings or WebSettings()
    users_file = Path(settings.users_file or auth.default_users_file())
    config = config or load_config(settings.config_path)
    store = store or SqlClaimStore(settings.db_url)
    secret = settings.secret or auth.load_secret(users_file)

    app = FastAPI(title="claimcheck reviewer workspace", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.web = WebState(
        store=store, config=config, users_file=users_file, templates=templates_for(HERE / "templates"),
        throttle=auth.LoginThrottle(config.web.login_max_failures, config.web.login_max_failures_per_address,
                                    config.web.login_window_s))
    app.add_middleware(SessionMiddleware, secret_key=secret, session_cookie="claimcheck_session",
                       max_age=SESSION_MAX_AGE_S, same_site="lax", https_only=settings.secure_cookie)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.middleware("http")
    async def _headers(request: Request, call_next):
        response = await call_next(request)
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.exception_handler(SignedOut)
    async def _signed_out(request: Request, _exc: SignedOut):
        if "/documents/" in request.url.path or request.method != "GET":
            return PlainTextResponse("sign in first", status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(_request: Request, exc: Forbidden):
        return PlainTextResponse(str(exc) or "forbidden", status_code=403)

    for router in ROUTERS:
        app.include_router(router)
    return app
