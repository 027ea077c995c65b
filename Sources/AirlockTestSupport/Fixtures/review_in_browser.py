#!/usr/bin/env python3
"""Drives airlock's web UI in real Chromium (Debian's /usr/bin/chromium) with Playwright, as a reviewer.

usage: review_in_browser.py BASE_URL TOKEN PROJECT SCREENSHOT_DIR

Signs in with the token, opens the queue, opens the project, approves it with a reason; saves
queue.png and project.png. Prints APPROVED when the project page shows the approval.
"""
import os
import sys

from playwright.sync_api import sync_playwright

base, token, project, shots = sys.argv[1:5]
os.makedirs(shots, exist_ok=True)
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"), args=["--no-sandbox"])
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(base + "/ui/login")
    page.fill("#token", token)
    page.click("#sign-in")
    page.wait_for_selector("#queue")
    row = page.locator("#queue tr", has_text=project)
    if row.count() == 0:
        sys.exit("the queue does not list " + project + ":\n" + page.inner_text("body"))
    page.screenshot(path=os.path.join(shots, "queue.png"), full_page=True)
    row.locator("a").first.click()
    page.wait_for_selector("#decide")
    page.screenshot(path=os.path.join(shots, "project.png"), full_page=True)
    page.fill("#reason", "reviewed in the browser test: maintainer known, code read")
    page.click("#approve")
    page.wait_for_load_state()
    body = page.inner_text("body")
    if "reviewed in the browser test" not in body:
        sys.exit("the approval is not shown:\n" + body)
    print("APPROVED")
    browser.close()
