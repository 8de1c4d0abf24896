"""Decisions pushed to the portal: signed, retried with backoff, every attempt recorded.

The scheme (documented in the README for receivers)::

    POST <[webhook].url>
    Content-Type: application/json
    Claimcheck-Event: claim.decided
    Claimcheck-Delivery: <delivery id: the same on every retry of one delivery>
    Claimcheck-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>

A receiver recomputes the HMAC over the timestamp, a dot and the raw body, compares in constant
time, refuses a timestamp older (or newer) than its tolerance, and refuses a signature it has
already accepted (a replay inside the tolerance): ``verify_signature`` does all three.

>>> body = b'{"claim_id": "C-1"}'
>>> header = sign("s" * 32, body, timestamp=1_700_000_000)
>>> verify_signature("s" * 32, header, body, now=1_700_000_010)
True
>>> verify_signature("s" * 32, header, body + b" ", now=1_700_000_010)
Traceback (most recent call last):
...
pipeline.api.webhooks.SignatureError: signature does not match
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import threading
import time
import urllib.error
import urllib.request

from .jobs import ApiClaimRow, ClaimQueue, now_utc
from .settings import WebhookSettings

__all__ = ["sign", "verify_signature", "SignatureError", "ReplayGuard", "WebhookSender", "delivery_id",
           "webhook_body", "SIGNATURE_HEADER", "DELIVERY_HEADER", "EVENT_HEADER"]

SIGNATURE_HEADER = "Claimcheck-Signature"
DELIVERY_HEADER = "Claimcheck-Delivery"
EVENT_HEADER = "Claimcheck-Event"
_log = logging.getLogger(__name__)


class SignatureError(ValueError):
    """Why a webhook's signature is refused."""


def sign(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else int(timestamp)
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


class ReplayGuard:
    """Signatures accepted within the tolerance: the same one twice is a replay."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}
        self._lock = threading.Lock()

    def first_time(self, signature: str, timestamp: int, tolerance_s: int, now: float) -> bool:
        with self._lock:
            for key, t in list(self._seen.items()):
                if abs(now - t) > tolerance_s:
                    del self._seen[key]
            if signature in self._seen:
                return False
            self._seen[signature] = timestamp
            return True


def verify_signature(secret: str, header: str | None, body: bytes, *, tolerance_s: int = 300,
                     now: float | None = None, replays: ReplayGuard | None = None) -> bool:
    """True, or SignatureError saying why: malformed header, stale or future timestamp, wrong
    signature, or (with ``replays``) a signature already accepted."""
    now = time.time() if now is None else now
    parts = dict(p.split("=", 1) for p in (header or "").split(",") if "=" in p)
    try:
        t = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        raise SignatureError("malformed signature header") from None
    if abs(now - t) > tolerance_s:
        raise SignatureError(f"timestamp {t} is outside the tolerance of {tolerance_s} s")
    want = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, given):
        raise SignatureError("signature does not match")
    if replays is not None and not replays.first_time(given, t, tolerance_s, now):
        raise SignatureError("signature already used (a replay)")
    return True


def delivery_id(row: ApiClaimRow) -> str:
    return hashlib.sha256(f"{row.claim_id}\0{row.content_sha256}\0decided".encode()).hexdigest()[:32]


def webhook_body(row: ApiClaimRow, attempt: int) -> bytes:
    """The delivery's JSON; the attempt number in it makes every try's signature differ (a retry
    within the same second is not mistaken for a replay)."""
    return json.dumps({"event": "claim.decided", "delivery_id": delivery_id(row), "attempt": attempt,
                       "claim_id": row.claim_id, "status": row.status, "decision": row.decision}, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


class WebhookSender:
    """A thread delivering due webhooks, one at a time, until ``stop``."""

    def __init__(self, queue: ClaimQueue, settings: WebhookSettings, secret: str) -> None:
        self.queue, self.settings, self.secret = queue, settings, secret
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="webhooks", daemon=True)

    def start(self) -> WebhookSender:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.settings.timeout_s + 5)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                row = self.queue.take_webhook(self.settings.timeout_s + 30)
            except Exception:  # noqa: BLE001 - the store may be briefly unavailable: try again
                _log.exception("webhooks: reading the queue failed")
                row = None
            if row is None:
                self._stop.wait(0.25)
                continue
            self.deliver(row)

    def backoff_s(self, attempt: int) -> float:
        return min(self.settings.backoff_max_s, self.settings.backoff_s * 2 ** (attempt - 1))

    def deliver(self, row: ApiClaimRow) -> bool:
        """One attempt; recorded whatever happens. True when the receiver answered 2xx."""
        attempt = len(self.queue.attempts(row.claim_id)) + 1
        body = webhook_body(row, attempt)
        ident = delivery_id(row)
        request = urllib.request.Request(self.settings.url, data=body, method="POST", headers={
            "Content-Type": "application/json", "User-Agent": "claimcheck-webhooks/1",
            EVENT_HEADER: "claim.decided", DELIVERY_HEADER: ident, SIGNATURE_HEADER: sign(self.secret, body)})
        status, error = None, None
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=self.settings.timeout_s) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status, error = exc.code, f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        ok = status is not None and 200 <= status < 300
        if ok:
            state, next_at = "delivered", None
        elif attempt >= self.settings.max_attempts:
            state, next_at = "failed", None
        else:
            state, next_at = "pending", now_utc() + dt.timedelta(seconds=self.backoff_s(attempt))
        self.queue.record_attempt(row, delivery_id=ident, attempt=attempt, url=self.settings.url, status_code=status,
                                  error=error, duration_ms=round((time.perf_counter() - started) * 1000),
                                  state=state, next_at=next_at)
        return ok
