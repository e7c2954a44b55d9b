"""The pure pipeline: stages from a contract body, probabilities, and which moves it allows."""

from __future__ import annotations

from closedloop.definitions.rules import Errors, clean_pipeline
from closedloop.pipeline import DEFAULT_PIPELINE, Pipeline


def test_a_contract_without_a_pipeline_gets_the_default_one():
    pipeline = Pipeline.from_contract({"stages": []})
    assert pipeline.codes == ("discovery", "proposal", "negotiation", "won", "lost")
    assert pipeline.first.code == "discovery"


def test_each_stage_has_its_probability_and_unknown_codes_have_none():
    pipeline = Pipeline.default()
    assert [pipeline.probability(c) for c in pipeline.codes] == [10, 50, 75, 100, 0]
    assert pipeline.probability("nowhere") == 0


def test_an_open_deal_moves_to_any_open_stage_forward_or_back():
    pipeline = Pipeline.default()
    assert pipeline.refusal("discovery", "negotiation") is None
    assert pipeline.refusal("negotiation", "discovery") is None


def test_closing_and_reopening_are_not_plain_moves():
    pipeline = Pipeline.default()
    assert "close it" in pipeline.refusal("proposal", "won")
    assert "reopen it" in pipeline.refusal("won", "proposal")
    assert "not a stage" in pipeline.refusal("proposal", "limbo")


def test_the_default_pipeline_is_clean():
    errors = Errors()
    assert clean_pipeline(DEFAULT_PIPELINE, errors) == DEFAULT_PIPELINE
    assert errors == {}


def _problems(stages) -> dict:
    errors = Errors()
    clean_pipeline({"stages": stages}, errors)
    return dict(errors)


def test_a_pipeline_needs_won_and_lost_last_and_an_open_stage():
    won = {"code": "won", "label": "Won", "probability": 100}
    lost = {"code": "lost", "label": "Lost", "probability": 0}
    demo = {"code": "demo", "label": "Demo", "probability": 30}
    assert "needs the closing stages lost" in _problems([demo, won])["pipeline.stages"]
    assert "at least one open stage" in _problems([won, lost])["pipeline.stages"]
    assert "come after the open ones" in _problems([won, demo, lost])["pipeline.stages"]
    assert "listed twice" in _problems([demo, demo, won, lost])["pipeline.stages"]


def test_a_pipeline_stage_names_the_bad_value_by_its_path():
    won = {"code": "won", "label": "Won", "probability": 90}
    lost = {"code": "lost", "label": "Lost", "probability": 0}
    bad = {"code": "Demo Day", "label": "", "probability": 130}
    problems = _problems([bad, won, lost])
    assert set(problems) == {
        "pipeline.stages.0.code",
        "pipeline.stages.0.label",
        "pipeline.stages.0.probability",
        "pipeline.stages.1.probability",
    }
    assert "a won deal's probability is 100" in problems["pipeline.stages.1.probability"]
