"""Browser tests: Debian's chromium (configured in tests/conftest.py) against a live server."""

from __future__ import annotations

import os

import pytest
from django.core.cache import cache


@pytest.fixture(scope="session", autouse=True)
def _allow_orm_beside_playwright():
    # Playwright's sync API keeps an event loop running in the test thread; the ORM calls that
    # set up and flush the data are synchronous and safe, but Django cannot tell and refuses
    # them. Set for the rest of the session (the flush runs after function fixtures unwind).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(autouse=True)
def _fresh_cache(transactional_db):
    # The home page caches its aggregates per visibility scope; each test starts cold.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="session")
def base_url():
    # pytest-playwright's fallback `base_url` is a method of a plugin object, which pytest 9
    # deprecates (an error here, warnings being errors). The tests use live_server.url instead.
    return None
