"""Filtering, searching, sorting and paging the leads list (filter_leads and the page)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.http import QueryDict
from django.utils import timezone

from closedloop.campaigns.models import Campaign
from closedloop.crm.filters import filter_leads, page_of
from closedloop.crm.models import Lead, LeadSource
from closedloop.crm.models import LifecycleStage as S
from tests.factories import make_lead

pytestmark = pytest.mark.django_db


def run(query: str):
    leads, cleaned = filter_leads(Lead.objects.all(), QueryDict(query))
    return list(leads), cleaned


@pytest.fixture
def campaign(db):
    return Campaign.objects.create(
        name="Q3 webinar", type="webinar", channel="web", starts_on=timezone.now().date()
    )


def test_each_filter_narrows_the_list(alice, bob, campaign):
    mql = make_lead(stage=S.MQL, owner=alice, source=LeadSource.WEBINAR, score=80)
    sal = make_lead(
        stage=S.SAL, owner=bob, source=LeadSource.EMAIL, score=30, original_campaign=campaign
    )
    unassigned = make_lead(stage=S.LEAD, score=24)
    assert run("stage=mql")[0] == [mql]
    assert run(f"owner={bob.pk}")[0] == [sal]
    assert run("owner=none")[0] == [unassigned]
    assert run("source=email")[0] == [sal]
    assert run(f"campaign={campaign.pk}")[0] == [sal]
    assert run("score=75-100")[0] == [mql]
    assert run("score=0-24")[0] == [unassigned]
    assert run("score=25-49&stage=sal")[0] == [sal]
    assert run("stage=sal&owner=none")[0] == []


def test_search_matches_name_email_and_company_and_needs_every_word(db):
    ada = make_lead(
        first_name="Ada", last_name="Lovelace", email="ada@engines.example", company="Analytical"
    )
    grace = make_lead(
        first_name="Grace", last_name="Hopper", email="grace@navy.example", company="Navy"
    )
    assert run("q=lovelace")[0] == [ada]
    assert run("q=NAVY.example")[0] == [grace]
    assert run("q=analyt")[0] == [ada]
    assert run("q=ada+navy")[0] == []
    assert run("q=  grace   hopper ")[1].q == "grace hopper"


def test_sorts_order_the_list(db):
    now = timezone.now()
    old = make_lead(last_name="Zed", score=50, created_at=now - timedelta(days=5))
    new = make_lead(last_name="Abe", score=10, created_at=now)
    mid = make_lead(last_name="Kay", score=90, created_at=now - timedelta(days=1))
    assert run("")[0] == [new, mid, old]
    assert run("sort=oldest")[0] == [old, mid, new]
    assert run("sort=score")[0] == [mid, old, new]
    assert run("sort=name")[0] == [new, mid, old]
    Lead.objects.filter(pk=old.pk).update(updated_at=now + timedelta(hours=1))
    assert run("sort=updated")[0][0] == old


@pytest.mark.parametrize(
    "query, field",
    [
        ("stage=hot", "stage"),
        ("owner=bob", "owner"),
        ("owner=-1", "owner"),
        ("source=tv", "source"),
        ("campaign=1.5", "campaign"),
        ("score=10-20", "score"),
        ("sort=random", "sort"),
        ("owner=99999999999999999999999", "owner"),
        ("campaign=²", "campaign"),
    ],
)
def test_a_bad_parameter_is_ignored_with_a_message_naming_it(query, field):
    leads, cleaned = run(query)
    assert len(cleaned.errors) == 1 and cleaned.errors[0].startswith(f"Ignored {field}")
    assert not cleaned.is_filtered


def test_the_page_shows_a_bad_parameter_message_instead_of_failing(client_as, ada):
    make_lead(stage=S.MQL)
    response = client_as(ada).get("/leads/?stage=%3Cb%3Ehot&page=abc&score=lots")
    assert response.status_code == 200
    html = response.content.decode()
    assert (
        "Ignored stage “&lt;b&gt;hot”" in html
        and "Ignored page" in html
        and "Ignored score" in html
    )
    assert len(response.context["page"].rows) == 1


def test_canonical_query_keeps_accepted_values_only(db):
    _, cleaned = run("stage=mql&owner=none&sort=score&source=tv&q=a+b")
    assert cleaned.as_query() == "stage=mql&owner=none&q=a+b&sort=score"
    assert cleaned.as_query(page="2").endswith("&page=2")


def test_pages_hold_fifty_leads_and_know_if_another_page_follows(client_as, ada):
    now = timezone.now()
    Lead.objects.bulk_create(
        Lead(first_name=f"P{i}", created_at=now - timedelta(minutes=i)) for i in range(120)
    )
    first = client_as(ada).get("/leads/").context["page"]
    assert len(first.rows) == 50 and first.has_next and not first.has_previous
    third = client_as(ada).get("/leads/?page=3").context["page"]
    assert [lead.first_name for lead in third.rows] == [f"P{i}" for i in range(100, 120)]
    assert not third.has_next and third.start_index == 101 and third.end_index == 120
    html = client_as(ada).get("/leads/?page=2&stage=").content.decode()
    assert 'href="?page=3"' in html and 'href="?page=1"' in html


def test_a_page_past_the_end_is_empty_not_an_error(db):
    make_lead()
    page, error = page_of(Lead.objects.all(), "7")
    assert page.rows == [] and not page.has_next and error == ""
    assert page_of(Lead.objects.all(), "0")[1].startswith("Ignored page")


def test_filter_changes_through_htmx_return_only_the_results(client_as, ada):
    make_lead(stage=S.MQL, first_name="Hilda")
    response = client_as(ada).get("/leads/?stage=mql", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="lead-results">') and "Hilda" in html
    assert "<html" not in html


def test_a_rep_filtering_by_another_teams_owner_gets_nothing(client_as, alice, charlie):
    make_lead(owner=charlie)
    assert client_as(alice).get(f"/leads/?owner={charlie.pk}").context["page"].rows == []
