"""The crm services' own rules, whatever door calls them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from closedloop.core import events
from closedloop.core.models import AuditEntry
from closedloop.crm import services
from closedloop.crm.models import Lead, LifecycleStage, OpportunityStage
from tests.factories import make_lead, make_opportunity

pytestmark = pytest.mark.django_db


def test_closing_an_opportunity_as_lost_without_a_reason_is_refused(alice):
    deal = make_opportunity(owner=alice)
    with pytest.raises(ValidationError) as refused:
        services.close_opportunity(deal, by=alice, won=False, reason="", note="Went quiet")
    assert "lost_reason" in refused.value.message_dict


def test_closing_an_opportunity_as_lost_keeps_the_reason_and_the_time(alice):
    deal = make_opportunity(owner=alice)
    at = datetime(2026, 3, 1, 12, tzinfo=UTC)
    services.close_opportunity(deal, by=alice, won=False, reason="price", note="Too dear", at=at)
    deal.refresh_from_db()
    assert (deal.stage, deal.lost_reason, deal.closed_at) == ("lost", "price", at)


def test_closing_an_opportunity_as_won_announces_it_once_with_its_close_time(heard, alice):
    deal = make_opportunity(owner=alice, amount=900)
    at = datetime(2026, 3, 1, 12, tzinfo=UTC)
    payloads = heard(
        events.opportunity_won,
        lambda: services.close_opportunity(
            deal, by=alice, won=True, reason="value", note="Signed", at=at
        ),
    )
    assert [(p["opportunity_id"], p["closed_at"]) for p in payloads] == [(deal.pk, at.isoformat())]


def test_a_closed_opportunity_cannot_be_closed_again(alice):
    deal = make_opportunity(owner=alice, stage=OpportunityStage.WON)
    with pytest.raises(ValidationError):
        services.close_opportunity(deal, by=alice, won=True, reason="value", note="Again")


def test_reopening_an_opportunity_clears_its_close_fields(alice, ada):
    deal = make_opportunity(owner=alice)
    services.close_opportunity(deal, by=alice, won=False, reason="timing", note="Next year")
    services.reopen_opportunity(deal, by=ada, reason="They called back", to="proposal")
    deal.refresh_from_db()
    assert (deal.stage, deal.closed_at, deal.lost_reason, deal.close_note) == (
        "proposal",
        None,
        "",
        "",
    )


def test_a_reps_new_lead_without_an_owner_is_theirs(alice):
    lead = services.create_lead(by=alice, fields={"email": "x@example.com"})
    assert lead.owner == alice and lead.assigned_at == lead.created_at
    assert [c.to_stage for c in lead.stage_changes.all()] == [LifecycleStage.LEAD]


def test_a_rep_cannot_give_a_new_lead_to_someone_else(alice, bob):
    with pytest.raises(PermissionDenied):
        services.create_lead(by=alice, fields={"owner": bob})


def test_marketing_creates_unowned_leads(mia):
    assert services.create_lead(by=mia, fields={"email": "m@example.com"}).owner is None


def test_a_new_owner_restarts_the_assignment_time(ada, alice):
    lead = make_lead(stage=LifecycleStage.MQL)
    lead = services.update_lead(lead, by=ada, changes={"owner": alice})
    assert lead.owner == alice and lead.assigned_at is not None


def test_a_stale_version_changes_nothing(ada):
    lead = make_lead(first_name="Old")
    with pytest.raises(services.StaleVersion):
        services.update_lead(
            lead, by=ada, changes={"first_name": "New"}, expected_version=lead.version + 1
        )
    lead.refresh_from_db()
    assert lead.first_name == "Old"


def test_deleting_a_lead_in_the_admin_goes_through_the_service_and_is_audited(client, ada):
    lead = make_lead()
    client.force_login(ada)
    response = client.post(f"/admin/crm/lead/{lead.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Lead.objects.filter(pk=lead.pk).exists()
    entry = AuditEntry.objects.get(object_id=str(lead.pk), action="delete")
    assert entry.actor_id == ada.pk


def test_an_executive_cannot_delete_an_opportunity(eve):
    deal = make_opportunity()
    with pytest.raises(PermissionDenied):
        services.delete_opportunity(deal, by=eve)
