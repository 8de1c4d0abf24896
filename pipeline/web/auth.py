"""Reviewers, their passwords, the session secret and CSRF tokens.

Users live in a small TOML file (``--users F``, else ``$CLAIMCHECK_USERS``, else
``~/.config/claimcheck/users.toml``), one table per reviewer holding an scrypt hash with
its own random salt; ``claimcheck users add NAME`` writes it. The session cookie is signed
with ``$CLAIMCHECK_SECRET``, else with a random key generated once into ``secret.key``
beside the users file (mode 0600).

>>> h = hash_password("correct horse")
>>> verify_password("correct horse", h), verify_password("wrong", h)
(True, False)
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import threading
import time
import tomllib
from pathlib import Path

__all__ = ["hash_password", "verify_password", "load_users", "add_user", "default_users_file", "load_secret",
           "new_csrf_token", "csrf_ok", "check_login", "LoginThrottle", "USERNAME_RE", "ENV_USERS", "ENV_SECRET"]

ENV_USERS = "CLAIMCHECK_USERS"
ENV_SECRET = "CLAIMCHECK_SECRET"
USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")

# scrypt at n=2**14, r=8, p=1 (16 MiB, ~50 ms): the standard library's, salted per user.
_N, _R, _P = 2**14, 8, 1
_DUMMY = None  # a hash to check unknown names against, so they take as long as known ones


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """'scrypt$n$r$p$salt$hash' (base64), a fresh 16-byte salt each time."""
    if not password:
        raise ValueError("empty password")
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (constant-time compare); malformed hashes never match."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        want = base64.b64decode(digest)
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(want))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want)


def default_users_file() -> Path:
    env = os.environ.get(ENV_USERS, "").strip()
    return Path(env).expanduser() if env else Path.home() / ".config" / "claimcheck" / "users.toml"


def load_users(path: str | Path) -> dict[str, str]:
    """{name: password hash} from the users file; a missing file is no users."""
    path = Path(path)
    if not path.exists():
        return {}
    with path.open("rb") as f:
        data = tomllib.load(f)
    users = data.get("users") or {}
    return {name: str(entry.get("password", "")) for name, entry in users.items()
            if isinstance(entry, dict) and USERNAME_RE.match(name)}


def add_user(path: str | Path, name: str, password: str) -> None:
    """Add ``name`` (or set a new password) in the users file, written 0600."""
    if not USERNAME_RE.match(name):
        raise ValueError(f"user name {name!r}: letters, digits and . _ @ - only (at most 64)")
    path = Path(path)
    users = load_users(path)
    users[name] = hash_password(password)
    lines = ["# claimcheck reviewers: scrypt hashes with a per-user salt (claimcheck users add NAME).", ""]
    for user, stored in sorted(users.items()):
        lines += [f'[users."{user}"]', f'password = "{stored}"', ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    os.replace(tmp, path)


def check_login(users: dict[str, str], name: str, password: str) -> bool:
    """Whether the pair signs in; an unknown name costs the same hash as a known one."""
    global _DUMMY
    stored = users.get(name)
    if stored is None:
        _DUMMY = _DUMMY or hash_password(secrets.token_hex(8))
        verify_password(password, _DUMMY)
        return False
    return verify_password(password, stored)


class LoginThrottle:
    """Failed sign-ins counted per (name, address) and per address, within a sliding window.

    - ``max_pair`` failures for one name from one address: that pair waits for the window. A
      stranger failing with a reviewer's name only locks out *their* address for that name; the
      reviewer, from theirs, signs in as before.
    - ``max_address`` failures from one address, whatever the names: the address waits (guessing
      many names, or one name many times, from one place).
    The tables are bounded (oldest addresses dropped first): names and addresses are attacker-chosen.
    """

    MAX_ENTRIES = 10_000

    def __init__(self, max_pair: int, max_address: int, window_s: float) -> None:
        self.max_pair, self.max_address, self.window_s = max_pair, max_address, window_s
        self._pairs: dict[tuple[str, str], list[float]] = {}
        self._addresses: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, table: dict, key, now: float) -> list[float]:
        times = [t for t in table.get(key, ()) if now - t < self.window_s]
        if times:
            table[key] = times
        else:
            table.pop(key, None)
        return times

    def refused(self, name: str, address: str, *, now: float | None = None) -> str | None:
        """Why a sign-in now is refused (429), or None."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._recent(self._addresses, address, now)) >= self.max_address:
                return "Too many failed sign-ins from this address: wait a few minutes."
            if len(self._recent(self._pairs, (name, address), now)) >= self.max_pair:
                return "Too many failed attempts for this name: wait a few minutes."
        return None

    def failed(self, name: str, address: str, *, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            for table, key, keep in ((self._pairs, (name, address), self.max_pair),
                                     (self._addresses, address, self.max_address)):
                table[key] = [*self._recent(table, key, now), now][-keep:]
                while len(table) > self.MAX_ENTRIES:
                    table.pop(next(iter(table)))

    def succeeded(self, name: str, address: str) -> None:
        with self._lock:
            self._pairs.pop((name, address), None)


def load_secret(users_file: str | Path) -> str:
    """$CLAIMCHECK_SECRET, else the key in ``secret.key`` beside the users file (made on first use)."""
    env = os.environ.get(ENV_SECRET, "").strip()
    if env:
        return env
    path = Path(users_file).parent / "secret.key"
    if path.exists():
        text = path.read_text(encoding="ascii").strip()
        if len(text) >= 32:
            return text
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key + "\n")
    return key


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_ok(session_token: str | None, form_token: str | None) -> bool:
    return bool(session_token) and bool(form_token) and hmac.compare_digest(str(session_token), str(form_token))
