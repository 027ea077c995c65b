#!/usr/bin/env python3
"""Tours every page of airlock's web UI in real Chromium (Debian's /usr/bin/chromium) with Playwright,
as a reviewer would, signing in with the keyboard only; checks each page with axe-core
(axe-playwright-python) and saves a screenshot of each.

usage: ui_tour.py BASE_URL TOKEN TOKEN_NAME LOCKFILE SCREENSHOT_DIR

Fails (exit 1, naming the page) on a serious or critical accessibility violation, on anything the
Content-Security-Policy had to block, or on a page that lacks what it must show. Prints TOUR OK at the end.
"""
import json
import os
import sys

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import sync_playwright

base, token, token_name, lockfile, shots = sys.argv[1:6]
os.makedirs(shots, exist_ok=True)
axe = Axe()
problems = []
blocked = []


def check(page, name, must_show=()):
    """axe-core on the page as it is, then what it must show, then a screenshot."""
    results = axe.run(page).response
    for v in results["violations"]:
        if v["impact"] in ("serious", "critical"):
            problems.append(f"{name}: {v['impact']} {v['id']}: {v['help']} ({len(v['nodes'])} node(s): {v['nodes'][0]['html'][:120]})")
    body = page.inner_text("body")
    for text in must_show:
        if text not in body and page.locator(text).count() == 0:
            problems.append(f"{name}: does not show {text!r}")
    if page.locator("#reviewer-name").count() and page.inner_text("#reviewer-name") != token_name:
        problems.append(f"{name}: the signed-in reviewer is not named")
    page.screenshot(path=os.path.join(shots, name + ".png"), full_page=True)
    print(json.dumps({"page": name, "url": page.url, "violations": [v["id"] for v in results["violations"]]}))


with sync_playwright() as p:
    browser = p.chromium.launch(executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"), args=["--no-sandbox"])
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)

    page.goto(base + "/")
    check(page, "landing", ["What is served", "pip", "uv", "R", "/simple/"])

    # Sign in with the keyboard alone: Tab to the labelled token field, type, Enter.
    page.goto(base + "/ui/login")
    check(page, "login", ["Reviewer token"])
    for _ in range(20):
        if page.evaluate("document.activeElement && document.activeElement.id") == "token":
            break
        page.keyboard.press("Tab")
    else:
        problems.append("login: the token field cannot be reached with Tab")
    page.keyboard.type(token)
    page.keyboard.press("Enter")
    page.wait_for_selector("#queue")
    check(page, "queue", ["#queue", "gamma"])

    page.fill("#search-q", "gam")
    page.press("#search-q", "Enter")
    page.wait_for_selector("#projects")
    check(page, "search", ["#projects", "gamma"])
    page.click("#projects a >> text=gamma")
    page.wait_for_selector("#decide")
    check(page, "project", ["#usage-chart", "table.factors svg rect", "Dependency closure", "The policy in force"])

    page.goto(base + "/ui/projects/pypi/alpha")
    check(page, "project-alpha", ["#usage-chart rect.downloads"])
    page.goto(base + "/ui/projects/pypi/delta")
    check(page, "project-delta", ["Withdraw", "vendored build tool"])

    page.goto(base + "/ui/snapshots")
    check(page, "snapshots", ["#snapshots"])
    page.click("#snapshots a >> nth=0")
    page.wait_for_selector("#added")
    check(page, "snapshot-diff", ["What changed"])

    page.goto(base + "/ui/audit")
    page.click("a[rel=next]")
    page.wait_for_selector("#audit")
    check(page, "audit-page-2", ["Page 2 of", "Chain intact"])

    page.goto(base + "/ui/misses")
    check(page, "misses", ["#misses", "gamma"])

    page.goto(base + "/ui/stale?unused_for=90d")
    check(page, "stale", ["#stale", "delta"])

    page.goto(base + "/ui/check")
    page.fill("#lockfile-content", open(lockfile).read())
    page.click("#check")
    page.wait_for_load_state()
    if page.locator("table.check-report").count() == 0:
        sys.exit("check: no report after Check:\n" + page.inner_text("body")[:2000])
    check(page, "check", ["pins served by pypi snapshot", "held"])

    # Approve the pasted lockfile (gamma, held, becomes served), then withdraw delta's unused approval.
    page.fill("#approve-reason", "curated in the browser")
    page.click("#approve-lockfile")
    page.wait_for_load_state()
    if page.locator("#approved").count() == 0 or "2 of 2 pins served" not in page.inner_text("body"):
        problems.append("check: approving the lockfile did not serve both pins:\n" + page.inner_text("main")[:1500])
    page.goto(base + "/ui/stale?unused_for=90d")
    row = page.locator("#stale tr", has_text="delta")
    row.locator("input[name=reason]").fill("unused for 200 days")
    row.locator("button").click()
    page.wait_for_load_state()
    if "withdrawn by ui:" + token_name not in page.inner_text("main"):
        problems.append("stale: withdrawing did not show the withdrawal:\n" + page.inner_text("main")[:1500])

    browser.close()

if blocked:
    problems.append("the Content-Security-Policy blocked: " + "; ".join(blocked[:5]))
if problems:
    sys.exit("\n".join(problems))
print("TOUR OK")
