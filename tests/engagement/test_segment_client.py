"""Segment's own Python library (segment-analytics-python), pointed at a live closedloop
server on loopback by changing only its host, as a company would."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from segment.analytics import Client

from closedloop.crm.models import Account, Lead
from closedloop.engagement.models import Touchpoint
from closedloop.engagement.tracking import create_source


@pytest.fixture
def segment_client(tracking_server, transactional_db):
    _, key = create_source(name="Backend")
    errors: list = []
    client = Client(
        write_key=key,
        host=tracking_server.url,
        sync_mode=True,
        gzip=True,
        max_retries=0,
        on_error=lambda error, batch: errors.append(error),
    )
    return client, errors


def test_the_official_client_in_sync_mode_stores_identify_track_page_and_group(segment_client):
    client, errors = segment_client
    when = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)

    client.page(
        anonymous_id="ajs-anon-1",
        name="Pricing",
        properties={"url": "https://x.test/p"},
        timestamp=when,
    )
    client.identify(
        "user-42",
        {
            "email": "grace@example.com",
            "firstName": "Grace",
            "lastName": "Hopper",
            "title": "Rear Admiral",
        },
        anonymous_id="ajs-anon-1",
    )
    client.track("user-42", "Webinar Attended", {"webinar": "COBOL at 65"}, message_id="webinar-42")
    client.track(
        "user-42", "Webinar Attended", {"webinar": "COBOL at 65"}, message_id="webinar-42"
    )  # a retry: stored once
    client.group(
        "user-42",
        "navy",
        {"name": "US Navy", "website": "https://www.navy.mil", "employees": 330000},
    )

    assert errors == []
    lead = Lead.objects.get()
    assert (lead.email, lead.first_name, lead.title) == (
        "grace@example.com",
        "Grace",
        "Rear Admiral",
    )
    touches = {t.type: t for t in Touchpoint.objects.filter(lead=lead)}
    assert set(touches) == {"page_view", "webinar"}
    assert touches["page_view"].occurred_at == when
    assert Touchpoint.objects.count() == 2
    lead.refresh_from_db()
    assert lead.account == Account.objects.get(domain="navy.mil")


def test_the_official_client_batches_in_the_background_and_flushes(
    tracking_server, transactional_db
):
    _, key = create_source(name="Batch sender")
    errors: list = []
    client = Client(
        write_key=key,
        host=tracking_server.url,
        upload_size=50,
        gzip=True,
        on_error=lambda error, batch: errors.append(error),
    )

    for n in range(120):
        client.track(anonymous_id=f"visitor-{n % 7}", event="Content Viewed", properties={"n": n})
    client.flush()
    client.join()

    assert errors == []
    assert Touchpoint.objects.filter(type="content_view").count() == 120


def test_the_official_client_hears_a_wrong_write_key_as_an_error(tracking_server, transactional_db):
    errors: list = []
    client = Client(
        write_key="wk_wrong",
        host=tracking_server.url,
        max_retries=0,
        on_error=lambda error, batch: errors.append(error),
    )

    client.track("u1", "Ad Clicked")
    client.flush()
    client.join()

    assert [getattr(e, "status", None) for e in errors] == [401]
    assert not Touchpoint.objects.exists()
