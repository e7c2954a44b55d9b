"""The definitions API: read, draft, edit, sign, diff and simulate with a bearer token."""

import json

import pytest
from django.test import Client

from closedloop.core.services import create_api_token
from closedloop.definitions.models import ContractStatus, ContractVersion


class Api:
    def __init__(self, user):
        self.secret = create_api_token(user=user, name="test")[1]
        self.client = Client()

    def call(self, method: str, path: str, body=None, params=None):
        headers = {"Authorization": f"Bearer {self.secret}"}
        if body is None:
            return getattr(self.client, method)(f"/api/v1{path}", params or {}, headers=headers)
        return getattr(self.client, method)(
            f"/api/v1{path}", json.dumps(body), content_type="application/json", headers=headers
        )


@pytest.fixture
def as_user():
    return Api


def problems(response) -> dict:
    return {e["field"]: e["problem"] for e in response.json()["errors"]}


def test_anyone_with_a_token_reads_the_contract_in_force(as_user, eve):
    response = as_user(eve).call("get", "/definitions/active")
    assert response.status_code == 200
    data = response.json()
    assert data["number"] == 1 and data["status"] == "active" and data["author"] is None
    assert data["body"]["mql_rule"] == {"min_engagement": 40, "min_fit_grade": "B-"}
    assert data["unsigned_sides"] == ["marketing", "sales"]


def test_without_a_token_the_api_answers_401(client):
    assert client.get("/api/v1/definitions/active").status_code == 401


def test_draft_edit_sign_and_activate_through_the_api(as_user, mia, alice):
    marketing, sales = as_user(mia), as_user(alice)
    created = marketing.call("post", "/definitions/versions", {"change_note": "lower the bar"})
    assert created.status_code == 201
    number = created.json()["number"]
    body = created.json()["body"]
    body["mql_rule"]["min_engagement"] = 30
    edited = marketing.call("patch", f"/definitions/versions/{number}", {"body": body})
    assert edited.status_code == 200 and edited.json()["body"]["mql_rule"]["min_engagement"] == 30

    first = marketing.call("post", f"/definitions/versions/{number}/signoffs", {})
    assert first.status_code == 201 and first.json()["status"] == "draft"
    assert first.json()["unsigned_sides"] == ["sales"]
    second = sales.call("post", f"/definitions/versions/{number}/signoffs", {})
    assert second.status_code == 201 and second.json()["status"] == "active"
    assert [s["user"] for s in second.json()["signoffs"]] == [
        "mia@example.com",
        "alice@example.com",
    ]
    assert sales.call("get", "/definitions/active").json()["number"] == number

    listed = sales.call("get", "/definitions/versions").json()
    assert [(v["number"], v["status"]) for v in listed] == [(number, "active"), (1, "superseded")]


def test_an_invalid_body_is_a_422_naming_each_field(as_user, mia):
    api = as_user(mia)
    body = api.call("get", "/definitions/active").json()["body"]
    body["mql_rule"]["min_fit_grade"] = "Q"
    body["sla"]["first_touch_minutes"] = -5
    body["icp"][0]["field"] = "favourite_colour"
    response = api.call("post", "/definitions/versions", {"body": body})
    assert response.status_code == 422
    found = problems(response)
    assert set(found) == {
        "body.mql_rule.min_fit_grade",
        "body.sla.first_touch_minutes",
        "body.icp.0.field",
    }
    assert found["body.sla.first_touch_minutes"] == "cannot be below 1 (got -5)"
    assert ContractVersion.objects.count() == 1


def test_a_body_of_the_wrong_type_is_a_422_from_the_schema(as_user, mia):
    response = as_user(mia).call("post", "/definitions/versions", {"body": "lower it"})
    assert response.status_code == 422 and "body" in problems(response)


def test_signing_twice_or_a_superseded_version_is_a_409(as_user, mia, alice, bob):
    draft = as_user(mia).call("post", "/definitions/versions", {}).json()["number"]
    as_user(mia).call("post", f"/definitions/versions/{draft}/signoffs", {})
    again = as_user(mia).call("post", f"/definitions/versions/{draft}/signoffs", {})
    assert again.status_code == 409 and "already signed" in problems(again)["status"]
    as_user(alice).call("post", f"/definitions/versions/{draft}/signoffs", {})
    old = as_user(bob).call("post", "/definitions/versions/1/signoffs", {})
    assert old.status_code == 409 and "superseded" in problems(old)["status"]


def test_executives_and_admins_cannot_sign_and_executives_cannot_draft(as_user, mia, eve, ada):
    assert as_user(eve).call("post", "/definitions/versions", {}).status_code == 403
    draft = as_user(mia).call("post", "/definitions/versions", {}).json()["number"]
    for user in (eve, ada):
        response = as_user(user).call("post", f"/definitions/versions/{draft}/signoffs", {})
        assert response.status_code == 403
    assert ContractVersion.objects.get(number=draft).status == ContractStatus.DRAFT


def test_only_the_author_edits_a_draft(as_user, mia, alice):
    draft = as_user(mia).call("post", "/definitions/versions", {}).json()["number"]
    response = as_user(alice).call(
        "patch", f"/definitions/versions/{draft}", {"change_note": "mine"}
    )
    assert response.status_code == 403


def test_an_unknown_version_is_a_404_naming_it(as_user, eve):
    response = as_user(eve).call("get", "/definitions/versions/99")
    assert response.status_code == 404 and problems(response) == {
        "number": "no contract version with id 99"
    }


def test_the_diff_endpoint_lists_readable_changes(as_user, mia, eve):
    api = as_user(mia)
    body = api.call("get", "/definitions/active").json()["body"]
    body["mql_rule"]["min_engagement"] = 50
    draft = api.call("post", "/definitions/versions", {"body": body}).json()["number"]
    response = as_user(eve).call("get", "/definitions/diff", params={"from": 1, "to": draft})
    assert response.status_code == 200
    assert response.json()["changes"] == [
        {
            "section": "MQL rule",
            "kind": "changed",
            "text": "MQL minimum engagement 40 → 50",
            "path": "mql_rule.min_engagement",
        }
    ]
    missing = as_user(eve).call("get", "/definitions/diff", params={"from": 1, "to": 42})
    assert missing.status_code == 404 and "to" in problems(missing)


def test_the_simulation_endpoint_compares_with_the_contract_in_force(as_user, mia):
    api = as_user(mia)
    draft = api.call("post", "/definitions/versions", {}).json()["number"]
    response = api.call("get", f"/definitions/versions/{draft}/simulation")
    assert response.status_code == 200
    data = response.json()
    assert data["candidate"]["version"] == draft and data["active"]["version"] == 1
    assert len(data["weeks"]) == 13 and len(data["candidate"]["mqls_per_week"]) == 13
