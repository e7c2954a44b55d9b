"""What-if: how many MQLs would a contract have produced, week by week, and how did they convert?

Pure NumPy over arrays read by `services.simulate_contract`; the fit grade, engagement score and
MQL rule are the scorer's own functions (`scorecard.py`), so the simulation cannot drift from
what the scorer does once the contract is in force.

Time is in days since the start of the window (floats). A lead counts as an MQL in the first
week at whose end it met the rule (it must exist by then; its touches up to then count, decayed
to that moment). Sampling at week ends is an approximation: a lead whose engagement crossed the
bar mid-week and decayed below it by the week's end is missed, which with a 30-day half-life
needs a fall of more than 15 % within the week.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from closedloop.definitions.contract import Contract, EngagementRules
from closedloop.definitions.scorecard import (
    decay_weights,
    engagement_by_group,
    fit_points,
    grades_from_points,
    meets_mql_rule,
)


@dataclass(frozen=True)
class History:
    """The window's leads and touches as arrays.

    columns: lead field → one value per lead (what the ICP criteria read);
    created_day: each lead's creation, days since the window start;
    touch_lead: for each touch, the 0-based index of its lead; touch_type: integer codes into
    type_names; touch_day: when, days since the window start (negative = before the window);
    reached_opportunity / won: bool per lead, the measured outcomes.
    """

    columns: Mapping[str, Any]
    created_day: np.ndarray
    touch_lead: np.ndarray
    touch_type: np.ndarray
    type_names: Sequence[str]
    touch_day: np.ndarray
    reached_opportunity: np.ndarray
    won: np.ndarray

    @property
    def n_leads(self) -> int:
        return len(self.created_day)

    def in_time_order(self) -> History:
        """The same history with touches sorted by time (itself when they already are)."""
        if np.all(self.touch_day[1:] >= self.touch_day[:-1]):
            return self
        order = np.argsort(self.touch_day, kind="stable")
        return dataclasses.replace(
            self,
            touch_lead=self.touch_lead[order],
            touch_type=self.touch_type[order],
            touch_day=self.touch_day[order],
        )


def first_mql_week(history: History, contract: Contract, week_ends: np.ndarray) -> np.ndarray:
    """Per lead, the index of the first week whose end found it meeting the MQL rule; -1 if none.

    contract: its icp, engagement and mql_rule are used; week_ends: day offsets, ascending.
    """
    points, _ = fit_points(history.columns, contract.icp)
    rule = contract.mql_rule
    # Grades do not change from week to week: the engine judges the rule's fit half once per
    # distinct grade (with an engagement no bar can refuse); each week compares engagement only.
    distinct, which = np.unique(points, return_inverse=True)
    grades = grades_from_points(distinct)
    fit_ok = meets_mql_rule(grades, np.full(len(grades), np.inf), rule)[which.reshape(-1)]
    bar = rule.min_engagement
    first = np.full(history.n_leads, -1, dtype=np.int64)
    weekly = weekly_engagement(history, contract.engagement, week_ends)
    for week, (end, engagement) in enumerate(zip(week_ends, weekly, strict=True)):
        meets = fit_ok & (engagement >= bar) & (history.created_day <= end)
        first[(first < 0) & meets] = week
    return first


def weekly_engagement(
    history: History, config: EngagementRules, week_ends: np.ndarray
) -> Iterator[np.ndarray]:
    """Each lead's engagement score at each week end (points), from one pass over the touches.

    Decay is multiplicative, so a group's decayed total at the end of week k is its total at the
    end of week k-1 decayed by one week, plus week k's own touches decayed to the end of week k.
    The engine computes the per-group totals (its caps lifted, so that a cap applies to the
    running total and not to one week's share) and the decay factor; the caps are applied here
    to the running totals, the way `engine.engagement_by_group` applies them.
    """
    history = history.in_time_order()
    days, leads, types = history.touch_day, history.touch_lead, history.touch_type
    caps, uncapped = config.caps, config.without_caps()
    totals: np.ndarray | None = None
    groups: list[str] = []
    previous_end, done = 0.0, 0  # previous_end is read from the second week on
    for end in week_ends:
        upto = int(np.searchsorted(days, end, side="right"))
        fresh, groups = engagement_by_group(
            leads[done:upto], types[done:upto], end - days[done:upto], history.n_leads, uncapped,
            type_names=history.type_names,
        )  # fmt: skip
        if totals is None:
            totals = fresh
        else:
            week = decay_weights(np.array([end - previous_end]), config.half_life_days)
            totals = totals * week[0] + fresh
        previous_end, done = end, upto
        cap_row = np.array([caps[g].max if g in caps else np.inf for g in groups])
        yield np.minimum(totals, cap_row).sum(axis=1)


@dataclass(frozen=True)
class Outcome:
    """A contract's simulated MQLs per week and how those MQLs converted (rates are 0–1)."""

    per_week: list[int]
    mqls: int
    reached_opportunity: int
    won: int

    @property
    def opportunity_rate(self) -> float | None:
        return self.reached_opportunity / self.mqls if self.mqls else None

    @property
    def won_rate(self) -> float | None:
        return self.won / self.mqls if self.mqls else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "mqls_per_week": self.per_week,
            "mqls": self.mqls,
            "reached_opportunity": self.reached_opportunity,
            "won": self.won,
            "opportunity_rate": self.opportunity_rate,
            "won_rate": self.won_rate,
        }


def simulate(history: History, contract: Contract, week_ends: np.ndarray) -> Outcome:
    """The MQLs `contract` would have produced per week over `history`, and their conversion.

    Sort the history once (`History.in_time_order`) before simulating several contracts on it.
    """
    first = first_mql_week(history, contract, week_ends)
    mql = first >= 0
    per_week = np.bincount(first[mql], minlength=len(week_ends))
    return Outcome(
        per_week=[int(n) for n in per_week],
        mqls=int(mql.sum()),
        reached_opportunity=int((mql & history.reached_opportunity).sum()),
        won=int((mql & history.won).sum()),
    )
