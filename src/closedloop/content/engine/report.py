"""Everything marketing sees about the library, from one pass over the columnar data."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from closedloop.content.engine import influence, lift, review, usage
from closedloop.content.engine.usage import BoolArray, Events, IntArray, UsageKind

UNUSED_DAYS = 90


@dataclass(frozen=True)
class Settings:
    lookback_days: int = influence.DEFAULT_LOOKBACK_DAYS
    min_used: int = lift.MIN_USED
    min_comparison: int = lift.MIN_COMPARISON
    confidence: float = 0.95
    exposure_edges: tuple[int, ...] = lift.EXPOSURE_EDGES
    unused_days: int = UNUSED_DAYS
    bottom_share: float = review.BOTTOM_SHARE


@dataclass(frozen=True)
class AssetReport:
    usage: usage.Usage
    influence: influence.Influence
    lift: lift.Lift
    bottom: review.Bottom
    freshness: list[review.Freshness]
    review_days_left: np.ndarray
    unused_share: float  # of the eligible assets, no sales use in `unused_days`
    eligible: BoolArray
    settings: Settings = field(default_factory=Settings)


def asset_report(
    ev: Events,
    dl: influence.Deals,
    *,
    n_assets: int,
    as_of: int,
    found: IntArray | None = None,
    review_by: IntArray | None = None,
    eligible: BoolArray | None = None,
    settings: Settings | None = None,
) -> AssetReport:
    """Usage, influence, lift, freshness and the bottom share of every asset.

    `found`: per asset, how many searches in the last `unused_days` showed it (zeros if
    unknown; the path to the bottom 20% counts that window too); `review_by`: epoch
    seconds or NEVER; `eligible`: the assets the library figures cover (e.g. the published
    ones; all if None). See the modules for the definitions."""
    s = settings or Settings()
    eligible = np.ones(n_assets, dtype=bool) if eligible is None else eligible
    used = usage.asset_usage(ev, n_assets=n_assets, since=as_of - s.unused_days * usage.DAY)
    pairs = influence.deal_asset_pairs(ev, dl, as_of=as_of, lookback_days=s.lookback_days)
    lifted = lift.win_rate_lift(
        pairs,
        dl,
        n_assets=n_assets,
        min_used=s.min_used,
        min_comparison=s.min_comparison,
        confidence=s.confidence,
        exposure_edges=s.exposure_edges,
    )
    fresh, days_left = review.freshness(
        np.full(n_assets, usage.NEVER, np.int64) if review_by is None else review_by, as_of=as_of
    )
    return AssetReport(
        usage=used,
        influence=influence.asset_influence(pairs, dl, n_assets=n_assets),
        lift=lifted,
        bottom=review.bottom(
            _funnel(used, lifted, found, n_assets), eligible=eligible, share=s.bottom_share
        ),
        freshness=fresh,
        review_days_left=days_left,
        unused_share=usage.unused_share(
            used.last_sales_use_at, as_of=as_of, days=s.unused_days, eligible=eligible
        ),
        eligible=eligible,
        settings=s,
    )


def _funnel(
    used: usage.Usage, lifted: lift.Lift, found: IntArray | None, n_assets: int
) -> review.Funnel:
    rep_kinds = (UsageKind.OPEN, UsageKind.DOWNLOAD, UsageKind.PRESENT)
    opened = sum(used.count(k, recent=True) for k in rep_kinds)
    return review.Funnel(
        found=np.zeros(n_assets, np.int64) if found is None else found,
        opened=np.asarray(opened, dtype=np.int64),
        shared=used.count(UsageKind.SHARE, recent=True),
        lift=lifted.lift,
        low=lifted.low,
        high=lifted.high,
        enough=lifted.enough,
    )
