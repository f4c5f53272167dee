"""Follows a message's silence link in a real browser (Playwright with Debian's chromium).

Usage: silence_link.py LINK TOKEN DATABASE COMMENT
The link leads to the status page behind the admin login: the login form shows first, and
signing in goes on to the page the link named, whose silence form is then filled in with
DATABASE and COMMENT; nothing is added until the form is sent. Prints "PREFILLED", then sends
the form (with a word added to the comment) and prints "ADDED <what the page said>". Any
failure raises (exit status 1).
"""

import sys

from browser import launch
from playwright.sync_api import expect, sync_playwright


def main():
    link, token, database, comment = sys.argv[1:5]
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page()
        page.goto(link)
        expect(page.get_by_label("Admin token")).to_be_visible()
        page.get_by_label("Admin token").fill(token)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/?silence=*")
        form = page.locator("#add-silence")
        expect(form.get_by_label("Database (organization/database, a glob)")).to_have_value(database)
        expect(form.get_by_label("Comment (why, and who)")).to_have_value(comment)
        expect(page.locator("#silences")).to_contain_text("No silence is active or waiting.", timeout=15000)
        print("PREFILLED", flush=True)
        form.get_by_label("Comment (why, and who)").fill(comment + "known, being fixed")
        form.get_by_role("button", name="Add silence").click()
        expect(page.locator("#action")).to_contain_text("added", timeout=15000)
        print("ADDED " + page.locator("#action").inner_text(), flush=True)
        browser.close()


if __name__ == "__main__":
    main()
