"""The campaigns API: marketing writes, everyone reads, refusals name the field."""

import pytest

from tests.api.conftest import problems

pytestmark = pytest.mark.django_db

WEBINAR = {"name": "Spring webinar", "type": "webinar", "channel": "web"}


def test_the_api_creates_lists_and_patches_campaigns(api_as, mia, alice):
    api = api_as(mia)
    body = {**WEBINAR, "starts_on": "2026-04-01", "ends_on": "2026-04-30", "cost": 3000}
    created = api.post("/campaigns", body)
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    patched = api.patch(f"/campaigns/{pk}", {"cost": 4500.5})
    assert patched.status_code == 200 and patched.json()["cost"] == "4500.50", patched.content
    listed = api_as(alice).get("/campaigns")
    assert [c["id"] for c in listed.json()["items"]] == [pk]
    assert api_as(alice).patch(f"/campaigns/{pk}", {"cost": 1}).status_code == 403
    assert api_as(alice).get("/campaigns/987654").status_code == 404


def test_the_api_refuses_an_end_before_the_start_naming_the_field(api_as, mia):
    body = {**WEBINAR, "starts_on": "2026-04-01", "ends_on": "2026-03-01", "cost": 1}
    response = api_as(mia).post("/campaigns", body)
    assert response.status_code == 422
    assert "ends_on" in problems(response)
