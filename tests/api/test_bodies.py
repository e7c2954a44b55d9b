"""Request bodies are checked before anything is written: not an object, a boolean for a
number, a number for a date, a NUL character or a lone surrogate, or too big, is a 4xx in the
standard error shape naming the field, and nothing is created."""

from __future__ import annotations

import json

import pytest
from django.conf import settings

from closedloop.crm.models import Account, Lead
from closedloop.definitions.models import ContractVersion
from tests.factories import make_lead

pytestmark = pytest.mark.django_db


def send(api, method: str, path: str, text: str):
    call = getattr(api.client, method)
    return call(f"/api/v1{path}", text, content_type="application/json", headers=api._headers({}))


NOT_OBJECTS = ["[1,2]", "null", "42", '"hello"', "true"]


@pytest.mark.parametrize("text", NOT_OBJECTS)
@pytest.mark.parametrize("path", ["/leads", "/accounts", "/definitions/versions"])
def test_a_body_that_is_not_an_object_is_a_422_and_creates_nothing(api_as, ada, path, text):
    response = send(api_as(ada), "post", path, text)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body"
    assert "must be a JSON object" in response.json()["errors"][0]["problem"]
    assert not Lead.objects.exists() and not Account.objects.exists()
    assert not ContractVersion.objects.filter(status="draft").exists()


@pytest.mark.parametrize("text", NOT_OBJECTS)
def test_a_patch_that_is_not_an_object_is_a_422_and_changes_nothing(api_as, ada, text):
    lead = make_lead(email="a@acme.com", title="CTO")

    response = send(api_as(ada), "patch", f"/leads/{lead.pk}", text)

    assert response.status_code == 422
    lead.refresh_from_db()
    assert lead.title == "CTO"


@pytest.mark.parametrize(
    ("body", "field", "problem"),
    [
        ({"email": "a@acme.com", "employees": False}, "employees", "must be a number"),
        ({"email": "a@acme.com", "recycle_at": 0}, "recycle_at", "must be a date string"),
        ({"email": "a@acme.com", "first_name": "A\x00n"}, "first_name", "NUL"),
        ({"email": "a@acme.com", "account": True}, "account", "must be a number"),
    ],
)
def test_loose_json_types_are_a_422_naming_the_field(api_as, ada, body, field, problem):
    response = api_as(ada).post("/leads", body)

    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == field and problem in error["problem"]
    assert not Lead.objects.exists()


@pytest.mark.parametrize(
    "text",
    [
        '{"body": {"x": "a\\u0000b"}}',
        '{"body": {"x": ["\\ud800"]}}',
        '{"change_note": "a\\u0000"}',
    ],
)
def test_a_draft_body_postgresql_cannot_store_is_a_422(api_as, mia, text):
    response = send(api_as(mia), "post", "/definitions/versions", text)

    assert response.status_code == 422
    assert not ContractVersion.objects.filter(status="draft").exists()


def test_a_body_over_the_limit_is_a_413_in_the_error_shape(api_as, ada):
    text = json.dumps({"first_name": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})

    response = send(api_as(ada), "post", "/leads", text)

    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["errors"][0]["field"] == "body"
    assert not Lead.objects.exists()


def test_a_good_body_still_creates_the_lead(api_as, ada):
    response = api_as(ada).post("/leads", {"email": "a@acme.com", "employees": 12})

    assert response.status_code == 201
    assert Lead.objects.get().employees == 12
