"""The scoreboard in a real browser: tiles and charts draw, a tile drills down to its leads,
and two attribution models are compared from there."""

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


def test_open_the_scoreboard_drill_into_mqls_and_compare_two_models(
    page: Page, live_server, eve, alice
):
    now = timezone.now()
    lead = make_lead(owner=alice, created_at=now - timedelta(days=3), source="webinar")
    lead.mql_at = now - timedelta(days=2)
    lead.save()
    for n, channel in enumerate(["search", "email"]):
        Touchpoint.objects.create(
            lead=lead, type="page_view", channel=channel, occurred_at=now - timedelta(days=3 - n)
        )
    deal = make_opportunity(owner=alice, amount=5000)
    deal.created_at = now - timedelta(hours=1)
    deal.save()
    OpportunityContact.objects.create(opportunity=deal, lead=lead)

    log_in(page, live_server.url, eve.email)
    page.click("nav >> text=Scoreboard")
    expect(page.locator("h1")).to_have_text("Scoreboard")
    tile = page.locator('[data-figure="mqls"] .kpi-value')
    expect(tile).to_have_text("1")
    drawn = page.evaluate(
        "() => Chart.getChart(document.getElementById('money-chart')).data.datasets.length"
    )
    assert drawn == 2

    page.click('[data-drill="mqls"]')
    expect(page.locator("#drill-table tr[data-lead]")).to_have_count(1)
    page.click(f"#drill-table tr[data-lead='{lead.pk}'] a")
    expect(page).to_have_url(f"{live_server.url}/leads/{lead.pk}/")

    page.goto(f"{live_server.url}/analytics/attribution/")
    for box in page.locator("input[name=models]").all():
        box.set_checked(box.get_attribute("value") in ("last", "j_shaped"))
    page.click("#attribution-form button[type=submit]")
    expect(page.locator("#attribution-table th[data-model]")).to_have_count(2)
    expect(page.locator("#disagreements")).to_contain_text("search")
