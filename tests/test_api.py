"""The intake API against the real server: uvicorn on 127.0.0.1, real HTTP, real verification
(the sample claim is read by Tesseract through the batch's worker pool), a real webhook receiver."""
from __future__ import annotations

import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pipeline.api.client import ApiClient, claim_upload
from pipeline.api.webhooks import ReplayGuard, SignatureError, verify_signature

from .conftest import REPO

SAMPLE = REPO / "sample_invoices" / "0007-it-genuine-duo"
SECRET = "test-webhook-secret-0123456789"
BURST = 200
FILE_LIMIT = 150_000  # bytes per file: the sample's files are smaller


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver:
    """A portal's webhook endpoint: verifies each delivery as the README's example does; the
    first delivery is answered 503 so the sender has to retry."""

    def __init__(self) -> None:
        self.got: list[dict] = []
        self.replays = ReplayGuard()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                try:
                    ok = verify_signature(SECRET, self.headers.get("Claimcheck-Signature"), body,
                                          replays=receiver.replays)
                    why = None
                except SignatureError as exc:
                    ok, why = False, str(exc)
                first = not receiver.got
                receiver.got.append({"headers": dict(self.headers), "body": body, "ok": ok, "why": why})
                self.send_response(503 if first else (200 if ok else 400))
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    import uvicorn

    from pipeline.api.app import create_api_app
    from pipeline.api.settings import load_api_settings
    from pipeline.api.tokens import TokenBook, add_token
    from pipeline.config import load_config
    from pipeline.db import SqlClaimStore

    tmp = tmp_path_factory.mktemp("api")
    receiver = Receiver()
    import os

    os.environ["CLAIMCHECK_TEST_WEBHOOK_SECRET"] = SECRET
    settings = load_api_settings(None, intake={"root": str(tmp / "claims"), "max_files": 3,
                                               "max_request_bytes": 1_000_000},
                                 tokens={"rate_per_minute": 60, "burst": BURST},
                                 worker={"lease_s": 5, "poll_s": 0.2},
                                 webhook={"url": receiver.url, "secret_env": "CLAIMCHECK_TEST_WEBHOOK_SECRET",
                                          "backoff_s": 0.3, "max_attempts": 4, "timeout_s": 5})
    config = load_config()
    config = config.model_copy(update={"ingest": config.ingest.model_copy(update={"max_file_bytes": FILE_LIMIT})})
    tokens = tmp / "tokens.toml"
    names = {"rw": ["claims:write", "claims:read"], "reader": ["claims:read"], "writer": ["claims:write"],
             "spent": ["claims:read"]}
    issued = {name: add_token(tokens, name, scopes) for name, scopes in names.items()}
    db = f"sqlite:///{tmp / 'store.sqlite3'}"
    store = SqlClaimStore(db)
    app = create_api_app(store, config, settings, TokenBook(tokens), db_url=db)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the API server did not start"
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    yield {"base": base, "tokens": issued, "receiver": receiver, "store": store, "root": tmp / "claims",
           "tokens_file": tokens, "app": app}
    server.should_exit = True
    thread.join(timeout=30)
    receiver.server.shutdown()
    store.close()


def client(api, who: str = "rw") -> ApiClient:
    return ApiClient(api["base"], api["tokens"].get(who, who))


def _problems(answer) -> dict:
    return {p["field"]: p["message"] for p in answer.json()["error"]["problems"]}


def _wait_decided(c: ApiClient, claim_id: str, timeout_s: float = 240) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = c.status(claim_id).json()
        if got["status"] in ("decided", "failed"):
            return got
        time.sleep(1.0)
    raise AssertionError(f"{claim_id} not decided in {timeout_s} s")


# ------------------------------------------------------------------------------ tokens

def test_no_token_or_an_unknown_one_is_401(api):
    for token in (None, "cc_not-a-token"):
        answer = ApiClient(api["base"], token).list()
        assert answer.status == 401
        assert answer.headers["www-authenticate"].startswith("Bearer")


