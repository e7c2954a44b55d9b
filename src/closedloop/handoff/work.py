"""What a rep does on the lead page: edit the lead's details, log a call, email, meeting or
note, and keep follow-up tasks with due dates (the worker reminds the assignee on the day a
task falls due). Lead fields are written by the crm service (`update_lead`), activities by
`log_activity`; tasks are this app's records."""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from closedloop.core.models import Role, User
from closedloop.crm.models import Lead
from closedloop.crm.services import update_lead
from closedloop.handoff import permissions
from closedloop.handoff.models import Notification, Task

# The details a rep corrects after talking to the person; stages, owner and scores have their
# own doors (accept/reject, reassign, the scorer).
EDITABLE_FIELDS = ("first_name", "last_name", "title", "phone", "company", "city", "country")
MAX_LENGTHS = {"first_name": 100, "last_name": 100, "title": 200, "phone": 50}


def can_edit_details(user: User, lead: Lead) -> bool:
    """Whoever works the lead, and marketing (who keeps the records clean)."""
    if user.role == Role.MARKETING:
        return True
    try:
        permissions.check_can_work_lead(user, lead)
    except PermissionDenied:
        return False
    return True


def edit_lead_details(lead: Lead, *, by: User, values: dict, expected_version: int) -> Lead:
    """Change the lead's editable details; a stale form (someone saved first) is refused by
    the crm service's version check, losing nothing."""
    if not can_edit_details(by, lead):
        raise PermissionDenied("only whoever works this lead (or marketing) edits it")
    changes = {}
    for name in EDITABLE_FIELDS:
        if name in values:
            value = str(values[name]).strip()
            limit = MAX_LENGTHS.get(name, Lead._meta.get_field(name).max_length)
            if limit and len(value) > limit:
                raise ValidationError({name: f"at most {limit} characters"})
            changes[name] = value
    return update_lead(lead, by=by, changes=changes, expected_version=expected_version)


@transaction.atomic
def add_task(lead: Lead, *, by: User, title: str, due_on: date | None) -> Task:
    """A follow-up task on the lead for the person who works it (the owner, else `by`)."""
    permissions.check_can_work_lead(by, lead)
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": "say what needs doing"})
    if due_on is None:
        raise ValidationError({"due_on": "a task needs a due date (YYYY-MM-DD)"})
    return Task.objects.create(
        lead=lead,
        assignee=lead.owner or by,
        title=title[:200],
        due_on=due_on,
        created_by=by,
        created_at=timezone.now(),
    )


@transaction.atomic
def complete_task(task: Task, *, by: User) -> Task:
    permissions.check_can_work_lead(by, task.lead)
    if task.done_at is None:
        task.done_at = timezone.now()
        task.save(update_fields=["done_at"])
    return task


REMINDERS_PER_RUN = 5_000  # a backlog (e.g. after a long stop) is worked off over a few runs


def remind_due_tasks(*, now: datetime | None = None) -> int:
    """Remind each open task's assignee, once, when it falls due: a notification in their
    inbox on the due day, or at the first run after it for a task already overdue. Returns
    how many reminders were sent."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    due = list(
        Task.objects.filter(
            done_at__isnull=True,
            reminded_at__isnull=True,
            assignee__isnull=False,
            due_on__lte=today,
        )
        .select_related("lead")
        .order_by("due_on", "id")[:REMINDERS_PER_RUN]
    )
    with transaction.atomic():
        Notification.objects.bulk_create(
            Notification(user_id=t.assignee_id, lead=t.lead, at=now, text=reminder_text(t, today))
            for t in due
        )
        Task.objects.filter(pk__in=[t.pk for t in due]).update(reminded_at=now)
    return len(due)


def reminder_text(task: Task, today: date) -> str:
    when = "today" if task.due_on == today else f"since {task.due_on:%-d %b}"
    overdue = "due" if task.due_on == today else "overdue"
    return f"Task {overdue} {when}: {task.title} ({task.lead})"[:300]


def open_tasks_due(user: User, *, today: date, limit: int = 10) -> tuple[list[Task], int]:
    """The user's open tasks due today or earlier, oldest first (at most `limit`), and how
    many there are in all: the inbox shows them above the leads."""
    tasks = Task.objects.filter(assignee=user, done_at__isnull=True, due_on__lte=today)
    shown = list(tasks.select_related("lead").order_by("due_on", "id")[:limit])
    return shown, (len(shown) if len(shown) < limit else tasks.count())
