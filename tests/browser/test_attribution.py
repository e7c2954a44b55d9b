"""Comparing two attribution models in a real browser: the chart draws, the table follows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from closedloop.crm.models import OpportunityContact
from closedloop.engagement.models import Touchpoint
from tests.browser.test_pages_in_chromium import log_in
from tests.factories import make_lead, make_opportunity

pytestmark = pytest.mark.browser


def test_compare_first_and_last_touch_and_see_the_chart(page: Page, live_server, eve, alice):
    start = timezone.now() - timedelta(days=10)
    lead = make_lead(owner=alice, created_at=start)
    for n, channel in enumerate(["search", "email"]):
        Touchpoint.objects.create(
            lead=lead, type="page_view", channel=channel, occurred_at=start + timedelta(days=n)
        )
    opportunity = make_opportunity(owner=alice, amount=900)
    opportunity.created_at = start + timedelta(days=3)
    opportunity.save()
    OpportunityContact.objects.create(opportunity=opportunity, lead=lead)

    log_in(page, live_server.url, eve.email)
    page.click("nav >> text=Attribution")
    expect(page.locator("h1")).to_have_text("Attribution")
    for box in page.locator("input[name=models]").all():
        box.set_checked(box.get_attribute("value") in ("first", "last"))
    page.click("#attribution-form button[type=submit]")
    expect(page.locator("#attribution-table th[data-model]")).to_have_count(2)
    expect(page.locator("#disagreements")).to_contain_text("search")
    drawn = page.evaluate(
        "() => Chart.getChart(document.getElementById('attribution-chart')).data.datasets.length"
    )
    assert drawn == 2
