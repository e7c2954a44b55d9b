"""Freshness against the review-by date, and the bottom 20% of the library with a reason each.

The bottom 20% follows an asset down the path it should travel: found in a rep's search,
opened by the rep, shared with a buyer, and then winning more deals (the lift counts every
buyer view, the website's too).
The path is counted over a recent window (the report's 90 days: what reps do now), the lift
over the whole history. Each asset's reason is where it stopped (`Reason`); assets are ranked
by a level:

    0  deals that used it won *less* (the lift's whole interval is below zero)
    1  never found          (no search showed it and nobody used it)
    2  found but not opened (searches showed it; no rep opened, downloaded or presented it)
    3  opened but never shared
    4  shared but no lift   (the interval does not exclude zero, or too few deals to tell)
    5  shared, with a lift  (the interval is above zero)

and, within a level, by the lift (lowest first; an unmeasured lift counts as none), then by
how little the asset was used. The bottom 20% is the first ceil(20% of the eligible assets).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from closedloop.content.engine.usage import DAY, NEVER, BoolArray, FloatArray, IntArray

SOON_DAYS = 30  # "due soon" this many days before the review-by date
BOTTOM_SHARE = 0.2


class Freshness(StrEnum):
    FRESH = "fresh"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    NO_DATE = "no_date"


class Reason(StrEnum):
    NEVER_FOUND = "never_found"
    FOUND_NOT_OPENED = "found_not_opened"
    OPENED_NOT_SHARED = "opened_not_shared"
    SHARED_NO_LIFT = "shared_no_lift"
    SHARED_WITH_LIFT = "shared_with_lift"


REASON_OF_LEVEL = (
    Reason.SHARED_NO_LIFT,
    Reason.NEVER_FOUND,
    Reason.FOUND_NOT_OPENED,
    Reason.OPENED_NOT_SHARED,
    Reason.SHARED_NO_LIFT,
    Reason.SHARED_WITH_LIFT,
)


def freshness(
    review_by: IntArray, *, as_of: int, soon_days: int = SOON_DAYS
) -> tuple[list[Freshness], FloatArray]:
    """Per asset: its Freshness and the days left until its review-by date (negative when
    overdue, NaN without a date). `review_by` is epoch seconds, NEVER for no date."""
    has_date = review_by != NEVER
    days_left = np.where(has_date, (review_by - as_of) / DAY, np.nan)
    labels = [
        Freshness.NO_DATE
        if not dated
        else Freshness.OVERDUE
        if left < 0
        else Freshness.DUE_SOON
        if left <= soon_days
        else Freshness.FRESH
        for dated, left in zip(has_date.tolist(), days_left.tolist(), strict=True)
    ]
    return labels, days_left


@dataclass(frozen=True)
class Funnel:
    """Per asset, how far along the path it got (counts in the recent window) and its lift."""

    found: IntArray  # searches whose results showed it
    opened: IntArray  # rep opens, downloads and presentations
    shared: IntArray  # links reps sent to buyers
    lift: FloatArray  # the measured lift (NaN if none)
    low: FloatArray
    high: FloatArray
    enough: BoolArray  # the lift was measured on enough deals


def levels(f: Funnel) -> IntArray:
    """Each asset's level (see the module docstring)."""
    return np.select(
        [
            (f.shared > 0) & f.enough & (f.high < 0),
            (f.shared == 0) & (f.opened == 0) & (f.found == 0),
            (f.shared == 0) & (f.opened == 0),
            f.shared == 0,
            ~f.enough | (f.low <= 0),
        ],
        [0, 1, 2, 3, 4],
        5,
    ).astype(np.int64)


@dataclass(frozen=True)
class Bottom:
    order: IntArray  # asset indexes of the bottom share, worst first
    reasons: list[Reason]  # per asset (all of them, not only the bottom)
    level: IntArray  # per asset


def bottom(f: Funnel, *, eligible: BoolArray, share: float = BOTTOM_SHARE) -> Bottom:
    """The bottom `share` of the eligible assets, worst first, and every asset's reason."""
    level = levels(f)
    used = f.found + f.opened + f.shared
    lift = np.where(f.enough, np.nan_to_num(f.lift), 0.0)
    candidates = np.flatnonzero(eligible)
    keys = (candidates, used[candidates], lift[candidates], level[candidates])
    ranked = candidates[np.lexsort(keys)]
    count = math.ceil(share * len(candidates))
    reasons = [REASON_OF_LEVEL[i] for i in level.tolist()]
    return Bottom(order=ranked[:count], reasons=reasons, level=level)
