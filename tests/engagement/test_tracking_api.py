"""The tracking endpoints' behaviour beyond the published examples: auth, gzip, limits,
at-least-once delivery, per-message rejection, identity stitching, mapping, rescoring."""

from __future__ import annotations

import gzip
import json

import pytest
from django.db import connection
from django.utils import timezone

from closedloop.campaigns.models import Campaign
from closedloop.core import events
from closedloop.crm.models import Lead
from closedloop.engagement import ingest
from closedloop.engagement.models import (
    Identity,
    IdentityKind,
    ReceivedMessage,
    Source,
    Touchpoint,
)
from closedloop.engagement.tracking import create_source, set_event_mapping, set_source_active
from tests.engagement.conftest import basic_auth, send
from tests.factories import make_lead

pytestmark = pytest.mark.django_db


def page(n: int, **extra) -> dict:
    return {
        "type": "page",
        "anonymousId": f"anon-{n}",
        "messageId": f"m-{n}",
        "name": "Home",
        "timestamp": "2026-01-05T10:00:00Z",
        **extra,
    }


def test_a_gzip_compressed_batch_is_read(client, write_key):
    response = send(
        client, "/v1/batch", {"batch": [page(1), page(2)]}, key=write_key, compress=True
    )

    assert response.status_code == 200
    assert Touchpoint.objects.count() == 2


def test_a_missing_write_key_is_401(client, write_key):
    response = send(client, "/v1/batch", {"batch": [page(1)]})

    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    assert not Touchpoint.objects.exists()


def test_an_unknown_write_key_is_401(client, write_key):
    response = send(client, "/v1/track", page(1), key="wk_not-a-key")

    assert response.status_code == 401
    assert not Touchpoint.objects.exists()


def test_a_disabled_source_is_refused_at_once(client, write_key):
    set_source_active(Source.objects.get(), active=False)

    assert send(client, "/v1/page", page(1), key=write_key).status_code == 401


def test_only_a_hash_of_the_write_key_is_stored(db):
    source, key = create_source(name="App")

    assert key.startswith("wk_") and len(key) > 30
    assert key not in {source.key_hash, source.key_prefix}
    assert source.key_hash != key


def test_resending_a_batch_stores_each_touch_once(client, write_key):
    body = {"batch": [page(n) for n in range(10)]}

    first = send(client, "/v1/batch", body, key=write_key)
    again = send(client, "/v1/batch", body, key=write_key)

    assert first.status_code == again.status_code == 200
    assert Touchpoint.objects.count() == 10


def test_a_messageid_repeated_inside_one_batch_is_stored_once(client, write_key):
    send(client, "/v1/batch", {"batch": [page(1), page(1), page(2)]}, key=write_key)

    assert Touchpoint.objects.count() == 2


def test_a_resent_identify_does_not_overwrite_newer_traits(client, write_key):
    old = {
        "type": "identify",
        "userId": "u1",
        "messageId": "id-1",
        "traits": {"email": "x@example.com", "title": "Analyst"},
    }
    new = {"type": "identify", "userId": "u1", "messageId": "id-2", "traits": {"title": "VP"}}
    send(client, "/v1/identify", old, key=write_key)
    send(client, "/v1/identify", new, key=write_key)

    send(client, "/v1/identify", old, key=write_key)  # a late retry of the first

    assert Lead.objects.get().title == "VP"
    assert ReceivedMessage.objects.count() == 2


def test_malformed_messages_are_rejected_one_by_one_and_the_rest_kept(client, write_key):
    batch = [
        page(1),
        {"type": "track", "anonymousId": "a", "messageId": "no-event"},
        {"type": "page", "messageId": "no-ids"},
        "not an object",
        page(2, timestamp="yesterday-ish"),
        {"type": "launch", "userId": "u", "messageId": "bad-type"},
        page(3, messageId="x" * 101),
        page(4),
    ]

    response = send(client, "/v1/batch", {"batch": batch}, key=write_key)

    assert response.status_code == 200
    rejected = response.json()["rejected"]
    assert [r["index"] for r in rejected] == [1, 2, 3, 4, 5, 6]
    assert rejected[0] == {
        "index": 1,
        "messageId": "no-event",
        "reason": "event is required for track",
    }
    assert rejected[1]["reason"] == "userId or anonymousId is required"
    assert "timestamp" in rejected[3]["reason"]
    assert set(Touchpoint.objects.values_list("message_id", flat=True)) == {"m-1", "m-4"}


