"""Demo phase: how each sales-qualified lead was qualified, as the lead page's Qualify form
records it (`handoff.Qualification`): the rep, the time of the SAL → SQL move, each criterion
of the contract's SQL rule confirmed or not with what confirmed it, and the account linked.
Pure NumPy."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np

from closedloop.demo.arrays import Table

if TYPE_CHECKING:
    from closedloop.demo.builder import Builder

EVIDENCE = {
    "budget": "Budget approved for this year's tooling line",
    "authority": "The VP signs; met her in the discovery call",
    "need": "Their lead routing is manual and leads go cold",
    "timeline": "Wants it live before the next planning cycle",
}
NOTE = "Qualified on the discovery call; next: the solution presentation."


def qualifications(b: Builder) -> None:
    """One Qualification per lead that reached SQL, meeting the contract's SQL rule."""
    rule = b.contract.get("sql_rule") or {}
    criteria = list(rule.get("requires") or ())
    lead = np.flatnonzero(b.flow["sql"])
    if not criteria:
        lead = lead[:0]
    least = min(int(rule.get("min_confirmed") or len(criteria)), len(criteria))
    confirmed = b.streams[11].integers(least, len(criteria) + 1, len(lead))
    answers = np.array([_answers(criteria, int(n)) for n in range(len(criteria) + 1)], object)
    b.tables["qualification"] = Table(
        "handoff.Qualification",
        {
            "id": np.arange(1, len(lead) + 1),
            "lead_id": lead + 1,
            "by_id": b.rep_ids[b.flow["rep"][lead]],
            "at": b.flow["sql_at"][lead],
            "answers": answers[confirmed] if len(lead) else np.zeros(0, object),
            "confirmed": confirmed,
            "rule_version": np.full(len(lead), -1),
            "note": np.full(len(lead), NOTE, dtype=object),
            "account_id": b.lead["account"][lead] + 1,
            "opportunity_id": np.full(len(lead), -1),
        },
    )


def _answers(criteria: list[str], confirmed: int) -> str:
    """The answers JSON when the first `confirmed` criteria were confirmed (the rest: not yet)."""
    return json.dumps(
        {
            name: {
                "confirmed": i < confirmed,
                "evidence": EVIDENCE.get(name, "") if i < confirmed else "",
            }
            for i, name in enumerate(criteria)
        }
    )
