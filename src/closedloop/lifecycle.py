"""The lifecycle as the definitions contract states it: which stage may move to which.

Pure (no Django): built from a contract body's `stages` section, where each stage lists the
stages it may move to (`next`). Stored contracts from before `next` existed, and stages that
leave it out, take the starting contract's moves for that stage.

    lifecycle = Lifecycle.from_contract(body)
    lifecycle.refusal("sal", "customer")  # -> "a lead at SAL moves to SQL, ... — not to Customer"

Creating a record at a stage is an entry, not a move: `refusal("", stage)` is always None.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# The starting contract's moves (also in closedloop.definitions.defaults). Forward one step at
# a time along the funnel; the MQL rule may lift a subscriber straight to MQL; sales may send a
# lead back (bad data) or out (recycled: not now; disqualified: wrong fit); recycled leads
# re-enter as leads or, by the MQL rule, as MQLs.
DEFAULT_MOVES: dict[str, tuple[str, ...]] = {
    "subscriber": ("lead", "mql", "disqualified"),
    "lead": ("mql", "recycled", "disqualified"),
    "mql": ("sal", "lead", "recycled", "disqualified"),
    "sal": ("sql", "lead", "recycled", "disqualified"),
    "sql": ("opportunity", "sal", "recycled", "disqualified"),
    "opportunity": ("customer", "sql", "recycled", "disqualified"),
    "customer": (),
    "recycled": ("lead", "mql", "disqualified"),
    "disqualified": ("lead",),
}


@dataclass(frozen=True)
class Lifecycle:
    """Allowed stage moves (stage -> stages it may move to) and the stages' labels."""

    moves: Mapping[str, frozenset[str]]
    labels: Mapping[str, str]

    @classmethod
    def starting(cls) -> Lifecycle:
        """The starting contract's moves, stages named by their keys."""
        return cls(
            moves={name: frozenset(moves) for name, moves in DEFAULT_MOVES.items()},
            labels={name: name for name in DEFAULT_MOVES},
        )

    @classmethod
    def from_contract(cls, body: Mapping[str, Any]) -> Lifecycle:
        stages = [s for s in body.get("stages", []) if isinstance(s, Mapping) and s.get("stage")]
        labels = {str(s["stage"]): str(s.get("label") or s["stage"]) for s in stages}
        moves = {name: frozenset(DEFAULT_MOVES.get(name, ())) for name in labels}
        for s in stages:
            if isinstance(s.get("next"), Sequence) and not isinstance(s.get("next"), str):
                moves[str(s["stage"])] = frozenset(str(n) for n in s["next"])
        return cls(moves=moves, labels=labels)

    def allows(self, from_stage: str, to_stage: str) -> bool:
        """True for an entry (no stage yet), staying put, or a move the contract lists."""
        if not from_stage or from_stage == to_stage:
            return True
        return to_stage in self.moves.get(from_stage, frozenset())

    def refusal(self, from_stage: str, to_stage: str) -> str | None:
        """None when the move is allowed, else a sentence naming the rule it breaks."""
        if self.allows(from_stage, to_stage):
            return None
        allowed = [self.label(s) for s in self.order(self.moves.get(from_stage, frozenset()))]
        where = f"the contract's lifecycle moves a lead at {self.label(from_stage)}"
        options = f"to {_words(allowed)} only" if allowed else "nowhere (it is a final stage)"
        return f"{where} {options}, not to {self.label(to_stage)}"

    def label(self, stage: str) -> str:
        return self.labels.get(stage, stage)

    def order(self, stages: frozenset[str]) -> list[str]:
        """`stages` in the contract's order."""
        rank = {name: i for i, name in enumerate(self.labels)}
        return sorted(stages, key=lambda s: rank.get(s, len(rank)))


def _words(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} or {items[-1]}"


def default_moves(stage: str) -> list[str]:
    """The starting contract's moves from `stage` (for a stage entry that names none)."""
    return list(DEFAULT_MOVES.get(stage, ()))


def clean_moves(raw: Any, stage: str, known: Sequence[str]) -> tuple[list[str], str | None]:
    """A stage's `next` from a contract body (a list, or a text "sql, recycled"): the known
    stages in it, and a problem to report (None when it is fine). Absent: the default."""
    if raw is None:
        return default_moves(stage), None
    items = [p.strip() for p in raw.split(",")] if isinstance(raw, str) else raw
    if not isinstance(items, list):
        return default_moves(stage), "must list the stages this one may move to"
    names = [str(i) for i in items if str(i).strip()]
    unknown = [n for n in names if n not in known]
    if unknown:
        return [n for n in names if n in known], f"unknown stage {unknown[0]!r}"
    if stage in names:
        return [n for n in names if n != stage], "a stage cannot move to itself"
    return list(dict.fromkeys(names)), None