def test_a_single_malformed_call_is_a_400_with_the_reason(client, write_key):
    response = send(client, "/v1/track", {"userId": "u1"}, key=write_key)

    assert response.status_code == 400
    assert response.json()["message"] == "event is required for track"


def test_a_body_that_is_not_json_is_a_400(client, write_key):
    response = send(client, "/v1/batch", None, key=write_key, raw=b"{not json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_json"


def test_a_single_call_over_32_kb_is_413(client, write_key):
    body = page(1, properties={"blob": "x" * 33_000})

    response = send(client, "/v1/page", body, key=write_key)

    assert response.status_code == 413
    assert not Touchpoint.objects.exists()


def test_a_batch_over_4_mb_is_413(client, write_key):
    body = {"batch": [page(n, properties={"blob": "x" * 20_000}) for n in range(220)]}

    response = send(client, "/v1/batch", body, key=write_key)

    assert response.status_code == 413
    assert not Touchpoint.objects.exists()


def test_a_small_gzip_body_that_unzips_over_the_limit_is_413(client, write_key):
    body = {"batch": [page(1, properties={"blob": "0" * 4_300_000})]}
    data = json.dumps(body).encode()
    assert len(gzip.compress(data)) < 10_000

    response = send(client, "/v1/batch", body, key=write_key, compress=True)

    assert response.status_code == 413


def test_a_batch_over_segments_500_kb_is_accepted_as_rudderstack_sends_them(client, write_key):
    body = {"batch": [page(n, properties={"blob": "x" * 20_000}) for n in range(30)]}

    response = send(client, "/v1/batch", body, key=write_key)

    assert response.status_code == 200
    assert Touchpoint.objects.count() == 30


def test_one_message_over_32_kb_in_a_batch_is_rejected_alone(client, write_key):
    body = {"batch": [page(1, properties={"blob": "x" * 33_000}), page(2)]}

    response = send(client, "/v1/batch", body, key=write_key)

    assert response.status_code == 200
    assert response.json()["rejected"][0]["index"] == 0
    assert "32 KB" in response.json()["rejected"][0]["reason"]
    assert list(Touchpoint.objects.values_list("message_id", flat=True)) == ["m-2"]


def test_anonymous_touches_join_the_lead_when_the_visitor_identifies(client, write_key):
    send(
        client,
        "/v1/batch",
        {"batch": [page(1, anonymousId="visitor"), page(2, anonymousId="visitor")]},
        key=write_key,
    )
    assert Touchpoint.objects.filter(lead__isnull=True).count() == 2

    identify = {
        "type": "identify",
        "anonymousId": "visitor",
        "userId": "u-9",
        "traits": {"email": "New.Person@Example.com", "firstName": "New"},
    }
    send(client, "/v1/identify", identify, key=write_key)
    send(client, "/v1/page", page(3, anonymousId="visitor"), key=write_key)

    lead = Lead.objects.get()
    assert lead.email == "new.person@example.com"
    assert Touchpoint.objects.filter(lead=lead).count() == 3


def test_an_identify_with_a_known_email_joins_the_existing_lead(client, write_key):
    lead = make_lead(email="known@example.com", first_name="Kim")

    send(
        client,
        "/v1/identify",
        {"userId": "k1", "traits": {"email": "KNOWN@example.com", "title": "CTO"}},
        key=write_key,
    )

    assert Lead.objects.count() == 1
    lead.refresh_from_db()
    assert (lead.title, lead.version) == ("CTO", 2)
    assert Identity.objects.get(kind="user", value="k1").lead == lead


def test_a_visitor_seen_beside_an_unknown_user_joins_when_that_user_is_identified(
    client, write_key
):
    send(
        client,
        "/v1/track",
        {"anonymousId": "browser-1", "userId": "later", "event": "Ad Clicked", "messageId": "t1"},
        key=write_key,
    )
    send(client, "/v1/page", page(2, anonymousId="browser-1"), key=write_key)

    send(
        client,
        "/v1/identify",
        {"userId": "later", "traits": {"email": "l@example.com"}},
        key=write_key,
    )

    assert Touchpoint.objects.filter(lead__email="l@example.com").count() == 2


def test_an_alias_ties_an_earlier_id_to_the_identified_user(client, write_key):
    send(
        client,
        "/v1/identify",
        {"userId": "u-new", "traits": {"email": "a@example.com"}},
        key=write_key,
    )
    send(client, "/v1/page", page(1, anonymousId="old-device"), key=write_key)

    send(client, "/v1/alias", {"previousId": "old-device", "userId": "u-new"}, key=write_key)

    assert Touchpoint.objects.get().lead == Lead.objects.get()


def test_track_events_map_to_touchpoint_types_with_unknown_names_kept(client, write_key):
    names = [
        "Form Submitted",
        "Webinar Attended",
        "Email Opened",
        "Email Clicked",
        "Ad Clicked",
        "Content Viewed",
        "Asset Downloaded",
        "Pricing Calculated",
    ]
    batch = [
        {"type": "track", "anonymousId": "a", "event": name, "messageId": name} for name in names
    ]

    send(client, "/v1/batch", {"batch": batch}, key=write_key)

    stored = dict(Touchpoint.objects.values_list("message_id", "type"))
    assert stored == {
        "Form Submitted": "form",
        "Webinar Attended": "webinar",
        "Email Opened": "email_open",
        "Email Clicked": "email_click",
        "Ad Clicked": "ad_click",
        "Content Viewed": "content_view",
        "Asset Downloaded": "content_view",
        "Pricing Calculated": "other",
    }
    assert Touchpoint.objects.get(type="other").properties["event"] == "Pricing Calculated"


def test_a_source_can_map_its_own_event_names(client, write_key):
    set_event_mapping(
        source=Source.objects.get(), event_name="Demo Requested", touchpoint_type="form"
    )

    send(client, "/v1/track", {"userId": "u", "event": "demo requested"}, key=write_key)

    assert Touchpoint.objects.get().type == "form"


def test_the_utm_campaign_names_the_campaign_of_the_touch(client, write_key):
    campaign = Campaign.objects.create(
        name="Spring Webinar", type="webinar", channel="events", starts_on=timezone.now().date()
    )
    context = {"campaign": {"name": "spring webinar", "source": "newsletter", "medium": "email"}}

    send(client, "/v1/page", page(1, context=context), key=write_key)
    send(
        client,
        "/v1/page",
        page(2, context={"campaign": {"name": "Unknown", "medium": "cpc"}}),
        key=write_key,
    )

    first, second = Touchpoint.objects.order_by("message_id")
    assert (first.campaign, first.channel) == (campaign, "events")
    assert (second.campaign, second.channel) == (None, "search")
    assert second.properties["utm"]["name"] == "Unknown"


def test_new_touches_announce_their_leads_for_rescoring_after_commit(
    client, write_key, django_capture_on_commit_callbacks
):
    lead = make_lead(email="s@example.com")
    send(
        client, "/v1/identify", {"userId": "s", "traits": {"email": "s@example.com"}}, key=write_key
    )
    heard = []

    def listener(sender, payload, **kwargs):
        heard.append(payload)

    events.touchpoints_recorded.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            send(client, "/v1/batch", {"batch": [page(1, userId="s"), page(2)]}, key=write_key)
            assert heard == []  # not before the commit
        with django_capture_on_commit_callbacks(execute=True):
            send(client, "/v1/batch", {"batch": [page(1, userId="s")]}, key=write_key)
    finally:
        events.touchpoints_recorded.disconnect(listener)

    # The resend stored nothing new, so it announced nothing.
    assert heard == [{"lead_ids": [lead.pk]}]


def test_with_the_database_task_backend_the_rescore_is_queued_in_the_touches_commit(
    client, write_key, settings, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "scoring"]}
    }
    lead = make_lead(email="q@example.com")
    send(
        client, "/v1/identify", {"userId": "q", "traits": {"email": "q@example.com"}}, key=write_key
    )
    heard = []

    def listener(sender, payload, **kwargs):
        heard.append(payload)

    events.touchpoints_recorded.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            send(client, "/v1/batch", {"batch": [page(1, userId="q")]}, key=write_key)
            # Queued before the commit, in the same transaction as the touch.
            queued = list(DBTaskResult.objects.values_list("args_kwargs", flat=True))
    finally:
        events.touchpoints_recorded.disconnect(listener)

    assert queued == [{"args": [[lead.pk]], "kwargs": {}}]
    assert len(callbacks) == 1
    assert heard == [{"lead_ids": [lead.pk], "rescore_queued": True}]
    # The scoring listener heard "already queued" and queued nothing more.
    assert DBTaskResult.objects.count() == 1


