"""Public web-form capture: a marketing form posts to /f/<form key>; the lead is created or
updated by email and the form fill is recorded as a touch.

Protections, in the order the view applies them: a per-IP rate limit (cache based; 429 with
Retry-After), the form key (only its hash is stored), the allowed origins (CORS), and a
honeypot field that people never see and bots fill in (answered as a success, stored nowhere,
so a bot learns nothing).
"""

from __future__ import annotations

import time
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from closedloop.campaigns.models import Campaign
from closedloop.core.audit import acting_as
from closedloop.core.models import AuditSource
from closedloop.crm.models import Lead
from closedloop.engagement import segment
from closedloop.engagement.ingest import (
    _announce,
    insert_touches,
    lead_for_email,
    link_visitor,
    upsert_lead,
)
from closedloop.engagement.models import Form, TouchpointType

HONEYPOT_FIELD = "homepage"
# Fields with a meaning of their own; everything else is kept on the touch as submitted.
_RESERVED = {
    HONEYPOT_FIELD,
    "campaign",
    "anonymous_id",
    "anonymousId",
    "message_id",
    "messageId",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "csrfmiddlewaretoken",
    # Lead fields are written to the lead, not repeated on every touch.
    "email",
    "first_name",
    "firstName",
    "last_name",
    "lastName",
    "name",
    "title",
    "phone",
    "company",
    "industry",
    "employees",
    "country",
    "city",
}
_MAX_EXTRA_FIELDS = 50
_MAX_VALUE_LENGTH = 1000


def rate_limit() -> tuple[int, int]:
    """(submissions, seconds) allowed per IP address; CLOSEDLOOP_FORM_RATE_LIMIT e.g. '10/60'."""
    spec = getattr(settings, "CLOSEDLOOP_FORM_RATE_LIMIT", "10/60")
    count, _, window = str(spec).partition("/")
    return int(count), int(window or 60)


def retry_after(ip: str) -> int | None:
    """Count one submission from `ip`; None when allowed, else seconds until it may retry.

    Fixed windows in the cache: cheap, and over-counting at a window's edge only ever lets a
    sender through a little early. With several server processes the cache must be shared
    (Redis or database cache) for the limit to be global.
    """
    limit, window = rate_limit()
    now = time.time()
    bucket = int(now // window)
    key = f"closedloop:form-rate:{ip}:{bucket}"
    cache.add(key, 0, timeout=window * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window * 2)
        count = 1
    if count <= limit:
        return None
    return max(1, int((bucket + 1) * window - now) + 1)


def origin_allowed(form: Form, origin: str | None) -> bool:
    """A form with no listed origins may be posted from anywhere; else only from those."""
    if not origin or not form.origins:
        return True
    return origin.rstrip("/") in form.origins


def is_bot(fields: dict) -> bool:
    return bool(str(fields.get(HONEYPOT_FIELD, "")).strip())


def capture_form_submission(
    form: Form,
    *,
    fields: dict,
    page_url: str = "",
    at: datetime | None = None,
) -> Lead:
    """Create or update the lead by email from the form's fields and record a form touch.

    `fields` are the submitted values (first_name or firstName, email, company, ...; a hidden
    `campaign` naming a campaign by name, external id or id; `anonymous_id`, the visitor's
    tracking id, whose earlier touches then join the lead; optional `message_id` to make a
    resubmission idempotent). Raises ValueError("field: problem") for a missing or bad email.
    """
    _refuse_nul_characters(fields)
    values = segment.lead_fields(fields)
    _check_email(str(fields.get("email") or "").strip())
    at = at or timezone.now()
    utm = _utm(fields)
    with acting_as(None, AuditSource.API), transaction.atomic():
        campaign = _campaign(fields, utm) or form.campaign
        lead = upsert_lead(
            values,
            lead=lead_for_email(values["email"]),
            at=at,
            utm=utm,
            campaign_id=campaign.pk if campaign else None,
        )
        insert_touches([_touch_row(form, lead, fields, campaign, utm, page_url, at)])
        link_visitor(lead, user_id=None, anonymous_id=_anonymous_id(fields))
        _count_submission(form, at)
        _announce({lead.pk})
    return lead


def _check_email(email: str) -> None:
    if not email:
        raise ValueError("email: this field is required")
    try:
        validate_email(email)
    except ValidationError:
        raise ValueError(f"email: {email[:80]!r} is not an email address") from None


def _count_submission(form: Form, at: datetime) -> None:
    Form.objects.filter(pk=form.pk).update(submissions=F("submissions") + 1, last_submitted_at=at)


def _refuse_nul_characters(fields: dict) -> None:
    # PostgreSQL stores a NUL character in neither text nor jsonb: refuse it by name here
    # rather than fail the database transaction with a server error.
    for name, value in fields.items():
        if "\x00" in str(name) or "\x00" in str(value):
            raise ValueError(f"{str(name).replace(chr(0), '')[:60]}: contains a NUL character")


def _touch_row(form, lead, fields, campaign, utm, page_url, at) -> tuple:
    properties = {"form": form.name, "form_id": form.pk, "fields": _extra_fields(fields)}
    if page_url:
        properties["url"] = page_url[:_MAX_VALUE_LENGTH]
    if utm:
        properties["utm"] = utm
    channel = segment.channel_for(TouchpointType.FORM, utm, campaign.channel if campaign else "")
    message_id = str(fields.get("message_id") or fields.get("messageId") or "")[:100] or None
    return (
        lead.pk,
        _anonymous_id(fields),
        TouchpointType.FORM,
        channel,
        campaign.pk if campaign else None,
        at,
        timezone.now(),
        properties,
        message_id,
    )


def _anonymous_id(fields: dict) -> str:
    return str(fields.get("anonymous_id") or fields.get("anonymousId") or "").strip()[:100]


def _utm(fields: dict) -> dict:
    names = {
        "source": "utm_source",
        "medium": "utm_medium",
        "name": "utm_campaign",
        "term": "utm_term",
        "content": "utm_content",
    }
    return {k: str(fields[f])[:200] for k, f in names.items() if fields.get(f)}


def _campaign(fields: dict, utm: dict) -> Campaign | None:
    wanted = str(fields.get("campaign") or utm.get("name") or "").strip()
    if not wanted:
        return None
    match = Q(name__iexact=wanted) | Q(external_id=wanted)
    if wanted.isdigit():
        match |= Q(pk=int(wanted))
    return Campaign.objects.filter(match).order_by("id").first()


def _extra_fields(fields: dict) -> dict:
    extra = {}
    for name, value in fields.items():
        if name in _RESERVED or len(extra) >= _MAX_EXTRA_FIELDS:
            continue
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        extra[str(name)[:100]] = str(value)[:_MAX_VALUE_LENGTH]
    return extra
