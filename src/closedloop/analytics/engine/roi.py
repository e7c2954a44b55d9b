"""Campaign return on cost: unit costs and attributed revenue ÷ cost, per attribution model.

Inputs are plain numbers per campaign (its cost in the period and the volumes it sourced);
outputs are ratios in currency units per record, or None where the denominator is 0 (a
campaign that sourced no SQL has no cost per SQL, not an infinite one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

# The volumes a campaign sources, top of the funnel first; `won` deals give the CAC.
VOLUMES = ("leads", "mqls", "sqls", "opportunities", "won")


@dataclass(frozen=True)
class CampaignFigures:
    """One campaign in one period: cost (currency units), sourced volumes, and the revenue
    each attribution model credits to it (currency units, by model name)."""

    name: str
    cost: float
    leads: int = 0
    mqls: int = 0
    sqls: int = 0
    opportunities: int = 0
    won: int = 0
    revenue_by_model: Mapping[str, float] = field(default_factory=dict)


def per_unit(cost: float, count: float) -> float | None:
    """cost / count, None when count is 0."""
    return cost / count if count else None


def unit_costs(figures: CampaignFigures) -> dict[str, float | None]:
    """Cost per lead, MQL, SQL, opportunity, and CAC (cost per won deal)."""
    return {
        "cost_per_lead": per_unit(figures.cost, figures.leads),
        "cost_per_mql": per_unit(figures.cost, figures.mqls),
        "cost_per_sql": per_unit(figures.cost, figures.sqls),
        "cost_per_opportunity": per_unit(figures.cost, figures.opportunities),
        "cac": per_unit(figures.cost, figures.won),
    }


def return_on_cost(figures: CampaignFigures) -> dict[str, float | None]:
    """Per model: attributed revenue ÷ cost (None for a campaign that cost nothing)."""
    return {
        model: (revenue / figures.cost if figures.cost > 0 else None)
        for model, revenue in figures.revenue_by_model.items()
    }


def disagreement(figures: CampaignFigures, models: Sequence[str]) -> float:
    """How far the models' attributed revenue for this campaign lies apart: max - min."""
    values = [figures.revenue_by_model.get(model, 0.0) for model in models]
    return max(values) - min(values) if values else 0.0


def most_disputed(
    rows: Sequence[CampaignFigures], models: Sequence[str], count: int
) -> list[tuple[CampaignFigures, float]]:
    """The `count` campaigns whose attributed revenue differs most between the models."""
    spreads = [(row, disagreement(row, models)) for row in rows]
    disputed = [(row, spread) for row, spread in spreads if spread > 1e-9]
    return sorted(disputed, key=lambda pair: (-pair[1], pair[0].name))[:count]
