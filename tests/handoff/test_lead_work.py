"""The lead page acts: log a call, email, meeting or note; tasks with due dates; edit details.
Every write goes through a service; a stale edit loses nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from closedloop.crm.models import Activity, LifecycleStage
from closedloop.handoff.models import LeadSla, Task
from closedloop.handoff.sla import start_clock
from tests.factories import make_lead

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def lead(alice):
    lead = make_lead(owner=alice, stage=LifecycleStage.MQL, first_name="Quinn", title="CTO")
    start_clock(lead, at=timezone.now())
    return lead


def test_the_lead_page_shows_the_work_panel_to_whoever_works_the_lead(client, alice, lead):
    client.force_login(alice)
    page = client.get(f"/leads/{lead.pk}/").content.decode()
    assert 'id="lead-work"' in page and 'id="log-work"' in page and 'id="edit-details"' in page


def test_logging_a_call_from_the_lead_page_records_it_and_stops_the_first_touch_clock(
    client, alice, lead
):
    client.force_login(alice)
    response = client.post(
        f"/leads/{lead.pk}/work/log/",
        {"kind": "call", "outcome": "connected", "notes": "Budget in Q3"},
        **HTMX,
    )
    assert response.status_code == 200 and "Logged." in response.content.decode()
    assert "Budget in Q3" in response.content.decode()
    assert Activity.objects.get(lead=lead).rep == alice
    assert LeadSla.objects.get(lead=lead).first_touched_at is not None


def test_a_note_is_recorded_but_is_no_contact_attempt(client, alice, lead):
    client.force_login(alice)
    client.post(f"/leads/{lead.pk}/work/log/", {"kind": "note", "notes": "Met at the fair"})
    assert Activity.objects.get(lead=lead).kind == "note"
    assert LeadSla.objects.get(lead=lead).attempts_made == 0


def test_tasks_need_a_title_and_a_due_date_and_can_be_completed(client, alice, lead):
    client.force_login(alice)
    refused = client.post(f"/leads/{lead.pk}/work/tasks/", {"title": "Send pricing"}, **HTMX)
    assert refused.status_code == 422 and "due_on: a task needs a due date" in (
        refused.content.decode()
    )
    due = timezone.localdate() + timedelta(days=3)
    client.post(f"/leads/{lead.pk}/work/tasks/", {"title": "Send pricing", "due_on": due}, **HTMX)
    task = Task.objects.get(lead=lead)
    assert (task.title, task.due_on, task.assignee) == ("Send pricing", due, alice)
    client.post(f"/leads/{lead.pk}/work/tasks/{task.pk}/done/", **HTMX)
    task.refresh_from_db()
    assert task.done_at is not None


def test_details_are_edited_through_the_crm_service_and_a_stale_form_loses_nothing(
    client, alice, mia, lead
):
    client.force_login(alice)
    version = lead.version
    saved = client.post(
        f"/leads/{lead.pk}/work/details/",
        {"version": version, "title": "Chief Technology Officer", "phone": "+1 555 0100"},
        **HTMX,
    )
    assert saved.status_code == 200 and "Details saved." in saved.content.decode()
    lead.refresh_from_db()
    assert lead.title == "Chief Technology Officer" and lead.version == version + 1
    client.force_login(mia)  # marketing keeps records clean too, but this form is stale
    stale = client.post(
        f"/leads/{lead.pk}/work/details/", {"version": version, "title": "Intern"}, **HTMX
    )
    assert stale.status_code == 409
    lead.refresh_from_db()
    assert lead.title == "Chief Technology Officer"


def test_marketing_edits_details_but_does_not_log_sales_work(client, mia, lead):
    client.force_login(mia)
    assert client.post(f"/leads/{lead.pk}/work/log/", {"kind": "call"}).status_code == 403
    ok = client.post(
        f"/leads/{lead.pk}/work/details/", {"version": lead.version, "city": "Oslo"}, **HTMX
    )
    assert ok.status_code == 200


def test_a_rep_of_another_team_cannot_even_find_the_lead(client, charlie, lead):
    client.force_login(charlie)
    assert client.post(f"/leads/{lead.pk}/work/log/", {"kind": "call"}).status_code == 404
    assert client.post(f"/leads/{lead.pk}/work/tasks/", {"title": "x"}).status_code == 404


def test_the_worker_reminds_the_assignee_once_when_a_task_falls_due(alice, lead):
    from closedloop.handoff.models import Notification
    from closedloop.handoff.tasks import send_task_reminders
    from closedloop.handoff.work import add_task, remind_due_tasks

    today = timezone.localdate()
    add_task(lead, by=alice, title="Send pricing", due_on=today)
    add_task(lead, by=alice, title="Call back", due_on=today - timedelta(days=2))
    later = add_task(lead, by=alice, title="Check in", due_on=today + timedelta(days=1))
    assert send_task_reminders.call(False) == 2
    texts = sorted(Notification.objects.filter(user=alice).values_list("text", flat=True))
    assert texts[0].startswith("Task due today: Send pricing (")
    assert texts[1].startswith("Task overdue since ") and "Call back" in texts[1]
    assert remind_due_tasks() == 0  # once each
    tomorrow = timezone.now() + timedelta(days=1)
    assert remind_due_tasks(now=tomorrow) == 1
    later.refresh_from_db()
    assert later.reminded_at == tomorrow


def test_a_done_task_is_not_reminded(alice, lead):
    from closedloop.handoff.work import add_task, complete_task, remind_due_tasks

    task = add_task(lead, by=alice, title="Send pricing", due_on=timezone.localdate())
    complete_task(task, by=alice)
    assert remind_due_tasks() == 0


def test_the_inbox_lists_the_reps_open_tasks_due_with_the_overdue_marked(client, alice, lead):
    from closedloop.handoff.work import add_task

    today = timezone.localdate()
    add_task(lead, by=alice, title="Send pricing", due_on=today - timedelta(days=1))
    add_task(lead, by=alice, title="Far off", due_on=today + timedelta(days=9))
    client.force_login(alice)
    page = client.get("/inbox/").content.decode()
    section = page.split('id="tasks-due"', 1)[1].split("</section>", 1)[0]
    assert "Tasks due (1)" in section and "Send pricing" in section and "overdue" in section
    assert "Far off" not in section and f'href="/leads/{lead.pk}/"' in section
