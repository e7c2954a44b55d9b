"""Every door keeps the leads' stage timestamps (`mql_at`, `sal_at`, ...): the first time a
lead entered each stage, set by the crm stage services that every door goes through."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import numpy as np
import pytest
from django.db import connection
from django.db.models import Min
from django.utils import timezone

from closedloop.crm.engine import first_entry_times
from closedloop.crm.models import ENTERED_FIELDS, Lead, LifecycleStage, StageChange
from closedloop.crm.services import change_stage, create_lead
from closedloop.engagement.tracking import create_source
from closedloop.handoff.services import accept_lead
from closedloop.scoring import services
from tests.crm.conftest import admin_form
from tests.demo.test_loader import load as load_demo_company
from tests.engagement.conftest import send
from tests.factories import make_lead
from tests.imports.helpers import import_file, write
from tests.scoring.test_services import ideal_lead, touch

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def first_arrivals(lead: Lead) -> dict[str, datetime]:
    """From the stage history: the first time `lead` entered each stage."""
    rows = lead.stage_changes.values("to_stage").annotate(first=Min("at"))
    return {f"{row['to_stage']}_at": row["first"] for row in rows}


def stamps(lead: Lead) -> dict[str, datetime]:
    lead.refresh_from_db()
    return {name: getattr(lead, name) for name in ENTERED_FIELDS if getattr(lead, name)}


# -- the services ----------------------------------------------------------------------------


def test_a_move_sets_the_timestamp_of_the_stage_it_enters():
    lead = create_lead(by=None, fields={"email": "a@example.com"}, at=T0)
    change_stage(lead, to=LifecycleStage.MQL, at=T0 + timedelta(days=1))
    change_stage(lead, to=LifecycleStage.SAL, at=T0 + timedelta(days=2))
    assert stamps(lead) == {
        "lead_at": T0,
        "mql_at": T0 + timedelta(days=1),
        "sal_at": T0 + timedelta(days=2),
    }
    assert stamps(lead) == first_arrivals(lead)


def test_a_lead_that_comes_back_to_a_stage_keeps_its_first_arrival():
    lead = create_lead(by=None, fields={"email": "b@example.com"}, stage="mql", at=T0)
    change_stage(lead, to=LifecycleStage.RECYCLED, at=T0 + timedelta(days=1))
    change_stage(lead, to=LifecycleStage.LEAD, at=T0 + timedelta(days=30))
    change_stage(lead, to=LifecycleStage.MQL, at=T0 + timedelta(days=40))
    assert stamps(lead) == {
        "mql_at": T0,
        "recycled_at": T0 + timedelta(days=1),
        "lead_at": T0 + timedelta(days=30),
    }
    assert stamps(lead) == first_arrivals(lead)


def test_a_lead_created_at_a_stage_has_that_stage_s_timestamp_at_its_creation():
    lead = create_lead(by=None, fields={"email": "c@example.com"}, stage="sql", at=T0)
    assert stamps(lead) == {"sql_at": T0}


def test_first_entry_times_takes_each_lead_s_earliest_arrival_per_stage():
    times = first_entry_times(
        np.array([0, 0, 1, 0, 1]),
        np.array(["lead", "mql", "lead", "mql", "customer"], dtype=object),
        np.array([10, 20, 5, 15, 30]),
        leads=3,
        missing=-1,
    )
    assert times["lead_at"].tolist() == [10, 5, -1]
    assert times["mql_at"].tolist() == [15, -1, -1]
    assert times["customer_at"].tolist() == [-1, 30, -1]
    assert set(times) == set(ENTERED_FIELDS)


# -- each door -------------------------------------------------------------------------------


def test_the_api_sets_the_timestamps_on_create_and_on_a_move(api_as, alice):
    created = api_as(alice).post("/leads", {"email": "api@example.com", "lifecycle_stage": "mql"})
    assert created.status_code == 201, created.content
    lead = Lead.objects.get(pk=created.json()["id"])
    moved = api_as(alice).patch(f"/leads/{lead.pk}", {"lifecycle_stage": "sal"})
    assert moved.status_code == 200, moved.content
    assert set(stamps(lead)) == {"mql_at", "sal_at"}
    assert stamps(lead) == first_arrivals(lead)
    assert moved.json()["sal_at"] is not None


def test_the_admin_sets_the_timestamp_of_a_move(client, ada):
    lead = make_lead(stage=LifecycleStage.MQL)
    client.force_login(ada)
    body = admin_form(lead, ("stage_changes",), move_to="sal", stage_reason="called them")
    response = client.post(f"/admin/crm/lead/{lead.pk}/change/", body)
    assert response.status_code == 302, response.content
    assert stamps(lead)["sal_at"] == first_arrivals(lead)["sal_at"]


def test_the_admin_cannot_edit_a_stage_timestamp(client, ada):
    lead = make_lead(stage=LifecycleStage.MQL)
    client.force_login(ada)
    body = admin_form(lead, ("stage_changes",), sal_at_0="2020-01-01", sal_at_1="10:00")
    client.post(f"/admin/crm/lead/{lead.pk}/change/", body)
    assert "sal_at" not in stamps(lead)


def test_an_import_sets_the_timestamps_of_new_and_moved_leads(tmp_path, ada):
    known = make_lead(stage=LifecycleStage.MQL, email="known@example.com")
    path = write(
        tmp_path,
        "leads.csv",
        "email,lifecycle_stage\nknown@example.com,sal\nnew@example.com,sql\n",
    )
    import_file(path, user=ada)
    new = Lead.objects.get(email="new@example.com")
    assert set(stamps(known)) == {"sal_at"} and stamps(known) == {
        "sal_at": first_arrivals(known)["sal_at"]
    }
    assert stamps(new) == {"sql_at": new.created_at} == first_arrivals(new)


def test_accepting_on_the_inbox_page_sets_sal_at(client, alice):
    lead = make_lead(owner=alice, stage=LifecycleStage.MQL)
    client.force_login(alice)
    response = client.post(f"/inbox/leads/{lead.pk}/accept/")
    assert response.status_code in (200, 302), response.content
    assert stamps(lead)["sal_at"] == first_arrivals(lead)["sal_at"]


def test_the_handoff_service_sets_sal_at_at_the_time_of_acceptance(alice):
    lead = make_lead(owner=alice, stage=LifecycleStage.MQL)
    at = timezone.now().replace(microsecond=0)
    accept_lead(lead, by=alice, at=at)
    assert stamps(lead)["sal_at"] == at


def test_a_lead_created_by_tracking_has_its_entry_timestamp(client, db):
    key = create_source(name="Website")[1]
    body = {"type": "identify", "userId": "u1", "messageId": "m1", "traits": {"email": "t@x.io"}}
    assert send(client, "/v1/identify", body, key=key).status_code == 200
    lead = Lead.objects.get(email="t@x.io")
    assert stamps(lead) == first_arrivals(lead)
    assert stamps(lead)  # entered at its first stage


def test_scoring_sets_mql_at_when_a_lead_crosses_the_mql_rule():
    lead = ideal_lead()
    for _ in range(3):
        touch(lead, "webinar")
    assert services.rescore_lead(lead.pk) == 1
    assert stamps(lead)["mql_at"] == first_arrivals(lead)["mql_at"]


def test_the_demo_company_s_leads_carry_the_first_arrivals_of_their_history():
    load_demo_company(leads=300, seed=5)
    firsts = StageChange.objects.values("lead_id", "to_stage").annotate(first=Min("at"))
    expected: dict[int, dict] = {}
    for row in firsts:
        expected.setdefault(row["lead_id"], {})[f"{row['to_stage']}_at"] = row["first"]
    for lead in Lead.objects.all():
        assert stamps(lead) == expected[lead.pk], lead.pk
    assert Lead.objects.exclude(sal_at=None).exists()


# -- the backfill of leads stored before the timestamps existed ------------------------------


def test_the_migration_fills_the_timestamps_of_stored_leads_from_their_history():
    lead = make_lead(stage=LifecycleStage.SAL, mql_at=T0 - timedelta(days=9))
    untouched = make_lead(stage=LifecycleStage.LEAD)
    history = [("", "lead", 0), ("lead", "mql", 1), ("mql", "recycled", 2), ("recycled", "lead", 3)]
    history += [("lead", "mql", 4), ("mql", "sal", 5)]
    StageChange.objects.bulk_create(
        StageChange(lead=lead, from_stage=a, to_stage=b, at=T0 + timedelta(days=d))
        for a, b, d in history
    )
    # The migration's own function, on this database (running the executor backwards inside
    # a test's transaction is refused on SQLite).
    migration = importlib.import_module("closedloop.crm.migrations.0006_backfill_stage_timestamps")
    migration.CHUNK = 1  # one statement per lead id: the chunking is exercised too
    migration.backfill(None, SimpleNamespace(connection=connection))
    assert stamps(lead) == {
        "lead_at": T0,
        "mql_at": T0 - timedelta(days=9),  # already set: kept
        "recycled_at": T0 + timedelta(days=2),
        "sal_at": T0 + timedelta(days=5),
    }
    assert stamps(untouched) == {}
