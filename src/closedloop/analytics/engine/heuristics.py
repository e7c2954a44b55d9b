"""Rule-based attribution models: first, last, linear, time decay and position-based.

Each function takes `Journeys` and returns `Credits` whose conversions and value add up to the
journeys' totals. Weights are computed for all touches at once (numpy), never per journey.

Position-based models (U, W, full path) give fixed shares to milestone touches and spread the
rest equally over the other touches up to the last milestone (see docs/analytics.md):
- U-shaped (HubSpot): 40% first touch, 40% lead creation, 20% middle;
- U-shaped (Marketo Measure): 50% first touch, 50% lead creation;
- W-shaped: 30% first, 30% lead creation, 30% opportunity creation, 10% middle;
- full path: 22.5% each first, lead creation, opportunity creation, closed-won, 10% middle;
- J-shaped (HubSpot): 20% first touch, 60% last touch, 20% middle;
- inverse J: 60% first touch, 20% last touch, 20% middle.
"""

from __future__ import annotations

import numpy as np

from closedloop.analytics.engine.credits import Credits, credit_touches
from closedloop.analytics.engine.journeys import FloatArray, IntArray, Journeys

# The milestone that is always a journey's last touch (the J-shaped models' conversion touch).
LAST = "last"

# (milestone shares in order first touch, then the named milestones; middle share)
POSITION_MODELS: dict[str, tuple[tuple[float, ...], tuple[str, ...], float]] = {
    "u_shaped": ((0.4, 0.4), ("lead",), 0.2),
    "u_shaped_marketo": ((0.5, 0.5), ("lead",), 0.0),
    "w_shaped": ((0.3, 0.3, 0.3), ("lead", "opportunity"), 0.1),
    "full_path": ((0.225, 0.225, 0.225, 0.225), ("lead", "opportunity", "won"), 0.1),
    "j_shaped": ((0.2, 0.6), (LAST,), 0.2),
    "inverse_j": ((0.6, 0.2), (LAST,), 0.2),
}


def first_touch(journeys: Journeys) -> Credits:
    """100% of each journey to its first touch."""
    weights = (journeys.position == 0).astype(np.float64)
    return credit_touches(journeys, weights, "first")


def last_touch(journeys: Journeys) -> Credits:
    """100% of each journey to its last touch."""
    last = journeys.position == journeys.lengths[journeys.row_of_touch] - 1
    return credit_touches(journeys, last.astype(np.float64), "last")


def linear(journeys: Journeys) -> Credits:
    """Equal shares to every touch of a journey (a channel touched twice gets two shares)."""
    weights = 1.0 / journeys.lengths[journeys.row_of_touch]
    return credit_touches(journeys, weights.astype(np.float64), "linear")


def time_decay(journeys: Journeys, *, half_life: float | None = None) -> Credits:
    """Each touch weighs 2 ** (-age / half_life), normalised to 1 within its journey.

    With `journeys.ages` the age is in days before the outcome and `half_life` defaults to 7
    days. Without ages (a path file) the age is the number of touches after this one (the last
    touch has age 0) and `half_life` is in touches, default 1.
    """
    if journeys.ages is not None:
        ages, default = journeys.ages, 7.0
    else:
        ages = (journeys.lengths[journeys.row_of_touch] - 1 - journeys.position).astype(float)
        default = 1.0
    half = default if half_life is None else float(half_life)
    if half <= 0:
        raise ValueError("half_life must be positive")
    raw = np.exp2(-ages / half)
    totals = np.bincount(journeys.row_of_touch, weights=raw, minlength=journeys.rows)
    return credit_touches(journeys, raw / totals[journeys.row_of_touch], "time_decay")


def position_based(journeys: Journeys, model: str) -> Credits:
    """A U-, W-, full-path or J-shaped model by name (see POSITION_MODELS)."""
    shares, names, middle = POSITION_MODELS[model]
    positions = [np.zeros(journeys.rows, dtype=np.int64)]
    positions += [
        milestone_positions(journeys, name, order, len(names))
        for order, name in enumerate(names, start=1)
    ]
    weights = milestone_weights(journeys, positions, np.asarray(shares), middle)
    return credit_touches(journeys, weights, model)


def milestone_positions(journeys: Journeys, name: str, order: int, count: int) -> IntArray:
    """Touch position of milestone `name` per row; where unknown, an evenly spaced default.

    `name` is milestone number `order` (1-based) of the model's `count` milestones after the
    first touch. The `last` milestone is always the last touch. Another's default is position
    floor(order * (length - 1) / count + 0.5): the last milestone falls on the last touch and
    the others are spread evenly between, because path files carry no milestones.
    """
    lengths = journeys.lengths
    if name == LAST:
        return (lengths - 1).astype(np.int64)
    default = np.floor(order * (lengths - 1) / count + 0.5).astype(np.int64)
    known = journeys.milestone(name)
    if np.any(known >= lengths):
        raise ValueError(f"{name} milestone beyond the end of its journey")
    return np.where(known >= 0, known, default)


def milestone_weights(
    journeys: Journeys, positions: list[IntArray], shares: FloatArray, middle: float
) -> FloatArray:
    """Per-touch weights: `shares[j]` at milestone j's touch, `middle` spread over the others.

    Milestones on the same touch add up. "Other" touches are those up to the last milestone;
    touches after it get nothing. When a journey has no other touch, its milestone shares are
    scaled up to sum to 1 (the middle share goes to the milestones in proportion).
    """
    total = len(journeys.codes)
    weights = np.zeros(total, dtype=np.float64)
    for share, pos in zip(shares, positions, strict=True):
        weights += np.bincount(journeys.offsets[:-1] + pos, minlength=total) * share
    rows = journeys.row_of_touch
    last = np.max(np.stack(positions), axis=0)
    is_middle = (weights == 0) & (journeys.position <= last[rows])
    n_middle = np.bincount(rows[is_middle], minlength=journeys.rows)
    weights[is_middle] = middle / n_middle[rows[is_middle]]
    lonely = (n_middle == 0)[rows]
    weights[lonely] /= float(np.sum(shares))
    return weights
