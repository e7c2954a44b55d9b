"""Sharing assets with leads as tracked links, opening them, and the reps' usage log.

A rep shares an asset with a lead: a `ShareLink` with a random token (only its SHA-256 is
stored; the URL is shown once). Opening `/s/<token>` records a `content_view` touch of the
lead through engagement's `record_touchpoint` (so it is rescored and attributed like any
touch), tells the rep, and serves the asset. Repeated opens within VIEW_SESSION count as one
view (a buyer paging through a PDF reloads it). A revoked or expired link, or a retired asset,
serves a page that says so, never the file.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from closedloop.campaigns.models import Channel
from closedloop.content.models import AssetStatus, AssetVersion, ContentAsset
from closedloop.content.permissions import visible_assets
from closedloop.content.usage_models import ShareLink, UsageEvent, UsageKind
from closedloop.core.models import User
from closedloop.core.permissions import visible
from closedloop.core.services import hash_token
from closedloop.crm.models import Lead, Opportunity
from closedloop.engagement.models import TouchpointType
from closedloop.engagement.services import record_touchpoint
from closedloop.handoff.models import Notification

TOKEN_BYTES = 24  # 192 random bits: nothing to guess
LINK_DAYS = 30
MAX_LINK_DAYS = 365
VIEW_SESSION = timedelta(minutes=30)


def share_asset(
    asset: ContentAsset,
    *,
    lead: Lead,
    by: User,
    opportunity: Opportunity | None = None,
    days: int | None = LINK_DAYS,
    now: datetime | None = None,
) -> tuple[ShareLink, str]:
    """A tracked link of `asset` for `lead`, valid `days` (None: until revoked). Returns the
    link and its token (shown once: only its hash is stored). `by` must see the asset (a
    published one, or their own upload) and the lead; refused with PermissionDenied or a
    ValidationError naming the field."""
    _check_share(asset, lead=lead, by=by, days=days)
    now = now or timezone.now()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with transaction.atomic():
        link = ShareLink.objects.create(
            asset=asset,
            version_id=asset.current_version_id,
            lead=lead,
            opportunity=opportunity,
            created_by=by,
            token_hash=hash_token(token),
            created_at=now,
            expires_at=None if days is None else now + timedelta(days=days),
        )
        record_usage(asset, by=by, kind=UsageKind.SHARE, lead=lead, share_link=link, at=now)
    return link, token


def _check_share(asset: ContentAsset, *, lead: Lead, by: User, days: int | None) -> None:
    if not visible_assets(by).filter(pk=asset.pk).exists():
        raise PermissionDenied("you cannot see this asset")
    if asset.status != AssetStatus.PUBLISHED and not asset.personal:
        raise ValidationError({"asset": "only published assets can be shared"})
    if not visible(Lead.objects.filter(pk=lead.pk), by).exists():
        raise PermissionDenied("you cannot see this lead")
    if days is not None and not 1 <= days <= MAX_LINK_DAYS:
        raise ValidationError({"days": f"a link lasts 1 to {MAX_LINK_DAYS} days"})


def revoke_link(link: ShareLink, *, by: User, now: datetime | None = None) -> ShareLink:
    """Revoke a link: from now on it answers "revoked". Its creator, their manager's team
    (anyone who sees the lead and may write) or marketing may; idempotent."""
    if link.revoked_at is None:
        link.revoked_at = now or timezone.now()
        link.revoked_by = by
        link.save(update_fields=["revoked_at", "revoked_by"])
    return link


def record_usage(
    asset: ContentAsset,
    *,
    by: User | None,
    kind: str,
    lead: Lead | None = None,
    share_link: ShareLink | None = None,
    version: AssetVersion | None = None,
    at: datetime | None = None,
) -> UsageEvent:
    """Log what a rep did with an asset (`kind`: a UsageKind value)."""
    if kind not in UsageKind.values:
        raise ValidationError({"kind": f"one of {', '.join(UsageKind.values)}"})
    return UsageEvent.objects.create(
        asset=asset,
        version_id=version.pk if version else asset.current_version_id,
        user=by,
        kind=kind,
        lead=lead,
        share_link=share_link,
        at=at or timezone.now(),
    )


SALES_ROLES = ("rep", "manager")


def record_sales_use(asset: ContentAsset, *, user: User, kind: str, version=None) -> None:
    """Log an open or a download from the library pages when a rep or manager made it
    (marketing looking at its own assets is not sales use)."""
    if getattr(user, "role", None) in SALES_ROLES:
        record_usage(asset, by=user, kind=kind, version=version)


@dataclass(frozen=True)
class Opened:
    """What opening a token found: `state` is "active" (serve `link.asset`), "revoked",
    "expired", "retired" (the asset was retired) or "missing" (no such link)."""

    state: str
    link: ShareLink | None = None


def open_link(token: str, *, now: datetime | None = None) -> Opened:
    """Look a token up; when the link is active, record the buyer's view (see the module)."""
    now = now or timezone.now()
    link = (
        ShareLink.objects.select_related("asset", "version", "lead", "created_by")
        .filter(token_hash=hash_token(token[:100]))
        .first()
    )
    if link is None:
        return Opened("missing")
    state = link.state(now)
    if state == "active" and link.asset.status == AssetStatus.RETIRED:
        state = "retired"
    if state == "active":
        _record_view(link, now=now)
    return Opened(state, link)


def _record_view(link: ShareLink, *, now: datetime) -> None:
    new_session = link.last_viewed_at is None or now - link.last_viewed_at >= VIEW_SESSION
    with transaction.atomic():
        ShareLink.objects.filter(pk=link.pk).update(views=F("views") + 1, last_viewed_at=now)
        if not new_session:
            return
        record_touchpoint(
            lead=link.lead,
            type=TouchpointType.CONTENT_VIEW,
            occurred_at=now,
            content=link.asset,
            channel=Channel.SALES,
            properties=_view_properties(link),
        )
        if link.created_by_id:
            Notification.objects.create(
                user_id=link.created_by_id,
                lead=link.lead,
                at=now,
                text=f"{link.lead} opened “{link.asset.title}”"[:300],
            )


def _view_properties(link: ShareLink) -> dict:
    version = link.version.number if link.version else None
    return {"share_link": link.pk, "version": version, "rep": link.created_by_id}
