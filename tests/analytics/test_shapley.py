"""Shapley values: hand-computed games, efficiency, symmetry, exact against sampled."""

import pytest

from closedloop.analytics.engine.journeys import journeys_from_paths
from closedloop.analytics.engine.shapley import shapley


def two_channel_game():
    # Sets: {A} converts 1 of 2 journeys, {B} 1 of 4, {A, B} 3 of 4 (as A > B and B > A > B).
    paths = [["A"], ["B"], ["A", "B"], ["B", "A", "B"]]
    return journeys_from_paths(paths, [1, 1, 2, 1], [10, 10, 20, 10], [1, 3, 0, 1])


def test_the_conversions_game_splits_each_journey_over_its_distinct_channels():
    credits = shapley(two_channel_game())
    # {A}: 1 to A; {B}: 1 to B; {A, B}: 3 split 1.5 / 1.5 (repeats of B do not count twice).
    assert credits.conversions == pytest.approx([2.5, 2.5])
    assert credits.value == pytest.approx([25, 25])


def test_the_rate_game_matches_the_hand_computed_shapley_values():
    # v(A) = 1/2, v(B) = 1/4, v(AB) = 5/10. phi_A = (1/2 + (1/2 - 1/4)) / 2 = 3/8,
    # phi_B = (1/4 + 0) / 2 = 1/8; scaled to the 5 conversions: 3.75 and 1.25.
    credits = shapley(two_channel_game(), characteristic="rate")
    assert credits.conversions == pytest.approx([3.75, 1.25])
    assert credits.stderr is None


def many_channels(count):
    names = [f"c{i}" for i in range(count)]
    paths = [
        [names[i % count], names[(i * 7 + 3) % count], names[(i * 5 + 1) % count]]
        for i in range(60)
    ]
    paths += [[name] for name in names]
    conversions = [(i * 13) % 5 for i in range(len(paths))]
    nulls = [(i * 11) % 7 + 1 for i in range(len(paths))]
    return journeys_from_paths(paths, conversions, [c * 10 for c in conversions], nulls)


@pytest.mark.parametrize("characteristic", ["conversions", "rate"])
def test_shapley_credits_add_up_to_the_total_conversions_efficiency(characteristic):
    journeys = many_channels(12)
    credits = shapley(journeys, characteristic=characteristic)
    assert credits.conversions.sum() == pytest.approx(journeys.conversions.sum())
    assert credits.value.sum() == pytest.approx(journeys.value.sum())


@pytest.mark.parametrize("characteristic", ["conversions", "rate"])
def test_channels_that_play_the_same_role_get_the_same_credit_symmetry(characteristic):
    paths = [["A", "B"], ["B", "A"], ["A"], ["B"], ["C", "A"], ["B", "C"], ["C"]]
    journeys = journeys_from_paths(paths, [2, 2, 1, 1, 1, 1, 0], [0] * 7, [1, 1, 3, 3, 2, 2, 4])
    credits = shapley(journeys, characteristic=characteristic)
    assert credits.conversions[0] == pytest.approx(credits.conversions[1])
    assert credits.conversions[0] != pytest.approx(credits.conversions[2])


def test_beyond_the_exact_limit_the_sampled_values_agree_within_their_standard_error():
    journeys = many_channels(10)
    exact = shapley(journeys, characteristic="rate")
    sampled = shapley(journeys, characteristic="rate", max_exact=5, samples=3000, seed=3)
    assert sampled.stderr is not None and (sampled.stderr > 0).all()
    assert abs(sampled.conversions - exact.conversions).max() <= 5 * sampled.stderr.max()
    assert sampled.conversions.sum() == pytest.approx(journeys.conversions.sum())
