"""Query-count guards for the opportunity and account pages: the number of queries a page makes
must not grow with its rows (no N+1), and stays within a fixed budget."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from closedloop.crm.models import Activity, ActivityKind, OpportunityContact
from closedloop.engagement.models import Touchpoint, TouchpointType
from tests.factories import make_account, make_lead, make_opportunity

pytestmark = pytest.mark.django_db

# session + user + the contract in force (the pipeline), then per page:
# board: the open and the closed stage sums, the card ids of each stage (5), the cards, owner
# and team choices
BOARD_MAX_QUERIES = 13
# list: the page's ids, its rows, the totals, owner and team choices
LIST_MAX_QUERIES = 8
# deal: the deal, contacts, activities, stage history, close reason, owner choices
DETAIL_MAX_QUERIES = 9
# accounts: the page rows, the deal figures, owner choices
ACCOUNT_LIST_MAX_QUERIES = 7
# account: the account, lead ids, people, touches, activities, deal sums, open and closed deals,
# owner choices
ACCOUNT_MAX_QUERIES = 12

STAGES = ("discovery", "proposal", "negotiation", "won", "lost")


def count_queries(client, url: str) -> int:
    client.get(url)  # the first read of the contract in a fresh database stores the default
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def add_deals(owner, account, n: int) -> None:
    for i in range(n):
        stage = STAGES[i % len(STAGES)]
        closed = timezone.now() if stage in ("won", "lost") else None
        make_opportunity(
            account=account,
            owner=owner,
            stage=stage,
            amount=Decimal(100 + i),
            closed_at=closed,
            lost_reason="price" if stage == "lost" else "",
        )


@pytest.mark.parametrize(
    ("url", "budget"),
    [
        ("/pipeline/", BOARD_MAX_QUERIES),
        ("/opportunities/?status=all", LIST_MAX_QUERIES),
        ("/accounts/", ACCOUNT_LIST_MAX_QUERIES),
    ],
)
def test_the_board_and_lists_make_the_same_few_queries_for_5_or_60_deals(
    client_as, ada, max_manager, alice, url, budget, django_assert_max_num_queries
):
    for who in (ada, max_manager, alice):
        client = client_as(who)
        add_deals(alice, make_account(owner=alice), 5)
        few = count_queries(client, url)
        for _ in range(11):
            add_deals(alice, make_account(owner=alice), 5)
        with django_assert_max_num_queries(budget):
            client.get(url)
        assert count_queries(client, url) == few, who


def test_a_deals_page_makes_the_same_few_queries_however_many_contacts_and_activities(
    client_as, max_manager, alice, django_assert_max_num_queries
):
    client = client_as(max_manager)
    account = make_account(owner=alice)
    opp = make_opportunity(account=account, owner=alice)

    def add_contacts(n: int) -> None:
        for _ in range(n):
            lead = make_lead(owner=alice, account=account)
            OpportunityContact.objects.create(opportunity=opp, lead=lead)
            Activity.objects.create(lead=lead, rep=alice, kind=ActivityKind.CALL, at=timezone.now())

    add_contacts(2)
    few = count_queries(client, f"/opportunities/{opp.pk}/")
    add_contacts(30)
    with django_assert_max_num_queries(DETAIL_MAX_QUERIES):
        client.get(f"/opportunities/{opp.pk}/")
    assert count_queries(client, f"/opportunities/{opp.pk}/") == few


def test_an_account_page_makes_the_same_few_queries_however_big_the_account(
    client_as, max_manager, alice, django_assert_max_num_queries
):
    client = client_as(max_manager)
    account = make_account(owner=alice)

    def grow(n: int) -> None:
        add_deals(alice, account, n)
        for _ in range(n):
            lead = make_lead(owner=alice, account=account)
            Touchpoint.objects.create(
                lead=lead, type=TouchpointType.FORM, occurred_at=timezone.now()
            )
            Activity.objects.create(lead=lead, rep=alice, kind=ActivityKind.NOTE, at=timezone.now())

    grow(2)
    few = count_queries(client, f"/accounts/{account.pk}/")
    grow(40)
    with django_assert_max_num_queries(ACCOUNT_MAX_QUERIES):
        client.get(f"/accounts/{account.pk}/")
    assert count_queries(client, f"/accounts/{account.pk}/") == few
