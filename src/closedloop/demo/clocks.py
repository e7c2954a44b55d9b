"""Demo phase: every assigned MQL's sales clocks, and the breaches the SLA check recorded.

The app starts a lead's clocks when it becomes an MQL (`handoff.sla.start_clock`) and its
periodic check records a breach once per clock and deadline. The demo draws the same rows
from the leads' history, with the handoff engine's working-time arithmetic in each team's
calendar: clocks of leads still at MQL or SAL run on after loading, and a deadline that passed
in the history has its breach already, so the worker's first check does not escalate two
years of misses at once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np

from closedloop.definitions.contract import parse_contract
from closedloop.demo.arrays import Table
from closedloop.demo.catalog import DAY, NULL_TIME, REP_SEATS
from closedloop.handoff.engine import WorkCalendar, add_working_minutes

if TYPE_CHECKING:
    from closedloop.demo.builder import Builder

NEVER = np.iinfo(np.int64).max
CHECK_EVERY = 300  # the worker checks the clocks every five minutes


def sla_clocks(b: Builder) -> None:
    """LeadSla per lead that became an MQL with an owner; SlaBreach per missed deadline."""
    f, sla = b.flow, parse_contract(b.contract).sla
    lead = np.flatnonzero(f["mql"])
    start = f["mql_at"][lead]
    due = _first_touch_due(b, lead, start, sla.first_touch_minutes)
    attempts_due = start + sla.attempts_days * DAY
    closed = _closed_at(f, lead)
    # The check looks at clocks of leads still at MQL or SAL; moving on to SQL ends that.
    left = np.where(f["sql"][lead], f["sql_at"][lead], np.where(closed != NULL_TIME, closed, NEVER))
    first, made, made_by_due = _attempts(b, lead, start, closed, attempts_due)
    b.tables["lead_sla"] = Table(
        "handoff.LeadSla",
        {
            "id": np.arange(1, len(lead) + 1),
            "lead_id": lead + 1,
            "started_at": start,
            "first_touch_due": due,
            "attempts_due": attempts_due,
            "attempts_required": np.full(len(lead), sla.attempts),
            "attempts_made": made,
            "first_touched_at": first,
            "closed_at": closed,
        },
    )
    late = (first == NULL_TIME) | (first > due)
    missed = (late & (due < left), (made_by_due < sla.attempts) & (attempts_due < left))
    b.tables["sla_breach"] = _breaches(b, lead, (due, attempts_due), missed)


def _first_touch_due(b: Builder, lead, start, minutes: int) -> np.ndarray:
    calendars = _rep_calendars(b)
    rep = b.flow["rep"][lead]
    return np.array(
        [
            int(add_working_minutes(_moment(s), minutes, calendars[r]).timestamp())
            for s, r in zip(start.tolist(), rep.tolist(), strict=True)
        ],
        dtype=np.int64,
    )


def _rep_calendars(b: Builder) -> list[WorkCalendar]:
    teams = b.teams
    return [teams[s.team][1] if s.team in teams else WorkCalendar() for s in REP_SEATS]


def _moment(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _closed_at(f: dict, lead) -> np.ndarray:
    """When the lead left the sales queue without qualifying (rejected, recycled, dropped after
    30 days unworked): the clocks stop. A lead that qualified keeps them, as in the app."""
    return np.where(
        f["worked_exit"][lead],
        f["exit_at"][lead],
        np.where(f["unworked_exit"][lead], f["mql_at"][lead] + 30 * DAY, NULL_TIME),
    )


def _attempts(b: Builder, lead, start, closed, attempts_due) -> tuple[np.ndarray, ...]:
    """Per clock: the first call, email or meeting after it started, how many there were while
    it ran, and how many by the attempts deadline."""
    a, position = b.activity, np.full(b.n, -1, dtype=np.int64)
    position[lead] = np.arange(len(lead))
    clock = position[a["lead"]]
    at = a["at"]
    end = np.where(closed == NULL_TIME, b.as_of, closed)
    counted = clock >= 0
    counted[counted] &= (at[counted] >= start[clock[counted]]) & (
        at[counted] <= end[clock[counted]]
    )
    first = np.full(len(lead), NEVER, dtype=np.int64)
    np.minimum.at(first, clock[counted], at[counted])
    made = np.bincount(clock[counted], minlength=len(lead))
    by_due = counted.copy()
    by_due[counted] = at[counted] <= attempts_due[clock[counted]]
    made_by_due = np.bincount(clock[by_due], minlength=len(lead))
    return np.where(first == NEVER, NULL_TIME, first), made, made_by_due


def _breaches(b: Builder, lead, dues: tuple, missed: tuple) -> Table:
    parts = [
        (lead[m], due[m], np.full(m.sum(), kind, dtype=object))
        for kind, due, m in zip(("first_touch", "attempts"), dues, missed, strict=True)
    ]
    who, due, kind = (np.concatenate(c) for c in zip(*parts, strict=True))
    due_ok = due < b.as_of
    who, due, kind = who[due_ok], due[due_ok], kind[due_ok]
    order = np.lexsort((due, who))
    who, due, kind = who[order], due[order], kind[order]
    rep = b.flow["rep"][who]
    team_ids = np.array([b.teams.get(s.team, (-1,))[0] for s in REP_SEATS], dtype=np.int64)
    return Table(
        "handoff.SlaBreach",
        {
            "id": np.arange(1, len(who) + 1),
            "lead_id": who + 1,
            "rep_id": b.rep_ids[rep],
            "team_id": team_ids[rep] if len(rep) else np.zeros(0, np.int64),
            "kind": kind,
            "due": due,
            "breached_at": np.minimum(due + CHECK_EVERY, b.as_of),
        },
    )
