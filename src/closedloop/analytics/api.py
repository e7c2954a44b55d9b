"""Analytics' JSON API under /api/v1/analytics: attribution by model, side by side.

Every figure covers only what the token's user may see: reps and managers their team's
opportunities and leads, marketing, executives and admins everything.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from ninja import Router, Schema

from closedloop.analytics.engine.attribution import MODELS
from closedloop.analytics.services import Dimension, Outcome, compare_models, load_journeys
from closedloop.core.api_auth import token_auth
from closedloop.core.api_support import ERRORS, UtcDatetime, invalid

router = Router(auth=token_auth, tags=["analytics"])

DEFAULT_MODELS = "first,last,linear,u_shaped,w_shaped,markov"
DEFAULT_DAYS = 90


class CreditOut(Schema):
    label: str
    conversions: float
    value: float


class AttributionOut(Schema):
    outcome: str
    dimension: str
    since: str
    until: str
    outcomes: int
    unattributed_conversions: int
    unattributed_value: float
    models: dict[str, list[CreditOut]]


@router.get("/analytics/attribution", response={200: AttributionOut, **ERRORS})
def attribution(
    request,
    outcome: Outcome = Outcome.PIPELINE,
    dimension: Dimension = Dimension.CHANNEL,
    models: str = DEFAULT_MODELS,
    since: UtcDatetime | None = None,
    until: UtcDatetime | None = None,
):
    """Credit per channel, campaign or content for pipeline or won revenue, per model.

    `models` is a comma-separated list of first, last, linear, time_decay, u_shaped,
    u_shaped_marketo, w_shaped, full_path, markov, shapley. The period defaults to the last
    90 days. Sales activities (calls, meetings, emails) are touches like marketing's.
    """
    until = until or timezone.now()
    since = since or until - timedelta(days=DEFAULT_DAYS)
    if since >= until:
        raise invalid("since", "must be before until")
    wanted = [name.strip() for name in models.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in MODELS]
    if not wanted or unknown:
        raise invalid(
            "models", f"unknown model {unknown[0] if unknown else ''!r}; known: {', '.join(MODELS)}"
        )
    loaded = load_journeys(
        user=request.auth, outcome=outcome, dimension=dimension, since=since, until=until
    )
    credits = compare_models(loaded=loaded, models_wanted=wanted)
    return {
        "outcome": outcome,
        "dimension": dimension,
        "since": since.isoformat(),
        "until": until.isoformat(),
        "outcomes": loaded.outcomes,
        "unattributed_conversions": loaded.unattributed_conversions,
        "unattributed_value": loaded.unattributed_value,
        "models": {name: _rows(result.as_dict()) for name, result in credits.items()},
    }


def _rows(credits: dict[str, dict[str, float]]) -> list[dict]:
    rows = [
        {"label": label, "conversions": c["conversions"], "value": c["value"]}
        for label, c in credits.items()
    ]
    return sorted(rows, key=lambda row: (-row["conversions"], row["label"]))
