"""Settings → Routing and Working calendars: admins change them in the app, audited."""

from datetime import date, time

import pytest

from closedloop.core.models import AuditEntry
from closedloop.handoff.models import RoutingMember, RoutingRule, TeamCalendar
from closedloop.handoff.sla import calendars_for_teams

pytestmark = pytest.mark.django_db


def test_an_admin_adds_a_routing_rule_written_as_lines(client, ada, east):
    client.force_login(ada)
    response = client.post(
        "/settings/routing/",
        {
            "name": "North America",
            "position": "1",
            "conditions": "country in US, CA\nemployees gte 1,000",
            "team": east.pk,
            "is_active": "1",
        },
    )
    assert response.status_code == 302
    rule = RoutingRule.objects.get(name="North America")
    assert rule.conditions == [
        {"field": "country", "op": "in", "value": ["US", "CA"]},
        {"field": "employees", "op": "gte", "value": 1000},
    ]
    page = client.get("/settings/routing/").content.decode()
    assert "country in US, CA" in page
    assert AuditEntry.objects.filter(model="handoff.routingrule").count() == 1


def test_a_bad_rule_names_the_line_and_what_is_wrong(client, ada, east, alice):
    client.force_login(ada)
    bad = client.post(
        "/settings/routing/",
        {"name": "X", "conditions": "country in US\nshoe_size gte 9", "team": east.pk},
    )
    assert bad.status_code == 422 and "line 2: &#x27;shoe_size&#x27; is not a lead field" in (
        bad.content.decode()
    )
    both = client.post("/settings/routing/", {"name": "X", "team": east.pk, "rep": alice.pk})
    assert both.status_code == 422 and "one of the two" in both.content.decode()
    assert not RoutingRule.objects.exists()


def test_a_reps_weight_capacity_and_away_flag_are_set_in_settings(client, ada, alice):
    client.force_login(ada)
    client.post(
        "/settings/routing/",
        {"member": alice.pk, "weight": "3", "capacity": "40", "period": "week", "is_away": "1"},
    )
    member = RoutingMember.objects.get(user=alice)
    alice.refresh_from_db()
    assert (member.weight, member.capacity, member.period, alice.is_away) == (3, 40, "week", True)
    refused = client.post(
        "/settings/routing/", {"member": alice.pk, "weight": "0", "period": "week"}
    )
    assert refused.status_code == 422 and "weight: between 1 and 10" in refused.content.decode()
    assert AuditEntry.objects.filter(model="handoff.routingmember").count() == 1


def test_a_teams_working_calendar_is_set_in_settings_and_the_sla_uses_it(client, ada, east):
    client.force_login(ada)
    client.post(
        "/settings/calendars/",
        {
            "team": east.pk,
            "work_start": "08:00",
            "work_end": "16:30",
            "workdays": ["0", "1", "2", "3"],
            "holidays": "2026-12-24 2026-12-31",
        },
    )
    calendar = TeamCalendar.objects.get(team=east)
    assert (calendar.work_start, calendar.work_end) == (time(8), time(16, 30))
    working = calendars_for_teams({east.pk})[east.pk]
    assert not working.is_working_day(date(2026, 12, 24)) and working.workdays == {0, 1, 2, 3}
    bad = client.post(
        "/settings/calendars/",
        {"team": east.pk, "work_start": "17:00", "work_end": "09:00", "workdays": ["0"]},
    )
    assert bad.status_code == 422 and "work_end: the working day must end after it starts" in (
        bad.content.decode()
    )
    assert AuditEntry.objects.filter(model="handoff.teamcalendar").count() >= 2


def test_routing_and_calendars_are_for_admins_only(client, max_manager):
    client.force_login(max_manager)
    assert client.get("/settings/routing/").status_code == 403
    assert client.get("/settings/calendars/").status_code == 403
