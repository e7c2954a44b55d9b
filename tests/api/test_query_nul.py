"""A NUL character in any query parameter of any GET operation is a 4xx naming the parameter
or an empty result, never a 500 (PostgreSQL refuses NUL in text: a filter that reaches the
database with one fails the query). The operations and their parameters are read from the
OpenAPI document, so a new filter is covered from its first line. CI runs this on SQLite and
on PostgreSQL."""

from __future__ import annotations

from collections import defaultdict

import pytest

from closedloop.api import api
from closedloop.webhooks.models import Endpoint
from tests.factories import make_account, make_lead, make_opportunity

pytestmark = pytest.mark.django_db

NUL_VALUES = ("a\x00b", "\x00")


def get_operations() -> list[tuple[str, list[str]]]:
    """(path, query parameter names) of every GET operation that takes query parameters."""
    found = []
    for path, operations in api.get_openapi_schema()["paths"].items():
        get = operations.get("get")
        names = [p["name"] for p in (get or {}).get("parameters", []) if p["in"] == "query"]
        if names:
            found.append((path.removeprefix("/api/v1"), names))
    return found


OPERATIONS = get_operations()


def test_the_operations_were_found():
    paths = {path for path, _ in OPERATIONS}
    assert {"/leads", "/accounts", "/opportunities", "/touchpoints"} <= paths


@pytest.fixture
def records(alice):
    lead = make_lead(owner=alice)
    make_opportunity(owner=alice, account=make_account())
    endpoint = Endpoint.objects.create(url="https://hooks.example.com/x", events=["lead.mql"])
    return {"endpoint_id": endpoint.pk, "lead_id": lead.pk}


@pytest.mark.parametrize(("path", "names"), OPERATIONS, ids=[p for p, _ in OPERATIONS])
def test_a_nul_in_any_query_parameter_is_never_a_server_error(api_as, ada, records, path, names):
    client = api_as(ada)
    # An id of a kind not made above names no record: a 404 before the query is read, which
    # the test accepts; give the new kind a record in `records` to cover its parameters.
    url = path.format_map(defaultdict(lambda: 1, records))
    for name in names:
        for value in NUL_VALUES:
            response = client.get(url, {name: value})
            assert response.status_code < 500, (name, value, response.content[:500])
            if response.status_code == 422:
                fields = [e["field"] for e in response.json()["errors"]]
                assert any(name in field for field in fields), (name, fields)
