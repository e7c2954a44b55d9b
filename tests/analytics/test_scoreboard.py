"""The scoreboard: figures measured the same way for both teams, per scope, from snapshots."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.cache import cache
from django.test import Client

from closedloop.analytics import snapshots
from closedloop.analytics.models import ScoreboardSnapshot
from closedloop.analytics.scope import COMPANY, Scope
from closedloop.analytics.scoreboard import compute_scoreboard, drill_down
from closedloop.campaigns.models import Campaign
from closedloop.crm.models import OpportunityContact
from closedloop.engagement.models import Touchpoint
from closedloop.handoff.models import Acceptance, LeadSla
from tests.factories import make_lead, make_opportunity

T0 = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
PERIOD = snapshots.Period(T0, T0 + timedelta(days=28))


@pytest.fixture(autouse=True)
def _empty_cache():
    """Snapshots live in the cache too: each test starts cold."""
    cache.clear()
    yield
    cache.clear()


def day(n):
    return T0 + timedelta(days=n)


def deal(owner, *, amount, created, won=None, lost=None, campaign=None, contact=None):
    opp = make_opportunity(owner=owner, amount=amount, campaign=campaign)
    opp.created_at = created
    if won or lost:
        opp.stage, opp.closed_at = ("won", won) if won else ("lost", lost)
        opp.lost_reason = "price" if lost else ""
    opp.save()
    if contact is not None:
        OpportunityContact.objects.create(opportunity=opp, lead=contact)
    return opp


@pytest.fixture
def company(mia, alice, charlie):
    """East (alice): a webinar lead, MQL on day 1, accepted, touched in time; its deal of 10,000
    was created on day 3 and won on day 13. An outbound lead's deal of 4,000, lost on day 20.
    West (charlie): an MQL never accepted, its clock breached; a won deal of 6,000 (day 5-25).
    The webinar campaign cost 2,800 over the period (100 a day)."""
    webinar = Campaign.objects.create(
        name="Webinar",
        type="webinar",
        channel="web",
        starts_on=date(2026, 3, 2),
        ends_on=date(2026, 3, 29),
        cost=2800,
        owner=mia,
    )
    east = make_lead(owner=alice, created_at=day(0), source="webinar", original_campaign=webinar)
    east.mql_at = day(1)
    east.save()
    Touchpoint.objects.create(lead=east, type="webinar", campaign=webinar, occurred_at=day(0))
    Acceptance.objects.create(lead=east, rep=alice, at=day(2))
    LeadSla.objects.create(
        lead=east,
        started_at=day(1),
        first_touch_due=day(1) + timedelta(hours=4),
        attempts_due=day(5),
        attempts_required=3,
        first_touched_at=day(1) + timedelta(hours=1),
    )
    deal(alice, amount=10_000, created=day(3), won=day(13), campaign=webinar, contact=east)
    outbound = make_lead(owner=alice, created_at=day(0), source="outbound")
    deal(alice, amount=4_000, created=day(4), lost=day(20), contact=outbound)
    west = make_lead(owner=charlie, created_at=day(2), source="organic_search")
    west.mql_at = day(2)
    west.save()
    LeadSla.objects.create(
        lead=west,
        started_at=day(2),
        first_touch_due=day(2) + timedelta(hours=4),
        attempts_due=day(6),
        attempts_required=3,
    )
    deal(charlie, amount=6_000, created=day(5), won=day(25), contact=west)
    return webinar


def figures(scope=COMPANY):
    return compute_scoreboard(scope=scope, since=PERIOD.since, until=PERIOD.until)["figures"]


def test_the_company_figures_count_both_teams_the_same_way(company):
    f = figures()
    assert (f["pipeline"], f["sourced_pipeline"], f["influenced_pipeline"]) == (
        20_000,
        16_000,
        10_000,
    )
    assert (f["revenue"], f["sourced_revenue"], f["influenced_revenue"]) == (16_000, 16_000, 10_000)
    assert (f["mqls"], f["accepted"], f["acceptance_rate"]) == (2, 1, 0.5)
    assert (f["sla_clocks"], f["sla_hit"], f["sla_hit_rate"]) == (2, 1, 0.5)
    assert (f["won"], f["lost"], f["win_rate"]) == (2, 1, pytest.approx(2 / 3))
    assert f["cycle_days"] == 15  # median of 10 and 20 days
    assert f["cac"] == 1_400  # 2,800 of campaign cost / 2 won deals


def test_a_team_sees_only_its_own_records_and_no_company_cac(company, east):
    f = figures(Scope(team_id=east.pk))
    assert (f["pipeline"], f["revenue"], f["mqls"], f["won"]) == (14_000, 10_000, 1, 1)
    assert f["cac"] is None


def test_the_weekly_trend_splits_mqls_pipeline_and_revenue_by_week(company):
    weekly = compute_scoreboard(scope=COMPANY, since=PERIOD.since, until=PERIOD.until)["weekly"]
    assert weekly["weeks"] == ["2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23"]
    assert weekly["mqls"] == [2, 0, 0, 0]
    assert weekly["pipeline"] == [20_000, 0, 0, 0]
    assert weekly["revenue"] == [0, 10_000, 0, 6_000]


def test_each_figure_drills_down_to_the_records_behind_it(company):
    kind, records = drill_down(
        "sourced_pipeline", scope=COMPANY, since=PERIOD.since, until=PERIOD.until
    )
    assert kind == "opportunities" and sorted(r.amount for r in records) == [6_000, 10_000]
    kind, records = drill_down(
        "acceptance_rate", scope=COMPANY, since=PERIOD.since, until=PERIOD.until
    )
    assert kind == "leads" and [r.source for r in records] == ["webinar"]


def client_as(user):
    client = Client()
    client.force_login(user)
    return client


CUSTOM = {"period": "custom", "since": "2026-03-02", "until": "2026-03-29"}


def test_the_page_reads_a_stored_snapshot_even_after_the_cache_is_gone(company, eve):
    snapshots.store_snapshot(COMPANY, PERIOD)
    cache.clear()  # a cold start: a new process, an empty cache
    page = client_as(eve).get("/scoreboard/", CUSTOM)
    assert page.status_code == 200
    assert b'data-figure="sourced_pipeline"' in page.content and b"16.0 k" in page.content
    assert ScoreboardSnapshot.objects.count() == 1


def test_a_missing_snapshot_is_computed_by_a_task_not_the_request(company, eve, monkeypatch):
    queued = []
    monkeypatch.setattr(
        snapshots, "queue_snapshot", lambda scope, period: queued.append(scope) or False
    )
    page = client_as(eve).get("/scoreboard/", CUSTOM)
    assert b'id="scoreboard-computing"' in page.content and b'hx-trigger="every 3s"' in page.content
    assert queued == [COMPANY] and not ScoreboardSnapshot.objects.exists()


def test_a_rep_sees_their_teams_numbers_whatever_team_they_ask_for(company, alice, west):
    page = client_as(alice).get("/scoreboard/", {**CUSTOM, "team": west.pk})
    assert page.status_code == 200 and b"Team East" in page.content
    assert b"14,000" in page.content  # East's pipeline, not West's 6,000


def test_a_tile_drills_down_to_its_leads_and_exports_them(company, eve):
    page = client_as(eve).get("/scoreboard/mqls/", CUSTOM)
    assert page.status_code == 200 and page.content.count(b"data-lead=") == 2
    exported = client_as(eve).get("/scoreboard/mqls/", {**CUSTOM, "format": "csv"})
    assert exported.content.decode().splitlines()[0].startswith("id,name,email")
    assert client_as(eve).get("/scoreboard/nonsense/", CUSTOM).status_code == 404


def test_every_table_exports_as_csv(company, eve):
    client = client_as(eve)
    weekly = client.get("/scoreboard/", {**CUSTOM, "format": "csv", "table": "weekly"})
    assert weekly.content.decode().splitlines()[1] == "2026-03-02,2,20000.0,0.0"
    every = client.get("/scoreboard/", {**CUSTOM, "format": "csv", "table": "figures"})
    assert "win_rate," in every.content.decode()


def test_the_api_serves_every_figure(company, eve, alice, api_as):
    params = {"period": "custom", "since": "2026-03-02", "until": "2026-03-29"}
    body = api_as(eve).get("/analytics/scoreboard", params).json()
    assert body["status"] == "ready" and body["figures"]["revenue"] == 16_000
    mine = api_as(alice).get("/analytics/scoreboard", params).json()
    assert mine["figures"]["revenue"] == 10_000 and mine["scope"].startswith("team:")
    bad = api_as(eve).get("/analytics/scoreboard", {"period": "custom", "since": "2026-03-02"})
    assert bad.status_code == 422


def test_the_weekly_email_goes_to_both_teams_with_their_own_numbers(
    company, mailoutbox, mia, alice, charlie, time_machine
):
    from closedloop.analytics.tasks import send_weekly_scoreboard

    time_machine.move_to(day(14), tick=False)
    sent = send_weekly_scoreboard.call()
    assert sent == len(mailoutbox) == 3
    to = {m.to[0]: m for m in mailoutbox}
    assert "whole company" in to[mia.email].subject
    assert "Revenue won:                   10,000" in to[alice.email].body
    assert "Revenue won:                   0" in to[charlie.email].body


def test_the_worker_refreshes_every_scope_and_standard_period(company, east, west):
    assert snapshots.refresh_all() == 3 * 3
    assert ScoreboardSnapshot.objects.filter(scope=f"team:{east.pk}").count() == 3
