"""Lead stage moves follow the contract's lifecycle through every door; creating a lead at a
stage is an entry, not a move; an admin may override with a reason, which is audited."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from closedloop.core.models import AuditEntry
from closedloop.crm import services
from closedloop.crm.models import Lead, LifecycleStage
from closedloop.crm.services.bulk import check_stage_history
from closedloop.definitions.services import active_contract
from closedloop.demo import synth
from closedloop.lifecycle import Lifecycle
from tests.api.conftest import problems
from tests.crm.conftest import admin_form
from tests.factories import make_lead
from tests.imports.helpers import errors_of, import_file, write

pytestmark = pytest.mark.django_db

SKIP_RULE = "the contract's lifecycle moves a lead at Sales accepted lead to"


def _contract_moves(**moves: list[str]) -> None:
    """Give the contract in force other `next` lists (as a signed change would)."""
    contract = active_contract()
    body = contract.body
    for stage in body["stages"]:
        if stage["stage"] in moves:
            stage["next"] = moves[stage["stage"]]
    type(contract).objects.filter(pk=contract.pk).update(body=body)


def test_a_rep_cannot_patch_a_lead_from_sal_straight_to_customer(api_as, alice):
    lead = make_lead(owner=alice, stage=LifecycleStage.SAL)
    response = api_as(alice).patch(f"/leads/{lead.pk}", {"lifecycle_stage": "customer"})
    assert response.status_code == 422
    problem = problems(response)["lifecycle_stage"]
    assert problem.startswith(SKIP_RULE) and problem.endswith("not to Customer")
    lead.refresh_from_db()
    assert lead.lifecycle_stage == LifecycleStage.SAL and not lead.stage_changes.exists()


def test_a_refused_stage_move_loses_the_other_fields_of_the_patch_too(api_as, alice):
    lead = make_lead(owner=alice, stage=LifecycleStage.SAL, title="Old")
    api_as(alice).patch(f"/leads/{lead.pk}", {"title": "New", "lifecycle_stage": "customer"})
    lead.refresh_from_db()
    assert lead.title == "Old"


def test_a_rep_moves_a_lead_one_step_along_the_lifecycle(api_as, alice):
    lead = make_lead(owner=alice, stage=LifecycleStage.SAL)
    response = api_as(alice).patch(f"/leads/{lead.pk}", {"lifecycle_stage": "sql"})
    assert response.status_code == 200, response.content


def test_a_rep_cannot_override_the_lifecycle(api_as, alice):
    lead = make_lead(owner=alice, stage=LifecycleStage.SAL)
    response = api_as(alice).patch(
        f"/leads/{lead.pk}",
        {"lifecycle_stage": "customer", "stage_override_reason": "I said so"},
    )
    assert response.status_code == 403


def test_an_admin_overrides_the_lifecycle_with_a_reason_that_is_audited(api_as, ada):
    lead = make_lead(stage=LifecycleStage.SAL)
    response = api_as(ada).patch(
        f"/leads/{lead.pk}",
        {"lifecycle_stage": "customer", "stage_override_reason": "signed on paper last year"},
    )
    assert response.status_code == 200, response.content
    change = lead.stage_changes.get()
    assert (change.to_stage, change.reason) == (
        "customer",
        "Admin override: signed on paper last year",
    )
    entry = AuditEntry.objects.get(object_id=str(lead.pk), changes__has_key="lifecycle_override")
    rule, reason = entry.changes["lifecycle_override"]
    assert rule.startswith(SKIP_RULE) and reason == "signed on paper last year"
    assert entry.actor_id == ada.pk


def test_creating_a_lead_at_a_late_stage_is_an_entry_not_a_move(api_as, ada):
    response = api_as(ada).post("/leads", {"email": "c@example.com", "lifecycle_stage": "customer"})
    assert response.status_code == 201, response.content
    lead = Lead.objects.get(pk=response.json()["id"])
    assert [(c.from_stage, c.to_stage) for c in lead.stage_changes.all()] == [("", "customer")]


def test_the_admin_refuses_a_lifecycle_skip_without_an_override_reason(client, ada):
    lead = make_lead(stage=LifecycleStage.SAL)
    client.force_login(ada)
    body = admin_form(lead, ("stage_changes",), move_to="customer")
    response = client.post(f"/admin/crm/lead/{lead.pk}/change/", body)
    assert response.status_code == 200
    assert SKIP_RULE in response.content.decode().replace("&#x27;", "'")
    lead.refresh_from_db()
    assert lead.lifecycle_stage == LifecycleStage.SAL


def test_the_admin_overrides_a_lifecycle_skip_with_a_reason(client, ada):
    lead = make_lead(stage=LifecycleStage.SAL)
    client.force_login(ada)
    body = admin_form(
        lead, ("stage_changes",), move_to="customer", override_reason="migrated customer"
    )
    response = client.post(f"/admin/crm/lead/{lead.pk}/change/", body)
    assert response.status_code == 302, response.content
    lead.refresh_from_db()
    assert lead.lifecycle_stage == LifecycleStage.CUSTOMER
    assert lead.stage_changes.get().reason == "Admin override: migrated customer"


def test_an_import_refuses_to_move_a_stored_lead_past_the_lifecycle(tmp_path, ada):
    lead = make_lead(stage=LifecycleStage.SAL, email="known@example.com")
    path = write(
        tmp_path,
        "leads.csv",
        "email,lifecycle_stage\nknown@example.com,customer\nnew@example.com,customer\n",
    )
    job = import_file(path, user=ada)
    [(line, column, reason)] = errors_of(job)
    assert (line, column) == (2, "lifecycle_stage") and reason.startswith(SKIP_RULE)
    lead.refresh_from_db()
    assert lead.lifecycle_stage == LifecycleStage.SAL
    assert Lead.objects.get(email="new@example.com").lifecycle_stage == LifecycleStage.CUSTOMER


def test_the_lifecycle_is_read_from_the_contract_in_force(api_as, alice, client):
    _contract_moves(mql=["recycled", "disqualified"])
    lead = make_lead(owner=alice, stage=LifecycleStage.MQL)
    response = api_as(alice).patch(f"/leads/{lead.pk}", {"lifecycle_stage": "sal"})
    assert response.status_code == 422
    assert "to Recycled or Disqualified only" in problems(response)["lifecycle_stage"]
    client.force_login(alice)
    page = client.post(f"/inbox/leads/{lead.pk}/accept/", HTTP_HX_REQUEST="true")
    assert page.status_code == 422
    lead.refresh_from_db()
    assert lead.lifecycle_stage == LifecycleStage.MQL


def test_the_mql_rule_does_not_lift_a_lead_the_lifecycle_keeps_out_of_mql(ada):
    _contract_moves(subscriber=["lead"])
    lead = make_lead(stage=LifecycleStage.SUBSCRIBER)
    with pytest.raises(ValidationError):
        services.change_stage(lead, to=LifecycleStage.MQL, reason="MQL rule")


def test_a_system_move_cannot_override_the_lifecycle():
    lead = make_lead(stage=LifecycleStage.SAL)
    with pytest.raises(PermissionDenied):
        services.change_stage(lead, to=LifecycleStage.CUSTOMER, override_reason="no one")


def test_the_starting_lifecycle_allows_every_move_the_app_makes():
    lifecycle = Lifecycle.from_contract(active_contract().body)
    moves = [
        ("subscriber", "lead"),  # a form
        ("subscriber", "mql"),  # the MQL rule
        ("lead", "mql"),
        ("recycled", "mql"),  # re-entry date or re-engagement
        ("mql", "sal"),  # accept
        ("mql", "recycled"),  # reject: not now
        ("sal", "disqualified"),  # reject: wrong fit
        ("sal", "lead"),  # reject: bad data
        ("sal", "sql"),
        ("sql", "opportunity"),
        ("opportunity", "customer"),
        ("opportunity", "recycled"),  # lost
    ]
    assert [m for m in moves if not lifecycle.allows(*m)] == []


def test_a_loaded_history_that_skips_a_stage_is_refused():
    with pytest.raises(ValueError, match="sal → customer"):
        check_stage_history(["", "lead", "sal"], ["lead", "mql", "customer"])


def test_the_demo_companys_stage_history_follows_the_contracts_lifecycle():
    company = synth.generate_company(leads=3000, seed=5, as_of=1_767_225_600, users=_demo_users())
    history = company.tables["stage_change"].columns
    check_stage_history(history["from_stage"].tolist(), history["to_stage"].tolist())


def _demo_users() -> dict[str, int]:
    return {seat.email: number for number, seat in enumerate(synth.ROSTER, start=1)}