def test_a_token_without_the_scope_is_403(api):
    text, files = claim_upload(SAMPLE, claim_id="SCOPE-1")
    assert client(api, "reader").upload(text, files).status == 403
    assert client(api, "writer").status("SCOPE-1").status == 403
    assert client(api, "writer").list().status == 403


def test_a_revoked_token_is_refused_at_once(api, tmp_path):
    from pipeline.api.tokens import add_token, revoke_token

    token = add_token(api["tokens_file"], "short-lived", ["claims:read"])
    c = ApiClient(api["base"], token)
    assert c.list().status == 200
    assert revoke_token(api["tokens_file"], "short-lived")
    assert c.list().status == 401


def test_each_token_has_its_own_rate_limit(api):
    c = client(api, "spent")
    answers = [c.list(limit=1).status for _ in range(BURST + 5)]
    assert answers[:BURST - 5] == [200] * (BURST - 5)  # the burst (a few refilled while it ran)
    assert 429 in answers[BURST - 5:]
    refused = c.list(limit=1)
    assert refused.status == 429 and int(refused.headers["retry-after"]) >= 1
    assert client(api, "reader").list(limit=1).status == 200  # another token is not held up


# ------------------------------------------------------------------------------ uploads refused

def test_contract_errors_name_each_bad_field(api):
    claim = json.loads((SAMPLE / "claim.json").read_text())
    claim["purchase"]["date"] = "2020-13-45"
    claim["purchase"]["channel"] = "door-to-door"
    del claim["claim_id"]
    answer = client(api).upload(json.dumps(claim), [])
    assert answer.status == 422
    assert {"purchase.date", "purchase.channel", "claim_id"} <= set(_problems(answer))
    assert client(api).upload("{not json", []).status == 422
    assert "claim" in _problems(client(api).upload(None, []))


def test_files_must_be_the_ones_the_claim_lists(api):
    text, files = claim_upload(SAMPLE, claim_id="LIST-1")
    unlisted = client(api).upload(text, files + [("other.jpg", files[0][1])])
    assert unlisted.status == 422 and "files[other.jpg]" in _problems(unlisted)
    missing = client(api).upload(text, files[:1])
    assert missing.status == 422 and "files[serial.jpg]" in _problems(missing)
    twice = client(api).upload(text, files + [files[0]])
    assert twice.status == 422 and _problems(twice) == {"files[fattura.jpg]": "sent twice"}
    assert client(api).status("LIST-1").status == 404  # nothing was queued


@pytest.mark.parametrize("name", ["../x", "../../etc/passwd", "/etc/passwd", "a\x00b.jpg"])
def test_a_file_name_that_escapes_is_400(api, name):
    text, files = claim_upload(SAMPLE, claim_id="ESCAPE-1")
    answer = client(api).upload(text, [(name, files[0][1]), files[1]])
    assert answer.status == 400, answer.body
    assert answer.json()["error"]["code"] == "BAD_FILE_NAME"


def test_a_claim_listing_an_escaping_name_is_422(api):
    claim = json.loads((SAMPLE / "claim.json").read_text())
    claim["claim_id"] = "ESCAPE-2"
    claim["documents"]["invoices"] = ["../../secret.jpg"]
    answer = client(api).upload(json.dumps(claim), [])
    assert answer.status == 422 and "documents.invoices[0]" in _problems(answer)


def test_bytes_of_no_supported_type_are_415(api):
    text, files = claim_upload(SAMPLE, claim_id="TYPE-1")
    answer = client(api).upload(text, [("fattura.jpg", b"<html><body>an invoice</body></html>"), files[1]])
    assert answer.status == 415 and "files[fattura.jpg]" in _problems(answer)


