"""The bulk variants of the lead, account and opportunity services, for loads of many rows
(the importer). Same rules, history and events as the one-by-one services, fewer queries:

- a new lead enters at its stage with a StageChange ("" → stage, at its creation, by, why),
  and that stage's timestamp (`mql_at`, `sal_at`, ...) at its creation; created rows are
  history arriving, so no events;
- a stage move of an existing lead is planned with `plan_stage_move` and saved with
  `record_stage_moves`: the StageChange, stage timestamp and events of `change_stage`;
- an opportunity's stage is one of the contract's pipeline (`opportunity_refusal`), a
  closed deal is not moved by a file (reopening is an admin's act in closedloop), its close
  fields follow its stage, every new deal and every move gets its stage history row
  (`record_opportunity_history`), and one that becomes Won announces it;
- a history loaded whole (the demo company) is checked against the contract's lifecycle
  (`check_stage_history`) before it is written, and its leads' stage timestamps are the first
  arrival at each stage in it (`crm.engine.first_entry_times`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, time

from closedloop.core.db import vendor
from closedloop.crm.models import (
    CloseOutcome,
    CloseReason,
    Lead,
    LeadSource,
    LifecycleStage,
    Opportunity,
    OpportunityStage,
    OpportunityStageChange,
    StageChange,
    entered_field,
)
from closedloop.crm.services.pipeline import current_pipeline
from closedloop.crm.services.stages import current_lifecycle
from closedloop.pipeline import Pipeline


def new_lead_row(values: dict, *, now: datetime) -> dict:
    """The columns of a new lead from parsed `values`: stage Lead, source Import and creation
    `now` unless given; the timestamp of the stage it enters at (`mql_at` for MQL, ...) is
    its creation time."""
    # Every parsed value of a lead is a column or a reference resolved to one, and the bulk
    # inserter takes only the table's columns: a copy of the whole dict is cheaper than
    # picking names out of it, a million times.
    lead = dict(values)
    lead["lifecycle_stage"] = values.get("lifecycle_stage", LifecycleStage.LEAD)
    lead["owner_id"] = values.get("owner_id")
    lead["account_id"] = values.get("account_id")
    lead["created_at"] = values.get("created_at", now)
    lead.setdefault("source", LeadSource.IMPORT)
    lead[entered_field(lead["lifecycle_stage"])] = lead["created_at"]
    return lead


def record_entry_stages(lead_ids: list[int], *, by_id: int | None, reason: str) -> None:
    """A StageChange ("" → its stage, at its creation) for each of the new leads `lead_ids`.

    One INSERT ... SELECT per chunk: the database copies stage and creation time from
    the rows just inserted, instead of Python building seven parameters per lead.
    """
    if not lead_ids:
        return
    columns = ", ".join(
        vendor.column(StageChange, name)
        for name in ("lead", "from_stage", "to_stage", "at", "by", "reason", "rule_version")
    )
    sql = (
        f"INSERT INTO {vendor.table(StageChange)} ({columns}) SELECT {vendor.column(Lead, 'id')},"
        f" '', {vendor.column(Lead, 'lifecycle_stage')}, {vendor.column(Lead, 'created_at')},"
        f" %s, %s, NULL FROM {vendor.table(Lead)} WHERE "
    )
    for where, params in vendor.one_of_chunks(vendor.column(Lead, "id"), lead_ids):
        vendor.execute(sql + where, [by_id, reason, *params])


def imported_close_fields(values: dict) -> None:
    """A closed deal in a file closed on its close date (noon UTC); without one we cannot
    say when, and `closed_at` stays empty."""
    closed = values.get("stage") in (OpportunityStage.WON, OpportunityStage.LOST)
    if closed and values.get("close_date"):
        values["closed_at"] = datetime.combine(values["close_date"], time(12), tzinfo=UTC)


class OpportunityRules:
    """What an import checks each opportunity row against: the pipeline in force and the
    lost reasons the managed list has (active or not: history keeps old reasons)."""

    def __init__(self) -> None:
        self.pipeline: Pipeline = current_pipeline()
        self.lost_codes = set(
            CloseReason.objects.filter(outcome=CloseOutcome.LOST).values_list("code", flat=True)
        )

    def refusal(self, values: dict, stored: Opportunity | None) -> tuple[str, str] | None:
        """(field, why) for a row this import must refuse, else None."""
        stage = values.get("stage")
        if stage and stage not in self.pipeline.codes:
            return (
                "stage",
                f"not a stage of the pipeline; use one of {', '.join(self.pipeline.codes)}",
            )
        reason = values.get("lost_reason")
        if reason and reason not in self.lost_codes:
            return (
                "lost_reason",
                f"not a lost reason of the managed list ({', '.join(sorted(self.lost_codes))})",
            )
        if stored is not None and stored.is_closed and stage and stage != stored.stage:
            return "stage", f"the deal is already {stored.stage}: an admin reopens it in closedloop"
        return None


def record_opportunity_history(
    moves: Iterable[tuple[int, str, str, datetime]], *, by_id: int | None, reason: str
) -> None:
    """An OpportunityStageChange per (opportunity id, from, to, at): "" as `from` for a new
    deal's entry."""
    OpportunityStageChange.objects.bulk_create(
        OpportunityStageChange(
            opportunity_id=pk, from_stage=old, to_stage=new, at=at, by_id=by_id, reason=reason
        )
        for pk, old, new, at in moves
    )


def plan_opportunity_update(opportunity: Opportunity, values: dict, names: list[str]) -> bool:
    """After `names` were copied from `values` onto a stored opportunity: fill `closed_at` of a
    deal that closed, and say whether it has just become Won (to announce after the save)."""
    if values.get("closed_at") and opportunity.closed_at is None:
        opportunity.closed_at = values["closed_at"]
        names.append("closed_at")
    if "stage" in names:
        opportunity.stage_entered_at = opportunity.closed_at or datetime.now(UTC)
        names.append("stage_entered_at")
    return "stage" in names and opportunity.stage == OpportunityStage.WON


def check_stage_history(from_stages: Iterable[str], to_stages: Iterable[str]) -> None:
    """ValueError naming each kind of move in a loaded stage history (e.g. the demo's) that
    the contract's lifecycle does not allow; entries ("" → stage) are always allowed."""
    lifecycle = current_lifecycle()
    pairs = set(zip(from_stages, to_stages, strict=True))
    refused = sorted(f"{a} → {b}" for a, b in pairs if not lifecycle.allows(a, b))
    if refused:
        raise ValueError(f"the stage history breaks the contract's lifecycle: {', '.join(refused)}")
