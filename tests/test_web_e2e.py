"""The reviewer workspace end to end: the real app under uvicorn on a free port, over a SQLite
store filled by verifying sample claims, driven in headless Chromium through Playwright.

Skipped only when /usr/bin/chromium is missing (``make setup`` installs it). Screenshots go
to out/screenshots/queue.png and out/screenshots/claim.png.
"""
from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from .conftest import REPO

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="needs Debian's chromium at /usr/bin/chromium (make setup installs it)")

SHOTS = REPO / "out" / "screenshots"
PASSWORD = "e2e-password"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _review_variant(root: Path, store) -> None:
    """A claim the pipeline sent to review with an uncertain check: a copy of the German near miss
    whose model check is 'uncertain' (amber), so every box colour is on screen."""
    folder = root / "demo-de-review"
    shutil.copytree(root / "demo-de-near-miss-model", folder)
    claim = json.loads((folder / "claim.json").read_text())
    claim["claim_id"] = "DEMO-DE-REVIEW"
    (folder / "claim.json").write_text(json.dumps(claim))
    record = store.decisions_for("DEMO-DE-001")[-1].record
    checks = [dict(c, status="uncertain", score=70, reason="PRODUCT_UNCERTAIN") if c["name"] == "product_on_invoice"
              else c for c in record["checks"]]
    store.save_decision({**record, "claim_id": "DEMO-DE-REVIEW", "decision": "review", "score": 0.5,
                         "checks": checks, "reasons": [{"code": "PRODUCT_UNCERTAIN", "severity": "review",
                                                        "message": "Please check the model."}],
                         "claim_dir": str(folder.resolve())})


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    import uvicorn

    from pipeline.web import auth
    from pipeline.web.app import WebSettings, create_app

    from .test_web import build_store

    tmp = tmp_path_factory.mktemp("e2e")
    url, store, root = build_store(tmp, ["demo-fr-amazon-gpu-genuine", "demo-no-komplett-wrong-date",
                                         "demo-de-near-miss-model"])
    _review_variant(root, store)
    users = tmp / "users.toml"
    auth.add_user(users, "rita", PASSWORD)
    app = create_app(WebSettings(db_url=url, users_file=users, secret="e2e" * 16), store=store)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield {"base": f"http://127.0.0.1:{port}", "store": store}
    srv.should_exit = True
    thread.join(timeout=10)
    store.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def _sign_in(page, base: str, password: str = PASSWORD) -> None:
    page.goto(base + "/")
    assert "/login" in page.url
    page.fill("input[name=username]", "rita")
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def _boxes_placed(page) -> None:
    """Every evidence box has been positioned over its loaded page image."""
    page.wait_for_function("""() => {
        const imgs = [...document.querySelectorAll('img.page-image')];
        return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0)
            && [...document.querySelectorAll('.box')].every(b => b.style.width !== '');
    }""")


def test_wrong_password_stays_on_login(page, server):
    _sign_in(page, server["base"], "not-it")
    assert "/login" in page.url
    assert page.locator("p.error").inner_text() == "Wrong name or password."


