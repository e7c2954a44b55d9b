"""Opportunity imports follow the contract's pipeline: stages it has, reasons the managed list
has, no moves of a closed deal; each new deal and each move is in the stage history."""

import pytest

from closedloop.crm.models import Opportunity
from closedloop.definitions.services import active_contract
from tests.factories import make_account, make_opportunity
from tests.imports.helpers import errors_of, import_file, write

pytestmark = pytest.mark.django_db

HEADER = "external_id,opportunity name,account,stage,lost_reason\n"


def _with_stage(code: str, label: str) -> None:
    contract = active_contract()
    body = contract.body
    body["pipeline"]["stages"].insert(0, {"code": code, "label": label, "probability": 5})
    type(contract).objects.filter(pk=contract.pk).update(body=body)


def test_a_new_deal_enters_its_stage_in_the_history(tmp_path, ada):
    make_account(name="Acme")
    path = write(tmp_path, "d.csv", HEADER + "D-1,One,Acme,proposal,\n")
    job = import_file(path, kind="opportunities", user=ada)
    assert (job.created, job.failed) == (1, 0)
    deal = Opportunity.objects.get(external_id="D-1")
    entry = deal.stage_changes.get()
    assert (entry.from_stage, entry.to_stage, entry.by) == ("", "proposal", ada)
    assert deal.stage_entered_at == deal.created_at


def test_a_company_stage_written_as_its_code_imports_and_an_unknown_one_fails(tmp_path, ada):
    _with_stage("site_visit", "Site visit")
    make_account(name="Acme")
    path = write(tmp_path, "d.csv", HEADER + "D-1,One,Acme,site_visit,\nD-2,Two,Acme,limbo,\n")
    job = import_file(path, kind="opportunities", user=ada)
    assert (job.created, job.failed) == (1, 1)
    assert Opportunity.objects.get(external_id="D-1").stage == "site_visit"
    [(row, column, problem)] = errors_of(job)
    assert (row, column) == (3, "stage") and "not a stage of the pipeline" in problem


def test_a_lost_reason_outside_the_managed_list_fails_the_row(tmp_path, ada):
    make_account(name="Acme")
    path = write(tmp_path, "d.csv", HEADER + "D-1,One,Acme,lost,went_dark\n")
    job = import_file(path, kind="opportunities", user=ada)
    assert job.failed == 1
    assert "not a lost reason of the managed list" in errors_of(job)[0][2]


def test_an_import_does_not_move_a_closed_deal_but_moves_an_open_one(tmp_path, ada):
    account = make_account(name="Acme")
    make_opportunity(account=account, external_id="D-1", name="One", stage="won")
    make_opportunity(account=account, external_id="D-2", name="Two")
    path = write(tmp_path, "d.csv", HEADER + "D-1,One,Acme,proposal,\nD-2,Two,Acme,negotiation,\n")
    job = import_file(path, kind="opportunities", user=ada)
    assert (job.updated, job.failed) == (1, 1)
    assert "an admin reopens it" in errors_of(job)[0][2]
    moved = Opportunity.objects.get(external_id="D-2")
    change = moved.stage_changes.get()
    assert (change.from_stage, change.to_stage, moved.stage) == (
        "discovery",
        "negotiation",
        "negotiation",
    )
