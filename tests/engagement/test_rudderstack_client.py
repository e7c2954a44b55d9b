"""RudderStack's Python library (rudder-sdk-python), pointed at a live closedloop server on
loopback by changing only its data plane URL, as a company would."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from rudderstack.analytics import Client

from closedloop.crm.models import Account, Lead
from closedloop.engagement.models import Identity, Touchpoint
from closedloop.engagement.tracking import create_source


def rudder_client(url: str, key: str, errors: list, **options) -> Client:
    return Client(
        write_key=key,
        host=url,
        gzip=True,
        on_error=lambda error, batch: errors.append(error),
        **options,
    )


@pytest.fixture
def sync_client(tracking_server, transactional_db):
    errors: list = []
    key = create_source(name="Rudder backend")[1]
    client = rudder_client(tracking_server.url, key, errors, sync_mode=True, max_retries=0)
    return client, errors


def test_rudderstack_in_sync_mode_stores_page_identify_track_group_and_alias(sync_client):
    client, errors = sync_client
    when = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)

    client.page(anonymous_id="rs-anon-1", name="Pricing", category="Docs", timestamp=when)
    client.identify(
        "user-7",
        {"email": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace"},
        anonymous_id="rs-anon-1",
    )
    client.track("user-7", "Asset Downloaded", {"asset": "notes.pdf"}, message_id="dl-7")
    client.track("user-7", "Asset Downloaded", {"asset": "notes.pdf"}, message_id="dl-7")
    client.screen("user-7", name="Home")
    client.group("user-7", "engine", {"name": "Analytical Engine", "website": "engine.test"})
    client.alias(previous_id="rs-old-device", user_id="user-7")

    assert errors == []
    lead = Lead.objects.get()
    assert (lead.email, lead.first_name, lead.last_name) == ("ada@example.com", "Ada", "Lovelace")
    touches = Touchpoint.objects.filter(lead=lead).order_by("occurred_at")
    assert [t.type for t in touches] == ["page_view", "content_view", "page_view"]
    assert touches[0].occurred_at == when
    assert touches[0].properties["category"] == "Docs"
    assert Touchpoint.objects.count() == 3  # the resent track is stored once
    lead.refresh_from_db()
    assert lead.account == Account.objects.get(domain="engine.test")
    assert Identity.objects.get(value="rs-old-device").lead == lead


def test_rudderstack_batches_in_the_background_and_flushes(tracking_server, transactional_db):
    errors: list = []
    key = create_source(name="Rudder batch sender")[1]
    client = rudder_client(tracking_server.url, key, errors, upload_size=50)

    for n in range(120):
        client.track(anonymous_id=f"visitor-{n % 7}", event="Content Viewed", properties={"n": n})
    client.flush()
    client.join()

    assert errors == []
    assert Touchpoint.objects.filter(type="content_view").count() == 120


def test_rudderstack_batches_over_segments_500_kb_are_accepted(tracking_server, transactional_db):
    # RudderStack's client fills a batch up to 4 MB (Segment's stop at 500 KB) and drops the
    # whole batch on a 4xx: 100 messages of ~12 KB must all be stored.
    errors: list = []
    key = create_source(name="Rudder big batches")[1]
    client = rudder_client(tracking_server.url, key, errors, upload_size=100, max_retries=0)

    for n in range(100):
        client.track(anonymous_id=f"v-{n}", event="Content Viewed", properties={"t": "x" * 12_000})
    client.flush()
    client.join()

    assert errors == []
    assert Touchpoint.objects.count() == 100


def test_rudderstack_hears_a_wrong_write_key_as_an_error(tracking_server, transactional_db):
    errors: list = []
    client = rudder_client(tracking_server.url, "wk_wrong", errors, max_retries=0)

    client.track("u1", "Ad Clicked")
    client.flush()
    client.join()

    assert [getattr(e, "status", None) for e in errors] == [401]
    assert not Touchpoint.objects.exists()
