import datetime

import pytest
import time_machine
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from closedloop.core.ratelimit import Rate, hit, parse_rate
from tests.api.conftest import problems

START = datetime.datetime(2026, 3, 2, 9, 0, 10, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def test_rates_are_read_from_the_usual_spellings():
    assert parse_rate("600/min") == Rate(600, 60)
    assert parse_rate("10/s") == Rate(10, 1)
    assert parse_rate("100/10s") == Rate(100, 10)
    assert parse_rate("5000/hour") == Rate(5000, 3600)
    assert parse_rate("off") is None
    with pytest.raises(ImproperlyConfigured):
        parse_rate("lots")


def test_the_window_allows_the_limit_and_then_refuses_until_it_resets():
    rate = Rate(2, 60)
    t = START.timestamp()
    assert [hit("k", rate, now=t).allowed for _ in range(3)] == [True, True, False]
    refused = hit("k", rate, now=t)
    assert refused.remaining == 0 and refused.retry_after == 50
    assert hit("k", rate, now=t + 50).allowed  # the next window


def test_every_api_response_carries_the_remaining_quota(api_as, mia, settings):
    settings.API_RATE_LIMIT = "5/min"
    api = api_as(mia)
    with time_machine.travel(START, tick=False):
        first, second = api.get("/leads"), api.get("/leads/999")
    assert first["X-RateLimit-Limit"] == "5"
    assert (first["X-RateLimit-Remaining"], second["X-RateLimit-Remaining"]) == ("4", "3")
    assert second.status_code == 404  # errors count and carry the headers too
    assert first["X-RateLimit-Reset"] == str(int(START.timestamp()) + 50)


def test_over_the_limit_a_token_gets_429_with_retry_after(api_as, mia, settings):
    settings.API_RATE_LIMIT = "3/min"
    api = api_as(mia)
    with time_machine.travel(START, tick=False):
        statuses = [api.get("/leads").status_code for _ in range(4)]
        refused = api.get("/leads")
    assert statuses == [200, 200, 200, 429]
    assert refused["Retry-After"] == "50" and refused["X-RateLimit-Remaining"] == "0"
    assert "rate limit" in problems(refused)["Authorization"]
    with time_machine.travel(START + datetime.timedelta(seconds=50), tick=False):
        assert api.get("/leads").status_code == 200


def test_each_token_has_its_own_quota(api_as, mia, alice, settings):
    settings.API_RATE_LIMIT = "1/min"
    busy, other = api_as(mia), api_as(alice)
    with time_machine.travel(START, tick=False):
        assert busy.get("/leads").status_code == 200
        assert busy.get("/leads").status_code == 429
        assert other.get("/leads").status_code == 200


def test_pages_outside_the_api_are_not_limited(client, alice, settings):
    settings.API_RATE_LIMIT = "1/min"
    client.force_login(alice)
    for _ in range(3):
        response = client.get("/tokens/")
        assert response.status_code == 200 and "X-RateLimit-Limit" not in response
