"""The tracking endpoints fuzzed: any JSON a client can send (lone surrogates, NUL, huge and
deep values, wrong types) mixed into a batch of good messages never gets a 5xx, and every good
message is stored exactly once, however often the batch is resent."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from closedloop.engagement.models import Touchpoint
from closedloop.engagement.tracking import create_source, forget_cached_sources
from tests.engagement.conftest import send

# Text as a browser script may send it: any code point, lone surrogates and NUL included.
ANY_TEXT = st.text(
    st.characters(codec=None) | st.characters(categories=["Cs"]) | st.just("\x00"), max_size=20
)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | ANY_TEXT
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT, inner, max_size=3),
    max_leaves=12,
)
FIELDS = st.sampled_from(
    [
        "type",
        "userId",
        "anonymousId",
        "messageId",
        "event",
        "name",
        "timestamp",
        "sentAt",
        "properties",
        "traits",
        "context",
        "groupId",
        "previousId",
        "originalTimestamp",
    ]
)


def deep(levels: int) -> object:
    value: object = "bottom"
    for _ in range(levels):
        value = [value]
    return value


BAD_MESSAGES = (
    st.dictionaries(FIELDS, JSON_VALUES, max_size=6)
    | JSON_VALUES
    # Thousands deep is in test_hostile_input.py: json.dumps here stops near 1,000.
    | st.integers(0, 900).map(lambda n: {"type": "page", "anonymousId": "a", "properties": deep(n)})
)


# Examples share the test's database: each makes a source of its own name.
_SOURCES = itertools.count()


def good(n: int) -> dict:
    return {
        "type": "track",
        "event": "Clicked",
        "anonymousId": f"anon-{n}",
        "messageId": f"good-{n}",
        "timestamp": "2026-01-05T10:00:00Z",
    }


@pytest.mark.django_db
@settings(max_examples=60, suppress_health_check=list(HealthCheck), database=None)
@given(bad=st.lists(BAD_MESSAGES, min_size=1, max_size=4), resend=st.booleans())
def test_a_batch_mixing_any_json_with_good_messages_stores_the_good_ones_exactly_once(
    client, bad, resend
):
    forget_cached_sources()
    Touchpoint.objects.all().delete()
    key = create_source(name=f"Fuzz {next(_SOURCES)}")[1]
    batch = [good(1), *bad, good(2)]
    # Lone surrogates cannot be encoded by json.dumps with ensure_ascii=False; escaped they can.
    body = json.dumps({"batch": batch}).encode()

    for _ in range(2 if resend else 1):
        response = send(client, "/v1/batch", None, key=key, raw=body)
        assert response.status_code < 500, response.content[:500]

    stored = set(Touchpoint.objects.values_list("message_id", flat=True))
    assert {"good-1", "good-2"} <= stored
    assert Touchpoint.objects.filter(message_id__startswith="good-").count() == 2


@pytest.mark.django_db
@settings(max_examples=40, suppress_health_check=list(HealthCheck), database=None)
@given(message=BAD_MESSAGES, path=st.sampled_from(["/v1/track", "/v1/identify", "/v1/page"]))
def test_a_single_call_with_any_json_is_never_a_server_error(client, message, path):
    forget_cached_sources()
    key = create_source(name=f"Single {next(_SOURCES)}")[1]

    response = send(client, path, None, key=key, raw=json.dumps(message).encode())

    assert response.status_code < 500, response.content[:500]
