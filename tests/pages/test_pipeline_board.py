"""The opportunity board: columns with figures, cards, filters, moves by htmx and by the plain
keyboard form, and who may move what."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from closedloop.core.models import Role
from closedloop.crm.models import Opportunity
from closedloop.crm.pipeline_board import BOARD_CARDS
from tests.factories import make_account, make_opportunity, make_user

pytestmark = pytest.mark.django_db


def column(response, code: str):
    return next(c for c in response.context["columns"] if c.stage.code == code)


def deal(owner, **extra) -> Opportunity:
    extra.setdefault("stage", "discovery")
    return make_opportunity(owner=owner, **extra)


def test_the_board_has_a_column_per_stage_with_count_amount_and_weighted_amount(client_as, alice):
    deal(alice, amount=Decimal("1000"), stage="proposal")
    deal(alice, amount=Decimal("3000"), stage="proposal")
    deal(alice, amount=Decimal("500"), stage="discovery")
    response = client_as(alice).get("/pipeline/")
    assert [c.stage.code for c in response.context["columns"]] == [
        "discovery",
        "proposal",
        "negotiation",
        "won",
        "lost",
    ]
    proposal = column(response, "proposal")
    assert (proposal.count, proposal.amount.get("USD")) == (2, Decimal("4000"))
    assert proposal.weighted.get("USD") == Decimal("4000") * proposal.stage.probability / 100
    html = response.content.decode()
    assert 'id="column-proposal"' in html and 'data-figure="count">2<' in html


def test_a_card_shows_the_deal_account_amount_close_date_owner_name_and_days_in_stage(
    client_as, alice
):
    alice.last_name = "Archer"
    alice.save()
    account = make_account("Acme Corp")
    opp = deal(
        alice,
        account=account,
        name="Acme renewal",
        amount=Decimal("12500"),
        close_date=timezone.localdate() + timedelta(days=10),
    )
    html = client_as(alice).get("/pipeline/").content.decode()
    card = html[html.index(f'id="opp-{opp.pk}"') :]
    card = card[: card.index("</li>")]
    assert "Acme renewal" in card and "Acme Corp" in card and "12,500" in card and "USD" in card
    assert "Alice Archer" in card and "alice@example.com" not in card
    assert "0 days in stage" in card
    assert opp.close_date.strftime("%-d %b %Y") in card


def test_a_rep_sees_their_teams_deals_and_not_another_teams(client_as, alice, bob, charlie):
    mine, teammates = deal(alice, name="Mine"), deal(bob, name="Bob's")
    deal(charlie, name="Western")
    response = client_as(alice).get("/pipeline/")
    shown = {card.deal for card in column(response, "discovery").cards}
    assert shown == {mine, teammates}


def test_only_the_owner_gets_move_controls_and_a_draggable_card(client_as, alice, bob):
    mine, teammates = deal(alice), deal(bob)
    html = client_as(alice).get("/pipeline/").content.decode()
    assert f'id="opp-{mine.pk}"' in html
    mine_card = html[html.index(f'id="opp-{mine.pk}"') :].split("</li>")[0]
    bobs_card = html[html.index(f'id="opp-{teammates.pk}"') :].split("</li>")[0]
    assert 'draggable="true"' in mine_card and 'data-move="next"' in mine_card
    assert 'data-move="previous"' not in mine_card  # discovery is the first stage
    assert "draggable" not in bobs_card and "card-move" not in bobs_card


def test_an_executive_reads_the_board_without_any_move_control(client_as, eve, alice):
    deal(alice)
    html = client_as(eve).get("/pipeline/").content.decode()
    assert "data-opportunity=" in html and "card-move" not in html


def test_a_column_shows_its_largest_deals_and_links_to_the_rest(client_as, alice):
    for amount in range(BOARD_CARDS + 3):
        deal(alice, amount=Decimal(amount))
    response = client_as(alice).get("/pipeline/")
    discovery = column(response, "discovery")
    assert len(discovery.cards) == BOARD_CARDS and discovery.more == 3
    assert discovery.cards[0].deal.amount == BOARD_CARDS + 2
    assert 'data-more="discovery"' in response.content.decode()


def test_closed_columns_show_recent_closes_only(client_as, alice):
    recent = deal(alice, stage="won", closed_at=timezone.now() - timedelta(days=3))
    deal(alice, stage="won", closed_at=timezone.now() - timedelta(days=400))
    won = column(client_as(alice).get("/pipeline/"), "won")
    assert [card.deal for card in won.cards] == [recent] and won.count == 1


def test_the_filters_narrow_every_column(client_as, ada, alice, bob, charlie):
    today = timezone.localdate()
    deal(alice, name="Acme expansion", close_date=today)
    deal(bob, name="Globex pilot", close_date=today + timedelta(days=400))
    deal(charlie, name="Initech", close_date=today)
    client = client_as(ada)

    def names(query: str) -> set[str]:
        response = client.get(f"/pipeline/?{query}")
        return {card.deal.name for c in response.context["columns"] for card in c.cards}

    assert names(f"owner={alice.pk}") == {"Acme expansion"}
    assert names(f"team={alice.team_id}") == {"Acme expansion", "Globex pilot"}
    assert names("period=this-year") == {"Acme expansion", "Initech"}
    assert names("q=globex") == {"Globex pilot"}
    response = client.get("/pipeline/?period=someday&owner=x")
    assert len(response.context["filters"].errors) == 2  # ignored and said, not a 500


def test_a_filter_change_by_htmx_returns_the_board_alone(client_as, alice):
    deal(alice)
    response = client_as(alice).get("/pipeline/?q=deal", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="board"') or 'id="board"' in html[:300]
    assert "<html" not in html


def post_move(client, opp, stage: str, *, htmx: bool = True, version=None, **extra):
    data = {
        "stage": stage,
        "version": opp.version if version is None else version,
        "from": "board",
        **extra,
    }
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(f"/opportunities/{opp.pk}/move/", data, **headers)


def test_a_drag_moves_the_deal_through_htmx_and_returns_the_refreshed_board(client_as, alice):
    opp = deal(alice, amount=Decimal("700"))
    response = post_move(client_as(alice), opp, "proposal", board="q=deal")
    assert response.status_code == 200
    opp.refresh_from_db()
    assert opp.stage == "proposal" and opp.version == 2
    assert [card.deal for card in column(response, "proposal").cards] == [opp]
    assert column(response, "discovery").count == 0
    assert response.context["filters"].q == "deal"  # the board keeps its filters
    assert "Moved “" in response.content.decode()


def test_the_keyboard_form_works_without_javascript_and_returns_to_the_board(client_as, alice):
    opp = deal(alice)
    response = post_move(client_as(alice), opp, "negotiation", htmx=False, next="/pipeline/?q=deal")
    assert response.status_code == 302 and response["Location"] == "/pipeline/?q=deal"
    opp.refresh_from_db()
    assert opp.stage == "negotiation"


def test_a_move_from_another_site_is_not_followed_back_there(client_as, alice):
    opp = deal(alice)
    response = post_move(client_as(alice), opp, "proposal", htmx=False, next="https://evil.test/")
    assert response["Location"] == f"/opportunities/{opp.pk}/"


def test_a_stale_move_is_a_409_with_the_board_as_it_is_now(client_as, alice):
    opp = deal(alice)
    response = post_move(client_as(alice), opp, "proposal", version=opp.version + 5)
    assert response.status_code == 409
    assert "Someone changed this deal first" in response.content.decode()
    opp.refresh_from_db()
    assert opp.stage == "discovery"


def test_an_unknown_stage_is_a_422_naming_the_field(client_as, alice):
    opp = deal(alice)
    response = post_move(client_as(alice), opp, "heaven")
    assert response.status_code == 422 and "expected one of" in response.content.decode()


def test_a_move_to_won_or_lost_opens_the_close_form_instead(client_as, alice):
    opp = deal(alice)
    client = client_as(alice)
    response = post_move(client, opp, "won")
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(f"/opportunities/{opp.pk}/close/?outcome=won")
    response = post_move(client, opp, "lost", htmx=False)
    assert response.status_code == 302 and "outcome=lost" in response["Location"]
    opp.refresh_from_db()
    assert opp.stage == "discovery"  # closing needs the form's reason and note


def test_a_teammate_may_not_move_a_deal_but_their_manager_may(client_as, alice, bob, max_manager):
    opp = deal(alice)
    assert post_move(client_as(bob), opp, "proposal").status_code == 403
    assert post_move(client_as(max_manager), opp, "proposal").status_code == 200


def test_a_deal_of_another_team_is_a_404_for_a_move(client_as, alice, charlie):
    opp = deal(charlie)
    assert post_move(client_as(alice), opp, "proposal").status_code == 404


def test_marketing_reads_every_deal_but_moves_none(client_as, mia, alice):
    opp = deal(alice)
    assert client_as(mia).get("/pipeline/").status_code == 200
    assert post_move(client_as(mia), opp, "proposal").status_code == 403


def test_a_manager_of_another_team_sees_no_move_controls_for_an_unowned_deal(client_as, west):
    manager = make_user("wes@example.com", role=Role.MANAGER, team=west)
    deal(None)
    html = client_as(manager).get("/pipeline/").content.decode()
    assert "card-move" not in html


def test_days_in_stage_count_from_the_move_into_the_stage(client_as, alice):
    opp = deal(alice, stage_entered_at=timezone.now() - timedelta(days=12))
    cards = column(client_as(alice).get("/pipeline/"), "discovery").cards
    assert [(c.deal, c.days_in_stage) for c in cards] == [(opp, 12)]