def test_review_session(page, server):
    base, store = server["base"], server["store"]
    _sign_in(page, base)
    # The queue: work first (the claim sent to review), counts per state.
    page.wait_for_selector("table.queue")
    assert page.url == base + "/"
    rows = page.locator("tr.queue-row")
    assert rows.count() == 4
    assert rows.first.get_attribute("data-claim") == "DEMO-DE-REVIEW"
    assert page.locator(".count[data-state=needs_review] b").inner_text() == "1"
    assert page.locator(".count[data-state=auto_rejected] b").inner_text() == "2"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "queue.png"), full_page=True)

    # Filter by reason code.
    page.select_option("select[name=reason]", "DATE_MISMATCH")
    page.click(".filters button[type=submit]")
    page.wait_for_url("**reason=DATE_MISMATCH**")
    assert [r.get_attribute("data-claim") for r in page.locator("tr.queue-row").all()] == ["DEMO-NO-002"]
    page.goto(base + "/")

    # j/k and Enter open a claim from the queue.
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    assert page.locator("tr.queue-row.selected").get_attribute("data-claim") == "DEMO-DE-REVIEW"
    page.keyboard.press("Enter")
    page.wait_for_url("**/claims/DEMO-DE-REVIEW")
    _boxes_placed(page)
    assert page.locator(".box.box-uncertain").count() == 1
    assert page.locator(".box.box-pass").count() >= 2

    # The wrong-date claim: a red box on the date, green on the rest; typed beside read.
    page.goto(base + "/claims/DEMO-NO-002")
    _boxes_placed(page)
    fail = page.locator(".box.box-fail")
    assert fail.count() == 1 and fail.get_attribute("data-status") == "fail"
    assert "purchase_date" in fail.inner_text()
    assert page.locator(".box.box-pass").count() >= 4  # retailer, two models, serial, CHK
    colour = page.evaluate("getComputedStyle(document.querySelector('.box.box-fail')).borderTopColor")
    assert colour == "rgb(208, 39, 29)"
    typed = page.locator("table.typed tr.status-fail").first.inner_text()
    assert "2020-02-21" in typed and "19.02.2020" in typed
    assert page.locator("table.checks tbody tr").count() >= 6
    assert "DATE_MISMATCH" in page.locator("ul.reasons").inner_text()
    # The box sits where the evidence says: its left edge at bbox x0 of the page image.
    left = page.evaluate("""() => { const b = document.querySelector('.box.box-fail');
        const img = b.parentElement.querySelector('img');
        return b.offsetLeft / img.clientWidth * img.naturalWidth; }""")
    record = store.decisions_for("DEMO-NO-002")[-1].record
    x0 = next(c for c in record["checks"] if c["name"] == "purchase_date")["evidence"]["bbox"][0]
    assert abs(left - x0) < 6
    # Zoom in makes the page wider than its column; fit brings it back.
    before = page.locator(".page-inner").first.bounding_box()["width"]
    page.keyboard.press("+")
    page.keyboard.press("+")
    assert page.locator(".page-inner").first.bounding_box()["width"] > before * 1.3
    page.keyboard.press("0")
    assert abs(page.locator(".page-inner").first.bounding_box()["width"] - before) < 2
    page.screenshot(path=str(SHOTS / "claim.png"), full_page=True)

    # Reject with a reason: the canned message fills the textarea and can be edited.
    page.keyboard.press("r")
    assert page.evaluate("document.activeElement.id") == "reject-reason"
    page.select_option("#reject-reason", "DATE_MISMATCH")
    message = page.input_value("#reject-message")
    assert message.startswith("The purchase date you entered does not match")
    page.fill("#reject-message", message + " (invoice dated 19.02.2020)")
    page.click("#reject")
    page.wait_for_load_state()
    assert "DEMO-NO-002: rejected (DATE_MISMATCH)" in page.locator(".flash").inner_text()

    # Approve with the keyboard.
    page.goto(base + "/claims/DEMO-FR-001")
    _boxes_placed(page)
    page.keyboard.press("a")
    page.wait_for_selector(".flash")
    assert "DEMO-FR-001: approved" in page.locator(".flash").inner_text()

    rejected = store.actions_for("DEMO-NO-002")
    assert [(a.action, a.reviewer, a.reason_code) for a in rejected] == [("reject", "rita", "DATE_MISMATCH")]
    assert rejected[0].message.endswith("(invoice dated 19.02.2020)")
    assert rejected[0].created_at is not None
    approved = store.actions_for("DEMO-FR-001")
    assert [(a.action, a.reviewer) for a in approved] == [("approve", "rita")]
    # The pipeline's decisions are never overwritten.
    assert [d.decision for d in store.decisions_for("DEMO-NO-002")] == ["reject"]

    page.goto(base + "/")
    assert page.locator(".count[data-state=approved] b").inner_text() == "1"
    assert page.locator(".count[data-state=rejected] b").inner_text() == "1"
    # The history shows who and when.
    page.goto(base + "/claims/DEMO-NO-002")
    assert "rita" in page.locator("table.history").inner_text()


_LABEL_OVERLAPS = """() => {
    const boxes = [...document.querySelectorAll('.box')];
    const r = e => e.getBoundingClientRect();
    const hit = (a, b) => a.left < b.right - 0.5 && b.left < a.right - 0.5
        && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
    let own = 0, other = 0, far = 0;
    boxes.forEach(box => {
        const label = r(box.querySelector('span')), mine = r(box);
        if (hit(label, mine)) own++;
        if (boxes.some(b => b !== box && hit(label, r(b)))) other++;
        const dx = Math.max(mine.left - label.right, label.left - mine.right, 0);
        const dy = Math.max(mine.top - label.bottom, label.top - mine.bottom, 0);
        if (dx > 8 || dy > 8) far++;
    });
    return {boxes: boxes.length, own, other, far};
}"""


def test_evidence_labels_stand_beside_their_box_not_over_the_value(page, server):
    # Before: each label sat over the top edge of its box and covered the text above it; on PDF
    # pages, the value of the box above.
    _sign_in(page, server["base"])
    page.wait_for_selector("table.queue")
    for claim_id in ("DEMO-NO-002", "DEMO-FR-001", "DEMO-DE-REVIEW"):
        page.goto(server["base"] + "/claims/" + claim_id)
        _boxes_placed(page)
        for zoom in ("0", "+", "+"):
            page.keyboard.press(zoom)
            got = page.evaluate(_LABEL_OVERLAPS)
            assert got["boxes"] >= 3 and got["own"] == 0 and got["far"] == 0, (claim_id, zoom, got)
            assert got["other"] == 0, (claim_id, zoom, got)
