"""A user's round trip in a real browser: log in, the chart, filter leads, a lead, log out."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from closedloop.crm.models import LeadSource
from closedloop.crm.models import LifecycleStage as S
from closedloop.crm.services import change_stage
from tests.factories import make_account, make_lead

pytestmark = pytest.mark.browser

PASSWORD = "pw-for-tests"  # what tests.factories.make_user sets


def log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Revenue cycle")


def test_log_in_see_the_chart_filter_leads_open_one_and_log_out(
    page: Page, live_server, ada, alice
):
    now = timezone.now()
    account = make_account("Initech", domain="initech.example")
    hot = make_lead(
        owner=alice,
        first_name="Peter",
        last_name="Gibbons",
        account=account,
        source=LeadSource.WEBINAR,
        created_at=now - timedelta(days=1),
    )
    change_stage(hot, to=S.MQL, reason="attended the webinar")
    for i in range(4):
        make_lead(
            first_name=f"Cold{i}", source=LeadSource.EMAIL, created_at=now - timedelta(weeks=i)
        )

    log_in(page, live_server.url, ada.email)

    canvas = page.locator("canvas#weekly-chart")
    expect(canvas).to_be_visible()
    page.wait_for_function(
        "() => window.Chart && Chart.getChart(document.getElementById('weekly-chart'))"
    )
    drawn = page.evaluate("""() => {
        const chart = Chart.getChart(document.getElementById('weekly-chart'));
        return {sets: chart.data.datasets.map(d => d.label),
                total: chart.data.datasets.flatMap(d => d.data).reduce((a, b) => a + b, 0),
                width: chart.width};
    }""")
    assert drawn["sets"] == ["Email", "Webinar"] and drawn["total"] == 5 and drawn["width"] > 100
    expect(page.locator('#stage-counts [data-stage="mql"] .kpi-value')).to_have_text("1")

    page.click("nav >> text=Leads")
    expect(page.locator("#lead-table tbody tr")).to_have_count(5)
    page.select_option("select[name=stage]", "mql")  # htmx swaps the results, no reload
    expect(page.locator("#lead-table tbody tr")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"stage=mql"))
    page.fill("#filter-q", "cold")
    expect(page.locator("#lead-table tbody")).to_contain_text("No leads match")

    page.select_option("select[name=stage]", "")
    expect(page.locator("#lead-table tbody tr")).to_have_count(4)
    page.fill("#filter-q", "gibbons")
    page.click("#lead-filters button[type=submit]")
    page.click("text=Peter Gibbons")
    expect(page.locator("h1")).to_have_text("Peter Gibbons")
    expect(page.locator("#lead-account")).to_contain_text("initech.example")
    expect(page.locator("#stage-history")).to_contain_text("attended the webinar")

    page.click("text=Log out")
    expect(page).to_have_url(re.compile(r"/login/"))
    page.goto(f"{live_server.url}/leads/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/leads/"))


def test_a_rep_sees_only_their_teams_leads_in_the_browser(page: Page, live_server, alice, charlie):
    make_lead(owner=alice, first_name="Mine")
    theirs = make_lead(owner=charlie, first_name="Theirs")
    log_in(page, live_server.url, alice.email)
    page.goto(f"{live_server.url}/leads/")
    expect(page.locator("#lead-table tbody")).to_contain_text("Mine")
    expect(page.locator("#lead-table tbody")).not_to_contain_text("Theirs")
    response = page.goto(f"{live_server.url}/leads/{theirs.pk}/")
    assert response is not None and response.status == 404