def test_too_large_and_too_many_are_413(api):
    text, files = claim_upload(SAMPLE, claim_id="BIG-1")
    big = b"\xff\xd8\xff\xe0" + b"\0" * FILE_LIMIT
    answer = client(api).upload(text, [("fattura.jpg", big), files[1]])
    assert answer.status == 413 and "files[fattura.jpg]" in _problems(answer)
    many = [(f"p{i}.jpg", files[0][1]) for i in range(4)]
    claim = json.loads(text)
    claim["documents"] = {"invoices": [n for n, _ in many]}
    assert client(api).upload(json.dumps(claim), many).status == 413
    huge = client(api).upload(text, [("fattura.jpg", b"\xff\xd8\xff" + b"\0" * 1_100_000)])
    assert huge.status == 413 and huge.json()["error"]["code"] == "REQUEST_TOO_LARGE"
    assert not list((api["root"] / ".incoming").iterdir())  # nothing half-written is left


# ------------------------------------------------------------------------------ accepted, retried, decided

def test_upload_is_decided_once_and_pushed_to_the_webhook(api):
    c = client(api)
    text, files = claim_upload(SAMPLE, claim_id="HOOK-1")
    first = c.upload(text, files, key="portal-upload-1")
    assert first.status == 202, first.body
    accepted = first.json()
    assert accepted["status"] == "queued"
    folder = next(api["root"].glob("*/HOOK-1--*"))
    manifest = json.loads((folder / "intake.json").read_text())
    assert manifest["files"] == accepted["files"]
    import hashlib

    assert {n: hashlib.sha256((folder / n).read_bytes()).hexdigest() for n in manifest["files"]} == accepted["files"]

    again = c.upload(text, files, key="portal-upload-1")  # a retry: the first answer, nothing new
    assert again.status == 202 and again.json() == accepted and again.headers["idempotent-replayed"] == "true"
    other = json.loads(text)
    other["purchase"]["retailer"] = "another shop"
    assert c.upload(json.dumps(other), files, key="portal-upload-1").status == 409
    assert c.upload(json.dumps(other), files).status == 409  # the claim_id is the key without a header
    assert len(list(api["root"].glob("*/HOOK-1--*"))) == 1

    got = _wait_decided(c, "HOOK-1")
    assert got["status"] == "decided", got
    assert got["decision"]["claim_id"] == "HOOK-1" and got["decision"]["decision"] in ("approve", "review", "reject")
    assert len(api["store"].decisions_for("HOOK-1")) == 1

    receiver = api["receiver"]
    deadline = time.monotonic() + 30
    while not any(g["ok"] and json.loads(g["body"])["claim_id"] == "HOOK-1" for g in receiver.got[1:]):
        assert time.monotonic() < deadline, receiver.got
        time.sleep(0.1)
    delivered = [g for g in receiver.got if json.loads(g["body"])["claim_id"] == "HOOK-1"]
    assert delivered[0]["ok"]  # signed correctly, answered 503: retried
    body = json.loads(delivered[-1]["body"])
    assert body["event"] == "claim.decided" and body["decision"] == got["decision"]
    assert {g["headers"]["Claimcheck-Delivery"] for g in delivered} == {body["delivery_id"]}
    from pipeline.api.jobs import ClaimQueue

    tries = ClaimQueue(api["store"].engine).attempts("HOOK-1")
    assert [t["status_code"] for t in tries][:2] == [503, 200]

    # The receiver's verifier: a tampered body, a replayed request, a stale one are all refused.
    last = delivered[-1]
    signature = last["headers"]["Claimcheck-Signature"]
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature(SECRET, signature, last["body"].replace(b'"decided"', b'"approved"'))
    with pytest.raises(SignatureError, match="replay"):
        verify_signature(SECRET, signature, last["body"], replays=receiver.replays)
    with pytest.raises(SignatureError, match="tolerance"):
        verify_signature(SECRET, signature, last["body"], now=time.time() + 3600)
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature("another-secret-0123456789", signature, last["body"])


