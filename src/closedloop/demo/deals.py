"""The demo's deals in detail: the path each took through the pipeline, why it was won or lost
(with the rep's note), the next step of an open one, and its stage history. Pure NumPy.

The pipeline is the contract's (`pipeline.stages`, the starting one when the contract has
none): a deal enters the first open stage when it is created and moves on one stage at a
time at drawn points of its sales cycle. Won deals pass every open stage; lost ones stop
where they were lost (most early); open ones are wherever their elapsed cycle has taken them,
so their days in stage are what the history says.
"""

from __future__ import annotations

import numpy as np

from closedloop.demo.arrays import Table

DEFAULT_OPEN_STAGES = ("discovery", "proposal", "negotiation")
# The seeded close reasons (crm's managed list): won codes, with their weights made below.
WON_REASONS = ("product_fit", "value", "relationship", "timing")
CLOSE_NOTES = {
    ("lost", "price"): "Their budget stopped about 20% short of our offer; we did not go lower.",
    ("lost", "competitor"): "They chose the incumbent's suite: bundled with tools they own.",
    ("lost", "no_budget"): "Budget was cut this year; the sponsor asked us to come back later.",
    ("lost", "no_decision"): "The committee never decided; the project went quiet after the demo.",
    ("lost", "timing"): "Reorganisation put the project on hold until next year.",
    ("lost", "product_fit"): "They need on-premise workflows we do not offer.",
    ("won", "product_fit"): "Won on fit: the closed-loop reporting was what they were missing.",
    ("won", "value"): "Won on value: the pilot paid for itself; signed the annual plan.",
    ("won", "relationship"): "Won on trust: the champion pushed it through procurement.",
    ("won", "timing"): "Won on timing: they had to replace their tool this quarter.",
}
NEXT_STEPS = (  # by open stage position (early, middle, late), spread over the coming weeks
    ("Discovery call with the team lead", "Share the case study and book a demo"),
    ("Send the proposal and pricing", "Walk the buyer through the proposal"),
    ("Redlines back from their legal team", "Security review call, then signature"),
)


def open_stages(contract: dict) -> tuple[str, ...]:
    """The contract's open pipeline stage codes, in order."""
    stages = (contract.get("pipeline") or {}).get("stages") or ()
    codes = tuple(s["code"] for s in stages if not s.get("outcome"))
    return codes or DEFAULT_OPEN_STAGES


def stage_path(rng, *, created, close, won, closed, as_of: int, stages: int) -> dict:
    """Per deal: how many open stages it reached (`reached`, 1..stages) and when it entered
    each (`entered`, deals × stages, epoch seconds; unreached stages hold the close time)."""
    count = len(created)
    span = np.maximum(close - created, 1)
    points = np.sort(rng.uniform(0.12, 0.88, (count, stages - 1)), axis=1)
    entered = np.concatenate(
        [created[:, None], created[:, None] + (points * span[:, None]).astype(np.int64)], axis=1
    )
    moved = entered <= as_of
    lost_at = 1 + np.minimum(rng.geometric(0.55, count) - 1, stages - 1)
    reached = np.where(closed, np.where(won, stages, lost_at), moved.sum(1))
    entered = np.where(np.arange(stages)[None, :] < reached[:, None], entered, close[:, None])
    return {"reached": reached, "entered": entered}


def won_reasons(rng, employees, mean_fit) -> np.ndarray:
    """Good fits win on fit, small companies on value, big ones on the relationship."""
    weights = (
        np.where(mean_fit > 0, 1.6, 0.6),
        np.where(employees < 200, 1.4, 0.6),
        np.where(employees >= 1000, 1.5, 0.8),
        np.full(len(employees), 0.7),
    )
    return weighted_pick(rng, weights, WON_REASONS)


def weighted_pick(rng, weights: tuple, choices) -> np.ndarray:
    """One of `choices` per row, drawn with that row's weights (one array per choice)."""
    cumulative = np.stack(weights, axis=1).cumsum(1)
    cumulative /= cumulative[:, -1:]
    return np.array(choices, dtype=object)[(cumulative < rng.random((len(cumulative), 1))).sum(1)]


def close_notes(stage: np.ndarray, reason: np.ndarray) -> np.ndarray:
    return np.array(
        [CLOSE_NOTES.get((s, r), "") for s, r in zip(stage.tolist(), reason.tolist(), strict=True)],
        dtype=object,
    )


def next_steps(rng, *, position, stages: int, closed) -> np.ndarray:
    """An open deal's next step, by how far along the pipeline it is; "" once closed."""
    third = np.minimum(position * 3 // max(stages, 1), 2)
    pick = rng.integers(0, 2, len(position))
    steps = np.array([NEXT_STEPS[t][p] for t, p in zip(third, pick, strict=True)], dtype=object)
    return np.where(closed, "", steps).astype(object)


def stage_change_table(*, path: dict, codes, final, close, closed, by) -> Table:
    """The deals' stage history: entry at the first stage, each move, and the close."""
    reached, entered = path["reached"], path["entered"]
    deal, position = np.nonzero(np.arange(entered.shape[1])[None, :] < reached[:, None])
    deals = np.concatenate([deal, np.flatnonzero(closed)])
    at = np.concatenate([entered[deal, position], close[closed]])
    to = np.concatenate([np.asarray(codes, dtype=object)[position], final[closed]])
    start = np.concatenate([position == 0, np.zeros(closed.sum(), bool)])
    order = np.lexsort((~start, at, deals))
    deals, at, to, start = deals[order], at[order], to[order], start[order]
    previous = np.concatenate([[""], to[:-1]]).astype(object)
    previous[start] = ""
    return Table(
        "crm.OpportunityStageChange",
        {
            "id": np.arange(1, len(deals) + 1),
            "opportunity_id": deals + 1,
            "from_stage": previous,
            "to_stage": to.astype(object),
            "at": at,
            "by_id": by[deals],
            "reason": np.where(start, "Opportunity opened", "").astype(object),
        },
    )
