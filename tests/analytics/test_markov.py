"""Markov removal effects: hand-computed chains, the expanded order-k chain, and simulation."""

import numpy as np
import pytest

from closedloop.analytics.engine.journeys import journeys_from_paths
from closedloop.analytics.engine.markov import build_chain, markov, removal_effects
from closedloop.analytics.engine.simulation import simulate_removal_effects


def test_order_one_matches_the_hand_solved_chain():
    # start -> A (2), start -> B (2); A -> B 1, A -> null 1; B -> conversion 2, B -> null 1.
    # P(B) = 2/3, P(A) = 1/3, P = 1/2; without A: 1/3 (RE 1/3); without B: 0 (RE 1).
    journeys = journeys_from_paths([["A", "B"], ["A"], ["B"]], [1, 0, 1], [10, 0, 30], [0, 1, 1])
    effects = removal_effects(build_chain(journeys), 2)
    assert effects.conversion_probability == pytest.approx(0.5)
    assert effects.conversions == pytest.approx([1 / 3, 1.0])
    credits = markov(journeys)
    assert credits.conversions == pytest.approx([0.5, 1.5])
    assert credits.value.sum() == pytest.approx(40)


def expanded_journeys():
    return journeys_from_paths(
        [["A", "B", "A"], ["B", "A"], ["A", "A"], ["A"]], [1, 1, 0, 1], [5, 5, 0, 5], [1, 0, 1, 0]
    )


def test_order_two_matches_a_hand_built_expanded_chain():
    # States: start, (A), (B), (A,B), (B,A), (A,A); rows are counted transitions.
    labels = ["start", "A", "B", "AB", "BA", "AA"]
    counts = {("start", "A"): 4, ("start", "B"): 1, ("A", "AB"): 2, ("A", "AA"): 1}
    counts |= {("AB", "BA"): 2, ("B", "BA"): 1}
    conversion = {"A": 1, "BA": 2}
    totals = {"start": 5, "A": 4, "B": 1, "AB": 2, "BA": 3, "AA": 1}
    q = np.zeros((6, 6))
    for (a, b), count in counts.items():
        q[labels.index(a), labels.index(b)] = count / totals[a]
    b = np.array([conversion.get(s, 0) / totals[s] for s in labels])

    def probability(dropped):
        keep = np.array([s not in dropped for s in labels])
        sub = np.eye(keep.sum()) - q[keep][:, keep]
        return np.linalg.solve(sub, b[keep])[0]

    whole = probability(set())
    expected = [1 - probability({"A", "BA", "AA"}) / whole, 1 - probability({"B", "AB"}) / whole]
    effects = removal_effects(build_chain(expanded_journeys(), order=2), 2)
    assert whole == pytest.approx(0.6)
    assert effects.conversion_probability == pytest.approx(whole)
    assert effects.conversions == pytest.approx(expected)
    assert effects.conversions == pytest.approx([1.0, 2 / 3])
    assert markov(expanded_journeys(), order=2).conversions == pytest.approx([1.8, 1.2])


def test_order_one_and_order_two_differ_when_memory_matters():
    first = markov(expanded_journeys(), order=1).conversions
    second = markov(expanded_journeys(), order=2).conversions
    assert not np.allclose(first, second)


def small_case():
    paths = [["A", "B", "C"], ["A", "C"], ["B"], ["C", "A", "B"], ["B", "B", "A"], ["C"]]
    return journeys_from_paths(
        paths, [3, 2, 1, 2, 1, 0], [30, 20, 5, 25, 10, 0], [2, 4, 5, 1, 3, 6]
    )


@pytest.mark.parametrize("order", [1, 2])
def test_the_exact_solve_agrees_with_a_monte_carlo_simulation(order):
    journeys = small_case()
    chain = build_chain(journeys, order=order)
    exact = removal_effects(chain, 3).conversions
    simulated = simulate_removal_effects(chain, 3, walks=200_000, seed=11)
    # 200,000 walks: the standard error of each simulated rate is about 0.001.
    assert simulated == pytest.approx(exact, abs=0.01)


def test_the_series_solve_of_large_chains_agrees_with_the_dense_solve(monkeypatch):
    from closedloop.analytics.engine import markov as module

    journeys = small_case()
    dense = removal_effects(build_chain(journeys, order=3), 3)
    monkeypatch.setattr(module, "DENSE_LIMIT", 1)
    series = removal_effects(build_chain(journeys, order=3), 3)
    monkeypatch.setattr(module, "MAX_STEPS", 1)
    lu = removal_effects(build_chain(journeys, order=3), 3)
    assert series.conversions == pytest.approx(dense.conversions, abs=1e-12)
    assert lu.conversions == pytest.approx(dense.conversions, abs=1e-12)
    assert lu.value == pytest.approx(dense.value, abs=1e-12)


def test_markov_credits_add_up_to_the_totals_and_nothing_converted_credits_nothing():
    credits = markov(small_case(), order=2)
    assert credits.conversions.sum() == pytest.approx(9)
    assert credits.value.sum() == pytest.approx(90)
    idle = journeys_from_paths([["A", "B"], ["B"]], [0, 0], [0, 0], [3, 1])
    assert markov(idle).conversions.tolist() == [0.0, 0.0]


def test_an_order_below_one_is_refused():
    with pytest.raises(ValueError, match="order must be at least 1"):
        markov(small_case(), order=0)
