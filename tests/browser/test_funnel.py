"""The funnel page in a real browser: both charts draw, and a number opens its leads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.browser.test_pages_in_chromium import log_in
from tests.factories import make_lead

pytestmark = pytest.mark.browser


def test_the_funnel_draws_its_charts_and_drills_down_to_the_leads(page: Page, live_server, eve):
    start = timezone.now() - timedelta(days=20)
    make_lead(
        email="went-on@x.io",
        source="webinar",
        created_at=start,
        lead_at=start,
        mql_at=start + timedelta(days=2),
    )
    make_lead(email="stayed@x.io", source="webinar", created_at=start, lead_at=start)
    make_lead(email="other@x.io", source="event", created_at=start, lead_at=start)

    log_in(page, live_server.url, eve.email)
    page.goto(f"{live_server.url}/analytics/funnel/")
    expect(page.locator("#funnel-groups tr[data-group]")).to_have_count(2)
    for chart in ("funnel-chart", "funnel-trend"):
        drawn = page.evaluate(f"() => !!Chart.getChart(document.getElementById('{chart}'))")
        assert drawn, chart
    page.click("#funnel-groups tr[data-group=webinar] td[data-stage=lead] a >> nth=0")
    expect(page.locator("body")).to_contain_text("went-on@x.io")
    expect(page.locator("body")).not_to_contain_text("stayed@x.io")
