"""The demo company as columns of NumPy arrays. Pure: no Django, no database.

`generate_company(...)` returns one `Table` per model, each a dict of column name -> array,
with ids assigned from 1 (the loader writes into empty tables). Conventions of the arrays:
datetimes and dates are int64 epoch seconds (NULL_TIME for NULL), foreign keys and other
integers are int64 (-1 for NULL), text is an object array of str (None for NULL), JSON is
already serialised text. Users are given as ids in roster order (`ROSTER`).

Everything is drawn from one seed, phase by phase (the modules `marketing`, `people`,
`touches`, `funnel` and `records`), so the same seed, lead count and contract give the same
company. The outcomes come from `closedloop.demo.truth`; who becomes MQL comes from the
definitions contract the company is drawn under (its MQL rule), as it would in the app.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from closedloop.definitions.defaults import DEFAULT_CONTRACT
from closedloop.demo import clocks, funnel, marketing, people, records, sharing, touches, truth
from closedloop.demo.arrays import Table
from closedloop.demo.builder import Builder
from closedloop.demo.catalog import (  # noqa: F401  (the names other modules read from synth)
    ASSET_COUNT,
    CAMPAIGN_COUNT,
    DAY,
    DEMO_DOMAIN,
    LOGIN_SEATS,
    NULL_TIME,
    REP_SEATS,
    ROSTER,
    TOUCH_KINDS,
    Seat,
)
from closedloop.handoff.engine import WorkCalendar

TABLE_ORDER = (
    "campaign",
    "asset",
    "account",
    "lead",
    "lead_sla",
    "sla_breach",
    "touchpoint",
    "stage_change",
    "activity",
    "opportunity",
    "opportunity_contact",
    "share_link",
    "usage_event",
)
PHASES = (
    ("campaigns", marketing.campaigns),
    ("content assets", marketing.assets),
    ("accounts", people.accounts),
    ("leads", people.leads),
    ("touchpoints", touches.touches),
    ("funnel", funnel.funnel),
    ("opportunities", funnel.opportunities),
    ("content shares", sharing.tables),
    ("activities", records.activities),
    ("SLA clocks", clocks.sla_clocks),
    ("sales touches", records.touch_table),
    ("stage history", records.stage_history),
    ("lead records", records.lead_table),
)


@dataclass
class Company:
    seed: int
    as_of: int
    tables: dict[str, Table]
    hidden: truth.HiddenParameters
    propensity: np.ndarray  # per lead, in lead id order


def generate_company(
    *,
    leads: int,
    seed: int,
    as_of: int,
    users: dict[str, int],
    contract: dict | None = None,
    teams: dict[str, tuple[int, WorkCalendar]] | None = None,
    progress=lambda phase: None,
) -> Company:
    """Draw the whole company. `as_of` is the epoch second the history ends at (the demo's
    "now"); `users` maps every ROSTER email to its user id; `contract` is the definitions
    contract's body whose MQL rule decides who became MQL and whose SLA the clocks keep
    (default: the starting contract); `teams` maps a team name to its id and working calendar
    (default: none, Monday–Friday 9–17 UTC);
    `progress(phase)` is told what is being drawn. Returns the tables in a loadable order and
    the leads' true propensity."""
    builder = Builder(
        leads=leads,
        seed=seed,
        as_of=as_of,
        users=users,
        contract=contract or DEFAULT_CONTRACT,
        teams=teams or {},
    )
    for label, phase in PHASES:
        progress(label)
        phase(builder)
    return Company(
        seed=seed,
        as_of=as_of,
        tables={k: builder.tables[k] for k in TABLE_ORDER},
        hidden=builder.hidden,
        propensity=builder.propensity,
    )
