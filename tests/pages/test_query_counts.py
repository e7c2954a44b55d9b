"""Query-count guards: the number of queries a page makes must not grow with its rows (no N+1)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from closedloop.campaigns.models import Campaign
from closedloop.content.models import AssetKind, ContentAsset
from closedloop.crm.models import Activity, ActivityKind, OpportunityContact
from closedloop.crm.services import change_stage
from closedloop.engagement.models import Touchpoint, TouchpointType
from tests.factories import make_account, make_lead, make_opportunity

pytestmark = pytest.mark.django_db

# session + user, then: page rows, owner choices, campaign choices (lead list); lead, stage
# history, touchpoints, activities, opportunities, and the work panel's tasks and latest
# activities, the content recommended for it, the links shared with the lead and the assets
# one may share (lead detail). A little headroom, no more.
LIST_MAX_QUERIES = 6
DETAIL_MAX_QUERIES = 13


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_leads_list_makes_the_same_few_queries_for_5_or_50_leads(
    client_as, ada, alice, django_assert_max_num_queries
):
    client = client_as(ada)
    for _ in range(5):
        make_lead(owner=alice, account=make_account())
    few = count_queries(client, "/leads/?sort=score")
    for _ in range(45):
        make_lead(owner=alice, account=make_account())
    with django_assert_max_num_queries(LIST_MAX_QUERIES):
        response = client.get("/leads/?sort=score")
    assert len(response.context["page"].rows) == 50
    assert count_queries(client, "/leads/?sort=score") == few


def add_history(lead, rep, campaign, asset, n: int) -> None:
    now = timezone.now()
    for i in range(n):
        Touchpoint.objects.create(
            lead=lead,
            type=TouchpointType.CONTENT_VIEW,
            campaign=campaign,
            content=asset,
            occurred_at=now - timedelta(hours=i),
        )
        Activity.objects.create(
            lead=lead, rep=rep, kind=ActivityKind.CALL, at=now - timedelta(hours=i)
        )
        deal = make_opportunity(account=make_account(), owner=rep)
        OpportunityContact.objects.create(opportunity=deal, lead=lead)
    change_stage(lead, to="mql" if lead.lifecycle_stage != "mql" else "sal", by=rep)


def test_the_lead_detail_makes_the_same_few_queries_however_long_its_history(
    client_as, ada, alice, django_assert_max_num_queries
):
    client = client_as(ada)
    campaign = Campaign.objects.create(
        name="C", type="email", channel="email", starts_on=timezone.now().date()
    )
    asset = ContentAsset.objects.create(title="Pricing guide", kind=AssetKind.values[0])
    lead = make_lead(owner=alice, account=make_account())
    add_history(lead, alice, campaign, asset, 2)
    few = count_queries(client, f"/leads/{lead.pk}/")
    add_history(lead, alice, campaign, asset, 40)
    with django_assert_max_num_queries(DETAIL_MAX_QUERIES):
        response = client.get(f"/leads/{lead.pk}/")
    assert len(response.context["timeline"]) == 100  # bounded: 126 items exist
    assert count_queries(client, f"/leads/{lead.pk}/") == few
