"""Analytics' own tables: scoreboard snapshots (computed by the worker) and revenue goals.

Everything else analytics reads from the other apps' tables.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from closedloop.core.audit import Audited
from closedloop.definitions.models import Side


class ScoreboardSnapshot(models.Model):
    """The scoreboard's figures for one scope and period, as the worker last computed them.

    A table, not only the cache: the default cache lives in one process, and a snapshot must
    survive a restart so that a cold start serves figures at once (decision 0022).
    """

    key = models.CharField(max_length=200, unique=True)
    scope = models.CharField(max_length=40)
    since = models.DateTimeField()
    until = models.DateTimeField()
    computed_at = models.DateTimeField()
    seconds = models.FloatField(help_text="How long the computation took")
    figures = models.JSONField()

    def __str__(self) -> str:
        return f"Scoreboard {self.key} at {self.computed_at:%Y-%m-%d %H:%M}"


class GoalStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Agreed"
    SUPERSEDED = "superseded", "Superseded"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Goal(Audited):
    """A revenue goal for a period (whole months) for the company or one team. A draft comes
    into force when one marketing and one sales signer have signed it, like the definitions."""

    team = models.ForeignKey(
        "core.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="goals"
    )
    starts_on = models.DateField(help_text="First day of the first month")
    months = models.PositiveSmallIntegerField(default=3)
    amount = models.DecimalField(max_digits=16, decimal_places=2, help_text="Won revenue")
    note = models.TextField(blank=True)
    status = models.CharField(
        max_length=12, choices=GoalStatus.choices, default=GoalStatus.DRAFT, db_index=True
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-starts_on", "-id"]

    def __str__(self) -> str:
        whose = self.team.name if self.team is not None else "Company"
        return f"{whose} goal from {self.starts_on:%Y-%m} ({self.months} months)"


class GoalSignoff(models.Model):
    """One side's signature on one goal; as for the contract, one person signs one side."""

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="signoffs")
    side = models.CharField(max_length=10, choices=Side.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField()

    class Meta:
        ordering = ["signed_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["goal", "side"], name="goal_signoff_one_per_side"),
            models.UniqueConstraint(fields=["goal", "user"], name="goal_signoff_one_per_person"),
        ]

    def __str__(self) -> str:
        return f"{self.get_side_display()} sign-off of goal {self.goal_id}"