def test_the_list_pages_by_cursor_and_filters(api):
    c = client(api)
    for i in range(3):
        text, files = claim_upload(SAMPLE, claim_id=f"PAGE-{i}")
        assert c.upload(text, files).status == 202
    seen, cursor = [], None
    for _ in range(20):
        page = c.list(limit=2, cursor=cursor).json()
        seen += [x["claim_id"] for x in page["claims"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [s for s in seen if s.startswith("PAGE-")] == ["PAGE-0", "PAGE-1", "PAGE-2"]
    assert len(seen) == len(set(seen))
    statuses = {x["status"] for x in c.list(status="queued", limit=500).json()["claims"]}
    assert statuses <= {"queued"}
    future = c.list(since="2999-01-01T00:00:00Z").json()
    assert future == {"claims": [], "next_cursor": None}
    assert c.list(status="nonsense").status == 422
    assert c.list(cursor="garbage!").status == 400
    for i in range(3):
        assert _wait_decided(c, f"PAGE-{i}")["status"] == "decided"


def test_openapi_documents_the_routes(api):
    spec = ApiClient(api["base"], None).request("GET", "/api/v1/openapi.json").json()
    assert {"/api/v1/claims", "/api/v1/claims/{claim_id}"} <= set(spec["paths"])


# ------------------------------------------------------------------------------ the CLI and settings

def test_tokens_cli_prints_the_token_last_and_stores_only_its_hash(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from pipeline.api.tokens import TokenBook

    cli = Path(sys.executable).parent / "claimcheck"
    users = tmp_path / "users.toml"
    made = subprocess.run([str(cli), "tokens", "add", "portal", "--scope", "claims:write,claims:read",
                           "--users", str(users)], capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip().splitlines()[-1]
    stored = (tmp_path / "tokens.toml").read_text()
    assert token.startswith("cc_") and token not in stored
    assert TokenBook(tmp_path / "tokens.toml").find(token).scopes == ("claims:write", "claims:read")
    listed = subprocess.run([str(cli), "tokens", "list", "--users", str(users)], capture_output=True, text=True,
                            timeout=60)
    assert listed.stdout.startswith("portal\tclaims:write,claims:read") and token not in listed.stdout
    bad = subprocess.run([str(cli), "tokens", "add", "x", "--scope", "claims:delete", "--users", str(users)],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "claims:delete" in bad.stderr
    assert subprocess.run([str(cli), "tokens", "revoke", "portal", "--users", str(users)],
                          timeout=60).returncode == 0
    assert TokenBook(tmp_path / "tokens.toml").find(token) is None
    assert subprocess.run([str(cli), "tokens", "revoke", "portal", "--users", str(users)], capture_output=True,
                          timeout=60).returncode == 1


def test_api_settings_are_validated(tmp_path):
    from pipeline.api.settings import load_api_settings
    from pipeline.errors import ConfigError

    for text, where in (('[intake]\nmax_filez = 3\n', "max_filez"), ('[webhook]\nurl = "ftp://x"\n', "url"),
                        ('[worker]\nlease_s = 0\n', "lease_s"), ('[nope]\na = 1\n', "[nope]")):
        path = tmp_path / "api.toml"
        path.write_text(text)
        with pytest.raises(ConfigError, match=re.escape(where)):
            load_api_settings(path)
    path.write_text('[webhook]\nurl = "https://portal.example/hook"\nsecret_env = "CLAIMCHECK_UNSET_SECRET_X"\n')
    with pytest.raises(ConfigError, match="CLAIMCHECK_UNSET_SECRET_X"):
        load_api_settings(path).webhook.secret()


def test_any_claim_id_is_reachable_by_its_url(api):
    c = client(api)
    text, files = claim_upload(SAMPLE, claim_id="C/1 ø?#")
    accepted = c.upload(text, files)
    assert accepted.status == 202
    got = c.status("C/1 ø?#")
    assert got.status == 200 and got.json()["claim_id"] == "C/1 ø?#"
    assert next(api["root"].glob("*/C_1--*")).is_dir()  # the folder name keeps only safe characters
