"""Touchpoints: every interaction of a person with marketing or sales."""

from django.db import models

from closedloop.vocabulary import TouchType


class TouchpointType(models.TextChoices):
    """The names are `vocabulary.TouchType`; the labels are what people read."""

    PAGE_VIEW = TouchType.PAGE_VIEW.value, "Page view"
    EMAIL_OPEN = TouchType.EMAIL_OPEN.value, "Email open"
    EMAIL_CLICK = TouchType.EMAIL_CLICK.value, "Email click"
    FORM = TouchType.FORM.value, "Form fill"
    WEBINAR = TouchType.WEBINAR.value, "Webinar attended"
    AD_CLICK = TouchType.AD_CLICK.value, "Ad click"
    CONTENT_VIEW = TouchType.CONTENT_VIEW.value, "Content viewed"
    EVENT = TouchType.EVENT.value, "Event visit"
    SALES_CALL = TouchType.SALES_CALL.value, "Sales call"
    MEETING = TouchType.MEETING.value, "Meeting"
    OTHER = TouchType.OTHER.value, "Other"


class Touchpoint(models.Model):
    """One touch. Append-mostly and by far the largest table, so it is not row-audited.

    `lead` is empty for anonymous web touches until identity stitching joins them to the lead
    that fills a form (`anonymous_id` is kept for that). `message_id` deduplicates at-least-once
    deliveries from tracking clients.
    """

    lead = models.ForeignKey(
        "crm.Lead",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="touchpoints",
        db_index=False,  # touch_lead_at_type starts with it; each index costs every insert
    )
    anonymous_id = models.CharField(max_length=100, blank=True)
    type = models.CharField(max_length=16, choices=TouchpointType.choices)
    channel = models.CharField(max_length=12, blank=True)
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="touchpoints",
        db_index=False,  # touch_campaign_at covers it
    )
    content = models.ForeignKey(
        "content.ContentAsset",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="touchpoints",
        db_index=False,  # touch_content_at covers it
    )
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    properties = models.JSONField(default=dict, blank=True)
    message_id = models.CharField(max_length=100, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            # Covers the scorer's full read (lead, when, type) as well as a lead's timeline.
            models.Index(fields=["lead", "occurred_at", "type"], name="touch_lead_at_type"),
            # Partial: only touches that have a campaign (or content) are ever looked up by
            # it, and most tracked touches have neither, so they skip these two B-trees on
            # insert (tracking ingestion: ~16% less server CPU on SQLite).
            models.Index(
                fields=["campaign", "occurred_at"],
                name="touch_campaign_at",
                condition=models.Q(campaign__isnull=False),
            ),
            models.Index(
                fields=["content", "occurred_at"],
                name="touch_content_at",
                condition=models.Q(content__isnull=False),
            ),
            models.Index(fields=["anonymous_id"], name="touch_anonymous"),
            models.Index(fields=["occurred_at"], name="touch_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.occurred_at:%Y-%m-%d}"


# --- Tracking sources, identities and forms (the Segment-compatible tracking API) -------------


class Source(models.Model):
    """A sender of tracking data (a website, an app, a server). Only a hash of its write key
    is stored; the key is shown once, when the source is created."""

    name = models.CharField(max_length=100, unique=True)
    key_prefix = models.CharField(max_length=12, help_text="First characters, to tell keys apart")
    key_hash = models.CharField(max_length=64, unique=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_received_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EventMapping(models.Model):
    """A source's own mapping of a track event name to a touchpoint type (over the defaults)."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="event_mappings")
    event_name = models.CharField(max_length=200)
    touchpoint_type = models.CharField(max_length=16, choices=TouchpointType.choices)

    class Meta:
        ordering = ["event_name"]
        constraints = [
            models.UniqueConstraint(fields=["source", "event_name"], name="eventmap_unique")
        ]

    def __str__(self) -> str:
        return f"{self.event_name} → {self.touchpoint_type}"


class IdentityKind(models.TextChoices):
    USER = "user", "userId"
    ANONYMOUS = "anonymous", "anonymousId"


class Identity(models.Model):
    """A tracking identifier (a userId or an anonymousId) and the lead it belongs to.

    `lead` is empty for an anonymousId seen beside a `user_id` that no lead has yet: when that
    userId is identified, the anonymousId (and its touches) join the lead too.
    """

    kind = models.CharField(max_length=10, choices=IdentityKind.choices)
    value = models.CharField(max_length=100)
    lead = models.ForeignKey(
        "crm.Lead", null=True, blank=True, on_delete=models.CASCADE, related_name="identities"
    )
    user_id = models.CharField(max_length=100, blank=True, help_text="For anonymous ids")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "identities"
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="identity_unique")]
        indexes = [
            models.Index(fields=["user_id"], name="identity_user_id"),
            models.Index(fields=["lead"], name="identity_lead"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class GroupLink(models.Model):
    """A Segment groupId and the account it stands for."""

    group_id = models.CharField(max_length=100, unique=True)
    account = models.ForeignKey("crm.Account", on_delete=models.CASCADE, related_name="+")

    def __str__(self) -> str:
        return self.group_id


class ReceivedMessage(models.Model):
    """The messageId of a message that makes no touchpoint (identify, group, alias), so that a
    resent one is not applied twice. Touches are deduplicated by Touchpoint.message_id."""

    message_id = models.CharField(max_length=100, unique=True)
    type = models.CharField(max_length=10)
    received_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.type} {self.message_id}"


class Form(models.Model):
    """A marketing web form posting to /f/<key>. Only a hash of the key is stored."""

    name = models.CharField(max_length=100)
    key_prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Used when the form does not send a campaign field",
    )
    allowed_origins = models.TextField(
        blank=True, help_text="Sites the form may be posted from, one origin a line"
    )
    redirect_url = models.URLField(blank=True, help_text="Where a browser goes after submitting")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submissions = models.PositiveIntegerField(default=0)
    last_submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def origins(self) -> list[str]:
        return [line.strip().rstrip("/") for line in self.allowed_origins.split() if line.strip()]
