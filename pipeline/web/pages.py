"""What every page of the reviewer workspace shares: the app's state, who is signed in, the CSRF
token, and rendering a template. The routes (``routes/``) are thin functions over these."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from ..config import Config
from ..db import SqlClaimStore
from . import auth, claims, queries

__all__ = ["WebState", "SignedOut", "Forbidden", "state", "templates_for", "csrf_token", "reviewer",
           "checked_form", "render", "queue_filter", "reason_messages", "safe_next"]

HERE = Path(__file__).resolve().parent


@dataclass
class WebState:
    """What the routes need, built once by ``create_app`` and kept on ``app.state.web``."""
    store: SqlClaimStore
    config: Config
    users_file: Path
    templates: Jinja2Templates
    throttle: auth.LoginThrottle


class SignedOut(Exception):
    """No reviewer is signed in (or the one in the session was removed from the users file)."""


class Forbidden(Exception):
    """A POST without the session's CSRF token."""


def state(request: Request) -> WebState:
    return request.app.state.web


def _shown(value):
    if isinstance(value, Markup):
        return Markup(claims.shown(str(value)))
    return claims.shown(value) if isinstance(value, str) else value


def _fmt_time(moment: dt.datetime | None) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else ""


def templates_for(directory: Path) -> Jinja2Templates:
    templates = Jinja2Templates(directory=directory)
    # Every value a page shows goes through shown(): a right-to-left override in a claim_id (or any
    # field) is displayed as the escape it is, never reordering what the reviewer reads.
    templates.env.finalize = _shown
    templates.env.filters["fmt_time"] = _fmt_time
    templates.env.filters["claim_href"] = claims.claim_href
    templates.env.globals["state_labels"] = queries.STATE_LABELS
    return templates


def safe_next(target: str | None) -> str:
    """Only paths of this site: no scheme, no '//host', no backslashes."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = auth.new_csrf_token()
    return token


def reviewer(request: Request) -> str:
    """The signed-in reviewer's name, or SignedOut (a redirect to /login, or 401)."""
    name = request.session.get("user")
    if not name or name not in auth.load_users(state(request).users_file):
        request.session.pop("user", None)
        raise SignedOut()
    return name


async def checked_form(request: Request):
    form = await request.form()
    if not auth.csrf_ok(request.session.get("csrf"), form.get("csrf_token")):
        raise Forbidden("missing or invalid CSRF token: reload the page and try again")
    return form


def render(request: Request, name: str, status_code: int = 200, **context) -> HTMLResponse:
    context.setdefault("user", request.session.get("user"))
    context["csrf_token"] = csrf_token(request)
    context["flash"] = request.session.pop("flash", None)
    return state(request).templates.TemplateResponse(request, name, context, status_code=status_code)


def queue_filter(request: Request) -> queries.QueueFilter:
    """The queue's filter as the reviewer last left it (for previous / next on a claim's page)."""
    return queries.QueueFilter.from_params(dict(parse_qsl(request.session.get("queue_qs", ""))))


def reason_messages(config: Config) -> dict[str, str]:
    return {code: spec.message for code, spec in sorted(config.reasons.items())}
