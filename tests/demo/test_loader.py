"""Loading the demo company into the database: consistent, deterministic, safe to re-run."""

import hashlib
import re
from datetime import UTC, datetime

import numpy as np
import pytest
from django.contrib.auth import authenticate
from django.db import connection
from django.db.models import Count, OuterRef, Subquery

from closedloop.campaigns.models import Campaign
from closedloop.content.models import ContentAsset
from closedloop.core.models import AuditAction, AuditEntry, Role, User
from closedloop.crm.models import (
    Account,
    Activity,
    Lead,
    Opportunity,
    OpportunityContact,
    OpportunityStage,
    StageChange,
)
from closedloop.demo.generator import DemoRefused, load_demo
from closedloop.demo.services import demo_truth
from closedloop.engagement.models import Touchpoint

AS_OF = datetime(2026, 6, 1, tzinfo=UTC)
LOGIN_LINE = re.compile(r"^\s+(\w+)\s+(\S+@demo\.closedloop\.test)\s+(\S+)$")


class Output(list):
    def __call__(self, line):
        self.append(line)

    @property
    def logins(self):
        return {m[2]: (m[1], m[3]) for line in self if (m := LOGIN_LINE.match(line))}


def load(leads=400, seed=3, **options):
    output = Output()
    summary = load_demo(leads=leads, seed=seed, echo=output, as_of=AS_OF, **options)
    return summary, output


def digest() -> str:
    sha = hashlib.sha256()
    for model in (
        Campaign,
        ContentAsset,
        Account,
        Lead,
        Touchpoint,
        StageChange,
        Activity,
        Opportunity,
        OpportunityContact,
    ):
        fields = [f.attname for f in model._meta.concrete_fields]
        for row in model.objects.order_by("pk").values_list(*fields):
            sha.update(repr(row).encode())
    return sha.hexdigest()


@pytest.mark.django_db
def test_loading_fills_every_table_with_the_counts_it_reports():
    summary, _ = load()
    assert Lead.objects.count() == summary.rows["crm.Lead"] == 400
    assert Touchpoint.objects.count() == summary.rows["engagement.Touchpoint"] > 3000
    assert Campaign.objects.count() == 60 and ContentAsset.objects.count() == 40
    for model in (Account, StageChange, Activity, Opportunity, OpportunityContact):
        assert model.objects.count() == summary.rows[model._meta.label] > 0


@pytest.mark.django_db
def test_every_stage_history_ends_at_the_leads_stage():
    load()
    last = StageChange.objects.filter(lead=OuterRef("pk")).order_by("-at", "-id")
    leads = Lead.objects.annotate(last_stage=Subquery(last.values("to_stage")[:1]))
    assert not leads.exclude(last_stage=models_f("lifecycle_stage")).exists()
    assert not leads.filter(last_stage=None).exists()
    first = StageChange.objects.filter(lead=OuterRef("pk")).order_by("at", "id")
    created = Lead.objects.annotate(
        first_from=Subquery(first.values("from_stage")[:1]),
        first_at=Subquery(first.values("at")[:1]),
    )
    assert set(created.values_list("first_from", flat=True)) == {""}
    assert not created.exclude(first_at=models_f("created_at")).exists()


def models_f(name):
    from django.db.models import F

    return F(name)


@pytest.mark.django_db
def test_every_foreign_key_points_at_an_existing_row():
    load()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA foreign_key_check")
            assert cursor.fetchall() == []
        else:  # the constraints are deferred to a commit that tests never reach: check now
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@pytest.mark.django_db
def test_relations_are_consistent():
    load()
    assert not Opportunity.objects.annotate(n=Count("roles")).filter(n=0).exists()
    for role in OpportunityContact.objects.select_related("lead", "opportunity"):
        assert role.lead.account_id == role.opportunity.account_id
    campaigns = set(Campaign.objects.values_list("pk", flat=True))
    assets = set(ContentAsset.objects.values_list("pk", flat=True))
    assert (
        set(Touchpoint.objects.exclude(campaign=None).values_list("campaign_id", flat=True))
        <= campaigns
    )
    assert (
        set(Touchpoint.objects.exclude(content=None).values_list("content_id", flat=True)) <= assets
    )
    assert not Touchpoint.objects.filter(lead=None).exists()
    won_contacts = set(
        OpportunityContact.objects.filter(opportunity__stage=OpportunityStage.WON).values_list(
            "lead_id", flat=True
        )
    )
    assert (
        set(Lead.objects.filter(lifecycle_stage="customer").values_list("pk", flat=True))
        == won_contacts
    )
    assert not Opportunity.objects.filter(stage=OpportunityStage.LOST, lost_reason="").exists()
    assert set(Lead.objects.exclude(owner=None).values_list("owner__role", flat=True)) == {Role.REP}
    assert not Activity.objects.exclude(lead__owner=models_f("rep")).exists()


@pytest.mark.django_db
def test_scores_are_left_for_the_scorer():
    load()
    assert not Lead.objects.exclude(fit_grade="").exists()
    assert not Lead.objects.exclude(score=0).exists()
    assert not Lead.objects.exclude(conversion_probability=None).exists()


@pytest.mark.django_db
def test_the_same_seed_loads_the_same_rows_and_another_seed_does_not():
    load(leads=300, seed=5)
    first = digest()
    load(leads=300, seed=5, reset=True)
    assert digest() == first
    load(leads=300, seed=6, reset=True)
    assert digest() != first


