"""API tokens: separate from reviewers' passwords, kept hashed in ``tokens.toml`` beside the users file.

A token is ``cc_`` and 43 random URL-safe characters (256 bits): it is stored as its SHA-256 (a
slow password hash buys nothing for a random secret of this size, and every request checks one).
It is shown once, when made. Scopes: ``claims:write`` (upload) and ``claims:read`` (status, list).

>>> t = new_token()
>>> t.startswith("cc_") and len(t) == 46
True
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
import threading
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..web.auth import USERNAME_RE, default_users_file

__all__ = ["SCOPES", "ApiToken", "new_token", "token_hash", "tokens_file", "load_tokens", "add_token",
           "revoke_token", "TokenBook", "RateLimiter"]

SCOPES = ("claims:write", "claims:read")


@dataclass(frozen=True)
class ApiToken:
    name: str
    sha256: str
    scopes: tuple[str, ...]
    created_at: str
    revoked_at: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def new_token() -> str:
    return "cc_" + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def tokens_file(users_file: str | Path | None = None) -> Path:
    """``tokens.toml`` beside the reviewers' users file."""
    return Path(users_file or default_users_file()).parent / "tokens.toml"


def load_tokens(path: str | Path) -> dict[str, ApiToken]:
    path = Path(path)
    if not path.exists():
        return {}
    with path.open("rb") as f:
        data = tomllib.load(f)
    out = {}
    for name, entry in (data.get("tokens") or {}).items():
        if not isinstance(entry, dict) or not USERNAME_RE.match(name):
            continue
        scopes = tuple(s for s in entry.get("scopes", ()) if s in SCOPES)
        out[name] = ApiToken(name, str(entry.get("sha256", "")), scopes, str(entry.get("created_at", "")),
                             entry.get("revoked_at") or None)
    return out


def _write(path: Path, tokens: dict[str, ApiToken]) -> None:
    lines = ["# claimcheck API tokens: SHA-256 of each token (claimcheck tokens add NAME).", ""]
    for t in sorted(tokens.values(), key=lambda t: t.name):
        lines += [f'[tokens."{t.name}"]', f'sha256 = "{t.sha256}"',
                  "scopes = [" + ", ".join(f'"{s}"' for s in t.scopes) + "]", f'created_at = "{t.created_at}"']
        if t.revoked_at:
            lines.append(f'revoked_at = "{t.revoked_at}"')
        lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def add_token(path: str | Path, name: str, scopes: list[str]) -> str:
    """A new token for ``name`` (replacing any it had); returns the token, which is stored only hashed."""
    if not USERNAME_RE.match(name):
        raise ValueError(f"token name {name!r}: letters, digits and . _ @ - only (at most 64)")
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise ValueError(f"scopes {', '.join(unknown) or '(none)'}: expected some of {', '.join(SCOPES)}")
    path = Path(path)
    tokens = load_tokens(path)
    token = new_token()
    tokens[name] = ApiToken(name, token_hash(token), tuple(dict.fromkeys(scopes)), _now())
    _write(path, tokens)
    return token


def revoke_token(path: str | Path, name: str) -> bool:
    """Revoke ``name``'s token (kept, marked revoked); False when there is no such active token."""
    path = Path(path)
    tokens = load_tokens(path)
    t = tokens.get(name)
    if t is None or not t.active:
        return False
    tokens[name] = ApiToken(t.name, t.sha256, t.scopes, t.created_at, _now())
    _write(path, tokens)
    return True


class TokenBook:
    """The tokens file, read again whenever it changes (a revocation holds from the next request)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._seen: tuple | None = None
        self._by_hash: dict[str, ApiToken] = {}
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        try:
            st = self.path.stat()
            mark = (st.st_mtime_ns, st.st_size, st.st_ino)
        except FileNotFoundError:
            mark = None
        with self._lock:
            if mark != self._seen:
                tokens = load_tokens(self.path) if mark else {}
                self._by_hash = {t.sha256: t for t in tokens.values() if t.active and len(t.sha256) == 64}
                self._seen = mark

    def find(self, token: str) -> ApiToken | None:
        """The active token ``token`` is, or None (compared by hash, in constant time per entry)."""
        self._refresh()
        want = token_hash(token)
        found = None
        for stored, t in self._by_hash.items():
            if hmac.compare_digest(stored, want):
                found = t
        return found


class RateLimiter:
    """A token bucket per API token: ``burst`` requests at once, refilled at ``rate_per_minute``."""

    def __init__(self, rate_per_minute: float, burst: int) -> None:
        self.rate = rate_per_minute / 60.0
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def wait_s(self, key: str, *, now: float | None = None) -> float:
        """0 when the request may go (and is counted), else the seconds until it may."""
        now = time.monotonic() if now is None else now
        with self._lock:
            level, at = self._buckets.get(key, (float(self.burst), now))
            level = min(float(self.burst), level + (now - at) * self.rate)
            if level >= 1.0:
                self._buckets[key] = (level - 1.0, now)
                return 0.0
            self._buckets[key] = (level, now)
            return (1.0 - level) / self.rate
