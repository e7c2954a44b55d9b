"""What the opportunity board and list show: per-stage counts, amounts and weighted amounts,
and the top cards of each column, computed in the database so that the cost does not grow with
the number of deals (100,000 open deals must not be loaded into one page).

    pipeline = current_pipeline()
    columns = board_columns(deals, pipeline)          # one aggregate + one query per column
    totals = list_totals(deals, pipeline)             # one aggregate

`deals` is a queryset of opportunities already restricted to what the viewer may see and
filtered (`crm.opportunity_filters`). Weighted amounts are amount × the stage's probability.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from closedloop.crm.models import Opportunity, OpportunityStage

# Cards per board column; the rest of a column is a link to the list, which pages.
BOARD_CARDS = 20
# Closed columns show the deals closed recently, not every deal ever won or lost.
CLOSED_WINDOW = timedelta(days=90)
CARD_COLUMNS = (
    "name",
    "amount",
    "stage",
    "close_date",
    "closed_at",
    "created_at",
    "version",
    "owner_id",
    "account_id",
    "account__name",
    "owner__first_name",
    "owner__last_name",
    "owner__email",
    "owner__team",  # who may move the card: its owner's team
)


@dataclass(frozen=True)
class PipelineStage:
    """One opportunity stage: its code, label, probability in percent, and whether it closes a
    deal (and how)."""

    code: str
    label: str
    probability: int
    outcome: str = ""  # "won" | "lost" | "" for an open stage

    @property
    def is_closed(self) -> bool:
        return bool(self.outcome)


# Until the definitions contract carries the pipeline, its stages are the model's choices.
_DEFAULT_PROBABILITY = {"discovery": 10, "proposal": 50, "negotiation": 75, "won": 100, "lost": 0}


def current_pipeline() -> tuple[PipelineStage, ...]:
    """The opportunity stages in order: the open ones, then closed won and closed lost."""
    return tuple(
        PipelineStage(
            code=value,
            label=str(label),
            probability=_DEFAULT_PROBABILITY.get(value, 0),
            outcome=value if value in (OpportunityStage.WON, OpportunityStage.LOST) else "",
        )
        for value, label in OpportunityStage.choices
    )


def stage_codes(pipeline: tuple[PipelineStage, ...]) -> tuple[str, ...]:
    return tuple(stage.code for stage in pipeline)


def closed_codes(pipeline: tuple[PipelineStage, ...]) -> tuple[str, ...]:
    return tuple(stage.code for stage in pipeline if stage.is_closed)


def weighted(amount: Decimal, probability: int) -> Decimal:
    """amount × probability (percent), to the cent."""
    return (amount * probability / 100).quantize(Decimal("0.01"))


def stage_sums(deals: QuerySet) -> dict[str, tuple[int, Decimal]]:
    """{stage code: (number of deals, total amount)} for `deals`, in one grouped query."""
    rows = deals.order_by().values_list("stage").annotate(n=Count("id"), total=Sum("amount"))
    return {stage: (n, total or Decimal(0)) for stage, n, total in rows}


@dataclass(frozen=True)
class Totals:
    """A list's figures: number of deals, total amount and weighted amount."""

    count: int
    amount: Decimal
    weighted: Decimal


def list_totals(deals: QuerySet, pipeline: tuple[PipelineStage, ...]) -> Totals:
    """Count, amount and weighted amount (Σ amount × stage probability) of `deals`."""
    probability = {stage.code: stage.probability for stage in pipeline}
    sums = stage_sums(deals)
    return Totals(
        count=sum(n for n, _ in sums.values()),
        amount=sum((total for _, total in sums.values()), Decimal(0)),
        weighted=sum(
            (weighted(total, probability.get(code, 0)) for code, (_, total) in sums.items()),
            Decimal(0),
        ),
    )


@dataclass
class Card:
    """A deal on the board, with how long it has been in its stage and whether the viewer may
    move it (set by the view)."""

    deal: Opportunity
    days_in_stage: int | None
    can_move: bool = False


@dataclass(frozen=True)
class Column:
    """One stage of the board: its figures, its first cards, and where its cards may move."""

    stage: PipelineStage
    count: int
    amount: Decimal
    cards: list[Card]
    previous: PipelineStage | None = None
    next: PipelineStage | None = None

    @property
    def weighted(self) -> Decimal:
        return weighted(self.amount, self.stage.probability)

    @property
    def more(self) -> int:
        """How many of the column's deals are not shown as cards."""
        return max(0, self.count - len(self.cards))


def board_deals(deals: QuerySet, pipeline: tuple[PipelineStage, ...], *, now: datetime):
    """The deals the board shows: every open one, and those closed within CLOSED_WINDOW."""
    return deals.filter(
        ~Q(stage__in=closed_codes(pipeline)) | Q(closed_at__gte=now - CLOSED_WINDOW)
    )


def board_columns(
    deals: QuerySet,
    pipeline: tuple[PipelineStage, ...],
    *,
    per_column: int = BOARD_CARDS,
    now: datetime | None = None,
) -> list[Column]:
    """One Column per stage of `pipeline` with its count, amount and top `per_column` cards:
    open stages their largest deals first, closed stages their latest closes first."""
    now = now or timezone.now()
    shown = board_deals(deals, pipeline, now=now)
    sums = stage_sums(shown)
    open_stages = [stage for stage in pipeline if not stage.is_closed]
    columns = []
    for stage in pipeline:
        count, amount = sums.get(stage.code, (0, Decimal(0)))
        cards = _cards(shown, stage, per_column, now=now) if count else []
        previous, following = _neighbours(open_stages, stage)
        columns.append(Column(stage, count, amount, cards, previous, following))
    return columns


def _cards(deals: QuerySet, stage: PipelineStage, limit: int, *, now: datetime) -> list[Card]:
    order = ("-closed_at", "-id") if stage.is_closed else ("-amount", "-id")
    rows = (
        deals.filter(stage=stage.code)
        .select_related("account", "owner")
        .only(*CARD_COLUMNS)
        .order_by(*order)[:limit]
    )
    return [Card(deal, days_since(stage_since(deal), now)) for deal in rows]


def stage_since(opportunity: Opportunity) -> datetime:
    """When the deal entered its stage. Until stage history exists: its creation."""
    return opportunity.closed_at or opportunity.created_at


def days_since(moment: datetime | date | None, now: datetime) -> int | None:
    if moment is None:
        return None
    day = moment.date() if isinstance(moment, datetime) else moment
    return (now.date() - day).days


def _neighbours(open_stages: list[PipelineStage], stage: PipelineStage):
    if stage.is_closed:
        return None, None
    i = open_stages.index(stage)
    previous = open_stages[i - 1] if i > 0 else None
    following = open_stages[i + 1] if i + 1 < len(open_stages) else None
    return previous, following
