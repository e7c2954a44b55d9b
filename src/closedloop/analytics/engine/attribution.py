"""One entry point for every attribution model: `attribute(journeys, model=..., ...)`.

Models: first, last, linear, time_decay, u_shaped (40/40/20), u_shaped_marketo (50/50),
w_shaped, full_path, markov (any order), shapley. All return `Credits` whose conversions and
value add up to the journeys' totals.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from closedloop.analytics.engine import heuristics
from closedloop.analytics.engine.credits import Credits
from closedloop.analytics.engine.journeys import Journeys
from closedloop.analytics.engine.markov import markov
from closedloop.analytics.engine.shapley import shapley

Model = Callable[..., Credits]

MODELS: dict[str, Model] = {
    "first": heuristics.first_touch,
    "last": heuristics.last_touch,
    "linear": heuristics.linear,
    "time_decay": heuristics.time_decay,
    **{
        name: (lambda journeys, _name=name: heuristics.position_based(journeys, _name))
        for name in heuristics.POSITION_MODELS
    },
    "markov": markov,
    "shapley": shapley,
}

# The settings each model accepts (anything else is refused with a clear message).
SETTINGS: dict[str, frozenset[str]] = {
    "time_decay": frozenset({"half_life"}),
    "markov": frozenset({"order"}),
    "shapley": frozenset({"characteristic", "max_exact", "samples", "seed"}),
}


def attribute(journeys: Journeys, *, model: str, **settings: Any) -> Credits:
    """Credit the journeys' conversions and value to channels with the named model."""
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; known: {', '.join(MODELS)}")
    unknown = set(settings) - SETTINGS.get(model, frozenset())
    if unknown:
        raise ValueError(f"model {model!r} takes no setting {', '.join(sorted(unknown))}")
    return MODELS[model](journeys, **settings)
