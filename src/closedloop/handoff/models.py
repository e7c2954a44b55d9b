"""The handoff's records: routing rules and pools, team calendars, SLA timers and breaches,
rejections with their managed reasons, ownership disputes and the assignment log.

The SLA numbers themselves are not stored here: they are read from the active definitions
contract (`closedloop.definitions.services.contract_in_force().sla`).
"""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.db import models

from closedloop.core.audit import Audited


class TeamCalendar(Audited):
    """A team's working hours and escalation channel; its holidays are Holiday rows."""

    team = models.OneToOneField("core.Team", on_delete=models.CASCADE, related_name="calendar")
    work_start = models.TimeField(default=time(9, 0))
    work_end = models.TimeField(default=time(17, 0))
    workdays = models.CharField(
        max_length=13, default="0,1,2,3,4", help_text="Weekday numbers, 0 = Monday, comma separated"
    )
    escalation_webhook_url = models.URLField(
        blank=True, help_text='Slack-compatible incoming webhook: receives {"text": ...} on breach'
    )

    def __str__(self) -> str:
        return f"Calendar of {self.team}"

    @property
    def workday_numbers(self) -> frozenset[int]:
        return frozenset(int(d) for d in self.workdays.split(",") if d.strip())


class Holiday(models.Model):
    calendar = models.ForeignKey(TeamCalendar, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="holiday_unique")]

    def __str__(self) -> str:
        return f"{self.date} {self.name}".strip()


class CapacityPeriod(models.TextChoices):
    DAY = "day", "Per day"
    WEEK = "week", "Per week"
    MONTH = "month", "Per month"


class RoutingMember(models.Model):
    """A rep's place in their team's round-robin: weight, capacity and the counters.

    The counters are what the concurrent assigners lock (SELECT … FOR UPDATE) and advance.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="routing"
    )
    weight = models.PositiveSmallIntegerField(default=1, help_text="2 gets twice the leads of 1")
    capacity = models.PositiveIntegerField(
        null=True, blank=True, help_text="Most new leads per period; empty for no limit"
    )
    period = models.CharField(
        max_length=8, choices=CapacityPeriod.choices, default=CapacityPeriod.MONTH
    )
    period_start = models.DateField(null=True, blank=True)
    assigned_in_period = models.PositiveIntegerField(default=0)
    assigned_total = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.user} ×{self.weight}"


class RoutingRule(Audited):
    """A rule in the ordered list: when every condition holds, the lead goes to `rep`, or
    round-robin within `team`. Conditions: [{"field": "country", "op": "in", "value": [...]}].
    A rule without conditions matches every lead (a catch-all)."""

    position = models.PositiveIntegerField(default=0)
    name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    conditions = models.JSONField(default=list, blank=True)
    team = models.ForeignKey("core.Team", null=True, blank=True, on_delete=models.CASCADE)
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class Assignment(models.Model):
    """The ownership log: every time a lead got (or lost) an owner, by what and why."""

    lead = models.ForeignKey("crm.Lead", on_delete=models.CASCADE, related_name="assignments")
    from_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rule = models.CharField(max_length=100, blank=True, help_text="Routing step, or 'manual'")
    reason = models.CharField(max_length=300, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["lead", "at"], name="assignment_lead_at")]

    def __str__(self) -> str:
        return f"lead {self.lead_id} → {self.to_owner_id}"


class DisputeStatus(models.TextChoices):
    OPEN = "open", "Open"
    GRANTED = "granted", "Granted to the claimant"
    DENIED = "denied", "Denied: the owner keeps it"


class Dispute(Audited):
    """A rep's claim on a lead that another rep owns and has worked recently; a manager decides."""

    lead = models.ForeignKey("crm.Lead", on_delete=models.CASCADE, related_name="disputes")
    claimant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="claims"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=300)
    status = models.CharField(
        max_length=8, choices=DisputeStatus.choices, default=DisputeStatus.OPEN, db_index=True
    )
    created_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Claim by {self.claimant} on lead {self.lead_id}"


class RejectionPath(models.TextChoices):
    """What a rejection does to the lead; each managed reason follows one path."""

    RECYCLE = "recycle", "Not now: nurture, back as MQL on a date"
    DISQUALIFY = "disqualify", "Wrong fit: disqualified (a negative label for the scorer)"
    BAD_DATA = "bad_data", "Bad data: back to the marketing-ops queue"
    DUPLICATE = "duplicate", "Duplicate: marked with the surviving lead"


