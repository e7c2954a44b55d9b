"""The opportunity list (totals, weighted pipeline, sorting, paging, CSV export) and a deal's
page (fields, edit with a version check, stage move, close won/lost, contacts, activities)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from closedloop.crm.models import Activity, ActivityKind, OpportunityContact
from tests.factories import make_account, make_lead, make_opportunity

pytestmark = pytest.mark.django_db


def deal(owner, **extra):
    extra.setdefault("stage", "discovery")
    return make_opportunity(owner=owner, **extra)


def test_the_list_totals_the_open_deals_and_their_weighted_pipeline(client_as, alice):
    deal(alice, amount=Decimal("1000"), stage="discovery")
    deal(alice, amount=Decimal("2000"), stage="proposal")
    deal(alice, amount=Decimal("9000"), stage="won", closed_at=timezone.now())
    response = client_as(alice).get("/opportunities/")
    totals = response.context["totals"]
    probability = {s.code: s.probability for s in response.context["stages"]}
    expected = (1000 * probability["discovery"] + 2000 * probability["proposal"]) / 100
    assert (totals.count, totals.amount.get("USD")) == (2, Decimal("3000"))
    assert totals.weighted.get("USD") == Decimal(expected).quantize(Decimal("0.01"))
    assert len(response.context["rows"]) == 2


def test_the_status_filter_shows_won_deals_with_their_totals(client_as, alice):
    deal(alice, amount=Decimal("1000"))
    deal(alice, amount=Decimal("9000"), stage="won", closed_at=timezone.now())
    totals = client_as(alice).get("/opportunities/?status=won").context["totals"]
    assert (totals.count, totals.amount.get("USD"), totals.weighted.get("USD")) == (1, 9000, 9000)


def test_the_list_sorts_by_amount_close_date_and_name(client_as, alice):
    today = timezone.localdate()
    deal(alice, name="B", amount=Decimal("5"), close_date=today + timedelta(days=2))
    deal(alice, name="A", amount=Decimal("9"), close_date=today + timedelta(days=9))
    deal(alice, name="C", amount=Decimal("1"))  # no close date: last either way
    client = client_as(alice)

    def names(sort: str) -> list[str]:
        rows = client.get(f"/opportunities/?sort={sort}").context["rows"]
        return [row[0].name for row in rows]

    assert names("close") == ["B", "A", "C"]
    assert names("-close") == ["A", "B", "C"]
    assert names("-amount") == ["A", "B", "C"]
    assert names("name") == ["A", "B", "C"]
    response = client.get("/opportunities/?sort=-amount")
    assert "sort=amount" in response.context["sort_links"]["amount"]  # the header flips it


def test_the_list_pages_by_fifty(client_as, alice):
    for n in range(53):
        deal(alice, name=f"Deal {n:02}")
    client = client_as(alice)
    first = client.get("/opportunities/?sort=name")
    assert len(first.context["rows"]) == 50 and first.context["page"].has_next
    second = client.get("/opportunities/?sort=name&page=2")
    assert [row[0].name for row in second.context["rows"]] == ["Deal 50", "Deal 51", "Deal 52"]
    assert second.context["totals"].count == 53


def test_the_list_shows_only_visible_deals_and_404s_the_others(client_as, alice, charlie):
    mine = deal(alice)
    theirs = deal(charlie)
    client = client_as(alice)
    assert [row[0] for row in client.get("/opportunities/").context["rows"]] == [mine]
    assert client.get(f"/opportunities/{theirs.pk}/").status_code == 404
    assert client.get("/opportunities/987654/").status_code == 404


def test_the_csv_export_holds_the_deals_as_filtered(client_as, alice):
    deal(alice, name="Acme open", amount=Decimal("10"))
    deal(alice, name="Globex open", amount=Decimal("20"))
    deal(alice, name="Acme won", stage="won", closed_at=timezone.now())
    client = client_as(alice)
    page = client.get("/opportunities/?q=acme").content.decode()
    assert "/exports/opportunities.csv?q=acme&amp;status=open" in page
    response = client.get("/exports/opportunities.csv?q=acme&status=open")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row[2] for row in rows[1:]] == ["Acme open"]


def test_a_deals_page_shows_its_fields_contacts_activities_and_account(client_as, alice):
    account = make_account("Acme Corp")
    opp = deal(alice, account=account, name="Acme renewal", amount=Decimal("4000"))
    lead = make_lead(owner=alice, account=account, first_name="Dana", last_name="Buyer")
    OpportunityContact.objects.create(opportunity=opp, lead=lead, role="decision_maker")
    Activity.objects.create(
        lead=lead, rep=alice, kind=ActivityKind.MEETING, notes="demo went well", at=timezone.now()
    )
    html = client_as(alice).get(f"/opportunities/{opp.pk}/").content.decode()
    assert "Acme renewal" in html and "4,000.00" in html
    assert f'href="/accounts/{account.pk}/"' in html
    assert "Dana Buyer" in html and "Decision maker" in html
    assert "demo went well" in html
    assert 'id="deal-edit"' in html and 'id="deal-move"' in html


def test_editing_a_deal_checks_its_version(client_as, alice):
    opp = deal(alice, name="Old name")
    client = client_as(alice)
    form = {"name": "New name", "amount": "1,250.50", "close_date": "2031-01-31"}
    response = client.post(f"/opportunities/{opp.pk}/edit/", {**form, "version": opp.version})
    assert response.status_code == 302
    opp.refresh_from_db()
    assert (opp.name, opp.amount, str(opp.close_date)) == (
        "New name",
        Decimal("1250.50"),
        "2031-01-31",
    )
    stale = client.post(f"/opportunities/{opp.pk}/edit/", {**form, "name": "Mine", "version": 1})
    assert stale.status_code == 409
    assert "Someone saved this deal first" in stale.content.decode()
    opp.refresh_from_db()
    assert opp.name == "New name"


def test_a_bad_amount_or_date_is_a_422_naming_the_field(client_as, alice):
    opp = deal(alice)
    response = client_as(alice).post(
        f"/opportunities/{opp.pk}/edit/",
        {"name": "X", "amount": "lots", "close_date": "soon", "version": opp.version},
    )
    html = response.content.decode()
    assert response.status_code == 422 and "amount:" in html and "close_date:" in html


def test_a_teammate_cannot_edit_a_deal(client_as, alice, bob):
    opp = deal(alice)
    response = client_as(bob).post(
        f"/opportunities/{opp.pk}/edit/", {"name": "x", "amount": "1", "version": opp.version}
    )
    assert response.status_code == 403
    assert 'id="deal-edit"' not in client_as(bob).get(f"/opportunities/{opp.pk}/").content.decode()


def test_the_deal_page_moves_the_stage_and_comes_back(client_as, alice):
    opp = deal(alice)
    response = client_as(alice).post(
        f"/opportunities/{opp.pk}/move/", {"stage": "negotiation", "version": opp.version}
    )
    assert response.status_code == 302 and response["Location"] == f"/opportunities/{opp.pk}/"
    opp.refresh_from_db()
    assert opp.stage == "negotiation"


def close(client, opp, **form):
    data = {"version": opp.version, **form}
    return client.post(f"/opportunities/{opp.pk}/close/", data)


def test_closing_needs_an_outcome_and_a_note(client_as, alice):
    opp = deal(alice)
    client = client_as(alice)
    assert client.get(f"/opportunities/{opp.pk}/close/?outcome=lost").status_code == 200
    response = close(client, opp, outcome="lost", reason="price", note="  ")
    assert response.status_code == 422 and "note" in response.content.decode()
    response = close(client, opp, reason="price", note="x")
    assert response.status_code == 422 and "outcome" in response.content.decode()
    opp.refresh_from_db()
    assert opp.stage == "discovery"


def test_a_lost_deal_needs_a_reason_from_the_list(client_as, alice):
    opp = deal(alice)
    response = close(client_as(alice), opp, outcome="lost", reason="", note="went quiet")
    assert response.status_code == 422 and "lost_reason" in response.content.decode()


def test_closing_as_lost_with_a_reason_and_note_closes_the_deal(client_as, alice):
    opp = deal(alice)
    response = close(
        client_as(alice),
        opp,
        outcome="lost",
        reason="price",
        note="cheaper rival",
        next="/pipeline/",
    )
    assert response.status_code == 302 and response["Location"] == "/pipeline/"
    opp.refresh_from_db()
    assert (opp.stage, opp.lost_reason) == ("lost", "price") and opp.closed_at


def test_a_won_deal_shows_on_the_lead_the_account_and_the_home_page(client_as, alice):
    account = make_account("Acme Corp", owner=alice)
    lead = make_lead(owner=alice, account=account)
    opp = deal(alice, account=account, name="Acme platform", amount=Decimal("48000"))
    OpportunityContact.objects.create(opportunity=opp, lead=lead)
    client = client_as(alice)
    response = close(client, opp, outcome="won", reason="value", note="best fit")
    assert response.status_code == 302
    lead_page = client.get(f"/leads/{lead.pk}/").content.decode()
    assert f'data-opportunity="{opp.pk}" data-stage="won"' in lead_page
    account_page = client.get(f"/accounts/{account.pk}/")
    assert account_page.context["deal_totals"]["won_amount"].get("USD") == Decimal("48000")
    home = client.get("/")
    assert home.context["deals"].won_amount.get("USD") == Decimal("48000")
    assert "Acme platform" in home.content.decode()


def test_a_closed_deal_shows_no_edit_or_move_form(client_as, alice):
    opp = deal(alice, stage="lost", lost_reason="price", closed_at=timezone.now())
    html = client_as(alice).get(f"/opportunities/{opp.pk}/").content.decode()
    assert 'id="deal-edit"' not in html and 'id="deal-move"' not in html


def test_a_won_deal_needs_a_won_reason_from_the_managed_list(client_as, alice):
    opp = deal(alice)
    response = close(client_as(alice), opp, outcome="won", reason="", note="signed")
    assert response.status_code == 422 and "won_reason" in response.content.decode()
    opp.refresh_from_db()
    assert opp.stage == "discovery"


def test_the_close_form_offers_the_reasons_of_the_outcome_chosen(client_as, alice):
    opp = deal(alice)
    client = client_as(alice)
    lost = client.get(f"/opportunities/{opp.pk}/close/?outcome=lost").content.decode()
    assert "Chose a competitor" in lost and "Relationship and trust" not in lost
    both = client.get(f"/opportunities/{opp.pk}/close/").content.decode()
    assert 'name="won_reason"' in both and 'name="lost_reason"' in both
    response = close(client, opp, outcome="lost", lost_reason="competitor", note="went elsewhere")
    assert response.status_code == 302
    opp.refresh_from_db()
    assert (opp.lost_reason, opp.close_note) == ("competitor", "went elsewhere")
    page = client.get(f"/opportunities/{opp.pk}/").content.decode()
    assert "Chose a competitor" in page and "went elsewhere" in page


def test_the_deal_page_shows_the_stage_history_with_who_moved_it(client_as, alice):
    opp = deal(alice)
    client = client_as(alice)
    client.post(f"/opportunities/{opp.pk}/move/", {"stage": "proposal", "version": opp.version})
    response = client.get(f"/opportunities/{opp.pk}/")
    moves = [(m.from_label, m.to_label) for m in response.context["history"]]
    assert moves[0] == ("Discovery", "Proposal")
    assert response.context["history"][0].by == alice


def test_editing_sets_the_next_step_and_the_currency(client_as, alice):
    opp = deal(alice)
    form = {"name": opp.name, "amount": "10", "next_step": "Send the proposal", "currency": "eur"}
    client_as(alice).post(f"/opportunities/{opp.pk}/edit/", {**form, "version": opp.version})
    opp.refresh_from_db()
    assert (opp.next_step, opp.currency) == ("Send the proposal", "EUR")
    bad = {**form, "currency": "XXQ", "version": opp.version}
    response = client_as(alice).post(f"/opportunities/{opp.pk}/edit/", bad)
    assert response.status_code == 422 and "currency" in response.content.decode()


def test_an_admin_reopens_a_closed_deal_with_a_reason_and_nobody_else_may(client_as, ada, alice):
    opp = deal(alice)
    close(client_as(alice), opp, outcome="lost", reason="price", note="too dear")
    opp.refresh_from_db()
    data = {"reason": "closed by mistake", "version": opp.version}
    assert client_as(alice).post(f"/opportunities/{opp.pk}/reopen/", data).status_code == 403
    assert 'id="deal-reopen"' in client_as(ada).get(f"/opportunities/{opp.pk}/").content.decode()
    response = client_as(ada).post(f"/opportunities/{opp.pk}/reopen/", data)
    assert response.status_code == 302
    opp.refresh_from_db()
    assert opp.stage == "discovery" and opp.closed_at is None


def test_amounts_in_different_currencies_are_never_added_together(client_as, alice):
    deal(alice, amount=Decimal("100"), currency="USD")
    deal(alice, amount=Decimal("50"), currency="EUR")
    response = client_as(alice).get("/opportunities/")
    totals = response.context["totals"]
    assert totals.amount.lines == [("USD", Decimal("100")), ("EUR", Decimal("50"))]
    assert '50 <abbr class="currency">EUR</abbr>' in response.content.decode()