def test_a_property_too_big_for_64_bits_is_stored_exactly(client, write_key):
    huge = 2**70 + 1  # beyond orjson's integers: the size check and storage fall back to json
    send(
        client,
        "/v1/batch",
        {
            "batch": [
                {**page(1), "type": "track", "event": "Big", "properties": {"n": huge}},
            ]
        },
        key=write_key,
    )

    assert Touchpoint.objects.get().properties["n"] == huge


def test_every_column_of_a_stored_touch_reads_back_exactly(client, write_key):
    # The rows reach the database as one JSON document on PostgreSQL and as bound values on
    # SQLite: times with offsets and microseconds, quotes, non-ASCII text and nulls survive.
    lead = make_lead()
    Identity.objects.create(kind=IdentityKind.USER, value="u-7", lead=lead)
    campaign = Campaign.objects.create(
        name="Spring 'Launch'", type="email", channel="email", starts_on=timezone.now().date()
    )
    tricky = {"q": 'a "quoted" \\ value', "text": "Grüße ✓", "none": None, "n": 1.5}
    send(
        client,
        "/v1/batch",
        {
            "batch": [
                {
                    **page(1),
                    "type": "track",
                    "event": "Ad Clicked",
                    "userId": "u-7",
                    "timestamp": "2026-01-05T12:30:15.123456+02:00",
                    "properties": tricky,
                    "context": {"campaign": {"name": "spring 'launch'"}},
                },
                {**page(2), "anonymousId": "anon-ä", "timestamp": "2026-01-05T10:00:00Z"},
            ]
        },
        key=write_key,
    )

    known, unknown = Touchpoint.objects.order_by("message_id")
    assert (known.lead_id, known.anonymous_id, known.type) == (lead.pk, "anon-1", "ad_click")
    assert (known.campaign_id, known.channel) == (campaign.pk, "email")
    assert known.occurred_at.isoformat() == "2026-01-05T10:30:15.123456+00:00"
    assert known.received_at == unknown.received_at
    assert {k: known.properties[k] for k in tricky} == tricky
    assert (unknown.lead_id, unknown.campaign_id, unknown.anonymous_id) == (None, None, "anon-ä")
    assert unknown.occurred_at.isoformat() == "2026-01-05T10:00:00+00:00"


