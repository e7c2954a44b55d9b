"""List endpoints run a fixed number of queries whatever the page size (no N+1)."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from closedloop.engagement.models import Touchpoint
from tests.factories import make_account, make_lead, make_opportunity


def _queries(api, path: str, **params) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = api.get(path, params)
    assert response.status_code == 200, response.content
    return len(captured)


def test_listing_any_number_of_rows_costs_the_same_queries(api_as, alice):
    api = api_as(alice)
    api.get("/leads")  # the token's first use records last_used_at
    api.get("/opportunities")  # the first read of the contract (probabilities) installs it
    few = {
        p: _queries(api, p, limit=2)
        for p in ("/leads", "/accounts", "/opportunities", "/touchpoints")
    }
    for _ in range(12):
        account = make_account()
        lead = make_lead(owner=alice, account=account)
        make_opportunity(account=account, owner=alice)
        Touchpoint.objects.create(lead=lead, type="form", occurred_at=timezone.now())
    many = {p: _queries(api, p, limit=50) for p in few}
    assert many == few
    assert max(many.values()) <= 3  # token lookup, then the page
