"""The home page numbers, checked against counts worked out by hand on a small fixture."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from closedloop.core.permissions import visible
from closedloop.crm import dashboard
from closedloop.crm.models import Lead, LeadSource, StageChange
from closedloop.crm.models import LifecycleStage as S
from closedloop.crm.services import change_stage
from tests.factories import make_lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def funnel(alice, charlie):
    """Six leads whose paths are known:

    one: lead → mql → sal (alice)      two: lead → mql → disqualified (alice)
    three: lead (charlie)              four: subscriber → lead (unassigned)
    five: subscriber (unassigned)      six: created as mql, never moved (unassigned)
    """
    one = make_lead(owner=alice, stage=S.LEAD)
    change_stage(one, to=S.MQL, reason="score 72")
    change_stage(one, to=S.SAL, by=alice, reason="accepted")
    two = make_lead(owner=alice, stage=S.LEAD)
    change_stage(two, to=S.MQL)
    change_stage(two, to=S.DISQUALIFIED, by=alice, reason="student")
    make_lead(owner=charlie, stage=S.LEAD)
    four = make_lead(stage=S.SUBSCRIBER)
    change_stage(four, to=S.LEAD)
    make_lead(stage=S.SUBSCRIBER)
    make_lead(stage=S.MQL)


def by_pair(conversions):
    return {(c.from_stage, c.to_stage): (c.reached, c.converted) for c in conversions}


def test_stage_counts_count_each_lead_at_its_current_stage(funnel):
    counts = dashboard.stage_counts(Lead.objects.all())
    assert counts == {
        "subscriber": 1,
        "lead": 2,
        "mql": 1,
        "sal": 1,
        "sql": 0,
        "opportunity": 0,
        "customer": 0,
        "recycled": 0,
        "disqualified": 1,
    }


def test_conversion_counts_leads_that_reached_a_stage_and_the_next(funnel):
    pairs = by_pair(dashboard.stage_conversion(Lead.objects.all()))
    assert pairs[(S.SUBSCRIBER, S.LEAD)] == (2, 1)  # four moved on, five did not
    assert pairs[(S.LEAD, S.MQL)] == (4, 2)  # one, two of one, two, three, four
    assert pairs[(S.MQL, S.SAL)] == (3, 1)  # one of one, two, six
    assert pairs[(S.SAL, S.SQL)] == (1, 0)
    assert pairs[(S.OPPORTUNITY, S.CUSTOMER)] == (0, 0)


def test_conversion_rate_is_a_share_and_none_without_leads():
    step = dashboard.Conversion(S.LEAD, S.MQL, reached=4, converted=1)
    assert step.rate == 0.25 and step.percent == 25.0
    assert dashboard.Conversion(S.SQL, S.OPPORTUNITY, reached=0, converted=0).rate is None


def test_a_rep_sees_numbers_of_their_team_only(funnel, alice):
    leads = visible(Lead.objects.all(), alice)
    counts = dashboard.stage_counts(leads)
    assert counts["sal"] == 1 and counts["disqualified"] == 1 and sum(counts.values()) == 2
    assert by_pair(dashboard.stage_conversion(leads))[(S.LEAD, S.MQL)] == (2, 2)


def test_a_manager_sees_the_team_and_the_unassigned_queue(funnel, max_manager):
    counts = dashboard.stage_counts(visible(Lead.objects.all(), max_manager))
    assert sum(counts.values()) == 5  # all but charlie's


def test_leads_per_week_buckets_by_monday_and_source(db):
    now = datetime(2026, 11, 19, 15, 0, tzinfo=UTC)  # a Thursday
    monday = datetime(2026, 11, 16, tzinfo=UTC)
    make_lead(source=LeadSource.WEBINAR, created_at=monday)  # first second of this week
    make_lead(source=LeadSource.WEBINAR, created_at=monday - timedelta(seconds=1))  # last week
    make_lead(source=LeadSource.EMAIL, created_at=monday - timedelta(weeks=3, hours=-2))
    make_lead(source=LeadSource.EMAIL, created_at=monday - timedelta(weeks=26))  # too old
    weekly = dashboard.leads_per_week(Lead.objects.all(), now=now)
    assert len(weekly.weeks) == 26 and weekly.weeks[-1] == monday
    assert weekly.weeks[0] == monday - timedelta(weeks=25)
    assert list(weekly.series) == ["email", "webinar"]
    assert weekly.series["webinar"][-1] == 1 and weekly.series["webinar"][-2] == 1
    assert weekly.series["email"][-4] == 1 and sum(weekly.series["email"]) == 1
    data = weekly.chart_data()
    assert data["labels"][-1] == "2026-11-16"
    assert [d["label"] for d in data["datasets"]] == ["Email", "Webinar"]


def test_the_snapshot_is_reused_within_its_lifetime_per_scope(funnel, settings):
    settings.DASHBOARD_CACHE_SECONDS = 60
    leads = Lead.objects.all()
    first = dashboard.snapshot(leads, scope="all")
    make_lead(stage=S.LEAD)
    assert dashboard.snapshot(leads, scope="all") == first  # cached: the new lead is not counted
    assert dashboard.snapshot(leads, scope="other").total == first.total + 1
    settings.DASHBOARD_CACHE_SECONDS = 0
    assert dashboard.snapshot(leads, scope="all").total == first.total + 1


def test_a_stale_snapshot_is_served_while_one_background_refresh_replaces_it(
    funnel, settings, monkeypatch
):
    settings.DASHBOARD_CACHE_SECONDS = 60
    leads = Lead.objects.all()
    first = dashboard.snapshot(leads, scope="all")
    make_lead(stage=S.LEAD)
    refreshes = []
    # Run the refresh inline: a thread would not see this test's uncommitted rows.
    monkeypatch.setattr(
        dashboard.threading,
        "Thread",
        lambda target, args, **kw: FakeThread(
            lambda: refreshes.append(dashboard.compute_snapshot(args[0]))
        ),
    )
    with time_machine.travel(first.as_of + timedelta(seconds=61)):
        assert dashboard.snapshot(leads, scope="all") == first  # stale, served at once
        assert dashboard.snapshot(leads, scope="all") == first  # a refresh is already running
    assert len(refreshes) == 1 and refreshes[0].total == first.total + 1


class FakeThread:
    def __init__(self, run):
        self.run = run

    def start(self):
        self.run()


def test_visibility_scope_differs_between_teams_and_roles(
    alice, bob, charlie, max_manager, mia, eve
):
    scope = dashboard.visibility_scope
    assert scope(alice) == scope(bob)  # same team, same leads
    assert len({scope(alice), scope(charlie), scope(max_manager), scope(mia)}) == 4
    assert scope(mia) == scope(eve) == "all"


def test_recent_stage_changes_are_newest_first_and_only_visible_ones(funnel, charlie):
    changes = dashboard.recent_stage_changes(StageChange.objects.all())
    assert [c.to_stage for c in changes[:2]] == [S.LEAD, S.DISQUALIFIED]
    theirs = visible(StageChange.objects.all(), charlie, via="lead")
    assert dashboard.recent_stage_changes(theirs) == []


def test_recent_stage_changes_look_further_back_when_the_newest_are_not_visible(alice, charlie):
    now = timezone.now()
    mine, theirs = make_lead(owner=alice), make_lead(owner=charlie)
    StageChange.objects.create(lead=mine, to_stage=S.MQL, at=now - timedelta(days=1))
    StageChange.objects.bulk_create(
        StageChange(lead=theirs, to_stage=S.MQL, at=now - timedelta(minutes=i)) for i in range(250)
    )
    changes = dashboard.recent_stage_changes(visible(StageChange.objects.all(), alice, via="lead"))
    assert [c.lead_id for c in changes] == [mine.pk]
