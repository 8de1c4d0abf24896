"""A small client for the intake API on the standard library (the benchmark and tests use it; a
portal may too): multipart bodies built by hand, so any file name can be sent as it is.

>>> body, ctype = multipart_body('{"claim_id": "C-1"}', [("a.jpg", b"\\xff\\xd8\\xff")])
>>> ctype.startswith("multipart/form-data; boundary=") and b'filename="a.jpg"' in body
True
"""
from __future__ import annotations

import http.client
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

__all__ = ["multipart_body", "ApiClient", "Answer", "claim_upload"]


def multipart_body(claim_text: str | None, files: list[tuple[str, bytes]], *,
                   extra: list[tuple[str, str]] = ()) -> tuple[bytes, str]:
    """(body, Content-Type) of a form with the ``claim`` field and one ``files`` part per (name, bytes)."""
    boundary = uuid.uuid4().hex
    out = bytearray()
    fields = ([("claim", claim_text)] if claim_text is not None else []) + list(extra)
    for name, value in fields:
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n"
                "Content-Type: application/json; charset=utf-8\r\n\r\n").encode() + value.encode("utf-8") + b"\r\n"
    for filename, data in files:
        quoted = filename.replace("\\", "\\\\").replace('"', '\\"')
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{quoted}\"\r\n"
                "Content-Type: application/octet-stream\r\n\r\n").encode("utf-8", "surrogateescape")
        out += data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def claim_upload(folder: str | Path, *, claim_id: str | None = None) -> tuple[str, list[tuple[str, bytes]]]:
    """(claim JSON text, files) of a claim folder on disk; ``claim_id`` replaces the claim's own."""
    folder = Path(folder)
    claim = json.loads((folder / "claim.json").read_text(encoding="utf-8"))
    if claim_id is not None:
        claim["claim_id"] = claim_id
    docs = claim.get("documents") or {}
    names = list(dict.fromkeys([*(docs.get("invoices") or []), *(docs.get("serial_photos") or [])]))
    return json.dumps(claim), [(n, (folder / n).read_bytes()) for n in names]


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


class ApiClient:
    """One keep-alive connection to the API at ``base_url`` (not thread-safe: one per thread)."""

    def __init__(self, base_url: str, token: str | None, *, timeout_s: float = 60.0) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.token, self.timeout_s = token, timeout_s
        self._conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> Answer:
        headers = dict(headers or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout_s)
            try:
                self._conn.request(method, path, body=body, headers=headers)
                r = self._conn.getresponse()
                return Answer(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def upload(self, claim_text: str | None, files: list[tuple[str, bytes]], *, key: str | None = None) -> Answer:
        body, ctype = multipart_body(claim_text, files)
        headers = {"Content-Type": ctype}
        if key:
            headers["Idempotency-Key"] = key
        return self.request("POST", "/api/v1/claims", body, headers)

    def status(self, claim_id: str) -> Answer:
        from urllib.parse import quote

        return self.request("GET", "/api/v1/claims/" + quote(claim_id, safe=""))

    def list(self, **params) -> Answer:
        query = urlencode({k: v for k, v in params.items() if v is not None})
        return self.request("GET", "/api/v1/claims" + (f"?{query}" if query else ""))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
