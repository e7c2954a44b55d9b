"""The leads list's drill-down filters (from the funnel) find exactly the leads counted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from closedloop.campaigns.models import Campaign
from closedloop.crm.filters import filter_leads
from closedloop.crm.models import Lead
from tests.factories import make_lead

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def found(**params) -> set[str]:
    leads, cleaned = filter_leads(Lead.objects.all(), {k: str(v) for k, v in params.items()})
    assert cleaned.errors == []
    return {lead.email for lead in leads}


def test_reached_counts_a_lead_with_the_stage_or_a_later_one():
    make_lead(email="mql@x.io", mql_at=T0)
    make_lead(email="sql@x.io", sql_at=T0)  # skipped MQL: has passed it
    make_lead(email="none@x.io")
    assert found(reached="mql") == {"mql@x.io", "sql@x.io"}
    assert found(reached="sal") == {"sql@x.io"}


def test_created_from_and_to_are_whole_utc_days():
    make_lead(email="a@x.io", created_at=datetime(2026, 3, 1, 0, 0, tzinfo=UTC))
    make_lead(email="b@x.io", created_at=datetime(2026, 3, 31, 23, 59, tzinfo=UTC))
    make_lead(email="c@x.io", created_at=datetime(2026, 4, 1, 0, 0, tzinfo=UTC))
    assert found(created_from="2026-03-01", created_to="2026-03-31") == {"a@x.io", "b@x.io"}


def test_none_finds_the_leads_without_a_value(alice, ada):
    campaign = Campaign.objects.create(
        name="Spring", type="webinar", channel="web", starts_on=T0.date()
    )
    make_lead(email="camp@x.io", original_campaign=campaign, industry="Software", owner=alice)
    make_lead(email="bare@x.io", industry="", owner=ada)
    make_lead(email="nobody@x.io", industry="")
    assert found(campaign="none") == {"bare@x.io", "nobody@x.io"}
    assert found(channel="web") == {"camp@x.io"} and found(channel="none") == found(campaign="none")
    assert found(industry="none") == {"bare@x.io", "nobody@x.io"}
    assert found(team=alice.team_id) == {"camp@x.io"}
    assert found(team="none") == {"bare@x.io", "nobody@x.io"}


def test_size_bands_are_inclusive_and_none_is_unknown():
    make_lead(email="s@x.io", employees=200)
    make_lead(email="m@x.io", employees=201)
    make_lead(email="u@x.io", employees=None)
    assert found(size="51-200") == {"s@x.io"}
    assert found(size="201-1000") == {"m@x.io"}
    assert found(size="none") == {"u@x.io"}


def test_bad_drill_down_values_are_ignored_and_named():
    _, cleaned = filter_leads(
        Lead.objects.all(),
        {"reached": "recycled", "created_from": "March", "size": "huge", "team": "x"},
    )
    assert len(cleaned.errors) == 4 and not cleaned.is_filtered


def test_the_canonical_query_keeps_the_drill_down_filters():
    _, cleaned = filter_leads(
        Lead.objects.all(), {"reached": "sql", "created_from": "2026-03-01", "country": "none"}
    )
    assert cleaned.as_query() == "reached=sql&created_from=2026-03-01&country=none"
