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

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from closedloop.crm.models import Opportunity, default_currency
from closedloop.crm.services import pipeline_stages
from closedloop.pipeline import PipelineStage

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
    "stage_entered_at",
    "currency",
    "version",
    "owner_id",
    "account_id",
    "account__name",
    "owner__first_name",
    "owner__last_name",
    "owner__email",
    "owner__team",  # who may move the card: its owner's team
)


def current_pipeline() -> tuple[PipelineStage, ...]:
    """The opportunity stages in force, in order: the open ones, then closed won and lost."""
    return pipeline_stages()


def stage_codes(pipeline: tuple[PipelineStage, ...]) -> tuple[str, ...]:
    return tuple(stage.code for stage in pipeline)


def closed_codes(pipeline: tuple[PipelineStage, ...]) -> tuple[str, ...]:
    return tuple(stage.code for stage in pipeline if stage.is_closed)


def weighted(amount: Decimal, probability: int) -> Decimal:
    """amount × probability (percent), to the cent."""
    return (amount * probability / 100).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class Amounts:
    """Money in one or more currencies ({ISO code: amount}): amounts in different currencies
    are never added together (closedloop keeps no exchange rates)."""

    by_currency: dict[str, Decimal] = field(default_factory=dict)

    def __add__(self, other: Amounts) -> Amounts:
        merged = dict(self.by_currency)
        for currency, amount in other.by_currency.items():
            merged[currency] = merged.get(currency, Decimal(0)) + amount
        return Amounts(merged)

    def scaled(self, probability: int) -> Amounts:
        """Each amount × probability (percent): the weighted amounts."""
        return Amounts({c: weighted(a, probability) for c, a in self.by_currency.items()})

    def get(self, currency: str) -> Decimal:
        return self.by_currency.get(currency, Decimal(0))

    @property
    def lines(self) -> list[tuple[str, Decimal]]:
        """(currency, amount) pairs, the installation's currency first; one zero line when
        there is no money at all, so a page always shows a figure."""
        if not self.by_currency:
            return [(default_currency(), Decimal(0))]
        first = default_currency()
        return sorted(self.by_currency.items(), key=lambda item: (item[0] != first, item[0]))


@dataclass(frozen=True)
class StageSum:
    count: int
    amounts: Amounts


def stage_sums(deals: QuerySet) -> dict[str, StageSum]:
    """{stage code: StageSum(number of deals, amounts per currency)} for `deals`, in one
    grouped query."""
    # Grouped by owner too, which the index (owner, stage, currency, amount) answers alone,
    # for everyone's deals and for a team's: a few rows per owner and stage, added up here.
    rows = (
        deals.order_by()
        .values_list("owner_id", "stage", "currency")
        .annotate(n=Count("id"), total=Sum("amount"))
    )
    sums: dict[str, StageSum] = {}
    for _owner, stage, currency, n, total in rows:
        found = sums.get(stage, StageSum(0, Amounts()))
        money = found.amounts + Amounts({currency: total or Decimal(0)})
        sums[stage] = StageSum(found.count + n, money)
    return sums


@dataclass(frozen=True)
class Totals:
    """A list's figures: number of deals, total amounts and weighted amounts."""

    count: int
    amount: Amounts
    weighted: Amounts


def list_totals(deals: QuerySet, pipeline: tuple[PipelineStage, ...]) -> Totals:
    """Count, amounts and weighted amounts (Σ amount × stage probability) of `deals`."""
    probability = {stage.code: stage.probability for stage in pipeline}
    sums = stage_sums(deals)
    amount, weighted_amount = Amounts(), Amounts()
    for code, found in sums.items():
        amount += found.amounts
        weighted_amount += found.amounts.scaled(probability.get(code, 0))
    return Totals(sum(found.count for found in sums.values()), amount, weighted_amount)


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
    amount: Amounts
    cards: list[Card]
    previous: PipelineStage | None = None
    next: PipelineStage | None = None

    @property
    def weighted(self) -> Amounts:
        return self.amount.scaled(self.stage.probability)

    @property
    def more(self) -> int:
        """How many of the column's deals are not shown as cards."""
        return max(0, self.count - len(self.cards))


def open_deals(deals: QuerySet, pipeline: tuple[PipelineStage, ...]) -> QuerySet:
    """The deals at an open stage (named, so each stage is an index range)."""
    return deals.filter(stage__in=[stage.code for stage in pipeline if not stage.is_closed])


def recently_closed(deals: QuerySet, pipeline: tuple[PipelineStage, ...], *, now: datetime):
    """The deals closed within CLOSED_WINDOW: what the board's closed columns show."""
    return deals.filter(stage__in=closed_codes(pipeline), closed_at__gte=now - CLOSED_WINDOW)


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
    closed = recently_closed(deals, pipeline, now=now)
    # Two grouped queries rather than one with an OR: each is an index range.
    sums = {**stage_sums(open_deals(deals, pipeline)), **stage_sums(closed)}
    open_stages = [stage for stage in pipeline if not stage.is_closed]
    ids = {
        stage.code: _card_ids(closed if stage.is_closed else deals, stage, per_column)
        for stage in pipeline
        if sums.get(stage.code, StageSum(0, Amounts())).count
    }
    loaded = load_cards([i for column_ids in ids.values() for i in column_ids])
    columns = []
    for stage in pipeline:
        found = sums.get(stage.code, StageSum(0, Amounts()))
        deals_shown = [loaded[i] for i in ids.get(stage.code, []) if i in loaded]
        cards = [Card(deal, days_since(stage_since(deal), now)) for deal in deals_shown]
        previous, following = _neighbours(open_stages, stage)
        columns.append(Column(stage, found.count, found.amounts, cards, previous, following))
    return columns


def _card_ids(deals: QuerySet, stage: PipelineStage, limit: int) -> list[int]:
    # Ids first, without joins: the database walks one index (stage, amount or closed_at);
    # with the account and owner joined in, SQLite may start from the accounts instead.
    order = ("-closed_at", "-id") if stage.is_closed else ("-amount", "-id")
    return list(
        deals.filter(stage=stage.code).order_by(*order).values_list("id", flat=True)[:limit]
    )


def load_cards(ids: list[int]) -> dict[int, Opportunity]:
    """{id: deal} with what a card or a list row shows (account name, owner's name), in one
    query."""
    if not ids:
        return {}
    rows = Opportunity.objects.filter(id__in=ids).select_related("account", "owner").order_by()
    return {deal.pk: deal for deal in rows.only(*CARD_COLUMNS)}


def stage_since(opportunity: Opportunity) -> datetime:
    """When the deal entered its stage (its creation for deals from before stage history)."""
    return opportunity.stage_entered_at or opportunity.closed_at or opportunity.created_at


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
