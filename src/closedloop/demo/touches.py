"""Demo phase: every lead's marketing touches, and from them its true propensity."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from closedloop.demo import truth
from closedloop.demo.arrays import codes
from closedloop.demo.catalog import (
    ASSET_COUNT,
    CREATION_TOUCH,
    DAY,
    HIGH_INTENT,
    HISTORY_DAYS,
    KIND,
    LOW_INTENT,
    TOUCH_KINDS,
)
from closedloop.vocabulary import TouchType

if TYPE_CHECKING:
    from closedloop.demo.builder import Builder


def touches(b: Builder) -> None:
    rng, n, lead = b.streams[4], b.n, b.lead
    fit_z = (b.fit - b.fit.mean()) / (b.fit.std() or 1.0)
    z = 0.95 * rng.standard_normal(n) + 0.3 * fit_z
    count = 1 + rng.poisson(np.exp(np.log(9.3) + 0.55 * z - 0.151))
    owner = np.repeat(np.arange(n), count)
    first = np.concatenate([[0], np.cumsum(count)[:-1]])
    is_first = np.zeros(len(owner), dtype=bool)
    is_first[first] = True
    trend = rng.normal(0, 0.7, n)
    fraction = rng.beta(np.exp(trend)[owner], np.exp(-trend)[owner])
    offset = np.where(is_first, 0, (fraction * truth.HORIZON_DAYS * DAY).astype(np.int64))
    at = lead["created"][owner] + offset
    hi = rng.random(len(owner)) < truth.sigmoid(-1.3 + 0.9 * z)[owner]
    high, low = (codes(rng, shares, len(owner), kind=KIND) for shares in (HIGH_INTENT, LOW_INTENT))
    kind = np.where(hi, high, low)
    kind[first] = [KIND[CREATION_TOUCH.get(s, "form")] for s in lead["source"]]
    keep = at <= b.as_of
    owner, at, kind, is_first = owner[keep], at[keep], kind[keep], is_first[keep]
    order = np.lexsort((at, owner))
    owner, at, kind, is_first = owner[order], at[order], kind[order], is_first[order]
    campaign = _touch_campaigns(b, rng, owner, at, kind, is_first)
    asset = _touch_assets(b, rng, kind)
    effect = np.where(asset >= 0, b.asset_effect[np.maximum(asset, 0)], 0.0)
    weight = truth.touch_weight(kind, effect, categories=TOUCH_KINDS)
    engagement = truth.engagement_logit(
        n_leads=n,
        touch_lead=owner,
        touch_weight=weight,
        touch_at=at,
        lead_created_at=lead["created"],
    )
    quality = np.where(
        lead["campaign"] >= 0, b.campaign_quality[np.maximum(lead["campaign"], 0)], 1.0
    )
    b.propensity = truth.true_propensity(fit=b.fit, engagement=engagement, campaign_quality=quality)
    b.touch = dict(lead=owner, at=at, kind=kind, campaign=campaign, asset=asset, is_first=is_first)
    b.touch_count = np.bincount(owner, minlength=n)


def _touch_campaigns(
    b: Builder,
    rng: np.random.Generator,
    owner: np.ndarray,
    at: np.ndarray,
    kind: np.ndarray,
    is_first: np.ndarray,
) -> np.ndarray:
    day = ((at - b.start) // DAY).astype(np.int64)
    u = rng.random(len(owner))
    campaign = np.full(len(owner), -1, dtype=np.int64)
    groups = {
        TouchType.EMAIL_OPEN: ("email",),
        TouchType.EMAIL_CLICK: ("email",),
        TouchType.AD_CLICK: ("paid_search", "paid_social"),
        TouchType.WEBINAR: ("webinar",),
        TouchType.EVENT: ("event",),
        TouchType.CONTENT_VIEW: ("content",),
        TouchType.FORM: ("content", "webinar"),
    }
    for touch_kind, types in groups.items():
        mask = kind == KIND[touch_kind]
        if touch_kind in (TouchType.CONTENT_VIEW, TouchType.FORM):
            mask &= rng.random(len(owner)) < 0.5
        campaign[mask] = _active(b, types, day[mask], u[mask])
    original = b.lead["campaign"][owner]
    page = (kind == KIND[TouchType.PAGE_VIEW]) & (rng.random(len(owner)) < 0.15)
    campaign[page] = original[page]
    campaign[is_first] = original[is_first]
    return campaign


def _active(b: Builder, types: tuple[str, ...], day: np.ndarray, u: np.ndarray) -> np.ndarray:
    """A campaign of one of `types` running on each day (-1 where none was)."""
    span = HISTORY_DAYS + truth.HORIZON_DAYS + 2
    members: list[list[np.integer]] = [[] for _ in range(span)]
    for c in np.flatnonzero(np.isin(b.campaign_kind, types)):
        first = (b.campaign_start[c] - b.start) // DAY
        last = (b.campaign_end[c] - b.start) // DAY
        for d in range(max(first, 0), min(last + 1, span)):
            members[d].append(c)
    width = max(1, max(len(m) for m in members))
    table = np.full((span, width), -1, dtype=np.int64)
    counts = np.zeros(span, dtype=np.int64)
    for d, m in enumerate(members):
        table[d, : len(m)] = m
        counts[d] = len(m)
    day = np.clip(day, 0, span - 1)
    slot = np.minimum((u * counts[day]).astype(np.int64), np.maximum(counts[day] - 1, 0))
    return np.where(counts[day] > 0, table[day, slot], -1)


def _touch_assets(b: Builder, rng: np.random.Generator, kind: np.ndarray) -> np.ndarray:
    asset = np.full(len(kind), -1, dtype=np.int64)
    mask = (kind == KIND[TouchType.CONTENT_VIEW]) | (
        (kind == KIND[TouchType.EMAIL_CLICK]) & (rng.random(len(kind)) < 0.25)
    )
    asset[mask] = rng.choice(ASSET_COUNT, mask.sum(), p=b.asset_popularity)
    return asset
