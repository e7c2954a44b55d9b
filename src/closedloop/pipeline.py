"""The opportunity pipeline as the definitions contract states it. Pure (no Django).

A contract body's `pipeline` section lists the opportunity stages in order, each with a code,
a label and a probability (0–100, the share of the amount the weighted pipeline counts), and
marks which stage closes a deal won and which lost:

    {"stages": [{"code": "discovery", "label": "Discovery", "probability": 10}, ...,
                {"code": "won", "label": "Closed won", "probability": 100, "outcome": "won"},
                {"code": "lost", "label": "Closed lost", "probability": 0, "outcome": "lost"}]}

The closed stages keep the codes `won` and `lost` whatever their labels: the database, the
analytics, the scorer's labels and the webhooks read those two codes
(docs/decisions/0025-pipeline-in-the-contract.md). The open stages are the company's own.
Contracts signed before the pipeline existed get `DEFAULT_PIPELINE`.

    pipeline = Pipeline.from_contract(body)
    pipeline.probability("proposal")        # -> 50
    pipeline.refusal("won", "proposal")     # -> "a closed deal ... reopen it first"
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    """How a stage ends a deal; open stages have none."""

    WON = "won"
    LOST = "lost"


WON = "won"  # the code of the closed-won stage, in every pipeline
LOST = "lost"  # the code of the closed-lost stage, in every pipeline
MAX_STAGES = 20
CODE_LENGTH = 32

DEFAULT_PIPELINE: dict[str, Any] = {
    "stages": [
        {"code": "discovery", "label": "Discovery", "probability": 10},
        {"code": "proposal", "label": "Proposal", "probability": 50},
        {"code": "negotiation", "label": "Negotiation", "probability": 75},
        {"code": WON, "label": "Closed won", "probability": 100, "outcome": "won"},
        {"code": LOST, "label": "Closed lost", "probability": 0, "outcome": "lost"},
    ]
}


@dataclass(frozen=True)
class PipelineStage:
    """One opportunity stage: its code, the words people read, its probability (0–100) and,
    for a closing stage, its outcome."""

    code: str
    label: str
    probability: int
    outcome: Outcome | None = None

    @property
    def is_closed(self) -> bool:
        return self.outcome is not None

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "code": self.code,
            "label": self.label,
            "probability": self.probability,
        }
        if self.outcome:
            found["outcome"] = str(self.outcome)
        return found


@dataclass(frozen=True)
class Pipeline:
    """The opportunity stages in order: the open ones, then closed won and closed lost."""

    stages: tuple[PipelineStage, ...]

    @classmethod
    def default(cls) -> Pipeline:
        return cls.from_section(DEFAULT_PIPELINE)

    @classmethod
    def from_contract(cls, body: Mapping[str, Any]) -> Pipeline:
        """The pipeline of a contract body; the default for a body without one."""
        section = body.get("pipeline")
        return cls.from_section(section if isinstance(section, Mapping) else DEFAULT_PIPELINE)

    @classmethod
    def from_section(cls, section: Mapping[str, Any]) -> Pipeline:
        """A pipeline from a clean `pipeline` section (what `clean_pipeline` returns)."""
        return cls(tuple(_stage(raw) for raw in section["stages"]))

    def as_dict(self) -> dict[str, Any]:
        return {"stages": [stage.as_dict() for stage in self.stages]}

    # -- reading ---------------------------------------------------------------------------

    def get(self, code: str) -> PipelineStage | None:
        return next((stage for stage in self.stages if stage.code == code), None)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(stage.code for stage in self.stages)

    @property
    def open_stages(self) -> tuple[PipelineStage, ...]:
        return tuple(stage for stage in self.stages if not stage.is_closed)

    @property
    def first(self) -> PipelineStage:
        """Where a new deal starts: the first open stage."""
        return self.open_stages[0]

    def label(self, code: str) -> str:
        found = self.get(code)
        return found.label if found else code

    def probability(self, code: str) -> int:
        """The stage's probability in percent (0 for a code the pipeline does not know)."""
        found = self.get(code)
        return found.probability if found else 0

    def is_closed(self, code: str) -> bool:
        return code in (WON, LOST)

    def position(self, code: str) -> int:
        """The stage's place in the order (0 first); unknown codes sort last."""
        return next((i for i, s in enumerate(self.stages) if s.code == code), len(self.stages))

    # -- moving ----------------------------------------------------------------------------

    def refusal(self, from_code: str, to_code: str) -> str | None:
        """None when an open deal may move from `from_code` to `to_code` (any open stage,
        forward or back, or staying put), else a sentence saying why not. Closing and
        reopening are their own acts (`close_opportunity`, `reopen_opportunity`)."""
        if to_code not in self.codes:
            return f"{to_code!r} is not a stage of the pipeline; use one of {_words(self.codes)}"
        if from_code == to_code or not from_code:
            return None
        if self.is_closed(from_code):
            return f"the deal is {self.label(from_code)}: reopen it before moving it"
        if self.is_closed(to_code):
            return f"closing a deal as {self.label(to_code)} needs a reason and a note: close it"
        return None


def _stage(raw: Mapping[str, Any]) -> PipelineStage:
    outcome = raw.get("outcome")
    return PipelineStage(
        code=str(raw["code"]),
        label=str(raw.get("label") or raw["code"]),
        probability=int(raw.get("probability") or 0),
        outcome=Outcome(outcome) if outcome else None,
    )


def _words(items: Sequence[str]) -> str:
    return ", ".join(items)
