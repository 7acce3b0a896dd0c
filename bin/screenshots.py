#!/usr/bin/env python
"""Full-page screenshots of the main pages of a running BillingPulse server.

Signs up a fresh practice (a unique email each run), then saves one PNG per page:

    .venv/bin/python bin/screenshots.py [SERVER_URL] [--out DIR] [--viewport 1366x900]

SERVER_URL defaults to http://127.0.0.1:8000 and DIR to ./screenshots. Chromium is taken
from $BROWSER_EXECUTABLE (default /usr/bin/chromium, Debian's ``chromium`` package).
The server must be one you can write to: the script creates a practice, an invitation
for a teammate and an API token.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

EXECUTABLE = os.environ.get("BROWSER_EXECUTABLE", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "a-long-unusual-passphrase"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("server", nargs="?", default="http://127.0.0.1:8000", help="base URL of a running server")
    parser.add_argument("--out", type=Path, default=Path("screenshots"), help="folder for the PNG files")
    parser.add_argument("--viewport", default="1366x900", help="WIDTHxHEIGHT (default 1366x900)")
    return parser.parse_args(argv)


class Shooter:
    def __init__(self, page: Page, out: Path) -> None:
        self.page = page
        self.out = out
        self.count = 0

    def shoot(self, name: str) -> Path:
        self.count += 1
        self.page.wait_for_load_state("networkidle")
        path = self.out / f"{self.count:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        sys.stdout.write(f"{path}\n")
        return path


def run(page: Page, out: Path) -> None:
    stamp = f"{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:6]}"
    email = f"screens-{stamp}@example.com"
    shots = Shooter(page, out)

    page.goto("/accounts/login/")
    shots.shoot("sign-in")

    page.goto("/signup/")
    shots.shoot("sign-up")
    page.get_by_label("Your name").fill("Dana Scully")
    page.get_by_label("Work email").fill(email)
    page.get_by_label("Password").fill("password123")
    page.get_by_label("Practice name").fill("Northside Pediatrics")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#id_password_error")).to_be_visible()
    shots.shoot("sign-up-errors")

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Get your practice ready")).to_be_visible()
    shots.shoot("dashboard")

    page.locator("details.user-menu > summary").click()
    shots.shoot("user-menu-open")
    page.locator("details.user-menu > summary").click()

    page.goto("/settings/team/")
    shots.shoot("team")
    invite = page.locator("form[action$='/settings/team/invite/']")
    invite.get_by_label("Name").fill("Bob Biller With A Rather Long Name")
    invite.get_by_label("Email").fill(f"teammate-{stamp}@example.com")
    invite.get_by_role("button").click()
    expect(page.locator("#messages")).to_contain_text("Invitation sent to")
    shots.shoot("team-with-invitation")

    page.goto("/settings/practice/")
    shots.shoot("practice-settings")

    page.goto("/claims/")
    shots.shoot("coming-soon-claims")

    page.goto("/settings/api-token/")
    shots.shoot("api-token")
    page.get_by_role("button", name="Create token").click()
    expect(page.locator("pre.token")).to_be_visible()
    shots.shoot("api-token-created")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if not os.path.isfile(EXECUTABLE):
        sys.stderr.write(f"Chromium not installed at {EXECUTABLE} (apt-get install chromium)\n")
        return 2
    width, height = (int(part) for part in args.viewport.lower().split("x"))
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=EXECUTABLE, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                base_url=args.server.rstrip("/"), viewport={"width": width, "height": height}, locale="en-US"
            )
            context.set_default_timeout(15_000)
            run(context.new_page(), args.out)
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
