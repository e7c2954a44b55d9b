"""Touchpoints: every interaction of a person with marketing or sales."""

from django.db import models


class TouchpointType(models.TextChoices):
    PAGE_VIEW = "page_view", "Page view"
    EMAIL_OPEN = "email_open", "Email open"
    EMAIL_CLICK = "email_click", "Email click"
    FORM = "form", "Form fill"
    WEBINAR = "webinar", "Webinar attended"
    AD_CLICK = "ad_click", "Ad click"
    CONTENT_VIEW = "content_view", "Content viewed"
    EVENT = "event", "Event visit"
    SALES_CALL = "sales_call", "Sales call"
    MEETING = "meeting", "Meeting"
    OTHER = "other", "Other"


class Touchpoint(models.Model):
    """One touch. Append-mostly and by far the largest table, so it is not row-audited.

    `lead` is empty for anonymous web touches until identity stitching joins them to the lead
    that fills a form (`anonymous_id` is kept for that). `message_id` deduplicates at-least-once
    deliveries from tracking clients.
    """

    lead = models.ForeignKey(
        "crm.Lead", null=True, blank=True, on_delete=models.CASCADE, related_name="touchpoints"
    )
    anonymous_id = models.CharField(max_length=100, blank=True)
    type = models.CharField(max_length=16, choices=TouchpointType.choices)
    channel = models.CharField(max_length=12, blank=True)
    campaign = models.ForeignKey(
        "campaigns.Campaign", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="touchpoints",
    )
    content = models.ForeignKey(
        "content.ContentAsset", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="touchpoints",
    )
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    properties = models.JSONField(default=dict, blank=True)
    message_id = models.CharField(max_length=100, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["lead", "occurred_at"], name="touch_lead_at"),
            models.Index(fields=["campaign", "occurred_at"], name="touch_campaign_at"),
            models.Index(fields=["content", "occurred_at"], name="touch_content_at"),
            models.Index(fields=["anonymous_id"], name="touch_anonymous"),
            models.Index(fields=["occurred_at"], name="touch_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.occurred_at:%Y-%m-%d}"
