"""``/login`` and ``/logout``: sign-in with a throttle per name and per address."""
from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from .. import auth
from ..pages import checked_form, render, safe_next, state

router = APIRouter()


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str = "/"):
    return render(request, "login.html", next=safe_next(next), error=None)


@router.post("/login")
async def login(request: Request):
    form = await checked_form(request)
    name = str(form.get("username") or "").strip()[:200]
    password = str(form.get("password") or "")
    target = safe_next(str(form.get("next") or "/"))
    address = request.client.host if request.client else "unknown"
    web = state(request)
    refused = web.throttle.refused(name, address)
    if refused:
        return render(request, "login.html", status_code=429, next=target, error=refused)
    # scrypt costs ~50 ms of CPU: off the event loop, so other requests are not kept waiting
    if not await run_in_threadpool(auth.check_login, auth.load_users(web.users_file), name, password):
        web.throttle.failed(name, address)
        return render(request, "login.html", status_code=401, next=target, error="Wrong name or password.")
    web.throttle.succeeded(name, address)
    request.session.clear()  # a new session on sign-in: nothing carried over from before
    request.session["user"] = name
    request.session["csrf"] = auth.new_csrf_token()
    request.session["since"] = dt.datetime.now(dt.UTC).isoformat()
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
async def logout(request: Request):
    await checked_form(request)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
