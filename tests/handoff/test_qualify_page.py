"""The lead page's Qualify form: the SQL rule's questions, the deal, and the refusals named."""

import pytest

from closedloop.crm.models import LifecycleStage, Opportunity
from closedloop.handoff.models import Qualification
from tests.factories import make_lead

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}

FORM = {
    "confirmed": ["budget", "authority", "need"],
    "evidence_budget": "€40k in Q3",
    "evidence_authority": "The VP signs",
    "evidence_need": "Leads fall through",
    "note": "Discovery call",
    "open_deal": "1",
    "deal_name": "Acme rollout",
    "deal_amount": "25000",
    "deal_currency": "eur",
    "deal_close_date": "2027-02-28",
    "deal_role": "champion",
}


@pytest.fixture
def sal(alice):
    return make_lead(owner=alice, stage=LifecycleStage.SAL, email="q@acme.example", company="Acme")


def test_an_accepted_leads_page_asks_the_sql_rules_questions(client, alice, sal):
    client.force_login(alice)
    page = client.get(f"/leads/{sal.pk}/").content.decode()
    assert 'id="qualify-form"' in page
    for name in ("budget", "authority", "need", "timeline"):
        assert f'name="evidence_{name}"' in page
    assert "confirm at least 3 of these 4" in page


def test_qualifying_from_the_page_opens_the_deal_and_moves_the_lead(client, alice, sal):
    client.force_login(alice)
    response = client.post(f"/leads/{sal.pk}/work/qualify/", FORM, **HTMX)
    assert response.status_code == 200, response.content.decode()
    assert "the opportunity is open" in response.content.decode()
    sal.refresh_from_db()
    assert sal.lifecycle_stage == LifecycleStage.OPPORTUNITY
    deal = Opportunity.objects.get()
    assert (deal.name, deal.currency, deal.roles.get().role) == ("Acme rollout", "EUR", "champion")
    assert Qualification.objects.get().note == "Discovery call"


def test_too_few_answers_keeps_the_form_filled_and_names_what_is_missing(client, alice, sal):
    client.force_login(alice)
    form = {**FORM, "confirmed": ["budget"]}
    response = client.post(f"/leads/{sal.pk}/work/qualify/", form, **HTMX)
    assert response.status_code == 422
    page = response.content.decode()
    assert "confirm 2 more of Authority, Need or Timeline" in page
    assert 'value="€40k in Q3"' in page and 'value="Acme rollout"' in page
    sal.refresh_from_db()
    assert sal.lifecycle_stage == LifecycleStage.SAL


def test_a_lead_qualified_without_a_deal_offers_to_open_one(client, alice, sal):
    client.force_login(alice)
    form = {k: v for k, v in FORM.items() if k != "open_deal"}
    assert client.post(f"/leads/{sal.pk}/work/qualify/", form).status_code == 302
    sal.refresh_from_db()
    assert sal.lifecycle_stage == LifecycleStage.SQL
    assert 'id="open-deal-form"' in client.get(f"/leads/{sal.pk}/").content.decode()
    opened = client.post(f"/leads/{sal.pk}/work/open-deal/", FORM, **HTMX)
    assert opened.status_code == 200
    sal.refresh_from_db()
    assert sal.lifecycle_stage == LifecycleStage.OPPORTUNITY


def test_a_teammate_may_not_qualify_and_another_team_gets_a_404(client, bob, charlie, sal):
    client.force_login(bob)
    assert 'id="qualify-form"' not in client.get(f"/leads/{sal.pk}/").content.decode()
    assert client.post(f"/leads/{sal.pk}/work/qualify/", FORM).status_code == 403
    client.force_login(charlie)
    assert client.post(f"/leads/{sal.pk}/work/qualify/", FORM).status_code == 404
    sal.refresh_from_db()
    assert sal.lifecycle_stage == LifecycleStage.SAL
