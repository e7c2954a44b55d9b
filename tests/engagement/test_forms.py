"""Public web-form capture: key, lead upsert by email, campaign, honeypot, rate limit, CORS."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.utils import timezone

from closedloop.campaigns.models import Campaign
from closedloop.crm.models import Lead
from closedloop.engagement.models import Form, Touchpoint
from closedloop.engagement.tracking import create_form, rotate_form_key
from tests.engagement.conftest import send
from tests.factories import make_lead

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_rate_limit_counters():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def campaign(db):
    return Campaign.objects.create(
        name="Spring Launch",
        type="email",
        channel="email",
        starts_on=timezone.now().date(),
        external_id="SF-701",
    )


@pytest.fixture
def demo_form(campaign):
    form, key = create_form(
        name="Demo request", campaign=campaign, allowed_origins="https://www.example.com"
    )
    return form, key


def test_a_form_post_creates_the_lead_and_records_a_form_touch(client, demo_form, campaign):
    form, key = demo_form
    fields = {
        "email": "Dana@Example.com",
        "first_name": "Dana",
        "last_name": "Scully",
        "company": "FBI",
        "team_size": "11-50",
    }

    response = client.post(f"/f/{key}", fields, headers={"Referer": "https://www.example.com/demo"})

    assert response.status_code == 200
    assert b"Thank you" in response.content
    lead = Lead.objects.get()
    assert (lead.email, lead.first_name, lead.company, lead.original_campaign) == (
        "dana@example.com",
        "Dana",
        "FBI",
        campaign,
    )
    touch = Touchpoint.objects.get()
    assert (touch.lead, touch.type, touch.campaign, touch.channel) == (
        lead,
        "form",
        campaign,
        "email",
    )
    assert touch.properties["fields"] == {"team_size": "11-50"}
    assert touch.properties["url"] == "https://www.example.com/demo"
    form.refresh_from_db()
    assert form.submissions == 1


def test_a_second_fill_updates_the_lead_found_by_email(client, demo_form):
    _, key = demo_form
    lead = make_lead(email="dana@example.com", first_name="Dana", title="")

    client.post(f"/f/{key}", {"email": "DANA@example.com", "title": "Agent"})

    assert Lead.objects.count() == 1
    lead.refresh_from_db()
    assert lead.title == "Agent"
    assert Touchpoint.objects.get().lead == lead


def test_a_hidden_campaign_field_overrides_the_forms_campaign(client, demo_form):
    _, key = demo_form
    other = Campaign.objects.create(
        name="Retargeting", type="paid_social", channel="social", starts_on=timezone.now().date()
    )

    client.post(f"/f/{key}", {"email": "a@example.com", "campaign": "retargeting"})

    assert Touchpoint.objects.get().campaign == other


def test_json_submissions_get_json_answers(client, demo_form):
    _, key = demo_form

    response = client.post(
        f"/f/{key}", json.dumps({"email": "j@example.com"}), content_type="application/json"
    )

    assert response.status_code == 200
    assert response.json() == {"success": True}


def test_a_missing_email_is_refused_naming_the_field(client, demo_form):
    _, key = demo_form

    response = client.post(
        f"/f/{key}", json.dumps({"first_name": "No"}), content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["field"] == "email"
    assert not Lead.objects.exists()


def test_a_bad_email_is_refused(client, demo_form):
    _, key = demo_form

    response = client.post(f"/f/{key}", {"email": "not-an-address"})

    assert response.status_code == 400
    assert b"email" in response.content


def test_a_nul_character_in_a_field_is_refused_by_name(client, demo_form):
    _, key = demo_form

    response = client.post(f"/f/{key}", {"email": "a@example.com", "company": "Acme\x00"})

    assert response.status_code == 400
    assert b"company" in response.content
    assert not Lead.objects.exists()


def test_a_wrong_or_rotated_form_key_is_404(client, demo_form):
    form, key = demo_form
    assert client.post("/f/fk_wrong", {"email": "a@example.com"}).status_code == 404

    rotate_form_key(form)

    assert client.post(f"/f/{key}", {"email": "a@example.com"}).status_code == 404
    assert not Lead.objects.exists()


def test_a_disabled_form_takes_no_submissions(client, demo_form):
    form, key = demo_form
    Form.objects.filter(pk=form.pk).update(is_active=False)

    assert client.post(f"/f/{key}", {"email": "a@example.com"}).status_code == 404


def test_a_filled_honeypot_looks_like_success_but_stores_nothing(client, demo_form):
    _, key = demo_form

    response = client.post(f"/f/{key}", {"email": "bot@example.com", "homepage": "http://spam"})

    assert response.status_code == 200
    assert not Lead.objects.exists()
    assert not Touchpoint.objects.exists()


def test_submissions_over_the_rate_limit_get_429_with_retry_after(client, demo_form, settings):
    settings.CLOSEDLOOP_FORM_RATE_LIMIT = "3/60"
    _, key = demo_form
    codes = [client.post(f"/f/{key}", {"email": f"p{n}@example.com"}).status_code for n in range(4)]

    assert codes == [200, 200, 200, 429]
    refused = client.post(f"/f/{key}", {"email": "late@example.com"})
    assert 1 <= int(refused["Retry-After"]) <= 61
    assert Lead.objects.count() == 3


def test_the_rate_limit_is_per_address(client, demo_form, settings):
    settings.CLOSEDLOOP_FORM_RATE_LIMIT = "1/60"
    _, key = demo_form

    first = client.post(f"/f/{key}", {"email": "a@example.com"}, REMOTE_ADDR="10.0.0.1")
    second = client.post(f"/f/{key}", {"email": "b@example.com"}, REMOTE_ADDR="10.0.0.2")

    assert (first.status_code, second.status_code) == (200, 200)


def test_an_allowed_origin_gets_cors_headers_and_others_are_refused(client, demo_form):
    _, key = demo_form

    preflight = client.options(f"/f/{key}", headers={"Origin": "https://www.example.com"})
    allowed = client.post(
        f"/f/{key}", {"email": "a@example.com"}, headers={"Origin": "https://www.example.com"}
    )
    foreign = client.post(
        f"/f/{key}", {"email": "b@example.com"}, headers={"Origin": "https://evil.example"}
    )

    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == "https://www.example.com"
    assert allowed["Access-Control-Allow-Origin"] == "https://www.example.com"
    assert foreign.status_code == 403
    assert list(Lead.objects.values_list("email", flat=True)) == ["a@example.com"]


def test_a_form_fill_joins_the_visitors_earlier_page_views(client, demo_form, write_key):
    _, key = demo_form
    page = {"anonymousId": "browser-7", "name": "Pricing", "messageId": "p1"}
    send(client, "/v1/page", page, key=write_key)

    client.post(f"/f/{key}", {"email": "v@example.com", "anonymous_id": "browser-7"})

    lead = Lead.objects.get()
    assert set(Touchpoint.objects.filter(lead=lead).values_list("type", flat=True)) == {
        "page_view",
        "form",
    }
    # Later page views of that browser go straight to the lead.
    send(client, "/v1/page", {**page, "messageId": "p2"}, key=write_key)
    assert Touchpoint.objects.filter(lead=lead).count() == 3


def test_a_form_with_a_thank_you_page_redirects_there(client, db):
    _, key = create_form(name="Newsletter", redirect_url="https://www.example.com/thanks")

    response = client.post(f"/f/{key}", {"email": "n@example.com"})

    assert response.status_code == 302
    assert response["Location"] == "https://www.example.com/thanks"
