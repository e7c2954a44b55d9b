"""Each door (API, admin, import, page) fires each domain event of the revenue record exactly
once, because every door writes through the crm services."""

from __future__ import annotations

import pytest

from closedloop.core import events
from closedloop.crm.models import Lead, LifecycleStage, Opportunity, OpportunityStage
from tests.crm.conftest import admin_form
from tests.factories import make_account, make_lead, make_opportunity
from tests.imports.helpers import import_file, write

pytestmark = pytest.mark.django_db


# -- opportunity_won -------------------------------------------------------------------------


def test_an_opportunity_won_through_the_api_fires_opportunity_won_once(heard, api_as, alice):
    deal = make_opportunity(owner=alice, amount=500)
    payloads = heard(
        events.opportunity_won,
        lambda: api_as(alice).patch(
            f"/opportunities/{deal.pk}",
            {"stage": "won", "won_reason": "value", "close_note": "Signed the order form"},
        ),
    )
    assert [p["opportunity_id"] for p in payloads] == [deal.pk]


def test_an_opportunity_won_in_the_admin_fires_opportunity_won_once(heard, client, ada):
    deal = make_opportunity(owner=ada, amount=500)
    client.force_login(ada)
    body = admin_form(
        deal,
        ("roles", "stage_changes"),
        stage="won",
        won_reason="value",
        close_note="Signed the order form",
    )
    payloads = heard(
        events.opportunity_won,
        lambda: client.post(f"/admin/crm/opportunity/{deal.pk}/change/", body),
    )
    assert heard.result.status_code == 302, heard.result.content
    deal.refresh_from_db()
    assert deal.stage == OpportunityStage.WON and deal.closed_at is not None
    assert [p["opportunity_id"] for p in payloads] == [deal.pk]


def test_an_opportunity_created_won_in_the_admin_fires_opportunity_won_once(heard, client, ada):
    account = make_account()
    client.force_login(ada)
    template = Opportunity(account=account, name="Big one", amount=10, stage="won")
    body = admin_form(
        template, ("roles", "stage_changes"), created_at_0="2026-01-05", created_at_1="10:00"
    )
    payloads = heard(
        events.opportunity_won, lambda: client.post("/admin/crm/opportunity/add/", body)
    )
    assert heard.result.status_code == 302, heard.result.content
    deal = Opportunity.objects.get(name="Big one")
    assert deal.closed_at is not None
    assert [p["opportunity_id"] for p in payloads] == [deal.pk]


def test_the_admin_refuses_a_lost_opportunity_without_a_reason(client, ada):
    deal = make_opportunity(owner=ada)
    client.force_login(ada)
    response = client.post(
        f"/admin/crm/opportunity/{deal.pk}/change/",
        admin_form(deal, ("roles", "stage_changes"), stage="lost"),
    )
    assert response.status_code == 200
    assert "a reason is required; use one of the lost reasons" in response.content.decode()
    deal.refresh_from_db()
    assert deal.stage == OpportunityStage.DISCOVERY


def test_an_opportunity_won_by_an_import_fires_opportunity_won_once(heard, tmp_path, ada):
    account = make_account(name="Acme")
    deal = make_opportunity(account=account, owner=ada, external_id="D-1", name="Deal one")
    path = write(
        tmp_path,
        "deals.csv",
        "external_id,opportunity name,account,stage,close_date\nD-1,Deal one,Acme,won,2026-02-01\n",
    )
    payloads = heard(
        events.opportunity_won, lambda: import_file(path, kind="opportunities", user=ada)
    )
    deal.refresh_from_db()
    assert deal.stage == OpportunityStage.WON and deal.closed_at is not None
    assert [p["opportunity_id"] for p in payloads] == [deal.pk]


def test_importing_the_same_won_opportunity_again_fires_nothing(heard, tmp_path, ada):
    account = make_account(name="Acme")
    make_opportunity(account=account, external_id="D-1", name="Deal one", stage="won")
    path = write(
        tmp_path, "deals.csv", "external_id,opportunity name,account,stage\nD-1,Deal one,Acme,won\n"
    )
    payloads = heard(
        events.opportunity_won, lambda: import_file(path, kind="opportunities", user=ada)
    )
    assert payloads == []


# -- lead_stage_changed and lead_became_mql ----------------------------------------------------


def _stage_events(heard, action):
    return heard((events.lead_stage_changed, events.lead_became_mql), action)


def test_a_lead_moved_to_mql_through_the_api_fires_each_stage_event_once(heard, api_as, alice):
    lead = make_lead(owner=alice, stage=LifecycleStage.LEAD)
    changed, mql = _stage_events(
        heard, lambda: api_as(alice).patch(f"/leads/{lead.pk}", {"lifecycle_stage": "mql"})
    )
    assert [(p["lead_id"], p["to"]) for p in changed] == [(lead.pk, "mql")]
    assert [p["lead_id"] for p in mql] == [lead.pk]


