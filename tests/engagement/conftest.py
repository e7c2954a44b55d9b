"""Helpers for the tracking tests: a source with its write key, and a Segment-style client."""

from __future__ import annotations

import base64
import gzip
import json

import pytest
from django.db import connections

from closedloop.engagement.tracking import create_source, forget_cached_sources


@pytest.fixture(autouse=True)
def _fresh_source_cache():
    # Sources are cached per process for a few seconds; each test starts from its own database.
    forget_cached_sources()
    yield
    forget_cached_sources()


@pytest.fixture
def write_key(db) -> str:
    return create_source(name="Website")[1]


def basic_auth(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


def send(client, path: str, body, *, key: str | None = None, compress: bool = False, raw=None):
    """POST `body` as JSON the way Segment's libraries do (basic auth, optionally gzip)."""
    data = raw if raw is not None else json.dumps(body).encode()
    headers = {}
    if key is not None:
        headers["Authorization"] = basic_auth(key)
    if compress:
        data = gzip.compress(data)
        headers["Content-Encoding"] = "gzip"
    return client.post(path, data=data, content_type="application/json", headers=headers)


@pytest.fixture
def tracking_server(live_server):
    """The live server, with connections closed after each request: the server's threads
    would otherwise keep PostgreSQL sessions open (CONN_MAX_AGE) and the test database could
    not be dropped."""
    settings_dict = connections["default"].settings_dict
    before = settings_dict.get("CONN_MAX_AGE", 0)
    settings_dict["CONN_MAX_AGE"] = 0
    yield live_server
    settings_dict["CONN_MAX_AGE"] = before
