"""Every door that changes a lead's owner leaves the same trace as a reassignment: one row in
the ownership log (Assignment) naming who, from whom, to whom and why, and the new owner's
notice (and SLA clock on an open lead). The API, the admin and an import write owners through
crm's services, which tell the handoff inside their transaction."""

from __future__ import annotations

import pytest

from closedloop.crm.models import LifecycleStage
from closedloop.handoff.models import Assignment, LeadSla, Notification
from closedloop.handoff.services import reassign_leads
from tests.api.conftest import api_as as api_as_fixture
from tests.crm.conftest import admin_form
from tests.factories import make_lead
from tests.imports.helpers import import_file, write

pytestmark = pytest.mark.django_db
api_as = api_as_fixture  # the API client fixture, shared


def log_of(lead) -> list[tuple]:
    return [
        (a.from_owner_id, a.to_owner_id, a.by_id, a.rule, a.reason)
        for a in Assignment.objects.filter(lead=lead).order_by("id")
    ]


def test_an_owner_changed_through_the_api_is_logged_once(api_as, alice, bob, max_manager):
    lead = make_lead(owner=alice)
    response = api_as(max_manager).patch(f"/leads/{lead.pk}", {"owner": bob.pk})
    assert response.status_code == 200, response.content
    assert log_of(lead) == [(alice.pk, bob.pk, max_manager.pk, "manual", "changed through the API")]
    assert Notification.objects.filter(user=bob, lead=lead).count() == 1


def test_an_owner_changed_in_the_admin_is_logged_once(client, alice, bob, ada):
    lead = make_lead(owner=alice)
    client.force_login(ada)
    body = admin_form(lead, ("stage_changes",), owner=bob.pk)
    response = client.post(f"/admin/crm/lead/{lead.pk}/change/", body)
    assert response.status_code == 302, response.content
    assert log_of(lead) == [(alice.pk, bob.pk, ada.pk, "manual", "changed in the admin")]


def test_an_owner_changed_by_an_import_is_logged_once(tmp_path, alice, bob, ada):
    lead = make_lead(owner=alice, email="known@example.com")
    path = write(tmp_path, "leads.csv", "email,owner\nknown@example.com,bob@example.com\n")
    import_file(path, user=ada)
    lead.refresh_from_db()
    assert lead.owner_id == bob.pk and lead.assigned_at is not None
    assert log_of(lead) == [(alice.pk, bob.pk, ada.pk, "manual", "import leads.csv")]


def test_an_owner_given_to_an_unowned_lead_by_an_import_is_logged(tmp_path, bob, mia):
    lead = make_lead(email="known@example.com")
    path = write(tmp_path, "leads.csv", "email,owner\nknown@example.com,bob@example.com\n")
    import_file(path, user=mia)
    assert log_of(lead) == [(None, bob.pk, mia.pk, "manual", "import leads.csv")]


def test_a_reassignment_in_the_handoff_is_still_logged_once(alice, bob, max_manager):
    lead = make_lead(owner=alice)
    reassign_leads([lead.pk], to=bob, by=max_manager, reason="holiday cover")
    assert log_of(lead) == [(alice.pk, bob.pk, max_manager.pk, "manual", "holiday cover")]


def test_a_patch_that_leaves_the_owner_as_it_is_logs_nothing(api_as, alice, max_manager):
    lead = make_lead(owner=alice)
    api_as(max_manager).patch(f"/leads/{lead.pk}", {"owner": alice.pk, "title": "CTO"})
    assert log_of(lead) == []


def test_an_owner_removed_through_the_api_is_logged_without_a_notice(api_as, alice, max_manager):
    lead = make_lead(owner=alice)
    response = api_as(max_manager).patch(f"/leads/{lead.pk}", {"owner": None})
    assert response.status_code == 200, response.content
    assert log_of(lead) == [(alice.pk, None, max_manager.pk, "manual", "changed through the API")]
    assert not Notification.objects.filter(lead=lead).exists()


def test_an_open_lead_given_a_new_owner_through_the_api_gets_their_sla_clock(
    api_as, bob, max_manager
):
    lead = make_lead(stage=LifecycleStage.MQL)
    api_as(max_manager).patch(f"/leads/{lead.pk}", {"owner": bob.pk})
    assert LeadSla.objects.filter(lead=lead, closed_at__isnull=True).count() == 1


def test_a_refused_owner_change_logs_nothing(api_as, alice, bob):
    lead = make_lead(owner=alice)
    response = api_as(alice).patch(f"/leads/{lead.pk}", {"owner": bob.pk})
    assert response.status_code == 403
    assert log_of(lead) == []
