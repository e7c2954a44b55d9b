"""Usage and influence figures of the library: the adapter between the tables and the pure
engine (`content/engine/`).

Reads, as columns: every buyer view (a `content_view` touchpoint naming an asset), every
usage event (what reps did), the opportunities with their contacts, amounts, close and the
account's size band (the lift's strata), searches that opened an asset, and the assets'
review-by dates. Assets, leads and reps are indexed by their ids (dense enough: the engine's
tables are as long as the largest id).
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, fields

import numpy as np
from django.db.models import Count
from django.utils import timezone

from closedloop.content.engine import influence, report
from closedloop.content.engine.review import Reason
from closedloop.content.engine.usage import DAY, NEVER, Events, UsageKind, events
from closedloop.content.models import AssetStatus, ContentAsset, SearchLog
from closedloop.content.usage_models import ShareLink, UsageEvent
from closedloop.crm.models import Opportunity, OpportunityContact, OpportunityStage
from closedloop.engagement.models import Touchpoint, TouchpointType

SIZE_BANDS = (50, 200, 1000, 5000)  # employees: the strata deals are compared within
KIND_CODE = {
    "open": UsageKind.OPEN,
    "download": UsageKind.DOWNLOAD,
    "present": UsageKind.PRESENT,
    "share": UsageKind.SHARE,
}
REASON_TEXT = {
    Reason.NEVER_FOUND: "never found",
    Reason.FOUND_NOT_OPENED: "found but not opened",
    Reason.OPENED_NOT_SHARED: "opened but never shared",
    Reason.SHARED_NO_LIFT: "shared but no lift",
    Reason.SHARED_WITH_LIFT: "shared, with a lift",
}


@dataclass
class LibraryReport:
    """The engine's report over the assets (index = asset id) at `as_of`."""

    as_of: int  # epoch seconds
    assets: dict[int, ContentAsset]
    engine: report.AssetReport
    bottom: list[int]  # asset ids, worst first

    def rows(self) -> list[dict]:
        """Every asset's figures (see `asset_row`), personal uploads left out."""
        return [asset_row(self, pk) for pk, a in sorted(self.assets.items()) if not a.personal]


def _epoch(values) -> np.ndarray:
    return np.fromiter((int(v.timestamp()) for v in values), dtype=np.int64, count=len(values))


def _buyer_views() -> Events:
    rows = list(
        Touchpoint.objects.filter(type=TouchpointType.CONTENT_VIEW, content__isnull=False)
        .order_by()
        .values_list("content_id", "lead_id", "occurred_at")
        .iterator(chunk_size=50_000)
    )
    asset, lead, at = zip(*rows, strict=True) if rows else ((), (), ())
    return events(
        asset=asset,
        kind=np.zeros(len(rows), np.int8),
        at=_epoch(at),
        lead=[NEVER if x is None else x for x in lead],
    )


def _rep_usage() -> Events:
    rows = list(
        UsageEvent.objects.order_by()
        .values_list("asset_id", "kind", "at", "lead_id", "user_id")
        .iterator(chunk_size=50_000)
    )
    asset, kind, at, lead, user = zip(*rows, strict=True) if rows else ((),) * 5
    return events(
        asset=asset,
        kind=[KIND_CODE[k] for k in kind],
        at=_epoch(at),
        lead=[NEVER if x is None else x for x in lead],
        rep=[NEVER if x is None else x for x in user],
    )


def _joined(parts: list[Events]) -> Events:
    names = [f.name for f in fields(Events)]
    return Events(*(np.concatenate([getattr(p, n) for p in parts]) for n in names))


def _deals() -> influence.Deals:
    opps = list(
        Opportunity.objects.order_by("pk").values_list(
            "pk", "amount", "created_at", "closed_at", "stage", "account__employees"
        )
    )
    pk, amount, created, closed, stage, employees = zip(*opps, strict=True) if opps else ((),) * 6
    position = {p: i for i, p in enumerate(pk)}
    contacts = OpportunityContact.objects.values_list("opportunity_id", "lead_id")
    pairs = [(position[o], lead) for o, lead in contacts if o in position]
    deal, lead = zip(*pairs, strict=True) if pairs else ((), ())
    return influence.deals(
        amount=[float(a or 0) for a in amount],
        created=_epoch(created),
        closed_at=[NEVER if c is None else int(c.timestamp()) for c in closed],
        won=[s == OpportunityStage.WON for s in stage],
        contact_deal=deal,
        contact_lead=lead,
        stratum=np.searchsorted(SIZE_BANDS, [e or 0 for e in employees], side="right"),
    )


def _found(n_assets: int, since: datetime.datetime) -> np.ndarray:
    """Per asset: searches of the window that led a rep to open it (the search log keeps the
    asset opened, not every result shown, so "found" is "found and opened from a search")."""
    found = np.zeros(n_assets, np.int64)
    opened = (
        SearchLog.objects.filter(created_at__gte=since, opened_asset__isnull=False)
        .values("opened_asset")
        .annotate(n=Count("pk"))
        .values_list("opened_asset", "n")
    )
    for asset_id, n in opened:
        if asset_id < n_assets:
            found[asset_id] = n
    return found


