"""Two teams change the MQL rule in a real browser: draft, simulate, sign twice, leads move."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from closedloop.crm.models import Lead, LifecycleStage, StageChange
from closedloop.engagement.models import Touchpoint
from tests.factories import make_lead

pytestmark = pytest.mark.browser

PASSWORD = "pw-for-tests"  # what tests.factories.make_user sets


def log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("header.topbar")).to_be_visible()


def warm_lead(owner, name: str) -> Lead:
    """An A+ fit lead (software, 500 people, VP, US) with 30 points of engagement: two forms
    this week. Under the default rule (40 points) it is not an MQL; under 25 it is."""
    now = timezone.now()
    lead = make_lead(
        owner=owner,
        first_name=name,
        last_name="Warm",
        industry="Software",
        employees=500,
        seniority="VP",
        country="US",
        email=f"{name.lower()}@corp.example",
        created_at=now - timedelta(days=10),
    )
    Touchpoint.objects.bulk_create(
        Touchpoint(lead=lead, type="form", occurred_at=now - timedelta(hours=h)) for h in (2, 3)
    )
    return lead


@pytest.fixture
def second_page(browser: Browser):
    """A page in a separate browser context: a second person with their own session."""
    context = browser.new_context()
    yield context.new_page()
    context.close()


def test_marketing_and_sales_lower_the_mql_bar_and_leads_move(
    page: Page, second_page: Page, live_server, mia, alice, max_manager
):
    leads = [warm_lead(alice, "Ada"), warm_lead(alice, "Grace")]
    cold = make_lead(
        owner=alice,
        first_name="Cold",
        industry="Retail",
        employees=5,
        created_at=timezone.now() - timedelta(days=10),
    )

    # Marketing drafts the change …
    log_in(page, live_server.url, mia.email)
    page.click("nav >> text=Definitions")
    expect(page.locator("#agreement-mql")).to_contain_text("at least 40 points")
    page.click("#start-draft")
    page.fill("input[name='mql_rule.min_engagement']", "-3")
    page.click("#save-draft")
    expect(page.locator("#error-summary")).to_contain_text("cannot be negative")
    page.fill("input[name='mql_rule.min_engagement']", "25")
    page.fill("#change_note", "Two forms in a week is enough for a good-fit lead.")
    page.click("#save-draft")
    expect(page.locator("#changes")).to_contain_text("MQL minimum engagement 40 → 25")

    # … simulates it against the last 90 days …
    page.click("#simulate")
    expect(page.locator("#sim-candidate-mqls")).to_have_text("2")
    expect(page.locator("#sim-active-mqls")).to_have_text("0")
    page.wait_for_function(
        "() => Chart.getChart(document.querySelector('#simulation-result canvas')) !== undefined"
    )

    # … and signs for marketing; nothing changes yet.
    page.click("#sign")
    expect(page.locator(".flash")).to_contain_text("takes effect when the other team signs")
    expect(page.locator("#version-status")).to_have_text("Draft")
    assert not Lead.objects.filter(lifecycle_stage=LifecycleStage.MQL).exists()
    version_url = page.url

    # The sales manager signs (the signer setting's default) in their own session; the version
    # is in force and the leads are rescored.
    sales = second_page
    log_in(sales, live_server.url, max_manager.email)
    sales.goto(version_url)
    expect(sales.locator("[data-side=marketing]")).to_contain_text("Mia")
    sales.click("#sign")
    expect(sales.locator(".flash")).to_contain_text("now in force")
    expect(sales.locator("#version-status")).to_have_text("Active")

    for lead in leads:
        sales.goto(f"{live_server.url}/leads/{lead.pk}/")
        expect(sales.locator("#lead-stage")).to_have_text("MQL")
    sales.goto(f"{live_server.url}/leads/{cold.pk}/")
    expect(sales.locator("#lead-stage")).to_have_text("Lead")

    moves = StageChange.objects.filter(to_stage=LifecycleStage.MQL)
    assert sorted(m.lead_id for m in moves) == sorted(lead.pk for lead in leads)
    assert {m.rule_version for m in moves} == {2}
