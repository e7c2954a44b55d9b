"""Rule-based models on hand-computed paths (repeats, one-touch paths, no conversion)."""

import numpy as np
import pytest

from closedloop.analytics.engine.attribution import attribute
from closedloop.analytics.engine.journeys import journeys_from_paths

# A > B > A > C converts once for 100; B alone converts twice for 50 (one null); C > A never.
PATHS = [["A", "B", "A", "C"], ["B"], ["C", "A"]]


def journeys(**extra):
    return journeys_from_paths(PATHS, [1, 2, 0], [100, 50, 0], [0, 1, 5], **extra)


def credited(model, **settings):
    result = attribute(journeys(**settings.pop("journeys", {})), model=model, **settings)
    return {
        name: (round(entry["conversions"], 9), round(entry["value"], 9))
        for name, entry in result.as_dict().items()
    }


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("first", {"A": (1, 100), "B": (2, 50), "C": (0, 0)}),
        ("last", {"A": (0, 0), "B": (2, 50), "C": (1, 100)}),
        ("linear", {"A": (0.5, 50), "B": (2.25, 75), "C": (0.25, 25)}),
        # 40% first (A), 40% lead creation (last touch without milestones: C), 10% + 10% middle.
        ("u_shaped", {"A": (0.5, 50), "B": (2.1, 60), "C": (0.4, 40)}),
        ("u_shaped_marketo", {"A": (0.5, 50), "B": (2, 50), "C": (0.5, 50)}),
        # Lead creation at position 2 (A), opportunity creation at the last touch (C).
        ("w_shaped", {"A": (0.6, 60), "B": (2.1, 60), "C": (0.3, 30)}),
        # 22.5% x 4 on positions 0 (A), 1 (B), 2 (A), 3 (C), no middle left: scaled by 1/0.9.
        ("full_path", {"A": (0.5, 50), "B": (2.25, 75), "C": (0.25, 25)}),
        # 20% first (A), 60% last (C), 10% + 10% middle (B, A); B alone keeps everything.
        ("j_shaped", {"A": (0.3, 30), "B": (2.1, 60), "C": (0.6, 60)}),
        # 60% first (A), 20% last (C), 10% + 10% middle (B, A).
        ("inverse_j", {"A": (0.7, 70), "B": (2.1, 60), "C": (0.2, 20)}),
    ],
)
def test_each_rule_based_model_credits_the_hand_computed_shares(model, expected):
    result = credited(model)
    assert result.keys() == expected.keys()
    for name, shares in expected.items():
        assert result[name] == pytest.approx(shares), name


def test_time_decay_on_a_path_file_halves_the_weight_per_touch_back():
    # Weights 1/8, 1/4, 1/2, 1 over A, B, A, C: A gets 5/15, B 2/15, C 8/15.
    result = credited("time_decay")
    assert result["A"] == pytest.approx((1 / 3, 100 / 3))
    assert result["B"] == pytest.approx((2 + 2 / 15, 50 + 200 / 15))
    assert result["C"] == pytest.approx((8 / 15, 800 / 15))


def test_time_decay_with_touch_ages_uses_the_half_life_in_days():
    ages = [[14, 7, 7, 0], [3], [5, 1]]
    result = credited("time_decay", journeys={"ages": ages}, half_life=7)
    # Weights 1/4, 1/2, 1/2, 1 (sum 9/4): A 3/9, B 2/9, C 4/9.
    assert result["C"] == pytest.approx((4 / 9, 400 / 9))
    assert result["B"] == pytest.approx((2 + 2 / 9, 50 + 200 / 9))


def test_w_shaped_with_known_milestones_gives_nothing_to_touches_after_the_last_one():
    milestones = {"lead": [1, -1, -1], "opportunity": [1, -1, -1]}
    result = credited("w_shaped", journeys={"milestones": milestones})
    # First touch A 30%, B holds lead and opportunity creation 60%; no middle: scaled by 1/0.9.
    assert result["A"] == pytest.approx((1 / 3, 100 / 3))
    assert result["B"] == pytest.approx((2 + 2 / 3, 50 + 200 / 3))
    assert result["C"] == (0, 0)


def test_a_milestone_beyond_the_end_of_its_journey_is_refused():
    with pytest.raises(ValueError, match="lead milestone beyond the end"):
        credited("u_shaped", journeys={"milestones": {"lead": [9, -1, -1]}})


@pytest.mark.parametrize(
    "model",
    ["first", "last", "linear", "time_decay", "u_shaped", "w_shaped", "full_path", "shapley"],
)
def test_every_model_credits_exactly_the_total_conversions_and_value(model):
    result = attribute(journeys(), model=model)
    assert result.conversions.sum() == pytest.approx(3)
    assert result.value.sum() == pytest.approx(150)
    assert np.all(result.conversions >= 0)


def test_an_unknown_model_or_setting_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown model 'z_shaped'"):
        attribute(journeys(), model="z_shaped")
    with pytest.raises(ValueError, match="takes no setting order"):
        attribute(journeys(), model="linear", order=2)


def test_j_shaped_on_two_touches_scales_first_and_last_to_a_quarter_and_three_quarters():
    result = attribute(journeys_from_paths([["A", "B"]], [1], [80], [0]), model="j_shaped")
    assert result.as_dict()["A"]["conversions"] == pytest.approx(0.25)
    assert result.as_dict()["B"]["value"] == pytest.approx(60)


def test_j_shaped_ignores_a_known_lead_milestone_the_conversion_touch_is_the_last():
    # Milestones of the database journeys do not move the J's 60%: it stays on the last touch.
    paths = journeys_from_paths(
        [["A", "B", "C"]], [1], [10], [0], milestones={"lead": [0], "opportunity": [1]}
    )
    result = attribute(paths, model="j_shaped").as_dict()
    assert (result["A"]["conversions"], result["B"]["conversions"]) == pytest.approx((0.2, 0.2))
    assert result["C"]["conversions"] == pytest.approx(0.6)
