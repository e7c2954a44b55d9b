"""The typed contract and the shared vocabulary."""

import dataclasses
import subprocess
import sys

import pytest

from closedloop import vocabulary
from closedloop.crm.models import FUNNEL_STAGES, FitGrade, LifecycleStage
from closedloop.definitions.contract import ContractError, Op, parse_contract
from closedloop.definitions.defaults import DEFAULT_CONTRACT
from closedloop.engagement.models import TouchpointType


def test_the_default_body_parses_into_typed_sections():
    contract = parse_contract(DEFAULT_CONTRACT)
    assert contract.mql_rule.min_engagement == 40 and contract.mql_rule.min_fit_grade == "B-"
    assert contract.icp[0].op is Op.IN and contract.icp[0].value[0] == "Software"
    assert contract.engagement.caps["web"].types == ("page_view", "ad_click")
    assert contract.sla.first_touch_minutes == 240 and contract.sql_rule.min_confirmed == 3
    assert contract.stage_label("mql") == "Marketing qualified lead"


def test_a_parsed_contract_cannot_be_changed():
    contract = parse_contract(DEFAULT_CONTRACT)
    with pytest.raises(dataclasses.FrozenInstanceError):
        contract.mql_rule.min_engagement = 0  # type: ignore[misc]
    with pytest.raises(TypeError):
        contract.engagement.points["form"] = 0  # type: ignore[index]


def test_a_body_missing_a_section_is_refused_with_its_name():
    body = {key: value for key, value in DEFAULT_CONTRACT.items() if key != "sla"}
    with pytest.raises(ContractError, match="sla"):
        parse_contract(body)


def test_the_models_choices_are_the_vocabulary_in_its_order():
    assert LifecycleStage.values == [str(s) for s in vocabulary.Stage]
    assert TouchpointType.values == [str(t) for t in vocabulary.TouchType]
    assert FitGrade.values == list(reversed(vocabulary.GRADES))
    assert list(FUNNEL_STAGES) == list(vocabulary.FUNNEL)


def test_the_vocabulary_and_the_contract_import_no_django():
    code = (
        "import sys, closedloop.vocabulary, closedloop.definitions.contract; "
        "print('django' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
