"""Outgoing webhooks: endpoints that subscribe to domain events, and the log of deliveries."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from closedloop.core.events import EVENTS

TEST_EVENT = "webhook.test"


def normalise_host(host: str) -> str:
    """How URLs name a host once parsed: lower case, no trailing dot, IPv6 without brackets."""
    return host.strip().strip("[]").rstrip(".").lower()


class Endpoint(models.Model):
    """A URL that receives the events it subscribes to as signed JSON POSTs.

    The signing secret is stored as given, not hashed: the sender needs it to compute every
    signature (an HMAC cannot be made from a hash of the key). It is shown to admins only.
    """

    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list, help_text="Event names from closedloop.core.events")
    secret = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.description or self.url

    @staticmethod
    def event_choices() -> list[tuple[str, str]]:
        return [(name, name) for name in EVENTS]


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    RETRYING = "retrying", "Will retry"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class Delivery(models.Model):
    """One outgoing POST and how its attempts went: an event for a subscribed endpoint (signed
    with the endpoint's secret), or a message to a plain URL that holds no secret of ours (an
    SLA escalation to a team's chat webhook), sent unsigned with the payload as its body."""

    endpoint = models.ForeignKey(
        Endpoint, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    url = models.URLField(
        max_length=2000, blank=True, help_text="Destination of a delivery without an endpoint"
    )
    event = models.CharField(max_length=40)
    payload = models.JSONField(default=dict)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="When a worker took it")
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["endpoint", "created_at"], name="delivery_endpoint_created"),
            models.Index(fields=["status", "next_attempt_at"], name="delivery_status_next"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.destination} ({self.status})"

    @property
    def destination(self) -> str:
        return self.endpoint.url if self.endpoint is not None else self.url


class AllowedHost(models.Model):
    """A host an admin allows webhooks to reach even if it resolves to an internal address."""

    host = models.CharField(max_length=253, unique=True, help_text="Host name or IP, lower case")
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["host"]

    def __str__(self) -> str:
        return self.host

    def save(self, *args, **kwargs):
        self.host = normalise_host(self.host)
        super().save(*args, **kwargs)


# The receivers that turn domain events into deliveries. Connected here because the app's
# AppConfig is not this module's to change; importing models is when an app is loaded.
from closedloop.webhooks import receivers  # noqa: E402,F401