def test_on_postgresql_each_request_commits_alone_and_still_queues_its_rescore(
    postgres_only, client, write_key, settings
):
    from django_tasks_db.models import DBTaskResult

    from closedloop.engagement import ingest

    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "scoring"]}
    }
    lead = make_lead(email="p@example.com")
    send(
        client, "/v1/identify", {"userId": "p", "traits": {"email": "p@example.com"}}, key=write_key
    )
    groups = ingest._writer.groups

    send(client, "/v1/batch", {"batch": [page(1, userId="p")]}, key=write_key)

    assert ingest._writer.groups == groups  # PostgreSQL groups commits itself
    assert Touchpoint.objects.get().lead == lead
    assert [r.args_kwargs for r in DBTaskResult.objects.all()] == [
        {"args": [[lead.pk]], "kwargs": {}}
    ]


def test_basic_auth_without_the_colon_still_works(client, write_key):
    import base64

    header = "Basic " + base64.b64encode(write_key.encode()).decode()
    response = client.post(
        "/v1/page",
        data=json.dumps(page(1)),
        content_type="application/json",
        headers={"Authorization": header},
    )

    assert response.status_code == 200
    assert basic_auth(write_key) != header


def test_get_is_not_allowed(client, write_key):
    assert client.get("/v1/track").status_code == 405


