"""The sales half of the loop in chromium, end to end: a rep qualifies an accepted lead on its
page (the contract's SQL rule), which opens the opportunity; the rep drags it along the board,
moves it on with the keyboard and closes it won with a reason and a note; the won deal then
shows on the lead's page, the account's page and the home page."""

from __future__ import annotations

import os
import re
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from closedloop.crm.models import LifecycleStage, Opportunity
from closedloop.crm.services import ensure_default_close_reasons
from tests.browser.test_handoff import after_htmx_settles, log_in
from tests.factories import make_account, make_lead

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(os.environ.get("CLOSEDLOOP_SCREENSHOTS", tempfile.gettempdir()))


@pytest.fixture
def accepted_lead(alice):
    ensure_default_close_reasons()  # a transactional test before this one may have flushed them
    account = make_account("Fjord Logistics", owner=alice)
    return make_lead(
        owner=alice,
        account=account,
        stage=LifecycleStage.SAL,
        first_name="Dana",
        last_name="Buyer",
        company="Fjord Logistics",
        title="VP Operations",
    )


def qualify(page: Page, lead) -> None:
    form = page.locator("#qualify-form")
    expect(form).to_be_visible()
    evidence = {
        "budget": "Budget approved for Q3",
        "authority": "Dana signs",
        "need": "Routing is manual",
    }
    for name, text in evidence.items():
        form.locator(f"input[name=confirmed][value={name}]").check()
        form.locator(f"input[name=evidence_{name}]").fill(text)
    form.locator("input[name=open_deal]").check()
    form.locator("input[name=deal_name]").fill("Fjord platform")
    form.locator("input[name=deal_amount]").fill("48000")
    close = timezone.localdate() + timedelta(days=45)
    form.locator("input[name=deal_close_date]").fill(close.isoformat())
    form.locator("input[name=deal_next_step]").fill("Send the proposal")
    page.screenshot(path=str(SCREENSHOTS / "e2e-qualify-form.png"), full_page=True)
    after_htmx_settles(page, lambda: form.locator("button[type=submit]").click())


def test_a_rep_qualifies_a_lead_moves_the_deal_across_the_board_and_wins_it(
    page: Page, live_server, alice, accepted_lead
):
    lead = accepted_lead
    log_in(page, live_server.url, alice.email)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    qualify(page, lead)
    lead.refresh_from_db()
    assert lead.lifecycle_stage == LifecycleStage.OPPORTUNITY
    deal = Opportunity.objects.get(contacts=lead)
    assert (deal.name, deal.stage, int(deal.amount)) == ("Fjord platform", "discovery", 48000)

    page.click("nav >> text=Pipeline")
    card = page.locator(f"#opp-{deal.pk}")
    expect(page.locator("#column-discovery")).to_contain_text("Fjord platform")
    after_htmx_settles(page, lambda: card.drag_to(page.locator("#column-proposal")))
    expect(page.locator(f"#column-proposal #opp-{deal.pk}")).to_be_visible()
    page.locator(f"#opp-{deal.pk} [data-move=next]").focus()
    after_htmx_settles(page, lambda: page.keyboard.press("Enter"))
    expect(page.locator(f"#column-negotiation #opp-{deal.pk}")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "e2e-board.png"), full_page=True)

    page.locator(f"#opp-{deal.pk}").drag_to(page.locator("#column-won"))
    dialog = page.locator("#close-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("select[name=reason]").select_option(index=1)
    dialog.locator("textarea[name=note]").fill("Won on fit: the routing pilot convinced them")
    page.screenshot(path=str(SCREENSHOTS / "e2e-close-dialog.png"), full_page=True)
    dialog.locator("#close-submit").click()
    expect(page.locator(f"#column-won #opp-{deal.pk}")).to_be_visible()
    deal.refresh_from_db()
    assert deal.stage == "won" and deal.won_reason and deal.close_note
    lead.refresh_from_db()
    assert lead.lifecycle_stage == LifecycleStage.CUSTOMER

    won = f'[data-opportunity="{deal.pk}"]'
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    expect(page.locator(f"#lead-opportunities {won}")).to_contain_text("Fjord platform")
    expect(page.locator(f"#lead-opportunities {won}")).to_contain_text(re.compile("won", re.I))
    page.screenshot(path=str(SCREENSHOTS / "e2e-lead-won.png"), full_page=True)
    page.goto(f"{live_server.url}/accounts/{deal.account_id}/")
    expect(page.locator(f"#account-closed-deals {won}")).to_contain_text("Fjord platform")
    page.screenshot(path=str(SCREENSHOTS / "e2e-account-won.png"), full_page=True)
    page.goto(f"{live_server.url}/")
    expect(page.locator(f"#recent-wins {won}")).to_contain_text("Fjord platform")
    page.screenshot(path=str(SCREENSHOTS / "e2e-home-won.png"), full_page=True)
