"""The opportunity board in chromium: a rep drags a deal to the next stage, moves it on with
the keyboard, and drags it to Closed won, which opens the close form in a dialog."""

from __future__ import annotations

import os
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from closedloop.crm.models import Opportunity, OpportunityContact
from closedloop.crm.services import ensure_default_close_reasons
from tests.browser.test_handoff import after_htmx_settles, log_in
from tests.factories import make_account, make_lead, make_opportunity

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(os.environ.get("CLOSEDLOOP_SCREENSHOTS", tempfile.gettempdir()))


@pytest.fixture
def acme_deal(alice):
    ensure_default_close_reasons()  # a transactional test may follow a flush of the migration
    account = make_account("Acme Corp", owner=alice)
    lead = make_lead(owner=alice, account=account, first_name="Dana", last_name="Buyer")
    deal = make_opportunity(
        account=account, owner=alice, name="Acme platform", amount=Decimal("48000")
    )
    OpportunityContact.objects.create(opportunity=deal, lead=lead, role="decision_maker")
    return deal, lead


def stage_of(deal: Opportunity) -> str:
    deal.refresh_from_db()
    return deal.stage


def test_a_rep_drags_a_deal_along_the_board_and_closes_it_won(
    page: Page, live_server, alice, acme_deal
):
    deal, lead = acme_deal
    log_in(page, live_server.url, alice.email)
    page.click("nav >> text=Pipeline")
    card = page.locator(f"#opp-{deal.pk}")
    expect(page.locator("#column-discovery")).to_contain_text("Acme platform")
    expect(card).to_contain_text("Acme Corp")

    after_htmx_settles(page, lambda: card.drag_to(page.locator("#column-proposal")))
    expect(page.locator(f"#column-proposal #opp-{deal.pk}")).to_be_visible()
    expect(page.locator('#column-proposal [data-figure="count"]')).to_have_text("1")
    assert stage_of(deal) == "proposal"

    # The keyboard way: the card's "next" control, and the focus stays on the card.
    page.locator(f"#opp-{deal.pk} [data-move=next]").focus()
    after_htmx_settles(page, lambda: page.keyboard.press("Enter"))
    expect(page.locator(f"#column-negotiation #opp-{deal.pk}")).to_be_visible()
    assert stage_of(deal) == "negotiation"
    focused = page.evaluate("() => document.activeElement.closest('.deal-card')?.id")
    assert focused == f"opp-{deal.pk}"
    page.screenshot(path=str(SCREENSHOTS / "pipeline-board.png"), full_page=True)

    page.locator(f"#opp-{deal.pk}").drag_to(page.locator("#column-won"))
    dialog = page.locator("#close-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("input[name=outcome][value=won]")).to_be_checked()
    dialog.locator("select[name=reason]").select_option("value")
    dialog.locator("textarea[name=note]").fill("Best fit for their data team")
    dialog.locator("#close-submit").click()
    expect(page.locator(f"#column-won #opp-{deal.pk}")).to_be_visible()
    assert stage_of(deal) == "won"

    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    expect(page.locator(f'#lead-opportunities [data-opportunity="{deal.pk}"]')).to_contain_text(
        "Acme platform"
    )


def test_the_board_works_without_javascript(browser, live_server, alice, acme_deal):
    deal, _ = acme_deal
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, live_server.url, alice.email)
        page.goto(f"{live_server.url}/pipeline/")
        page.locator(f"#opp-{deal.pk} [data-move=next]").click()
        expect(page.locator(f"#column-proposal #opp-{deal.pk}")).to_be_visible()
        assert stage_of(deal) == "proposal"
        page.locator(f"#opp-{deal.pk} [data-move=close]").click()
        page.check("input[name=outcome][value=lost]")
        page.select_option("select[name=lost_reason]", "price")
        page.fill("textarea[name=note]", "Went with a cheaper tool")
        page.click("#close-submit")
        expect(page.locator(f"#column-lost #opp-{deal.pk}")).to_be_visible()
        assert stage_of(deal) == "lost"
    finally:
        context.close()
