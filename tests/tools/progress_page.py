"""Checks what the status page draws of progress, in a real browser (Playwright with Debian's
chromium).

Usage: progress_page.py BASE_URL TOKEN SCREENSHOT
Signs in with the admin token, then expects: workflow #3's journey as a list of its six phases,
the two it passed with their times, the current one ("Replicas switched") marked for assistive
technology (aria-current) and in text ("now, since ...") as well as in colour, the phases ahead
marked "not yet"; deploy request #9's tables each as a progress bar with its percentage and ETA
in its accessible name and beside it; the resize and the backup under way. Keeps a screenshot
of the databases section and prints "OK". Any failure raises (exit status 1).
"""

import re
import sys

from browser import launch
from playwright.sync_api import expect, sync_playwright


def main():
    base, token, screenshot = sys.argv[1:4]
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        # No request leaves loopback: the page needs nothing from elsewhere.
        outside = []
        page.on("request", lambda request: outside.append(request.url)
                if not request.url.startswith(base) else None)
        page.goto(base + "/")
        page.get_by_label("Admin token").fill(token)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(base + "/")

        phases = page.get_by_role("list", name="Phases of Workflow #3 move-customers")
        expect(phases).to_be_visible(timeout=15000)
        items = phases.get_by_role("listitem")
        expect(items).to_have_count(6)
        expect(items.nth(0)).to_contain_text("Copying")
        expect(items.nth(0)).to_contain_text("2026-11-23 08:00 UTC")
        expect(items.nth(1)).to_contain_text("Running")
        expect(items.nth(1)).to_contain_text("2026-11-23 09:30 UTC")
        current = phases.locator("[aria-current=step]")
        expect(current).to_have_count(1)
        expect(current).to_contain_text("Replicas switched")
        expect(current).to_contain_text("now, since 2026-11-23 11:00 UTC")
        for index in (3, 4, 5):
            expect(items.nth(index)).to_contain_text("not yet")
        # The current phase stands out in colour too, not only in text.
        colours = {
            "current": current.evaluate("node => getComputedStyle(node).backgroundColor"),
            "ahead": items.nth(4).evaluate("node => getComputedStyle(node).backgroundColor"),
        }
        if colours["current"] == colours["ahead"]:
            raise SystemExit("the current phase has the colour of the others: %r" % colours)

        bars = page.get_by_role("list", name="Tables of Deploy request #9")
        expect(bars).to_be_visible()
        orders = bars.get_by_role("progressbar", name=re.compile(r"^orders: 42 %, about 12 min left$"))
        expect(orders).to_be_visible()
        expect(orders).to_have_attribute("value", "42.5")
        expect(bars).to_contain_text("42 %, about 12 min left")
        customers = bars.get_by_role("progressbar", name=re.compile(r"^customers: 100 %"))
        expect(customers).to_have_attribute("value", "100")
        items_bar = bars.get_by_role("progressbar", name=re.compile(r"^items: pending"))
        expect(items_bar).to_have_attribute("value", "0")

        under_way = page.get_by_role("list", name="Under way in acme/commerce")
        expect(under_way).to_contain_text("Resize rs1: resizing")
        expect(under_way).to_contain_text("Backup bk2 of main: running")

        if outside:
            raise SystemExit("the page asked for something elsewhere: %r" % outside)
        page.locator("#databases-heading").scroll_into_view_if_needed()
        page.screenshot(path=screenshot, full_page=False)
        browser.close()
    print("OK", flush=True)


if __name__ == "__main__":
    main()
