"""Routing: account owners first, then rules in order, weighted round-robin with capacity."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from closedloop.crm.models import Activity, ActivityKind, LifecycleStage
from closedloop.handoff.models import (
    Assignment,
    Dispute,
    DisputeStatus,
    LeadSla,
    RoutingMember,
    RoutingRule,
)
from closedloop.handoff.routing import assign_leads
from closedloop.handoff.services import claim_lead, decide_dispute, reassign_leads
from tests.factories import make_account, make_lead


def mql(**extra):
    return make_lead(stage=LifecycleStage.MQL, **extra)


def catch_all(team, **extra):
    return RoutingRule.objects.create(name=f"All to {team}", team=team, position=100, **extra)


def test_round_robin_deals_leads_evenly_in_a_team(alice, bob, east):
    catch_all(east)
    leads = [mql() for _ in range(7)]
    assert assign_leads() == 7
    owners = [lead.__class__.objects.get(pk=lead.pk).owner_id for lead in leads]
    assert sorted([owners.count(alice.pk), owners.count(bob.pk)]) == [3, 4]


def test_a_rep_who_is_away_gets_nothing(alice, bob, east):
    bob.is_away = True
    bob.save()
    catch_all(east)
    leads = [mql() for _ in range(4)]
    assign_leads()
    assert {type(lead).objects.get(pk=lead.pk).owner_id for lead in leads} == {alice.pk}


def test_a_rep_at_capacity_is_skipped_and_the_rest_wait_in_the_queue(alice, bob, east):
    catch_all(east)
    RoutingMember.objects.create(user=alice, capacity=1)
    RoutingMember.objects.create(user=bob, capacity=2)
    leads = [mql() for _ in range(5)]
    assert assign_leads() == 3
    owners = [type(lead).objects.get(pk=lead.pk).owner_id for lead in leads]
    assert owners.count(alice.pk) == 1 and owners.count(bob.pk) == 2 and owners.count(None) == 2


def test_weights_give_a_heavier_rep_a_larger_share(alice, bob, east):
    catch_all(east)
    RoutingMember.objects.create(user=alice, weight=3)
    RoutingMember.objects.create(user=bob, weight=1)
    leads = [mql() for _ in range(8)]
    assign_leads()
    owners = [type(lead).objects.get(pk=lead.pk).owner_id for lead in leads]
    assert owners.count(alice.pk) == 6 and owners.count(bob.pk) == 2


def test_a_lead_from_a_known_account_goes_to_the_account_owner(alice, bob, charlie, east):
    catch_all(east)
    make_account("Acme", domain="acme.example", owner=charlie)
    lead = mql(email="jo@ACME.example")
    assign_leads()
    lead.refresh_from_db()
    assert lead.owner == charlie
    assert Assignment.objects.get(lead=lead).rule == "account"


def test_territory_rules_are_evaluated_in_order(alice, charlie, east, west):
    RoutingRule.objects.create(
        name="Germany to West",
        position=1,
        team=west,
        conditions=[{"field": "country", "op": "in", "value": ["DE", "AT"]}],
    )
    RoutingRule.objects.create(
        name="Big to Alice",
        position=2,
        rep=alice,
        conditions=[{"field": "employees", "op": "gte", "value": 1000}],
    )
    german_big = mql(country="DE", employees=5000)
    us_big = mql(country="US", employees=5000)
    us_small = mql(country="US", employees=10)
    assign_leads()
    for lead in (german_big, us_big, us_small):
        lead.refresh_from_db()
    assert german_big.owner == charlie
    assert us_big.owner == alice
    assert us_small.owner is None  # no rule matched: the unassigned queue


def test_only_unassigned_mqls_are_routed(alice, bob, east):
    catch_all(east)
    owned = mql(owner=bob)
    not_mql = make_lead(stage=LifecycleStage.LEAD)
    assign_leads()
    owned.refresh_from_db()
    not_mql.refresh_from_db()
    assert owned.owner == bob and not_mql.owner is None


def test_assignment_starts_the_sla_clock(alice, east):
    catch_all(east)
    lead = mql()
    assign_leads()
    timer = LeadSla.objects.get(lead=lead)
    assert timer.first_touch_due > timer.started_at
    assert timer.attempts_required == 4


def test_a_lead_that_becomes_an_mql_is_routed_at_once(
    alice, east, django_capture_on_commit_callbacks
):
    from closedloop.crm.services import change_stage

    catch_all(east)
    lead = make_lead(stage=LifecycleStage.LEAD)
    with django_capture_on_commit_callbacks(execute=True):
        change_stage(lead, to=LifecycleStage.MQL, reason="rule")
    lead.refresh_from_db()
    assert lead.owner == alice


# -- ownership protection and disputes ----------------------------------------------------


def worked(lead, rep, days_ago=1):
    Activity.objects.create(
        lead=lead,
        rep=rep,
        kind=ActivityKind.CALL,
        at=timezone.now() - timezone.timedelta(days=days_ago),
    )


def test_a_rep_can_claim_a_lead_nobody_has_worked(alice, bob):
    lead = mql(owner=alice)
    assert claim_lead(lead, by=bob) == lead
    lead.refresh_from_db()
    assert lead.owner == bob


def test_claiming_a_recently_worked_lead_opens_a_dispute_instead(alice, bob):
    lead = mql(owner=alice)
    worked(lead, alice)
    dispute = claim_lead(lead, by=bob, reason="I met them at the fair")
    assert isinstance(dispute, Dispute) and dispute.status == DisputeStatus.OPEN
    lead.refresh_from_db()
    assert lead.owner == alice


def test_work_older_than_the_protection_window_does_not_protect(alice, bob):
    lead = mql(owner=alice)
    worked(lead, alice, days_ago=30)
    claim_lead(lead, by=bob)
    lead.refresh_from_db()
    assert lead.owner == bob


def test_the_manager_decides_a_dispute_and_the_log_says_why(alice, bob, max_manager):
    lead = mql(owner=alice)
    worked(lead, alice)
    dispute = claim_lead(lead, by=bob, reason="my referral")
    decide_dispute(dispute, by=max_manager, grant=True, note="Bob's referral")
    lead.refresh_from_db()
    assert lead.owner == bob
    log = Assignment.objects.filter(lead=lead).first()
    assert log.rule == "dispute" and "Bob's referral" in log.reason and log.by == max_manager


def test_a_rep_cannot_decide_a_dispute(alice, bob):
    lead = mql(owner=alice)
    worked(lead, alice)
    dispute = claim_lead(lead, by=bob, reason="mine")
    with pytest.raises(PermissionDenied):
        decide_dispute(dispute, by=alice, grant=False)


def test_a_manager_reassigns_in_bulk_with_a_reason(alice, bob, max_manager):
    leads = [mql(owner=alice) for _ in range(3)]
    ids = [lead.pk for lead in leads]
    assert reassign_leads(ids, to=bob, by=max_manager, reason="Alice on leave") == 3
    assert {type(lead).objects.get(pk=lead.pk).owner_id for lead in leads} == {bob.pk}


def test_reassigning_without_a_reason_is_refused(alice, bob, max_manager):
    lead = mql(owner=alice)
    with pytest.raises(ValidationError, match="reason"):
        reassign_leads([lead.pk], to=bob, by=max_manager, reason=" ")


def test_marketing_cannot_reassign(alice, bob, mia):
    lead = mql(owner=alice)
    with pytest.raises(PermissionDenied):
        reassign_leads([lead.pk], to=bob, by=mia, reason="please")


def test_a_manager_cannot_reassign_to_another_team(alice, charlie, max_manager):
    lead = mql(owner=alice)
    with pytest.raises(PermissionDenied):
        reassign_leads([lead.pk], to=charlie, by=max_manager, reason="help West")


def test_a_manager_cannot_take_leads_from_another_team(charlie, alice, max_manager):
    lead = mql(owner=charlie)
    with pytest.raises(PermissionDenied, match="another team"):
        reassign_leads([lead.pk], to=alice, by=max_manager, reason="mine now")
