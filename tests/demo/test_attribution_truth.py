"""Data-driven attribution finds the demo's truly better channels; last touch does not.

In the demo's hidden truth, marketing touches cause conversions by kind (a webinar or an event
counts for far more than an ad click) and sales touches cause none: they follow conversion.
Each channel's true effect is its removal effect on the truth itself
(`demo.services.true_channel_effects`). Pipeline (opportunities created) is credited by channel
under last touch, Markov and Shapley, sales activities included as touches, and each model's
shares are compared with the true shares: Markov and Shapley land closer (L1 distance over
every channel) and rank the marketing channels as the truth does; last touch gives everything
to the sales meeting that precedes every demo opportunity.
"""

from datetime import UTC, datetime

import numpy as np
import pytest

from closedloop.analytics.services import compare_models, load_journeys
from closedloop.demo.generator import load_demo
from closedloop.demo.services import true_channel_effects

AS_OF = datetime(2026, 6, 1, tzinfo=UTC)


def shares(values: dict[str, float], channels: list[str]) -> np.ndarray:
    found = np.array([max(values.get(c, 0.0), 0.0) for c in channels])
    return found / found.sum() if found.sum() > 0 else found


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rho with average ranks for ties; 0 when either side ranks nothing."""

    def ranks(x: np.ndarray) -> np.ndarray:
        order = np.argsort(x, kind="stable")
        r = np.empty(len(x))
        r[order] = np.arange(len(x), dtype=float)
        for value in np.unique(x):
            r[x == value] = r[x == value].mean()
        return r

    ra, rb = ranks(a), ranks(b)
    if ra.std() == 0 or rb.std() == 0:
        return 0.0
    return float(np.corrcoef(ra, rb)[0, 1])


@pytest.fixture
def measured(db, eve):
    load_demo(leads=1500, seed=11, echo=lambda line: None, as_of=AS_OF)
    truth = true_channel_effects()
    loaded = load_journeys(
        user=eve,
        outcome="pipeline",
        dimension="channel",
        since=datetime(2020, 1, 1, tzinfo=UTC),
        until=AS_OF,
    )
    assert loaded.outcomes > 30
    credits = compare_models(loaded=loaded, models_wanted=["last", "markov", "shapley"])
    found = {
        model: {label: c["conversions"] for label, c in result.as_dict().items()}
        for model, result in credits.items()
    }
    return truth, found


def test_markov_and_shapley_credit_channels_closer_to_the_truth_than_last_touch(measured):
    truth, found = measured
    every = sorted(set(truth) | {label for credits in found.values() for label in credits})
    target = shares(truth, every)  # sales labels: 0 in the truth
    distance = {model: float(np.abs(shares(c, every) - target).sum()) for model, c in found.items()}
    assert distance["markov"] < distance["last"]
    assert distance["shapley"] < distance["last"]


def test_markov_and_shapley_rank_the_marketing_channels_as_the_truth_does(measured):
    truth, found = measured
    marketing = sorted(c for c, effect in truth.items() if effect > 0)
    assert len(marketing) >= 4
    target = shares(truth, marketing)
    rho = {model: rank_correlation(shares(c, marketing), target) for model, c in found.items()}
    assert rho["markov"] >= 0.8 and rho["shapley"] >= 0.8
    assert rho["last"] < rho["markov"]
