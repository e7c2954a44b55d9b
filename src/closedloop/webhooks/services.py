"""Endpoints, signing and delivery of outgoing webhooks: the one way closedloop POSTs out.

A domain event becomes one Delivery per subscribed endpoint, then a background task POSTs it.
Anything else that posts out (SLA escalations to a team's chat webhook) queues a Delivery to a
plain URL with `queue_post` and goes the same way: SSRF-checked, retried, logged.
A failed attempt is retried with exponential back-off (30 s, 1 min, 2 min, … capped at 6 h)
until MAX_ATTEMPTS; a refused destination (SSRF check) fails at once, since retrying cannot
make an internal address public.

Receivers verify a delivery by recomputing the HMAC-SHA256 of the raw body with the endpoint's
secret and comparing it with `X-Closedloop-Signature: sha256=<hex>`; the signed body carries
`sent_at`, equal to the `X-Closedloop-Timestamp` header, so a receiver can refuse replays.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import http.client
import json
import secrets

from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from closedloop.core.events import EVENTS
from closedloop.webhooks import netguard
from closedloop.webhooks.models import (
    TEST_EVENT,
    AllowedHost,
    Delivery,
    DeliveryStatus,
    Endpoint,
    normalise_host,
)

MAX_ATTEMPTS = 10
BACKOFF_BASE = datetime.timedelta(seconds=30)
BACKOFF_CAP = datetime.timedelta(hours=6)
# A claim older than this belongs to a worker that died mid-request: the sweep retakes it.
STALE_CLAIM = datetime.timedelta(minutes=5)
SIGNATURE_HEADER = "X-Closedloop-Signature"
TIMESTAMP_HEADER = "X-Closedloop-Timestamp"


class InvalidEndpoint(ValueError):
    """An endpoint that cannot be saved; `field` names the input at fault."""

    def __init__(self, field: str, problem: str):
        super().__init__(problem)
        self.field = field
        self.problem = problem


# --- endpoints ----------------------------------------------------------------------------


def allowed_hosts() -> set[str]:
    return set(AllowedHost.objects.values_list("host", flat=True))


def check_events(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - set(EVENTS))
    if unknown:
        raise InvalidEndpoint(
            "events", f"unknown events {', '.join(unknown)}; use {', '.join(EVENTS)}"
        )
    if not events:
        raise InvalidEndpoint("events", "subscribe to at least one event")
    return sorted(set(events))


def check_endpoint_url(url: str) -> str:
    """The URL if webhooks may call it now (resolved and checked); InvalidEndpoint if not."""
    try:
        netguard.check_url(url, allowed_hosts=allowed_hosts())
    except netguard.UnsafeDestination as exc:
        raise InvalidEndpoint("url", str(exc)) from None
    return url.strip()


def create_endpoint(*, url: str, events: list[str], by, description: str = "") -> Endpoint:
    """Register `url` for `events` with a new random signing secret."""
    return Endpoint.objects.create(
        url=check_endpoint_url(url),
        events=check_events(events),
        description=description.strip(),
        secret="whsec_" + secrets.token_urlsafe(32),
        created_by=by,
    )


def update_endpoint(endpoint: Endpoint, **changes) -> Endpoint:
    """Change url, events, description or is_active; the URL is checked again."""
    if "url" in changes:
        changes["url"] = check_endpoint_url(changes["url"])
    if "events" in changes:
        changes["events"] = check_events(changes["events"])
    for name, value in changes.items():
        setattr(endpoint, name, value)
    endpoint.save(update_fields=list(changes))
    return endpoint


def rotate_secret(endpoint: Endpoint) -> str:
    endpoint.secret = "whsec_" + secrets.token_urlsafe(32)
    endpoint.save(update_fields=["secret"])
    return endpoint.secret


def allow_host(*, host: str, by, note: str = "") -> AllowedHost:
    host = normalise_host(host)
    if not host or "/" in host or " " in host:
        raise InvalidEndpoint("host", "give a host name or IP address, without scheme or path")
    return AllowedHost.objects.get_or_create(host=host, defaults={"note": note, "created_by": by})[
        0
    ]


# --- queueing -----------------------------------------------------------------------------


SUBSCRIPTIONS_KEY = "webhooks:subscriptions"
SUBSCRIPTIONS_TTL = 60  # seconds another process may lag behind an endpoint change


def subscribers(event: str) -> list[int]:
    """Ids of the active endpoints subscribed to `event`, from a cached table.

    Events fire in bulk (a rescore can move thousands of leads to MQL), and most
    installations have no endpoint for most events: the table spares each event a query.
    Saving or deleting an endpoint clears it (see receivers).
    """
    table = cache.get(SUBSCRIPTIONS_KEY)
    if table is None:
        table = {e.pk: e.events for e in Endpoint.objects.filter(is_active=True)}
        cache.set(SUBSCRIPTIONS_KEY, table, SUBSCRIPTIONS_TTL)
    return [pk for pk, events in table.items() if event in events]


def forget_subscriptions() -> None:
    cache.delete(SUBSCRIPTIONS_KEY)


def queue_event(*, event: str, payload: dict) -> list[Delivery]:
    """One Delivery per active endpoint subscribed to `event`, sent by a task after commit."""
    ids = subscribers(event)
    if not ids:
        return []
    # Re-read: the cached table may be up to a minute old in another process.
    endpoints = Endpoint.objects.filter(pk__in=ids, is_active=True)
    return [_queue(endpoint, event, payload) for endpoint in endpoints if event in endpoint.events]


def send_test_event(endpoint: Endpoint, *, by) -> Delivery:
    """Queue a `webhook.test` delivery to `endpoint`, whatever it subscribes to."""
    payload = {"message": "Test delivery from closedloop", "requested_by": getattr(by, "email", "")}
    return _queue(endpoint, TEST_EVENT, payload)


def redeliver(delivery: Delivery) -> Delivery:
    """Send a finished delivery's event again, as a new delivery with its own log."""
    return _queue(delivery.endpoint, delivery.event, delivery.payload, url=delivery.url)