class RejectionReason(Audited):
    """The managed list of reasons a rep may give (Settings → Rejection reasons)."""

    code = models.SlugField(max_length=40, unique=True)
    label = models.CharField(max_length=100)
    path = models.CharField(max_length=12, choices=RejectionPath.choices)
    recycle_days = models.PositiveIntegerField(
        default=90, help_text="Recycle path: default days until the lead comes back"
    )
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "label"]

    def __str__(self) -> str:
        return self.label


class Rejection(Audited):
    """A rep's answer 'no' to a lead: the reason, the note, and what marketing should learn.

    Campaign and source are copied at the time of rejection so the feedback report stays true
    even if the lead is later edited.
    """

    lead = models.ForeignKey("crm.Lead", on_delete=models.CASCADE, related_name="rejections")
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="rejections"
    )
    reason = models.ForeignKey(RejectionReason, on_delete=models.PROTECT, related_name="uses")
    note = models.TextField(blank=True)
    at = models.DateTimeField(db_index=True)
    campaign = models.ForeignKey(
        "campaigns.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=20, blank=True)
    recycle_on = models.DateField(null=True, blank=True)
    duplicate_of = models.ForeignKey(
        "crm.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(
        null=True, blank=True, help_text="Bad data: when marketing ops fixed the record"
    )
    contacted = models.BooleanField(
        null=True,
        help_text="Whether any call, email or meeting came before the rejection (empty: "
        "rejected before this was recorded)",
    )

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.reason} on lead {self.lead_id}"


class Acceptance(models.Model):
    """A rep's 'yes' (MQL → SAL): with rejections, the quality side of marketing's SLA."""

    lead = models.ForeignKey("crm.Lead", on_delete=models.CASCADE, related_name="acceptances")
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"Accepted lead {self.lead_id}"


class LeadSla(models.Model):
    """A lead's sales-side clocks for its current time as an MQL (reset when it re-enters)."""

    lead = models.OneToOneField("crm.Lead", on_delete=models.CASCADE, related_name="sla")
    started_at = models.DateTimeField(help_text="When the lead (last) became an MQL")
    first_touch_due = models.DateTimeField(db_index=True)
    attempts_due = models.DateTimeField()
    attempts_required = models.PositiveSmallIntegerField()
    attempts_made = models.PositiveSmallIntegerField(default=0)
    first_touched_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(
        null=True, blank=True, help_text="The lead left MQL/SAL: its clocks stop"
    )

    def __str__(self) -> str:
        return f"SLA of lead {self.lead_id}"


class SlaKind(models.TextChoices):
    FIRST_TOUCH = "first_touch", "First touch"
    ATTEMPTS = "attempts", "Contact attempts"


class SlaBreach(models.Model):
    lead = models.ForeignKey("crm.Lead", on_delete=models.CASCADE, related_name="sla_breaches")
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey("core.Team", null=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=12, choices=SlaKind.choices)
    due = models.DateTimeField()
    breached_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-breached_at"]
        constraints = [
            # One breach per lead, clock and deadline: the periodic check may run twice.
            models.UniqueConstraint(fields=["lead", "kind", "due"], name="slabreach_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} breach on lead {self.lead_id}"


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    WEBHOOK = "webhook", "Webhook"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed after every retry"


class Escalation(models.Model):
    """One message about a breach to one destination, retried by a background task.

    An email is sent and retried here; a webhook message is a `webhooks.Delivery` (the one
    outgoing HTTP path: SSRF-checked, retried with back-off, logged), and its status,
    attempts and error are that delivery's."""

    breach = models.ForeignKey(SlaBreach, on_delete=models.CASCADE, related_name="escalations")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    target = models.CharField(max_length=500, help_text="Email address or webhook URL")
    status = models.CharField(
        max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivery = models.OneToOneField(
        "webhooks.Delivery",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="escalation",
        help_text="The outgoing POST of a webhook escalation",
    )

    def __str__(self) -> str:
        return f"{self.channel} to {self.target}"


class Notification(models.Model):
    """A message in a rep's inbox: a new lead, a coming SLA deadline, a dispute decided."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="handoff_notifications"
    )
    lead = models.ForeignKey("crm.Lead", null=True, on_delete=models.CASCADE, related_name="+")
    text = models.CharField(max_length=300)
    at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return self.text


class Task(Audited):
    """A follow-up a rep owes on a lead, with a due date (e.g. "send the pricing by Friday")."""

    lead = models.ForeignKey("crm.Lead", on_delete=models.CASCADE, related_name="tasks")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    title = models.CharField(max_length=200)
    due_on = models.DateField(db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(
        null=True, blank=True, help_text="When the assignee was reminded that it is due"
    )

    class Meta:
        ordering = ["done_at", "due_on", "id"]

    def __str__(self) -> str:
        return f"{self.title} (due {self.due_on:%Y-%m-%d})"
