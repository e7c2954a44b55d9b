"""What happens to the library's assets: share links, the reps' usage log, content requests.

(Imported by `content/models.py`: these are the content app's tables too.)

A `ShareLink` is a tracked link `/s/<token>` a rep sends to one lead. Only a SHA-256 of the
token is stored (like API tokens): the link is shown once, and a token reveals nothing but its
asset. A buyer's opening of it is a `content_view` touchpoint of the lead (engagement), so it
counts for scoring and attribution like any touch; the rep's side of usage (open, download,
present, share) is a `UsageEvent`. A `ContentRequest` is a rep asking marketing for content
that does not exist yet, worked in a queue with a deadline.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from closedloop.core.audit import Audited


class ShareLink(Audited):
    asset = models.ForeignKey(
        "content.ContentAsset", on_delete=models.CASCADE, related_name="share_links"
    )
    version = models.ForeignKey(
        "content.AssetVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The file version shared (none for a link to a video or page)",
    )
    lead = models.ForeignKey("crm.Lead", on_delete=models.CASCADE, related_name="share_links")
    opportunity = models.ForeignKey(
        "crm.Opportunity", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    views = models.PositiveIntegerField(default=0)
    last_viewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["asset", "created_at"], name="sharelink_asset_at"),
            models.Index(fields=["lead", "created_at"], name="sharelink_lead_at"),
            models.Index(fields=["created_by", "created_at"], name="sharelink_rep_at"),
        ]

    def __str__(self) -> str:
        return f"{self.asset_id} to {self.lead_id}"

    def state(self, now=None) -> str:
        """ "active", "revoked" or "expired"."""
        now = now or timezone.now()
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


class UsageKind(models.TextChoices):
    """What a rep did with an asset (a buyer's view is a touchpoint, not a usage event)."""

    OPEN = "open", "Opened"
    DOWNLOAD = "download", "Downloaded"
    PRESENT = "present", "Presented"
    SHARE = "share", "Shared"


class UsageEvent(models.Model):
    """One thing a rep did with an asset. Append-only, like touchpoints (not row-audited)."""

    asset = models.ForeignKey(
        "content.ContentAsset", on_delete=models.CASCADE, related_name="usage_events"
    )
    version = models.ForeignKey(
        "content.AssetVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=UsageKind.choices)
    lead = models.ForeignKey(
        "crm.Lead", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    share_link = models.ForeignKey(
        ShareLink, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["asset", "at"], name="usage_asset_at"),
            models.Index(fields=["user", "at"], name="usage_user_at"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.asset_id}"


class Urgency(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"


class RequestStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    FULFILLED = "fulfilled", "Fulfilled"
    DECLINED = "declined", "Declined"


OPEN_STATUSES = (RequestStatus.OPEN, RequestStatus.IN_PROGRESS)


class ContentRequest(Audited):
    """A rep's request for content, from a lead or an opportunity."""

    what = models.TextField(help_text="What the content should say or show")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    lead = models.ForeignKey(
        "crm.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    opportunity = models.ForeignKey(
        "crm.Opportunity", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    needed_by = models.DateField(null=True, blank=True)
    urgency = models.CharField(max_length=8, choices=Urgency.choices, default=Urgency.NORMAL)
    status = models.CharField(
        max_length=12, choices=RequestStatus.choices, default=RequestStatus.OPEN
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_at = models.DateTimeField(help_text="When marketing must answer (the request SLA)")
    searches = models.ManyToManyField(
        "content.SearchLog", blank=True, related_name="+", help_text="Searches that found nothing"
    )
    fulfilled_by = models.ForeignKey(
        "content.ContentAsset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answer = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "due_at"], name="request_status_due"),
            models.Index(fields=["requested_by", "created_at"], name="request_by_at"),
        ]

    def __str__(self) -> str:
        return self.what[:60]
