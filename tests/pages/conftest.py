"""Page tests: a logged-in browser-less client per member of the shared cast."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client


@pytest.fixture(autouse=True)
def fresh_dashboard_cache():
    # The home page caches its aggregates per visibility scope; each test starts cold.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client_as():
    def login(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return login
