"""An admin invites a rep from Settings; the rep sets a password through the link and logs in."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(os.environ.get("CLOSEDLOOP_SCREENSHOTS", tempfile.gettempdir()))
PASSWORD = "pw-for-tests"  # what tests.factories.make_user sets


def log_in(page: Page, base: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    expect(page.locator("header.topbar")).to_be_visible()


def test_an_admin_invites_a_rep_who_sets_a_password_and_logs_in(
    page: Page, browser, live_server, ada, east
):
    log_in(page, live_server.url, ada.email)
    page.click("nav >> text=Settings")
    page.click(".tabs >> text=Users")
    form = page.locator("#invite-form")
    form.locator("input[name=email]").fill("nina@example.com")
    form.locator("input[name=first_name]").fill("Nina")
    form.locator("input[name=last_name]").fill("Berg")
    form.locator("select[name=role]").select_option("rep")
    form.locator("select[name=team]").select_option(label="East")
    form.locator("button[type=submit]").click()
    expect(page.locator("#people")).to_contain_text("Nina Berg")
    expect(page.locator("#people")).to_contain_text("Invited")
    page.screenshot(path=SCREENSHOTS / "settings-users.png", full_page=True)
    link = page.locator("#invite-link code").inner_text()

    context = browser.new_context()
    nina = context.new_page()
    nina.goto(link)
    expect(nina.locator("h1")).to_contain_text("Welcome, Nina Berg")
    nina.fill("input[name=new_password1]", "a long passphrase 42")
    nina.fill("input[name=new_password2]", "a long passphrase 42")
    nina.click("#set-password-form button[type=submit]")
    expect(nina.locator(".flash")).to_contain_text("Your password is set")
    log_in(nina, live_server.url, "nina@example.com", "a long passphrase 42")
    expect(nina.locator("header .who")).to_contain_text("Nina Berg · Sales rep")
    context.close()
