"""The opportunity pipeline in force and the managed close reasons: what pages, API, CLI, the
demo and the benchmarks read to know the stages, their order and probabilities.

    from closedloop.crm.services import pipeline_stages, stage_probability
    for stage in pipeline_stages():          # open stages, then won, then lost
        stage.code, stage.label, stage.probability, stage.is_closed
    stage_probability("proposal")            # -> 50 (percent)

The stages are the definitions contract's (`closedloop.pipeline`); definitions sits above crm,
so it hands its reader of the contract in force to crm when it starts
(`DefinitionsConfig.ready`), as it does for the lifecycle. Until then the default pipeline
applies.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, QuerySet, Value, When

from closedloop.crm.models import CloseOutcome, CloseReason
from closedloop.pipeline import Pipeline, PipelineStage
from closedloop.vocabulary import CURRENCIES

_pipeline_source: Callable[[], Pipeline] = Pipeline.default

# The starting close reasons (the data migration installs them): (outcome, code, label,
# recycle_days). The lost codes are those opportunities carried before the list was managed.
DEFAULT_CLOSE_REASONS = [
    (CloseOutcome.LOST, "price", "Price", 180),
    (CloseOutcome.LOST, "competitor", "Chose a competitor", 365),
    (CloseOutcome.LOST, "no_budget", "No budget", 180),
    (CloseOutcome.LOST, "no_decision", "No decision", 90),
    (CloseOutcome.LOST, "timing", "Bad timing", 90),
    (CloseOutcome.LOST, "product_fit", "Product fit", 365),
    (CloseOutcome.WON, "product_fit", "Best product fit", 90),
    (CloseOutcome.WON, "value", "Price and value", 90),
    (CloseOutcome.WON, "relationship", "Relationship and trust", 90),
    (CloseOutcome.WON, "timing", "Right timing: an urgent need", 90),
]


def use_pipeline_source(source: Callable[[], Pipeline]) -> None:
    """Read the pipeline from `source` from now on (the contract in force)."""
    global _pipeline_source
    _pipeline_source = source


def current_pipeline() -> Pipeline:
    """The pipeline of the contract in force (one query; read it once per use)."""
    return _pipeline_source()


def pipeline_stages() -> tuple[PipelineStage, ...]:
    """The opportunity stages in force, in order: open stages, then won, then lost."""
    return current_pipeline().stages


def stage_probability(code: str, *, pipeline: Pipeline | None = None) -> int:
    """The probability (percent, 0–100) the contract gives an opportunity at stage `code`."""
    return (pipeline or current_pipeline()).probability(code)


def probability_expression(*, pipeline: Pipeline | None = None) -> Case:
    """A database expression for each row's stage probability (percent), e.g. for a weighted
    pipeline: `Sum(F("amount") * probability_expression() / 100)`."""
    pipeline = pipeline or current_pipeline()
    return Case(
        *(When(stage=s.code, then=Value(s.probability)) for s in pipeline.stages),
        default=Value(0),
        output_field=IntegerField(),
    )


def with_probability(opportunities: QuerySet, *, pipeline: Pipeline | None = None) -> QuerySet:
    """`opportunities` with a `probability` attribute (percent) from the pipeline in force."""
    return opportunities.annotate(probability=probability_expression(pipeline=pipeline))


def check_pipeline_stage(code: str, *, pipeline: Pipeline | None = None) -> None:
    """ValidationError on `stage` when `code` is not a stage of the pipeline in force."""
    pipeline = pipeline or current_pipeline()
    if code not in pipeline.codes:
        choices = ", ".join(pipeline.codes)
        raise ValidationError({"stage": f"{code!r} is not a pipeline stage; use one of {choices}"})


def check_currency(code: str) -> None:
    """ValidationError on `currency` unless `code` is an ISO 4217 currency code."""
    if code not in CURRENCIES:
        raise ValidationError({"currency": f"{code!r} is not an ISO 4217 currency code"})


def close_reasons(outcome: str, *, active_only: bool = True) -> list[CloseReason]:
    """The managed reasons for closing a deal as `outcome` (won or lost), in their order."""
    reasons = CloseReason.objects.filter(outcome=outcome)
    if active_only:
        reasons = reasons.filter(is_active=True)
    return list(reasons.order_by("position", "id"))


def close_reason(outcome: str, code: str, *, field: str) -> CloseReason:
    """The active reason `code` for `outcome`, or a ValidationError on `field` listing them."""
    found = CloseReason.objects.filter(outcome=outcome, code=code, is_active=True).first()
    if found is None:
        codes = ", ".join(r.code for r in close_reasons(outcome)) or "none: add one in Settings"
        what = f"{code!r} is not" if code else "a reason is required; use"
        raise ValidationError({field: f"{what} one of the {outcome} reasons ({codes})"})
    return found


def known_reason(outcome: str, code: str) -> bool:
    """True when `code` is a reason for `outcome`, active or not (old deals keep theirs)."""
    return CloseReason.objects.filter(outcome=outcome, code=code).exists()


def ensure_default_close_reasons() -> int:
    """Create the starting close reasons that are missing (the data migration does this on
    install; a flushed test database needs it again). Returns how many were created."""
    created = 0
    for position, (outcome, code, label, days) in enumerate(DEFAULT_CLOSE_REASONS, 1):
        created += CloseReason.objects.get_or_create(
            outcome=outcome,
            code=code,
            defaults={"label": label, "recycle_days": days, "position": position},
        )[1]
    return created
