"""The opportunity pipeline is part of the signed contract: changed by a draft both sides
sign, and never in a way that strands stored deals."""

import pytest

from closedloop.crm import services as crm
from closedloop.definitions import services
from closedloop.definitions.models import ContractVersion
from tests.factories import make_opportunity


def _renamed(body: dict, code: str, label: str, probability: int) -> dict:
    for stage in body["pipeline"]["stages"]:
        if stage["code"] == code:
            stage.update(label=label, probability=probability)
    return body


def test_a_signed_change_of_the_pipeline_is_what_the_crm_reads(mia, alice):
    body = _renamed(services.active_contract_body(), "proposal", "Proposal sent", 60)
    draft = services.create_draft(by=mia, body=body)
    services.sign_contract(draft, by=mia)
    services.sign_contract(draft, by=alice)
    assert crm.current_pipeline().label("proposal") == "Proposal sent"
    assert crm.stage_probability("proposal") == 60


def test_a_stored_contract_from_before_the_pipeline_gets_the_default_one(mia, db):
    version = services.active_contract()
    body = version.body
    del body["pipeline"]
    ContractVersion.objects.filter(pk=version.pk).update(body=body)
    assert [s.code for s in crm.pipeline_stages()][-2:] == ["won", "lost"]
    draft = services.create_draft(by=mia)
    assert draft.body["pipeline"]["stages"][0]["code"] == "discovery"


def test_a_draft_that_drops_a_stage_where_deals_stand_is_refused(mia, db):
    make_opportunity(stage="negotiation")
    body = services.active_contract_body()
    body["pipeline"]["stages"] = [
        s for s in body["pipeline"]["stages"] if s["code"] != "negotiation"
    ]
    with pytest.raises(services.ContractInvalid) as refused:
        services.create_draft(by=mia, body=body)
    assert "still stand at negotiation" in refused.value.errors["pipeline.stages"]


def test_the_diff_and_the_agreement_show_the_pipeline(mia, client):
    body = _renamed(services.active_contract_body(), "proposal", "Proposal sent", 60)
    draft = services.create_draft(by=mia, body=body)
    changes = [c.text for c in services.diff_versions(services.active_contract(), draft)]
    assert "Proposal sent probability 50% → 60%" in changes
    assert "Pipeline stage proposal name “Proposal” → “Proposal sent”" in changes
    client.force_login(mia)
    page = client.get("/definitions/").content.decode()
    assert "Negotiation: counted at 75% in the weighted pipeline" in page


def test_the_editor_shows_the_default_pipeline_for_a_contract_signed_before_it(mia, client):
    version = services.active_contract()
    body = version.body
    del body["pipeline"]
    ContractVersion.objects.filter(pk=version.pk).update(body=body)
    client.force_login(mia)
    page = client.get("/definitions/new/").content.decode()
    assert 'name="pipeline.stages.2.code" value="negotiation"' in page