def test_a_lead_moved_to_mql_in_the_admin_fires_each_stage_event_once(heard, client, ada):
    lead = make_lead(stage=LifecycleStage.LEAD)
    client.force_login(ada)
    body = admin_form(lead, ("stage_changes",), move_to="mql", stage_reason="checked by hand")
    changed, mql = _stage_events(
        heard, lambda: client.post(f"/admin/crm/lead/{lead.pk}/change/", body)
    )
    lead.refresh_from_db()
    assert lead.lifecycle_stage == LifecycleStage.MQL and lead.mql_at is not None
    assert [(p["to"], p["reason"]) for p in changed] == [("mql", "checked by hand")]
    assert [p["lead_id"] for p in mql] == [lead.pk]


def test_a_lead_created_in_the_admin_records_its_entry_stage(heard, client, ada):
    client.force_login(ada)
    body = admin_form(
        Lead(email="new@example.com", first_name="New"),
        ("stage_changes",),
        created_at_0="2026-01-05",
        created_at_1="10:00",
    )
    changed = heard(events.lead_stage_changed, lambda: client.post("/admin/crm/lead/add/", body))
    assert heard.result.status_code == 302, heard.result.content
    lead = Lead.objects.get(email="new@example.com")
    assert [(c.from_stage, c.to_stage) for c in lead.stage_changes.all()] == [("", "lead")]
    assert [p["lead_id"] for p in changed] == [lead.pk]


def test_a_lead_moved_to_mql_by_an_import_fires_each_stage_event_once(heard, tmp_path, ada):
    lead = make_lead(stage=LifecycleStage.LEAD, email="known@example.com")
    path = write(tmp_path, "leads.csv", "email,lifecycle_stage\nknown@example.com,mql\n")
    changed, mql = _stage_events(heard, lambda: import_file(path, user=ada))
    lead.refresh_from_db()
    assert lead.lifecycle_stage == LifecycleStage.MQL and lead.mql_at is not None
    assert [(p["lead_id"], p["to"]) for p in changed] == [(lead.pk, "mql")]
    assert [p["lead_id"] for p in mql] == [lead.pk]


def test_a_lead_accepted_on_the_inbox_page_fires_lead_stage_changed_once(heard, client, alice):
    lead = make_lead(owner=alice, stage=LifecycleStage.MQL)
    client.force_login(alice)
    changed = heard(
        events.lead_stage_changed, lambda: client.post(f"/inbox/leads/{lead.pk}/accept/")
    )
    assert [(p["lead_id"], p["from"], p["to"]) for p in changed] == [(lead.pk, "mql", "sal")]


# -- opportunity_lost, closing and reopening in the admin ---------------------------------------


def test_an_opportunity_lost_in_the_admin_fires_opportunity_lost_once(heard, client, ada):
    deal = make_opportunity(owner=ada)
    client.force_login(ada)
    body = admin_form(
        deal, ("roles", "stage_changes"), stage="lost", lost_reason="price", close_note="Too dear"
    )
    won, lost = heard(
        (events.opportunity_won, events.opportunity_lost),
        lambda: client.post(f"/admin/crm/opportunity/{deal.pk}/change/", body),
    )
    assert heard.result.status_code == 302, heard.result.content
    assert (won, [p["opportunity_id"] for p in lost]) == ([], [deal.pk])


def test_the_admin_refuses_a_close_without_a_note(client, ada):
    deal = make_opportunity(owner=ada)
    client.force_login(ada)
    body = admin_form(deal, ("roles", "stage_changes"), stage="won", won_reason="value")
    response = client.post(f"/admin/crm/opportunity/{deal.pk}/change/", body)
    assert "closing a deal needs a note" in response.content.decode()
    deal.refresh_from_db()
    assert deal.stage == OpportunityStage.DISCOVERY


def test_the_admin_reopens_a_closed_deal_only_with_a_reason(client, ada):
    deal = make_opportunity(owner=ada, stage="lost", lost_reason="price")
    client.force_login(ada)
    url = f"/admin/crm/opportunity/{deal.pk}/change/"
    refused = client.post(url, admin_form(deal, ("roles", "stage_changes"), stage="proposal"))
    assert "reopening a closed deal needs a reason" in refused.content.decode()
    body = admin_form(
        deal, ("roles", "stage_changes"), stage="proposal", reopen_reason="They came back"
    )
    assert client.post(url, body).status_code == 302
    deal.refresh_from_db()
    assert (deal.stage, deal.lost_reason) == ("proposal", "")
    assert deal.stage_changes.first().reason == "Reopened: They came back"