def queue_post(*, url: str, event: str, payload: dict) -> Delivery:
    """POST `payload` as the JSON body to `url` from a background task, after commit.

    For receivers that hold no secret of ours (a chat webhook): the body is the payload itself
    and unsigned. The URL is checked when each attempt is made, like an endpoint's."""
    return _queue(None, event, payload, url=url)


def _queue(endpoint: Endpoint | None, event: str, payload: dict, *, url: str = "") -> Delivery:
    from closedloop.webhooks.tasks import deliver_webhook

    jsonable = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    with transaction.atomic():
        delivery = Delivery.objects.create(
            endpoint=endpoint, url=url, event=event, payload=jsonable
        )
        transaction.on_commit(lambda: deliver_webhook.enqueue(delivery.pk))
    return delivery


# --- signing ------------------------------------------------------------------------------


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header: str) -> bool:
    """Whether `header` is the signature of `body` under `secret` (constant-time compare)."""
    return hmac.compare_digest(sign(secret, body), header or "")


def request_for(delivery: Delivery, *, now: datetime.datetime) -> tuple[bytes, dict[str, str]]:
    """The exact body and headers of one attempt: signed for an endpoint, plain for a URL."""
    if delivery.endpoint is None:
        plain = json.dumps(delivery.payload, separators=(",", ":"), cls=DjangoJSONEncoder)
        return plain.encode(), {
            "Content-Type": "application/json",
            "User-Agent": "closedloop-webhooks/1",
            "X-Closedloop-Event": delivery.event,
            "X-Closedloop-Delivery": str(delivery.pk),
        }
    timestamp = str(int(now.timestamp()))
    body = json.dumps(
        {
            "id": delivery.pk,
            "event": delivery.event,
            "created_at": delivery.created_at.isoformat(),
            "sent_at": int(timestamp),
            "attempt": delivery.attempts + 1,
            "data": delivery.payload,
        },
        separators=(",", ":"),
        cls=DjangoJSONEncoder,
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "closedloop-webhooks/1",
        "X-Closedloop-Event": delivery.event,
        "X-Closedloop-Delivery": str(delivery.pk),
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(delivery.endpoint.secret, body),
    }
    return body, headers


# --- delivering ---------------------------------------------------------------------------


def backoff(attempts: int) -> datetime.timedelta:
    """Wait before the next attempt after `attempts` failures: 30 s doubling, capped at 6 h."""
    return min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_CAP)


