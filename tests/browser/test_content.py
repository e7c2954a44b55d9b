"""A rep searches the library, finds nothing and asks marketing for content; marketing
fulfils the request; the rep shares the asset with the lead; the buyer opens the link; the
view shows on the lead's timeline."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from closedloop.content.usage_models import ContentRequest
from tests.browser.test_handoff import log_in
from tests.content import files
from tests.factories import make_lead

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(os.environ.get("CLOSEDLOOP_SCREENSHOTS", tempfile.gettempdir()))


@pytest.fixture
def other_context(browser: Browser):
    contexts = []

    def new_page() -> Page:
        context = browser.new_context()
        contexts.append(context)
        return context.new_page()

    yield new_page
    for context in contexts:
        context.close()


def test_a_request_fulfilled_shared_and_viewed_by_the_buyer(
    page: Page, other_context, live_server, alice, mia, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    base = live_server.url
    lead = make_lead(owner=alice, first_name="Hana", last_name="Hospital")

    # The rep searches and finds nothing.
    log_in(page, base, alice.email)
    page.goto(f"{base}/content/?q=hospital+pricing")
    expect(page.locator("#results-title")).to_contain_text("0 assets")
    page.screenshot(path=SCREENSHOTS / "content-1-search-nothing.png", full_page=True)

    # She asks marketing from the lead's page.
    page.goto(f"{base}/leads/{lead.pk}/")
    page.click("#ask-content")
    page.fill("textarea[name=what]", "A pricing one-pager for hospitals")
    page.select_option("select[name=urgency]", "high")
    page.click("#request-form button[type=submit]")
    expect(page.locator("#request-searches")).to_contain_text("hospital pricing")
    page.screenshot(path=SCREENSHOTS / "content-2-request.png", full_page=True)
    request = ContentRequest.objects.get()

    # Marketing uploads the asset, publishes it and fulfils the request with it.
    marketing = other_context()
    log_in(marketing, base, mia.email)
    pdf = tmp_path / "hospital-pricing.pdf"
    pdf.write_bytes(files.pdf_bytes("Hospital pricing: what a 300-bed hospital pays"))
    marketing.goto(f"{base}/content/new/")
    marketing.fill("input[name=title]", "Hospital pricing one-pager")
    marketing.select_option("select[name=kind]", "one_pager")
    marketing.set_input_files("input[type=file]", str(pdf))
    marketing.click("form:has(input[name=title]) button[type=submit]")
    marketing.click("#publish")
    marketing.goto(f"{base}/content/requests/")
    marketing.click(f"tr[data-request='{request.pk}'] a")
    marketing.click("#request-take")
    marketing.select_option("#fulfil-asset", label="Hospital pricing one-pager")
    marketing.click("#fulfil-form button[type=submit]")
    expect(marketing.locator("#request-status")).to_have_attribute("data-status", "fulfilled")
    marketing.screenshot(path=SCREENSHOTS / "content-3-fulfilled.png", full_page=True)

    # The rep shares it with the lead: a tracked link, shown once.
    page.goto(f"{base}/leads/{lead.pk}/")
    page.select_option("#share-asset", label="Hospital pricing one-pager")
    page.click("#share-form button[type=submit]")
    url = page.locator("#share-url").input_value()
    assert "/s/" in url
    page.screenshot(path=SCREENSHOTS / "content-4-link.png", full_page=True)

    # The buyer opens it (no login): the PDF, and nothing else about anyone.
    buyer = other_context()
    response = buyer.request.get(url)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"

    # The view is on the lead's timeline, and the rep was told.
    page.goto(f"{base}/leads/{lead.pk}/")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Content viewed")
    expect(timeline).to_contain_text("Hospital pricing one-pager")
    expect(page.locator("#shared-links")).to_contain_text("opened 1×")
    page.screenshot(path=SCREENSHOTS / "content-5-timeline.png", full_page=True)
