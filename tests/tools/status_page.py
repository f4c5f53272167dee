"""Drives the status page in a real browser (Playwright with Debian's chromium).

Usage: status_page.py BASE_URL TOKEN SCREENSHOT
Talks to the Rust test by lines: prints "SEEN copying" once the page shows the workflow in
`copying`, waits for "moved" on standard input, prints "SEEN running" once the page (not
reloaded) shows it in `running` with a dead letter, waits for "retry", clicks the dead letter's
Retry button, prints "CLICKED <what the page said>", then expects the silence the test added in
the Silences section, clicks its Expire button and prints "EXPIRED <what the page said>". Then
it adds a silence with the page's form: one with a misspelt event type is refused with the
reason, one for acme/commerce's workflow events for 30m is added and listed as active; it keeps
the screenshot and prints "ADDED <what the page said>". Any failure raises (exit status 1).
"""

import re
import sys

from browser import launch
from playwright.sync_api import expect, sync_playwright


def say(line):
    print(line, flush=True)


def wait_for(word):
    line = sys.stdin.readline().strip()
    if line != word:
        raise SystemExit("expected %r on standard input, got %r" % (word, line))


def main():
    base, token, screenshot = sys.argv[1:4]
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page()
        page.goto(base + "/")
        # The admin token guards the page: sign in.
        expect(page.get_by_label("Admin token")).to_be_visible()
        page.get_by_label("Admin token").fill(token)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(base + "/")
        databases = page.locator("#databases")
        expect(databases.get_by_role("cell", name="workflow #1 move-a")).to_be_visible(timeout=15000)
        expect(databases.get_by_role("cell", name="copying", exact=True)).to_be_visible()
        page.evaluate("window.pswatchNotReloaded = true")
        say("SEEN copying")

        wait_for("moved")
        expect(databases.get_by_role("cell", name="running", exact=True)).to_be_visible(timeout=15000)
        retry = page.get_by_role("button", name="Retry dead letter").first
        expect(retry).to_be_visible(timeout=15000)
        if not page.evaluate("window.pswatchNotReloaded === true"):
            raise SystemExit("the page reloaded instead of following the change")
        expect(page.locator("#recent")).to_contain_text("copying -> running")
        # Times are read to the second.
        expect(page.locator("#recent")).to_contain_text(re.compile(r"\d\d:\d\d:\d\dZ acme/commerce"))
        say("SEEN running")

        wait_for("retry")
        retry.click()
        expect(page.get_by_role("status")).to_contain_text("is back in the outbox", timeout=10000)
        expect(page.get_by_role("button", name="Retry dead letter")).to_have_count(0, timeout=15000)
        say("CLICKED " + page.get_by_role("status").inner_text())

        silences = page.locator("#silences")
        expect(silences).to_contain_text("planned cutover", timeout=15000)
        expect(silences).to_contain_text("active")
        page.get_by_role("button", name="Expire silence").first.click()
        expect(page.get_by_role("status")).to_contain_text("expired", timeout=10000)
        expect(silences).to_contain_text("No silence is active or waiting", timeout=15000)
        say("EXPIRED " + page.get_by_role("status").inner_text())

        form = page.get_by_role("form", name="Add a silence")
        form.get_by_label("Database").fill("acme/commerce")
        form.get_by_label("Event types").fill("workflows.*")
        form.get_by_label("Comment").fill("cutover of move-a, from the page")
        form.get_by_role("button", name="Add silence").click()
        expect(page.get_by_role("status")).to_contain_text("matches no event type", timeout=10000)
        expect(silences).to_contain_text("No silence is active or waiting")
        # A refused silence keeps what was typed: mend the event type.
        form.get_by_label("Event types").fill("workflow.*")
        form.get_by_label("For").fill("30m")
        form.get_by_role("button", name="Add silence").click()
        expect(page.get_by_role("status")).to_contain_text("added", timeout=10000)
        expect(silences).to_contain_text("cutover of move-a, from the page", timeout=15000)
        expect(silences.get_by_role("cell", name="active", exact=True)).to_be_visible()
        page.screenshot(path=screenshot, full_page=True)
        say("ADDED " + page.get_by_role("status").inner_text())
        browser.close()


if __name__ == "__main__":
    main()