def claim(delivery_id: int, *, now: datetime.datetime) -> Delivery | None:
    """Take a due delivery for sending, or None if it is done, not due or taken by another
    worker. A conditional UPDATE, so two workers (or a task and the sweep) never both send."""
    due = (
        Q(status=DeliveryStatus.PENDING)
        | Q(status=DeliveryStatus.RETRYING, next_attempt_at__lte=now)
        | Q(status=DeliveryStatus.SENDING, claimed_at__lt=now - STALE_CLAIM)
    )
    taken = Delivery.objects.filter(due, pk=delivery_id).update(
        status=DeliveryStatus.SENDING, claimed_at=now
    )
    if not taken:
        return None
    return Delivery.objects.select_related("endpoint").get(pk=delivery_id)


def attempt_delivery(delivery_id: int) -> Delivery | None:
    """Make one attempt at a due delivery and record the outcome; None if it was not due."""
    now = timezone.now()
    delivery = claim(delivery_id, now=now)
    if delivery is None:
        return None
    if delivery.endpoint is not None and not delivery.endpoint.is_active:
        return _finish(delivery, now, status=DeliveryStatus.FAILED, error="endpoint disabled")
    body, headers = request_for(delivery, now=now)
    try:
        reply = netguard.post(delivery.destination, body, headers, allowed_hosts=allowed_hosts())
    except netguard.UnsafeDestination as exc:
        return _finish(delivery, now, status=DeliveryStatus.FAILED, error=f"refused: {exc}")
    except (OSError, http.client.HTTPException) as exc:
        return _failed_attempt(delivery, now, error=f"{type(exc).__name__}: {exc}")
    excerpt = reply.body.decode("utf-8", "replace")[:500]
    if 200 <= reply.status < 300:
        return _finish(
            delivery,
            now,
            status=DeliveryStatus.DELIVERED,
            code=reply.status,
            excerpt=excerpt,
            delivered_at=timezone.now(),
        )
    return _failed_attempt(
        delivery, now, error=f"HTTP {reply.status}", code=reply.status, excerpt=excerpt
    )


def _failed_attempt(delivery: Delivery, now, *, error: str, code=None, excerpt="") -> Delivery:
    if delivery.attempts + 1 >= MAX_ATTEMPTS:
        return _finish(
            delivery, now, status=DeliveryStatus.FAILED, error=error, code=code, excerpt=excerpt
        )
    return _finish(
        delivery,
        now,
        status=DeliveryStatus.RETRYING,
        error=error,
        code=code,
        excerpt=excerpt,
        next_attempt_at=now + backoff(delivery.attempts + 1),
    )


def _finish(
    delivery: Delivery,
    now,
    *,
    status: str,
    error: str = "",
    code=None,
    excerpt="",
    delivered_at=None,
    next_attempt_at=None,
) -> Delivery:
    delivery.status = status
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.error = error[:500]
    delivery.response_code = code
    delivery.response_excerpt = excerpt
    delivery.delivered_at = delivered_at
    delivery.next_attempt_at = next_attempt_at
    delivery.claimed_at = None
    delivery.save()
    return delivery


def due_delivery_ids(*, now: datetime.datetime | None = None) -> list[int]:
    """Deliveries whose retry time has come, that were never picked up, or whose worker died.

    With a task backend that can defer (the database backend, RQ) every retry is already
    enqueued for its time and this finds only what was lost; with the in-process backend it
    is how retries happen.
    """
    now = now or timezone.now()
    forgotten = now - STALE_CLAIM
    return list(
        Delivery.objects.filter(
            Q(status=DeliveryStatus.RETRYING, next_attempt_at__lte=now)
            | Q(status=DeliveryStatus.PENDING, created_at__lt=forgotten)
            | Q(status=DeliveryStatus.SENDING, claimed_at__lt=forgotten)
        ).values_list("pk", flat=True)
    )


def deliver(delivery_id: int) -> Delivery | None:
    """Attempt a delivery and, if it is to be retried, enqueue the retry for its time.

    With a backend that cannot defer a task (the in-process one) the retry waits for
    `retry_due_deliveries` (the `retry_due_webhooks` task, or "Retry due now" on the page).
    """
    from django_tasks import default_task_backend

    from closedloop.webhooks.tasks import deliver_webhook

    delivery = attempt_delivery(delivery_id)
    if delivery is not None and delivery.status == DeliveryStatus.RETRYING:
        if default_task_backend.supports_defer:
            deliver_webhook.using(run_after=delivery.next_attempt_at).enqueue(delivery.pk)
    return delivery


def retry_due_deliveries(*, now: datetime.datetime | None = None) -> int:
    """Attempt every due delivery now; returns how many were attempted."""
    return sum(deliver(pk) is not None for pk in due_delivery_ids(now=now))
