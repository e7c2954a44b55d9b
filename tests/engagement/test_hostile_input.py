"""Hostile and careless input on the tracking endpoints and the web form: lone UTF-16
surrogates (what a browser script sends when it cuts a string inside an emoji) and JSON nested
thousands deep. Each bad message is rejected alone with its reason, never a 5xx."""

from __future__ import annotations

import pytest

from closedloop.crm.models import Lead
from closedloop.engagement.models import Touchpoint
from closedloop.engagement.tracking import create_form
from tests.engagement.conftest import send

pytestmark = pytest.mark.django_db

SURROGATE = '"\\ud800"'  # a lone high surrogate, as JSON text


def page_json(n: int, **fields: str) -> str:
    """One page message as JSON text, with `fields` spliced in as raw JSON values."""
    extra = "".join(f',"{k}":{v}' for k, v in fields.items())
    return (
        f'{{"type":"page","anonymousId":"anon-{n}","messageId":"m-{n}",'
        f'"timestamp":"2026-01-05T10:00:00Z"{extra}}}'
    )


def fill(template: str, *values: str) -> str:
    """The template with each "$" replaced by the next value (JSON is all braces)."""
    for value in values:
        template = template.replace("$", value, 1)
    return template


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


def post_raw(client, path: str, text: str, key: str):
    return send(client, path, None, key=key, raw=text.encode())


@pytest.mark.parametrize(
    "bad",
    [
        page_json(2, name=SURROGATE),
        page_json(2, properties=f'{{"title":{SURROGATE}}}'),
        page_json(2, properties=f'{{{SURROGATE}:"key"}}'),
        page_json(2, properties=f'{{"x":{deep(300)}}}'),
        page_json(2, properties=f'{{"x":{deep(5000)}}}'),
        page_json(2, context=f'{{"page":{{"url":{SURROGATE}}}}}'),
    ],
    ids=["name", "property", "key", "300 deep", "5000 deep", "context"],
)
def test_a_bad_message_in_a_batch_is_rejected_alone_and_the_rest_stored(client, write_key, bad):
    body = '{"batch":[' + ",".join([page_json(1), bad, page_json(3)]) + "]}"

    response = post_raw(client, "/v1/batch", body, write_key)

    assert response.status_code == 200
    rejected = response.json()["rejected"]
    assert [r["index"] for r in rejected] == [1]
    assert rejected[0]["messageId"] == "m-2"
    assert any(word in rejected[0]["reason"] for word in ("surrogate", "nested"))
    assert set(Touchpoint.objects.values_list("message_id", flat=True)) == {"m-1", "m-3"}


@pytest.mark.parametrize("path", ["/v1/track", "/v1/identify", "/v1/page"])
@pytest.mark.parametrize(
    "body",
    [
        fill('{"userId":"u1","event":"Signed Up","traits":{"name":$}}', SURROGATE),
        fill('{"userId":$,"event":"Signed Up"}', SURROGATE),
        fill('{"userId":"u1","event":"Signed Up","properties":{"x":$}}', deep(5000)),
        fill('{"userId":"u1","event":"Signed Up","properties":{"x":$}}', deep(400)),
    ],
    ids=["trait", "user id", "5000 deep", "400 deep"],
)
def test_a_single_bad_call_is_a_400_naming_the_problem(client, write_key, path, body):
    response = post_raw(client, path, body, write_key)

    assert response.status_code == 400
    assert any(word in response.json()["message"] for word in ("surrogate", "nested"))
    assert not Touchpoint.objects.exists()
    assert not Lead.objects.exists()


def test_a_batch_whose_shared_context_is_bad_is_a_400(client, write_key):
    body = fill('{"context":{"ip":$},"batch":[$]}', SURROGATE, page_json(1))

    response = post_raw(client, "/v1/batch", body, write_key)

    assert response.status_code == 400
    assert "surrogate" in response.json()["message"]


def test_a_batch_nested_deep_outside_its_messages_is_a_400(client, write_key):
    body = fill('{"sentAt":$,"batch":[$]}', deep(5000), page_json(1))

    response = post_raw(client, "/v1/batch", body, write_key)

    assert response.status_code == 400


def test_a_write_key_with_a_surrogate_is_401(client, write_key):
    body = fill('{"writeKey":$,"batch":[$]}', SURROGATE, page_json(1))

    response = client.post("/v1/batch", data=body.encode(), content_type="application/json")

    assert response.status_code == 401


def test_a_deep_batch_list_cut_off_inside_a_string_is_still_read(client, write_key):
    # Brackets inside strings are text, not nesting: the depth scan must skip them.
    tricky = page_json(2, name='"[[[[\\"]]]{{"', properties=f'{{"x":{deep(3000)}}}')
    body = '{"batch":[' + ",".join([page_json(1), tricky]) + "]}"

    response = post_raw(client, "/v1/batch", body, write_key)

    assert response.status_code == 200
    assert [r["index"] for r in response.json()["rejected"]] == [1]
    assert list(Touchpoint.objects.values_list("message_id", flat=True)) == ["m-1"]


@pytest.mark.parametrize(
    "body",
    [
        fill('{"email":"a@example.com","notes":$}', deep(5000)),
        fill('{"email":"a@example.com","first_name":$}', SURROGATE),
        fill('{"email":"a@example.com","notes":$}', SURROGATE),
        fill('{"email":"a@example.com","notes":{"x":$}}', deep(300)),
    ],
    ids=["5000 deep", "surrogate name", "surrogate field", "300 deep"],
)
def test_the_web_form_answers_bad_json_with_a_400(client, body):
    _, key = create_form(name="Contact")

    response = client.post(f"/f/{key}", data=body.encode(), content_type="application/json")

    assert response.status_code == 400
    assert not Lead.objects.exists()