def library_report(*, now: datetime.datetime | None = None) -> LibraryReport:
    """Usage, influence, lift, freshness and the bottom 20% of every asset (the engine's
    report over the whole history up to `now`). The library figures (unused share, bottom
    20%) cover the published assets; personal uploads are left out."""
    now = now or timezone.now()
    assets = ContentAsset.objects.in_bulk()
    n_assets = max(assets, default=0) + 1
    eligible = np.zeros(n_assets, bool)
    eligible[[pk for pk, a in assets.items() if _in_library(a)]] = True
    result = report.asset_report(
        _joined([_buyer_views(), _rep_usage()]),
        _deals(),
        n_assets=n_assets,
        as_of=int(now.timestamp()),
        found=_found(n_assets, now - datetime.timedelta(days=report.UNUSED_DAYS)),
        review_by=_review_by(assets, n_assets),
        eligible=eligible,
    )
    return LibraryReport(int(now.timestamp()), assets, result, result.bottom.order.tolist())


def _in_library(asset: ContentAsset) -> bool:
    return asset.status == AssetStatus.PUBLISHED and not asset.personal


def _review_by(assets: dict[int, ContentAsset], n_assets: int) -> np.ndarray:
    review_by = np.full(n_assets, NEVER, np.int64)
    for pk, asset in assets.items():
        if asset.review_by:
            midnight = datetime.datetime.combine(asset.review_by, datetime.time(), datetime.UTC)
            review_by[pk] = int(midnight.timestamp())
    return review_by


def _num(value: float, digits: int = 4) -> float | None:
    return None if math.isnan(value) else round(float(value), digits)


def lift_figures(rep: LibraryReport, pk: int) -> dict:
    """The win-rate lift of one asset: rates and lift in win-rate points (0..1), the interval,
    how many closed deals used it, and whether that is enough to say anything."""
    lift = rep.engine.lift
    return {
        "enough_data": bool(lift.enough[pk]),
        "deals_used": int(lift.used[pk]),
        "deals_used_won": int(lift.used_won[pk]),
        "win_rate_used": _num(lift.used_rate[pk]),
        "win_rate_comparable": _num(lift.comparable_rate[pk]),
        "lift": _num(lift.lift[pk]),
        "low": _num(lift.low[pk]),
        "high": _num(lift.high[pk]),
    }


def asset_row(rep: LibraryReport, pk: int) -> dict:
    """Every figure of one asset, as plain values (pages, API, CSV, the command line)."""
    e, asset = rep.engine, rep.assets[pk]
    u, i = e.usage, e.influence
    last = int(u.last_used_at[pk])
    return {
        "id": pk,
        "title": asset.title,
        "status": asset.status,
        "reps": int(u.reps[pk]),
        "shares": int(u.counts[pk, UsageKind.SHARE]),
        "buyer_views": int(u.counts[pk, UsageKind.BUYER_VIEW]),
        "rep_opens": int(u.counts[pk, UsageKind.OPEN]),
        "downloads": int(u.counts[pk, UsageKind.DOWNLOAD]),
        "presentations": int(u.counts[pk, UsageKind.PRESENT]),
        "leads_touched": int(u.leads[pk]),
        "opportunities_touched": int(i.deals[pk]),
        "pipeline_influenced": round(float(i.pipeline[pk]), 2),
        "won_revenue_influenced": round(float(i.won_revenue[pk]), 2),
        **{f"lift_{k}" if k != "lift" else k: v for k, v in lift_figures(rep, pk).items()},
        "days_since_last_use": None if last == NEVER else round((rep.as_of - last) / DAY, 1),
        "freshness": str(e.freshness[pk]),
        "review_days_left": _num(e.review_days_left[pk], 1),
        "reason": str(e.bottom.reasons[pk]),
    }


def library_summary(rep: LibraryReport) -> dict:
    """The library's figures: how many published assets, the share unused by sales in the
    last 90 days (the company's own "70% never used"), totals, and the bottom 20% with why."""
    e = rep.engine
    published = np.flatnonzero(e.eligible)
    return {
        "as_of": datetime.datetime.fromtimestamp(rep.as_of, datetime.UTC).isoformat(),
        "published_assets": len(published),
        "unused_share_90d": round(e.unused_share, 4),
        "shares": int(e.usage.counts[published, UsageKind.SHARE].sum()),
        "buyer_views": int(e.usage.counts[published, UsageKind.BUYER_VIEW].sum()),
        "assets_with_lift_measured": int(e.lift.enough[published].sum()),
        "bottom": [
            {
                "id": pk,
                "title": rep.assets[pk].title,
                "reason": str(e.bottom.reasons[pk]),
                "why": REASON_TEXT[e.bottom.reasons[pk]],
                "lift": _num(e.lift.lift[pk]) if e.lift.enough[pk] else None,
            }
            for pk in rep.bottom
        ],
    }


def usage_tile(*, days: int = 30, now: datetime.datetime | None = None) -> dict:
    """A small, cheap summary for the scoreboard: shares, shared links opened by buyers and
    reps sharing in the last `days`, and the published assets no rep used in 90 days."""
    now = now or timezone.now()
    since = now - datetime.timedelta(days=days)
    recent = UsageEvent.objects.filter(at__gte=since, kind="share")
    published = ContentAsset.objects.filter(status=AssetStatus.PUBLISHED, personal=False)
    used = UsageEvent.objects.filter(at__gte=now - datetime.timedelta(days=report.UNUSED_DAYS))
    unused = published.exclude(pk__in=used.values("asset_id")).count()
    total = published.count()
    return {
        "days": days,
        "shares": recent.count(),
        "reps_sharing": recent.values("user_id").distinct().count(),
        "links_opened": ShareLink.objects.filter(last_viewed_at__gte=since).count(),
        "published_assets": total,
        "unused_share_90d": round(unused / total, 4) if total else 0.0,
    }
