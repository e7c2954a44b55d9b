"""The shared cast (after healthchecks): Alice owns leads, Bob is on her team, Charlie is on
another team, Mia is marketing, Max manages Alice's team, Eve is an executive, Ada is admin."""

from __future__ import annotations

import sys

import pytest
from django.db import connection
from hypothesis import settings as hypothesis_settings

from closedloop.core.models import Role
from tests.factories import make_team, make_user

# Fixed examples (a seed derived from each test) and no per-example deadline: the suite runs on
# a shared machine where one slow example is load, not a bug.
hypothesis_settings.register_profile("closedloop", derandomize=True, deadline=None)
hypothesis_settings.load_profile("closedloop")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture
def east(db):
    return make_team("East")


@pytest.fixture
def west(db):
    return make_team("West")


@pytest.fixture
def alice(east):
    return make_user("alice@example.com", role=Role.REP, team=east, first_name="Alice")


@pytest.fixture
def bob(east):
    return make_user("bob@example.com", role=Role.REP, team=east, first_name="Bob")


@pytest.fixture
def charlie(west):
    return make_user("charlie@example.com", role=Role.REP, team=west, first_name="Charlie")


@pytest.fixture
def mia(db):
    return make_user("mia@example.com", role=Role.MARKETING, first_name="Mia")


@pytest.fixture
def max_manager(east):
    return make_user("max@example.com", role=Role.MANAGER, team=east, first_name="Max")


@pytest.fixture
def eve(db):
    return make_user("eve@example.com", role=Role.EXECUTIVE, first_name="Eve")


@pytest.fixture
def ada(db):
    return make_user(
        "ada@example.com", role=Role.ADMIN, first_name="Ada", is_staff=True, is_superuser=True
    )


@pytest.fixture(scope="session", autouse=True)
def _close_sessions_left_open(django_db_setup, django_db_blocker):
    """PostgreSQL cannot drop the test database while a session is connected to it.

    A thread that forgot to close its connection (live servers, background refreshes) would
    fail the whole run at teardown; name such sessions on stderr, then end them.
    """
    yield
    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, state, left(query, 120) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        for pid, state, query in cursor.fetchall():
            print(f"closing a session left open: pid {pid} ({state}): {query}", file=sys.stderr)
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.fixture
def postgres_only(db):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: run with CLOSEDLOOP_DATABASE_URL=postgres://...")


# Playwright: Debian's chromium, never a downloaded browser (it cannot download here).
@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": CHROMIUM_ARGS,
        "headless": True,
    }