@pytest.mark.django_db
def test_if_empty_does_nothing_when_leads_exist():
    _, output = load()
    email, (role, password) = next(iter(output.logins.items()))
    before = digest()
    again = Output()
    assert load_demo(leads=50, seed=9, if_empty=True, echo=again) is None
    assert digest() == before
    text = "\n".join(again)
    assert "already loaded" in text and f"closedloop createuser {email} --role {role}" in text
    assert authenticate(username=email, password=password) is not None


@pytest.mark.django_db
def test_loading_over_existing_data_without_reset_is_refused():
    load(leads=100)
    with pytest.raises(DemoRefused, match="--reset"):
        load(leads=100)


@pytest.mark.django_db
def test_one_login_per_role_is_printed_with_a_fresh_password_each_time():
    _, output = load(leads=100)
    logins = output.logins
    assert {role for role, _ in logins.values()} == set(Role.values)
    assert "http://127.0.0.1:8000/" in "\n".join(output)
    for email, (role, password) in logins.items():
        user = authenticate(username=email, password=password)
        assert user is not None and user.role == role
    _, second = load(leads=100, reset=True)
    for email, (_, password) in logins.items():
        assert second.logins[email][1] != password
        assert authenticate(username=email, password=password) is None


@pytest.mark.django_db
def test_the_data_reps_cannot_log_in():
    load(leads=100)
    data_users = User.objects.exclude(
        email__in=[
            f"{r}@demo.closedloop.test"
            for r in ("admin", "marketing", "manager", "rep", "executive")
        ]
    )
    assert data_users.count() >= 15
    assert not any(user.has_usable_password() for user in data_users)


@pytest.mark.django_db
def test_reset_deletes_the_old_company_and_rows_that_depend_on_it():
    load(leads=200)
    Touchpoint.objects.create(
        lead=Lead.objects.first(), type="page_view", occurred_at=AS_OF, anonymous_id="extra"
    )
    load(leads=150, seed=4, reset=True)
    assert Lead.objects.count() == 150
    assert not Touchpoint.objects.filter(anonymous_id="extra").exists()


@pytest.mark.django_db
def test_the_audit_log_records_one_bulk_entry_per_table():
    summary, _ = load(leads=100)
    bulk = AuditEntry.objects.filter(action=AuditAction.BULK)
    assert bulk.count() == len(summary.rows)
    for entry in bulk:
        assert entry.source == "cli" and entry.actor_id is None
        assert entry.changes["rows"] == summary.rows[_label(entry.model)]


def _label(lower: str) -> str:
    from django.apps import apps

    return apps.get_model(lower)._meta.label


@pytest.mark.django_db
def test_the_truth_read_back_from_the_database_is_the_truth_the_outcomes_were_drawn_from():
    summary, _ = load(leads=500, seed=8)
    truth = demo_truth()
    assert truth.seed == 8
    ids = sorted(truth.propensity)
    assert ids == list(Lead.objects.order_by("pk").values_list("pk", flat=True))
    assert np.allclose([truth.propensity[i] for i in ids], summary.propensity)
    assert len(truth.campaign_quality) == 60 and len(truth.asset_effectiveness) == 40
    assert len(truth.rep_follow_up_minutes) == 16


@pytest.mark.django_db
def test_if_empty_leaves_other_data_alone_even_without_leads():
    Campaign.objects.create(
        name="Spring launch", type="email", channel="email", starts_on=AS_OF.date()
    )
    output = Output()
    assert load_demo(leads=50, seed=1, if_empty=True, echo=output) is None
    assert "not loaded" in output[0]
    assert Campaign.objects.count() == 1 and not Lead.objects.exists()


@pytest.mark.django_db
def test_indexes_dropped_for_a_large_load_are_all_built_again(monkeypatch):
    from closedloop.demo import generator

    def index_names():
        with connection.cursor() as cursor:
            return {
                table: {
                    i.name if hasattr(i, "name") else i
                    for i in connection.introspection.get_constraints(cursor, table)
                }
                for table in ("crm_lead", "engagement_touchpoint", "crm_stagechange")
            }

    before = index_names()
    monkeypatch.setattr(generator, "INDEX_DROP_ROWS", 0)  # take the large-load path
    load(leads=150)
    assert index_names() == before


@pytest.mark.django_db
def test_every_assigned_mql_has_its_sla_clock_and_the_first_check_finds_nothing_new():
    from closedloop.handoff.models import LeadSla, SlaBreach
    from closedloop.handoff.sla import check_slas, timers_for

    load(leads=2000)
    ever_mql = Lead.objects.filter(mql_at__isnull=False, owner__isnull=False)
    assert ever_mql.count() > 50
    assert set(LeadSla.objects.values_list("lead_id", flat=True)) == set(
        ever_mql.values_list("pk", flat=True)
    )
    assert SlaBreach.objects.exists()  # two years of history missed some deadlines
    open_mql = Lead.objects.filter(lifecycle_stage__in=["mql", "sal"]).select_related("sla")
    assert all(timers_for(lead) for lead in open_mql)
    # The worker's first check at the demo's "now" escalates no breach from the history.
    assert check_slas(now=AS_OF)["breached"] == 0
