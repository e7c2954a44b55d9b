"""The reverse waterfall: from a revenue goal back to the leads needed, month by month.

Inputs: the revenue goal of each month of the period (currency units), the average deal size
(currency units) and the funnel's stages from the top (e.g. lead, MQL, SQL, opportunity), each
with its measured conversion rate to the next stage (0 < rate <= 1) and its lag, the average
months a record spends before it converts to the next stage. The bottom stage converts into
won deals.

Method: won deals needed in month m = goal[m] / deal size. Walking up the funnel, a stage's
volume needed = the next stage's volume / the stage's conversion rate, arriving `lag` months
earlier. A fractional lag splits the volume between the two neighbouring months in proportion
(a lag of 1.25 puts 75% one month earlier and 25% two months earlier), so totals are exact.
Volumes are expected counts (fractions kept); round up when presenting them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from closedloop.analytics.engine.journeys import FloatArray

WON = "won"


@dataclass(frozen=True)
class Stage:
    """A funnel stage: its name, conversion rate to the next stage, lag in months to it."""

    name: str
    conversion_rate: float
    lag_months: float


@dataclass(frozen=True)
class Waterfall:
    """Volumes needed per stage and month.

    `months[i]` is the month offset of column i from the goal period's first month (negative:
    before the period starts). `needed[stage]` has one expected count per column; the key
    "won" holds the won deals.
    """

    months: list[int]
    needed: dict[str, FloatArray]

    def totals(self) -> dict[str, float]:
        """Total volume needed per stage over all months."""
        return {name: float(values.sum()) for name, values in self.needed.items()}


def reverse_waterfall(
    *, goal_by_month: Sequence[float], average_deal_size: float, stages: Sequence[Stage]
) -> Waterfall:
    """Plan backwards from the revenue goal; see the module docstring for the method."""
    _check(goal_by_month, average_deal_size, stages)
    # Each fractional lag can reach one month further back, hence the sum of ceilings.
    earliest = -sum(math.ceil(stage.lag_months) for stage in stages)
    width = len(goal_by_month) - earliest
    won = np.zeros(width)
    won[-earliest:] = np.asarray(goal_by_month, dtype=np.float64) / average_deal_size
    needed = {WON: won}
    below = won
    for stage in reversed(stages):
        below = _shift_back(below / stage.conversion_rate, stage.lag_months)
        needed[stage.name] = below
    ordered = {stage.name: needed[stage.name] for stage in stages} | {WON: won}
    return Waterfall(months=list(range(earliest, len(goal_by_month))), needed=ordered)


def _shift_back(volume: FloatArray, lag: float) -> FloatArray:
    """Move volumes `lag` months earlier, splitting a fractional lag between two months."""
    whole, part = int(math.floor(lag)), lag - math.floor(lag)
    shifted = np.zeros_like(volume)
    n = len(volume)
    shifted[: n - whole] += volume[whole:] * (1 - part)
    if part > 0:
        shifted[: n - whole - 1] += volume[whole + 1 :] * part
    return shifted


def _check(goal: Sequence[float], deal_size: float, stages: Sequence[Stage]) -> None:
    if not goal or any(amount < 0 for amount in goal):
        raise ValueError("goal_by_month needs at least one month, none negative")
    if deal_size <= 0:
        raise ValueError("average_deal_size must be positive")
    for stage in stages:
        if not 0 < stage.conversion_rate <= 1:
            raise ValueError(f"{stage.name}: conversion_rate must be in (0, 1]")
        if stage.lag_months < 0:
            raise ValueError(f"{stage.name}: lag_months must be >= 0")
    if len({stage.name for stage in stages} | {WON}) != len(stages) + 1:
        raise ValueError(f"stage names must be distinct and not {WON!r}")
