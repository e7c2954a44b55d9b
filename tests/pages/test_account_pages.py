"""The account list and an account's page: people, deals open and closed with totals, recent
touches and activities, and the owner, changed through the crm service."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from closedloop.crm.models import Activity, ActivityKind
from closedloop.engagement.models import Touchpoint, TouchpointType
from tests.factories import make_account, make_lead, make_opportunity

pytestmark = pytest.mark.django_db


def test_an_account_page_shows_its_people_deals_touches_activities_and_owner(client_as, alice):
    account = make_account("Acme Corp", owner=alice)
    lead = make_lead(owner=alice, account=account, first_name="Dana", last_name="Buyer")
    Touchpoint.objects.create(lead=lead, type=TouchpointType.WEBINAR, occurred_at=timezone.now())
    Activity.objects.create(
        lead=lead, rep=alice, kind=ActivityKind.CALL, notes="left a voicemail", at=timezone.now()
    )
    make_opportunity(account=account, owner=alice, name="Open one", amount=Decimal("1000"))
    make_opportunity(
        account=account,
        owner=alice,
        name="Won one",
        stage="won",
        amount=Decimal("5000"),
        closed_at=timezone.now(),
    )
    response = client_as(alice).get(f"/accounts/{account.pk}/")
    html = response.content.decode()
    assert "Dana Buyer" in html and "Webinar" in html and "left a voicemail" in html
    assert "Open one" in html and "Won one" in html and "Alice" in html
    totals = response.context["deal_totals"]
    assert (totals["open_count"], totals["open_amount"].get("USD")) == (1, Decimal("1000"))
    assert (totals["won_count"], totals["won_amount"].get("USD")) == (1, Decimal("5000"))


def test_an_account_shows_only_the_people_and_deals_the_viewer_may_see(client_as, alice, charlie):
    account = make_account("Shared Co", owner=alice)
    make_lead(owner=alice, account=account, first_name="Mine")
    make_lead(owner=charlie, account=account, first_name="Western")
    make_opportunity(account=account, owner=charlie, name="Western deal")
    response = client_as(alice).get(f"/accounts/{account.pk}/")
    html = response.content.decode()
    assert "Mine" in html and "Western" not in html


def test_a_rep_sees_accounts_of_their_team_or_their_leads_and_404s_the_others(
    client_as, alice, charlie
):
    owned = make_account("Owned", owner=alice)
    via_lead = make_account("Via lead")
    make_lead(owner=alice, account=via_lead)
    western = make_account("Western", owner=charlie)
    client = client_as(alice)
    listed = [account for account, _ in client.get("/accounts/").context["rows"]]
    assert listed == [owned, via_lead]
    assert client.get(f"/accounts/{western.pk}/").status_code == 404


def test_the_account_list_searches_and_shows_deal_figures(client_as, ada, alice):
    acme = make_account("Acme Corp", domain="acme.test")
    make_account("Globex")
    make_opportunity(account=acme, owner=alice, amount=Decimal("300"))
    response = client_as(ada).get("/accounts/?q=acme")
    rows = response.context["rows"]
    assert [account for account, _ in rows] == [acme]
    assert rows[0][1]["open"] == 1 and rows[0][1]["open_amount"].get("USD") == Decimal("300")


def test_a_manager_gives_an_account_to_a_rep_of_their_team(client_as, max_manager, alice, bob):
    account = make_account("Acme", owner=alice)
    response = client_as(max_manager).post(
        f"/accounts/{account.pk}/owner/", {"owner": bob.pk, "version": account.version}
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.owner == bob and account.version == 2


def test_a_stale_owner_change_is_a_409(client_as, max_manager, alice, bob):
    account = make_account("Acme", owner=alice)
    response = client_as(max_manager).post(
        f"/accounts/{account.pk}/owner/", {"owner": bob.pk, "version": account.version + 1}
    )
    assert response.status_code == 409
    account.refresh_from_db()
    assert account.owner == alice


def test_a_manager_cannot_give_an_account_to_another_team(client_as, max_manager, alice, charlie):
    account = make_account("Acme", owner=alice)
    response = client_as(max_manager).post(
        f"/accounts/{account.pk}/owner/", {"owner": charlie.pk, "version": account.version}
    )
    assert response.status_code == 422 and "owner" in response.content.decode()
    account.refresh_from_db()
    assert account.owner == alice


def test_a_rep_cannot_change_an_accounts_owner(client_as, alice, bob):
    account = make_account("Acme", owner=alice)
    response = client_as(alice).post(
        f"/accounts/{account.pk}/owner/", {"owner": bob.pk, "version": account.version}
    )
    assert response.status_code == 403
    assert (
        'id="account-owner-form"'
        not in client_as(alice).get(f"/accounts/{account.pk}/").content.decode()
    )
