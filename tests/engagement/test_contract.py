"""Contract tests: the example payloads of Segment's HTTP API reference and spec pages, sent
exactly as published, and the rows they leave behind."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from closedloop.crm.models import Account, Lead
from closedloop.engagement.models import Identity, Touchpoint
from tests.engagement.conftest import send

pytestmark = pytest.mark.django_db

UA_CHROME_40 = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_5) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/40.0.2214.115 Safari/537.36"
)
UA_CHROME_46 = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_0) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/46.0.2490.86 Safari/537.36"
)

# segment.com/docs/connections/sources/catalog/libraries/server/http-api/
HTTP_IDENTIFY = {
    "userId": "019mr8mf4r",
    "traits": {"email": "pgibbons@example.com", "name": "Peter Gibbons", "industry": "Technology"},
    "context": {"ip": "24.5.68.47"},
    "timestamp": "2012-12-02T00:30:08.276Z",
    "writeKey": "YOUR_WRITE_KEY",
}
HTTP_TRACK = {
    "userId": "019mr8mf4r",
    "event": "Item Purchased",
    "properties": {"name": "Leap to Conclusions Mat", "revenue": 14.99},
    "context": {"ip": "24.5.68.47"},
    "timestamp": "2012-12-02T00:30:12.984Z",
    "writeKey": "YOUR_WRITE_KEY",
}
HTTP_PAGE = {
    "userId": "019mr8mf4r",
    "name": "Tracking HTTP API",
    "timestamp": "2012-12-02T00:31:29.738Z",
    "writeKey": "YOUR_WRITE_KEY",
}
HTTP_GROUP = {
    "userId": "019mr8mf4r",
    "groupId": "8e9df332ac",
    "traits": {"name": "Initech", "industry": "Technology", "employees": 420},
    "timestamp": "2012-12-02T00:31:38.208Z",
    "writeKey": "YOUR_WRITE_KEY",
}
HTTP_BATCH = {
    "batch": [
        {
            "type": "identify",
            "userId": "019mr8mf4r",
            "traits": {"email": "jake@yahoo.com", "name": "Jake Peterson", "age": 26},
            "timestamp": "2012-12-02T00:30:08.276Z",
        },
        {
            "type": "track",
            "userId": "019mr8mf4r",
            "event": "Song Played",
            "properties": {"name": "Fallin for You", "artist": "Dierks Bentley"},
            "timestamp": "2012-12-02T00:30:12.984Z",
        },
        {
            "type": "identify",
            "userId": "971mj8mk7p",
            "traits": {"email": "cindy@example.com", "name": "Cindy Gonzalez", "age": 23},
            "timestamp": "2015-2-02T00:30:08.276Z",
        },
        {
            "type": "track",
            "userId": "971mj8mk7p",
            "event": "Song Played",
            "properties": {"name": "Get Right", "artist": "Jennifer Lopez"},
            "timestamp": "2015-2-02T00:30:12.984Z",
        },
    ],
    "writeKey": "YOUR_WRITE_KEY",
    "context": {"device": {"type": "phone", "name": "Apple iPhone 6"}},
}

# segment.com/docs/connections/spec/{identify,track,page,group}/ "complete example"s
SPEC_IDENTIFY = {
    "anonymousId": "507f191e810c19729de860ea",
    "channel": "browser",
    "context": {
        "ip": "8.8.8.8",
        "userAgent": UA_CHROME_40,
    },
    "integrations": {"All": False, "Mixpanel": True, "Salesforce": True},
    "messageId": "022bb90c-bbac-11e4-8dfc-aa07a5b093db",
    "receivedAt": "2015-02-23T22:28:55.387Z",
    "sentAt": "2015-02-23T22:28:55.111Z",
    "timestamp": "2015-02-23T22:28:55.111Z",
    "traits": {
        "name": "Peter Gibbons",
        "email": "peter@example.com",
        "plan": "premium",
        "logins": 5,
        "address": {
            "street": "6th St",
            "city": "San Francisco",
            "state": "CA",
            "postalCode": "94103",
            "country": "USA",
        },
    },
    "type": "identify",
    "userId": "97980cfea0067",
    "version": "1.1",
}
SPEC_TRACK = {
    "anonymousId": "23adfd82-aa0f-45a7-a756-24f2a7a4c895",
    "context": {
        "library": {"name": "analytics.js", "version": "2.11.1"},
        "page": {
            "path": "/academy/",
            "referrer": "",
            "search": "",
            "title": "Analytics Academy",
            "url": "https://segment.com/academy/",
        },
        "userAgent": UA_CHROME_46,
        "ip": "108.0.78.21",
    },
    "event": "Course Clicked",
    "integrations": {},
    "messageId": "ajs-f8ca1e4de5024d9430b3928bd8ac6b96",
    "properties": {"title": "Intro to Analytics"},
    "receivedAt": "2015-12-12T19:11:01.266Z",
    "sentAt": "2015-12-12T19:11:01.169Z",
    "timestamp": "2015-12-12T19:11:01.249Z",
    "type": "track",
    "userId": "AiUGstSDIg",
    "originalTimestamp": "2015-12-12T19:11:01.152Z",
}
SPEC_PAGE = {
    "anonymousId": "507f191e810c19729de860ea",
    "channel": "browser",
    "context": {
        "ip": "8.8.8.8",
        "userAgent": UA_CHROME_40,
    },
    "integrations": {"All": True, "Mixpanel": False, "Salesforce": False},
    "messageId": "022bb90c-bbac-11e4-8dfc-aa07a5b093db",
    "name": "Home",
    "properties": {"title": "Welcome | Initech", "url": "http://www.example.com"},
    "receivedAt": "2015-02-23T22:28:55.387Z",
    "sentAt": "2015-02-23T22:28:55.111Z",
    "timestamp": "2015-02-23T22:28:55.111Z",
    "type": "page",
    "userId": "97980cfea0067",
    "version": "1.1",
}
SPEC_GROUP = {
    "anonymousId": "507f191e810c19729de860ea",
    "channel": "browser",
    "context": {
        "ip": "8.8.8.8",
        "userAgent": UA_CHROME_40,
    },
    "integrations": {"All": True, "Mixpanel": False, "Salesforce": False},
    "messageId": "022bb90c-bbac-11e4-8dfc-aa07a5b093db",
    "receivedAt": "2015-02-23T22:28:55.387Z",
    "sentAt": "2015-02-23T22:28:55.111Z",
    "timestamp": "2015-02-23T22:28:55.111Z",
    "traits": {
        "name": "Initech",
        "industry": "Technology",
        "employees": 329,
        "plan": "enterprise",
        "total billed": 830,
    },
    "type": "group",
    "userId": "97980cfea0067",
    "groupId": "0e8c78ea9d97a7b8185e8632",
    "version": "1.1",
}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def test_the_http_api_identify_example_creates_the_lead_with_its_traits(client, write_key):
    response = send(client, "/v1/identify", HTTP_IDENTIFY, key=write_key)

    assert response.status_code == 200
    assert response.json() == {"success": True}
    lead = Lead.objects.get()
    assert (lead.email, lead.first_name, lead.last_name, lead.industry) == (
        "pgibbons@example.com",
        "Peter",
        "Gibbons",
        "Technology",
    )
    assert lead.created_at == at("2012-12-02T00:30:08.276Z")
    assert Identity.objects.get(kind="user", value="019mr8mf4r").lead == lead
    # Created through crm's create_lead like every door: its entry is in the stage history.
    entry = lead.stage_changes.get()
    assert (entry.from_stage, entry.to_stage, entry.at) == ("", "lead", lead.created_at)


def test_the_http_api_track_page_and_group_examples_attach_to_the_identified_lead(
    client, write_key
):
    for path, body in (
        ("/v1/identify", HTTP_IDENTIFY),
        ("/v1/track", HTTP_TRACK),
        ("/v1/page", HTTP_PAGE),
        ("/v1/group", HTTP_GROUP),
    ):
        assert send(client, path, body, key=write_key).status_code == 200

    lead = Lead.objects.get()
    track, page = Touchpoint.objects.order_by("occurred_at")
    assert (track.lead, track.type, track.occurred_at) == (
        lead,
        "other",
        at("2012-12-02T00:30:12.984Z"),
    )
    assert track.properties["event"] == "Item Purchased"
    assert track.properties["revenue"] == 14.99
    assert (page.lead, page.type) == (lead, "page_view")
    assert page.properties["name"] == "Tracking HTTP API"
    assert page.occurred_at == at("2012-12-02T00:31:29.738Z")
    account = Account.objects.get()
    assert (account.name, account.industry, account.employees) == ("Initech", "Technology", 420)
    lead.refresh_from_db()
    assert lead.account == account


def test_the_write_key_may_be_sent_in_the_body_as_segment_allows(client, write_key):
    body = {**HTTP_TRACK, "writeKey": write_key}

    assert send(client, "/v1/track", body).status_code == 200
    assert Touchpoint.objects.count() == 1


def test_the_spec_identify_example_fills_name_email_and_city(client, write_key):
    assert send(client, "/v1/identify", SPEC_IDENTIFY, key=write_key).status_code == 200

    lead = Lead.objects.get()
    assert (lead.first_name, lead.last_name, lead.email, lead.city) == (
        "Peter",
        "Gibbons",
        "peter@example.com",
        "San Francisco",
    )
    # "USA" is not an ISO alpha-2 code, and Lead.country holds only those.
    assert lead.country == ""
    ids = set(Identity.objects.filter(lead=lead).values_list("kind", "value"))
    assert ids == {("user", "97980cfea0067"), ("anonymous", "507f191e810c19729de860ea")}


def test_the_spec_track_example_is_kept_anonymous_until_its_user_is_identified(client, write_key):
    assert send(client, "/v1/track", SPEC_TRACK, key=write_key).status_code == 200

    touch = Touchpoint.objects.get()
    assert touch.lead is None
    assert touch.anonymous_id == "23adfd82-aa0f-45a7-a756-24f2a7a4c895"
    assert touch.message_id == "ajs-f8ca1e4de5024d9430b3928bd8ac6b96"
    assert touch.occurred_at == at("2015-12-12T19:11:01.249Z")
    assert touch.type == "other"
    assert touch.properties["event"] == "Course Clicked"
    assert touch.properties["url"] == "https://segment.com/academy/"
    assert touch.properties["title"] == "Intro to Analytics"  # the event's own title wins

    identify = {"type": "identify", "userId": "AiUGstSDIg", "traits": {"email": "a@example.com"}}
    assert send(client, "/v1/identify", identify, key=write_key).status_code == 200

    touch.refresh_from_db()
    assert touch.lead == Lead.objects.get(email="a@example.com")


def test_the_spec_page_example_is_a_page_view_with_its_properties(client, write_key):
    send(client, "/v1/identify", SPEC_IDENTIFY, key=write_key)

    assert send(client, "/v1/page", SPEC_PAGE, key=write_key).status_code == 200

    touch = Touchpoint.objects.get()
    assert touch.lead == Lead.objects.get(email="peter@example.com")
    assert (touch.type, touch.channel) == ("page_view", "web")
    assert touch.properties == {
        "name": "Home",
        "title": "Welcome | Initech",
        "url": "http://www.example.com",
        "source_id": touch.properties["source_id"],
    }
    assert touch.occurred_at == at("2015-02-23T22:28:55.111Z")
    assert touch.message_id == "022bb90c-bbac-11e4-8dfc-aa07a5b093db"


def test_the_spec_group_example_creates_the_account_and_puts_the_lead_in_it(client, write_key):
    send(client, "/v1/identify", SPEC_IDENTIFY, key=write_key)
    group = copy.deepcopy(SPEC_GROUP)
    group["messageId"] = "group-" + group["messageId"]  # the spec pages share one messageId

    assert send(client, "/v1/group", group, key=write_key).status_code == 200

    account = Account.objects.get()
    assert (account.name, account.industry, account.employees) == ("Initech", "Technology", 329)
    lead = Lead.objects.get()
    assert (lead.account, lead.company) == (account, "Initech")


def test_the_http_api_batch_example_creates_both_people_and_their_plays(client, write_key):
    response = send(client, "/v1/batch", HTTP_BATCH, key=write_key)

    assert response.status_code == 200
    assert response.json() == {"success": True}
    jake = Lead.objects.get(email="jake@yahoo.com")
    cindy = Lead.objects.get(email="cindy@example.com")
    plays = {t.lead: t for t in Touchpoint.objects.all()}
    assert set(plays) == {jake, cindy}
    assert plays[jake].properties["artist"] == "Dierks Bentley"
    # Segment's own example writes the month with one digit; it is read, not rejected.
    assert plays[cindy].occurred_at == at("2015-02-02T00:30:12.984Z")
    assert (cindy.first_name, cindy.last_name) == ("Cindy", "Gonzalez")


def test_the_import_endpoint_is_the_batch_endpoint(client, write_key):
    assert send(client, "/v1/import", HTTP_BATCH, key=write_key).status_code == 200
    assert Touchpoint.objects.count() == 2