def test_touches_are_found_by_campaign_and_content_through_their_partial_indexes():
    # Most tracked touches have neither, so these indexes hold only the touches that do
    # (cheaper inserts); a lookup by campaign or content must still be able to use them.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # an empty table: ask whether, not whether cheaper
            cursor.execute("SET LOCAL enable_seqscan = off")
    by_campaign = Touchpoint.objects.filter(campaign_id=1).order_by("-occurred_at").explain()
    by_content = Touchpoint.objects.filter(content_id=1, occurred_at__gte=timezone.now())

    assert "touch_campaign_at" in by_campaign
    assert "touch_content_at" in by_content.explain()


def test_a_batch_bigger_than_one_lookup_statement_is_looked_up_and_claimed_in_chunks(
    client, write_key, monkeypatch
):
    # A 4 MB batch can hold more ids than SQLite takes parameters in one statement; chunks of
    # two here stand in for chunks of thousands.
    monkeypatch.setattr(ingest, "_IN_CHUNK", 2)
    Campaign.objects.create(
        name="Spring", type="email", channel="email", starts_on=timezone.now().date()
    )
    identifies = [
        {**page(n), "type": "identify", "userId": f"u-{n}", "messageId": f"i-{n}"}
        | {"traits": {"email": f"p{n}@example.com"}}
        for n in range(5)
    ]
    pages = [page(n, context={"campaign": {"name": "spring"}}) for n in range(7)]
    body = {"batch": identifies + pages}

    first = send(client, "/v1/batch", body, key=write_key)
    again = send(client, "/v1/batch", body, key=write_key)

    assert first.json() == again.json() == {"success": True}
    assert Lead.objects.count() == 5 and ReceivedMessage.objects.count() == 5
    touches = Touchpoint.objects.all()
    assert len(touches) == 7 and all(t.campaign is not None for t in touches)
    emails = sorted(t.lead.email for t in touches if t.lead)
    assert emails == [f"p{n}@example.com" for n in range(5)]  # each page joined its visitor


def test_a_message_with_a_nul_character_is_rejected_alone(client, write_key):
    # JSON allows "\u0000"; PostgreSQL stores it in neither text nor jsonb, so one such
    # message must not fail the transaction that stores the rest of its batch.
    batch = [
        page(1),
        page(2, messageId="m-\x002"),
        {"type": "track", "anonymousId": "a", "messageId": "t-1", "event": "Clicked\x00"},
        page(3, properties={"path": "/a\x00b"}),
        {"type": "identify", "userId": "u-9", "messageId": "i-1", "traits": {"title": "V\x00P"}},
        page(4, properties={"note": "a literal \\u0000 is only text"}),
    ]

    response = send(client, "/v1/batch", {"batch": batch}, key=write_key)

    assert response.status_code == 200
    rejected = response.json()["rejected"]
    assert [r["index"] for r in rejected] == [1, 2, 3, 4]
    assert all("NUL character" in r["reason"] for r in rejected)
    assert set(Touchpoint.objects.values_list("message_id", flat=True)) == {"m-1", "m-4"}
    assert not Lead.objects.filter(title__startswith="V").exists()


def test_a_single_call_with_a_nul_character_is_a_400(client, write_key):
    body = {"userId": "u1", "event": "Signed\x00Up", "messageId": "s-1"}

    response = send(client, "/v1/track", body, key=write_key)

    assert response.status_code == 400
    assert "NUL character" in response.json()["message"]
    assert not Touchpoint.objects.exists()
