"""Reads the Replicas section of the status page in a real browser (Playwright with Debian's
chromium).

Usage: replicas_page.py BASE_URL TOKEN LEADER STANDBY [DATABASE RESOURCE]
Signs in, waits until the section names both replicas, the LEADER as the leader, and prints
"REPLICAS <the section's first sentence>"; on a standby, also "REPORT <its second>". With
DATABASE and RESOURCE (`acme/commerce`, `workflow #3`), waits until the databases list that
resource in motion and the recent events name it, and prints "DATABASE <its table's caption>".
Any failure raises (exit status 1).
"""

import sys

from browser import launch
from playwright.sync_api import expect, sync_playwright


def main():
    base, token, leader, standby = sys.argv[1:5]
    database, resource = (sys.argv[5:7] + [None, None])[:2]
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page()
        page.goto(base + "/")
        page.get_by_label("Admin token").fill(token)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(base + "/")
        section = page.locator("#replicas-section")
        expect(section).to_be_visible(timeout=15000)
        table = section.get_by_role("table", name="Replicas")
        expect(table.get_by_role("cell", name=leader, exact=True)).to_be_visible(timeout=15000)
        expect(table.get_by_role("cell", name=standby, exact=True)).to_be_visible()
        expect(table.get_by_role("row").filter(has_text=leader).get_by_role("cell", name="leader", exact=True)).to_be_visible()
        sentence = section.locator("p").first.inner_text()
        print("REPLICAS " + sentence, flush=True)
        if section.locator("p").count() > 1:
            print("REPORT " + section.locator("p").nth(1).inner_text(), flush=True)
        if database:
            databases = page.locator("#databases")
            caption = databases.locator("caption").filter(has_text=database)
            expect(caption).to_be_visible(timeout=15000)
            expect(databases.get_by_role("cell", name=resource)).to_have_count(1)
            expect(page.locator("#recent").get_by_text(resource)).not_to_have_count(0)
            print("DATABASE " + caption.first.inner_text(), flush=True)
        browser.close()


if __name__ == "__main__":
    main()
