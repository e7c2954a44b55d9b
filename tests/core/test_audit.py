import pytest

from closedloop.core.audit import acting_as, record_bulk
from closedloop.core.models import AppendOnlyError, AuditEntry, AuditSource
from closedloop.crm.models import Lead, LifecycleStage
from tests.factories import make_lead


def test_creating_a_lead_records_who_created_it_and_through_which_channel(alice):
    with acting_as(alice, AuditSource.API):
        lead = make_lead(first_name="Grace")
    entry = AuditEntry.objects.get(model="crm.lead", object_id=str(lead.pk))
    assert entry.action == "create"
    assert entry.actor == alice and entry.source == "api"
    assert entry.changes["first_name"] == [None, "Grace"]


def test_updating_a_lead_records_old_and_new_values_of_changed_fields_only(alice):
    lead = make_lead(first_name="Grace")
    lead = Lead.objects.get(pk=lead.pk)
    lead.lifecycle_stage = LifecycleStage.MQL
    with acting_as(alice, AuditSource.UI):
        lead.save()
    entry = AuditEntry.objects.filter(model="crm.lead", action="update").get()
    assert entry.changes == {"lifecycle_stage": ["lead", "mql"]}
    assert entry.source == "ui"


def test_saving_without_changes_records_nothing(db):
    lead = Lead.objects.get(pk=make_lead().pk)
    lead.save()
    assert not AuditEntry.objects.filter(action="update").exists()


def test_deleting_a_lead_records_its_last_values(db):
    lead = make_lead(first_name="Grace")
    pk = lead.pk
    lead.delete()
    entry = AuditEntry.objects.get(action="delete")
    assert entry.object_id == str(pk) and entry.changes["first_name"] == ["Grace", None]


def test_audit_entries_cannot_be_changed_or_deleted(db):
    record_bulk(Lead, count=3, description="test load")
    entry = AuditEntry.objects.get()
    entry.object_repr = "tampered"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
