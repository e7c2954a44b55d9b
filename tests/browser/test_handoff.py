"""A rep rejects a lead with a reason in the inbox; marketing reads it in the feedback report."""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from closedloop.crm.models import LifecycleStage
from closedloop.handoff.models import Rejection
from closedloop.handoff.services import ensure_default_reasons
from closedloop.handoff.sla import start_clock
from tests.factories import make_lead

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(os.environ.get("CLOSEDLOOP_SCREENSHOTS", tempfile.gettempdir()))

PASSWORD = "pw-for-tests"  # what tests.factories.make_user sets


def log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("header.topbar")).to_be_visible()


def after_htmx_settles(page: Page, action) -> None:
    """Run `action` and wait until htmx has swapped and processed the answer: clicking into
    fresh content before htmx wired it up (a busy machine) would fire no request."""
    page.evaluate(
        "() => { window.__settled = 0; document.body.addEventListener("
        "'htmx:afterSettle', () => { window.__settled += 1 }) }"
    )
    action()
    page.wait_for_function("() => window.__settled > 0")


@pytest.fixture
def second_page(browser: Browser):
    context = browser.new_context()
    yield context.new_page()
    context.close()


def test_a_rep_rejects_a_lead_with_a_reason_and_marketing_sees_it(
    page: Page, second_page: Page, live_server, alice, mia
):
    lead = make_lead(
        owner=alice,
        stage=LifecycleStage.MQL,
        first_name="Quinn",
        last_name="Student",
        score=40,
        score_reasons=[{"text": "Opened 5 emails", "effect": 9}],
    )
    start_clock(lead, at=timezone.now())
    ensure_default_reasons()  # a transactional test may run after a flush of the migration's rows

    log_in(page, live_server.url, alice.email)
    page.click("nav >> text=Inbox")
    line = page.locator(f"#line-{lead.pk}")
    expect(line).to_contain_text("Quinn Student")
    expect(page.locator("#inbox-count")).to_contain_text("1 open lead")
    after_htmx_settles(page, lambda: line.locator("text=Details").click())
    row = page.locator(f"#lead-{lead.pk}")
    expect(row).to_contain_text("Quinn Student")
    expect(row.locator('[data-timer="first-touch"]')).to_be_visible()
    expect(row).to_contain_text("Opened 5 emails")

    after_htmx_settles(page, lambda: row.locator("text=Reject…").click())
    form = row.locator("form.reject-form")
    # "Not now" shows the re-entry date; choosing another reason hides it again.
    after_htmx_settles(page, lambda: form.locator("select[name=reason]").select_option("not-now"))
    expect(row.locator("input[name=recycle_on]")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "inbox-not-now.png", full_page=True)
    form = row.locator("form.reject-form")
    after_htmx_settles(page, lambda: form.locator("select[name=reason]").select_option("wrong-fit"))
    expect(row.locator("input[name=recycle_on]")).to_have_count(0)
    form = row.locator("form.reject-form")
    # Without a reason the browser's own check stops it; the server check is tested elsewhere.
    form.locator("textarea[name=note]").fill("A student project, no budget")
    form.locator("button[type=submit]").click()
    expect(page.locator(f"#lead-{lead.pk}")).to_contain_text("Marketing will see your reason")
    expect(page.locator(f"#lead-{lead.pk} .badge.stage-disqualified")).to_be_visible()
    assert Rejection.objects.get(lead=lead).note == "A student project, no budget"

    log_in(second_page, live_server.url, mia.email)
    second_page.click("nav >> text=Feedback")
    expect(second_page.locator("#by-reason")).to_contain_text("Wrong fit")
    expect(second_page.locator("#notes")).to_contain_text("A student project, no budget")
    expect(second_page.locator("#by-rep")).to_contain_text("Alice")  # by name, not e-mail


def test_a_rep_logs_a_call_and_adds_a_task_on_the_lead_page(page: Page, live_server, alice):
    lead = make_lead(owner=alice, stage=LifecycleStage.MQL, first_name="Ada", last_name="Byron")
    start_clock(lead, at=timezone.now())
    log_in(page, live_server.url, alice.email)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    panel = page.locator("#lead-work")
    panel.locator("#log-work select[name=kind]").select_option("call")
    panel.locator("#log-work select[name=outcome]").select_option("connected")
    panel.locator("#log-work textarea[name=notes]").fill("Wants pricing for 40 seats")
    panel.locator("#log-work button[type=submit]").click()
    expect(page.locator("#recent-work")).to_contain_text("Wants pricing for 40 seats")
    panel = page.locator("#lead-work")
    panel.locator("#add-task input[name=title]").fill("Send the pricing")
    due = (timezone.localdate() + timedelta(days=2)).isoformat()
    panel.locator("#add-task input[name=due_on]").fill(due)
    panel.locator("#add-task button[type=submit]").click()
    expect(page.locator("#tasks")).to_contain_text("Send the pricing")
    page.screenshot(path=SCREENSHOTS / "lead-work.png", full_page=True)
    page.locator("#tasks button:has-text('Done')").click()
    expect(page.locator("#tasks s")).to_have_text("Send the pricing")
