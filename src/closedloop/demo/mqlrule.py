"""When each demo lead first met the contract's MQL rule, as the app's scorer would have seen it.

The app makes a lead MQL when its fit grade and engagement score reach the contract's minimums
(`closedloop.scoring.engine`); the demo's history must agree, or the first rescore contradicts
it (an MQL graded C- with engagement 15). Fit comes from the firmographics through the same
engine functions. Engagement is the contract's decayed, capped points *at the moment of each
touch*: per cap group, S(t_i) = 2^(-t_i/h) · Σ_{j≤i} p_j · 2^(t_j/h) (h the half-life), a
running sum per lead, so no loop over touches is needed. Pure NumPy: no Django.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from closedloop.definitions.contract import EngagementRules, IcpCriterion, parse_contract
from closedloop.scoring import engine

NEVER = np.iinfo(np.int64).max
DAY = 86400


def fit_ranks(lead: dict, icp: Sequence[IcpCriterion]) -> np.ndarray:
    """Each lead's fit grade as a rank (engine.grade_rank order) under the contract's ICP."""
    fields = ("industry", "employees", "seniority", "country", "email", "title", "company")
    points, _ = engine.fit_points({f: lead[f] for f in fields if f in lead}, icp)
    return engine.grade_ranks_from_points(points)


def running_engagement(
    touch_lead: np.ndarray,
    touch_kind: np.ndarray,
    touch_at: np.ndarray,
    *,
    kinds: tuple[str, ...],
    config: EngagementRules,
) -> np.ndarray:
    """Engagement score of each touch's lead just after that touch (touches sorted by lead,
    then time). `touch_kind` holds codes into `kinds`; `config` is the contract's engagement."""
    half_life = config.half_life_days or np.inf
    start = np.searchsorted(touch_lead, touch_lead)  # each lead's first touch
    # Time in half-lives since the lead's first touch keeps 2^x small (two years: 2^25).
    x = (touch_at - touch_at[start]) / DAY / half_life
    total = np.zeros(len(touch_lead))
    for types, cap in _groups(kinds, config):
        points = _points(touch_kind, kinds, types, config.points)
        grown = np.cumsum(points * np.exp2(x))
        before = np.where(start > 0, grown[start - 1], 0.0)
        total += np.minimum((grown - before) * np.exp2(-x), cap)
    return total


def _groups(kinds: tuple[str, ...], config: EngagementRules) -> list[tuple[set[str], float]]:
    caps = config.caps
    capped = {name for cap in caps.values() for name in cap.types}
    groups = [(set(cap.types), float(cap.max)) for cap in caps.values()]
    return groups + [({k}, np.inf) for k in kinds if k not in capped]


def _points(touch_kind, kinds, types: set[str], points: Mapping[str, float]) -> np.ndarray:
    table = np.array([float(points.get(k, 0)) if k in types else 0.0 for k in kinds])
    return table[touch_kind]


def first_met(
    touch_lead: np.ndarray, touch_at: np.ndarray, met: np.ndarray, n_leads: int
) -> np.ndarray:
    """Per lead, the time of its first touch where `met` holds (NEVER when none does)."""
    out = np.full(n_leads, NEVER, dtype=np.int64)
    leads, first = np.unique(touch_lead[met], return_index=True)
    out[leads] = touch_at[met][first]
    return out


def rule_met_at(b, *, kinds: tuple[str, ...]) -> np.ndarray:
    """When each lead of the builder `b` first met the contract's MQL rule (NEVER if not)."""
    contract = parse_contract(b.contract)
    rule, t = contract.mql_rule, b.touch
    min_rank = engine.grade_rank([rule.min_fit_grade or "F"])[0]
    fit_ok = fit_ranks(b.lead, contract.icp) >= max(min_rank, 0)
    score = running_engagement(
        t["lead"], t["kind"], t["at"], kinds=kinds, config=contract.engagement
    )
    # A hair above the minimum: the app compares a score that decayed for a few more seconds.
    met = fit_ok[t["lead"]] & (score >= rule.min_engagement + 0.5)
    return first_met(t["lead"], t["at"], met, b.n)
