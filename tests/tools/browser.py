"""How the page tests start Debian's chromium through Playwright: its own binary (Playwright's
download cannot be reached from the test machines) with nothing that talks to the network."""

CHROMIUM = "/usr/bin/chromium"

ARGUMENTS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch(playwright):
    """A headless chromium for one test."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGUMENTS)
