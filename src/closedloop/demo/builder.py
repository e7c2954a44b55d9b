"""The state the demo's phases share while they draw one company."""

from __future__ import annotations

from typing import Any

import numpy as np

from closedloop.demo import truth
from closedloop.demo.arrays import Table
from closedloop.demo.catalog import (
    ASSET_COUNT,
    CAMPAIGN_COUNT,
    DAY,
    HISTORY_DAYS,
    MARKETING_SEATS,
    REP_SEATS,
)
from closedloop.handoff.engine import WorkCalendar


class Builder:
    """Holds what the phases draw (arrays keyed by name) and the finished tables; each phase
    has its own random stream, so changing one phase leaves the others' draws alone."""

    def __init__(
        self,
        *,
        leads: int,
        seed: int,
        as_of: int,
        users: dict[str, int],
        contract: dict,
        teams: dict[str, tuple[int, WorkCalendar]],
    ) -> None:
        self.n = leads
        self.seed = seed
        self.as_of = as_of
        self.contract = contract
        self.teams = teams  # team name -> (id, working calendar)
        self.start = as_of - HISTORY_DAYS * DAY
        self.streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(12)]
        self.rep_ids = np.array([users[s.email] for s in REP_SEATS], dtype=np.int64)
        self.rep_team = np.array([s.team for s in REP_SEATS], dtype=object)
        self.marketer_ids = np.array([users[s.email] for s in MARKETING_SEATS], dtype=np.int64)
        self.hidden = truth.hidden_parameters(
            seed, campaigns=CAMPAIGN_COUNT, assets=ASSET_COUNT, reps=len(REP_SEATS)
        )
        self.tables: dict[str, Table] = {}

    shares: dict[str, np.ndarray]  # sharing.py: the links reps sent during deals
    usage: dict[str, np.ndarray]  # sharing.py: what reps did with assets

    # Phases add their results as attributes (campaign_kind, lead, touch, flow, opp, …).
    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"the phase that draws {name!r} has not run yet")
