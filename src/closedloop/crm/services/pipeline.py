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

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils.text import slugify

from closedloop.core.models import Role, User
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


MAX_RECYCLE_DAYS = 730


@transaction.atomic
def save_close_reason(
    *,
    by: User,
    outcome: str,
    label: str,
    is_active: bool = True,
    position: int | str | None = None,
    recycle_days: int | str = 90,
    reason: CloseReason | None = None,
) -> CloseReason:
    """Add a close reason for `outcome` (its code made from the label) or change `reason`:
    rename it, (de)activate it, move it (`position`), change a loss's recycle days. Admins
    only; a reason is never deleted (closed deals keep theirs). Audited (the model is)."""
    if by.role != Role.ADMIN:
        raise PermissionDenied("only admins change the close reasons")
    if outcome not in CloseOutcome.values:
        raise ValidationError({"outcome": f"use one of {', '.join(CloseOutcome.values)}"})
    label = (label or "").strip()
    if not label or len(label) > 100:
        raise ValidationError({"label": "a reason needs a label of at most 100 characters"})
    reason = reason or CloseReason(outcome=outcome, code=_free_code(outcome, label))
    reason.label, reason.is_active = label, is_active
    reason.recycle_days = _whole(recycle_days, "recycle_days", 1, MAX_RECYCLE_DAYS)
    reason.position = (
        _next_position(outcome) if position in (None, "") else _whole(position, "position", 0, 999)
    )
    reason.save()
    return reason


def _whole(raw, field: str, low: int, high: int) -> int:
    try:
        number = int(str(raw).strip())
    except ValueError:
        raise ValidationError({field: "a whole number"}) from None
    if not low <= number <= high:
        raise ValidationError({field: f"between {low} and {high}"})
    return number


def _free_code(outcome: str, label: str) -> str:
    base = slugify(label).replace("-", "_")[:34] or "reason"
    code, n = base, 1
    while CloseReason.objects.filter(outcome=outcome, code=code).exists():
        n += 1
        code = f"{base}_{n}"
    return code


def _next_position(outcome: str) -> int:
    last = CloseReason.objects.filter(outcome=outcome).order_by("-position")
    return (last.values_list("position", flat=True).first() or 0) + 1
