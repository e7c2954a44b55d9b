"""Campaigns: what marketing runs, what it costs, who it speaks to and what it says."""

from django.conf import settings
from django.db import models

from closedloop.core.audit import Audited


class CampaignType(models.TextChoices):
    WEBINAR = "webinar", "Webinar"
    EMAIL = "email", "Email"
    PAID_SEARCH = "paid_search", "Paid search"
    PAID_SOCIAL = "paid_social", "Paid social"
    CONTENT = "content", "Content / SEO"
    EVENT = "event", "Event"
    PARTNER = "partner", "Partner"
    OUTBOUND = "outbound", "Sales outbound"


class Channel(models.TextChoices):
    WEB = "web", "Web"
    EMAIL = "email", "Email"
    SEARCH = "search", "Search"
    SOCIAL = "social", "Social"
    EVENTS = "events", "Events"
    PARTNERS = "partners", "Partners"
    SALES = "sales", "Sales"
    DIRECT = "direct", "Direct"


class Campaign(Audited):
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=16, choices=CampaignType.choices)
    channel = models.CharField(max_length=12, choices=Channel.choices)
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    cost = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        default=0,
        help_text="What the campaign costs over its dates (spread evenly over its days)",
    )
    currency = models.CharField(max_length=3, default="USD", help_text="ISO 4217 code")
    audience = models.CharField(max_length=300, blank=True, help_text="Who it speaks to")
    message = models.TextField(blank=True, help_text="The core message, shared with sales")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="campaigns",
    )
    external_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "name"]
        indexes = [models.Index(fields=["starts_on"], name="campaign_starts")]

    def __str__(self) -> str:
        return self.name
