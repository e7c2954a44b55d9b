"""The versioned definitions contract and the sign-offs that put a version into force."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from closedloop.core.audit import Audited
from closedloop.definitions.contract import Contract, parse_contract


class ContractStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    SUPERSEDED = "superseded", "Superseded"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Side(models.TextChoices):
    """The two teams that must both agree before a version takes effect."""

    MARKETING = "marketing", "Marketing"
    SALES = "sales", "Sales"


class ContractVersion(Audited):
    """One version of the shared definitions. Versions are never deleted or rewritten once
    they have left the draft state: the history of what both teams agreed to stays readable."""

    number = models.PositiveIntegerField(unique=True)
    status = models.CharField(
        max_length=12, choices=ContractStatus.choices, default=ContractStatus.DRAFT, db_index=True
    )
    body = models.JSONField(help_text="The contract; shape in closedloop/definitions/defaults.py")
    change_note = models.TextField(blank=True)
    based_on = models.PositiveIntegerField(
        null=True, blank=True, help_text="Number of the active version this draft started from"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contract_versions",
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            # Two versions in force at once would make every score ambiguous.
            models.UniqueConstraint(
                fields=["status"], condition=Q(status="active"), name="one_active_contract"
            ),
        ]

    def __str__(self) -> str:
        return f"Contract v{self.number} ({self.get_status_display().lower()})"

    @property
    def is_draft(self) -> bool:
        return self.status == ContractStatus.DRAFT

    @property
    def contract(self) -> Contract:
        """The body as typed objects (bodies are validated before they are saved)."""
        return parse_contract(self.body)


class Signoff(Audited):
    """One team's signature on one version. The constraints are the sign-off rules' last line
    of defence: one signature per side, and one person never signs both sides."""

    contract = models.ForeignKey(ContractVersion, on_delete=models.CASCADE, related_name="signoffs")
    side = models.CharField(max_length=10, choices=Side.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField()

    class Meta:
        ordering = ["signed_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "side"], name="signoff_one_per_side"),
            models.UniqueConstraint(fields=["contract", "user"], name="signoff_one_per_person"),
        ]

    def __str__(self) -> str:
        return f"{self.get_side_display()} sign-off of v{self.contract.number}"


class SignerRule(Audited):
    """Who may sign the contract for one side: a setting (Settings → Contract signers), not
    whoever happens to be on the team. A side without a row uses DEFAULT_SIGNERS."""

    side = models.CharField(max_length=10, choices=Side.choices, unique=True)
    roles = models.JSONField(default=list, help_text="Role values (core.Role) that sign")

    def __str__(self) -> str:
        return f"{self.get_side_display()} signers: {', '.join(self.roles) or 'nobody'}"
