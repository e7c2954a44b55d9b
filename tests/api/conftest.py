"""An API client per member of the shared cast, each with a freshly created token."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from closedloop.core.services import create_api_token


class Api:
    """Calls /api/v1 with one user's bearer token, as an HTTP client would."""

    def __init__(self, secret: str):
        self.secret = secret
        self.client = Client()

    def _headers(self, headers: dict | None) -> dict:
        return {"Authorization": f"Bearer {self.secret}", **(headers or {})}

    def get(self, path: str, params: dict | None = None, **headers):
        return self.client.get(f"/api/v1{path}", params or {}, headers=self._headers(headers))

    def post(self, path: str, body, **headers):
        return self.client.post(
            f"/api/v1{path}",
            json.dumps(body),
            content_type="application/json",
            headers=self._headers(headers),
        )

    def patch(self, path: str, body, **headers):
        return self.client.patch(
            f"/api/v1{path}",
            json.dumps(body),
            content_type="application/json",
            headers=self._headers(headers),
        )


@pytest.fixture
def api_as():
    def make(user) -> Api:
        return Api(create_api_token(user=user, name="tests")[1])

    return make


def problems(response) -> dict[str, str]:
    """The standard error body as {field: problem}."""
    body = response.json()
    assert set(body) == {"errors"}, body
    return {e["field"]: e["problem"] for e in body["errors"]}
