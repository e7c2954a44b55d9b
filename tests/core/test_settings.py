"""Settings come from CLOSEDLOOP_* variables; run in a subprocess so each sees a clean env."""

import os
import socket
import subprocess
import sys

import pytest

BASE_ENV = {k: v for k, v in os.environ.items() if not k.startswith("CLOSEDLOOP_")}


def run_closedloop(args, tmp_path, **env):
    full_env = {**BASE_ENV, "CLOSEDLOOP_DATA_DIR": str(tmp_path), **env}
    full_env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "-m", "closedloop.cli", *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_default_secret_key_is_refused_outside_debug(tmp_path):
    result = run_closedloop(["check"], tmp_path)
    assert result.returncode != 0
    assert "CLOSEDLOOP_SECRET_KEY" in result.stderr


def test_debug_runs_without_a_secret_key(tmp_path):
    result = run_closedloop(["check"], tmp_path, CLOSEDLOOP_DEBUG="1")
    assert result.returncode == 0, result.stderr


def test_the_secret_key_can_come_from_a_file(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text("k" * 60)
    result = run_closedloop(["check"], tmp_path, CLOSEDLOOP_SECRET_KEY_FILE=str(key_file))
    assert result.returncode == 0, result.stderr


def test_check_deploy_passes_in_the_production_profile(tmp_path):
    result = run_closedloop(
        ["check", "--deploy"],
        tmp_path,
        CLOSEDLOOP_SECRET_KEY="a-long-random-production-secret-" + "q8Z3xK1p" * 6,
        CLOSEDLOOP_SECURE="1",
        CLOSEDLOOP_TRUSTED_PROXY="10.0.0.2",
        CLOSEDLOOP_ALLOWED_HOSTS="closedloop.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Ready to deploy" in result.stdout


def test_check_deploy_lists_its_warnings_without_a_traceback(tmp_path):
    result = run_closedloop(["check", "--deploy"], tmp_path, CLOSEDLOOP_SECRET_KEY="short")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0].endswith("problem(s) found:")
    assert any(line.startswith("1. [security.") for line in lines)
    assert "[security.W009]" in result.stderr  # the short secret key


def test_check_deploy_catches_https_that_would_redirect_forever_behind_a_proxy(tmp_path):
    result = run_closedloop(
        ["check", "--deploy"],
        tmp_path,
        CLOSEDLOOP_SECRET_KEY="a-long-random-production-secret-" + "q8Z3xK1p" * 6,
        CLOSEDLOOP_SECURE="1",
    )
    assert result.returncode == 1
    assert "[closedloop.W001]" in result.stderr
    assert "CLOSEDLOOP_TRUSTED_PROXY" in result.stderr


def test_an_unknown_trusted_proxy_header_is_refused(tmp_path):
    result = run_closedloop(
        ["check"], tmp_path, CLOSEDLOOP_DEBUG="1", CLOSEDLOOP_TRUSTED_PROXY_HEADERS="x-real-ip"
    )
    assert result.returncode != 0
    assert "CLOSEDLOOP_TRUSTED_PROXY_HEADERS" in result.stderr


def test_check_deploy_fails_without_https_hardening(tmp_path):
    result = run_closedloop(
        ["check", "--deploy"],
        tmp_path,
        CLOSEDLOOP_SECRET_KEY="a-long-random-production-secret-" + "q8Z3xK1p" * 6,
    )
    assert result.returncode != 0


def test_a_bad_boolean_setting_fails_loudly(tmp_path):
    result = run_closedloop(["check"], tmp_path, CLOSEDLOOP_DEBUG="maybe")
    assert result.returncode != 0
    assert "CLOSEDLOOP_DEBUG" in result.stderr


def test_an_unknown_task_backend_is_refused(tmp_path):
    result = run_closedloop(
        ["check"], tmp_path, CLOSEDLOOP_DEBUG="1", CLOSEDLOOP_TASK_BACKEND="carrier-pigeon"
    )
    assert result.returncode != 0
    assert "CLOSEDLOOP_TASK_BACKEND" in result.stderr


SHARED_CACHE_SCRIPT = """
import os, sys, django
os.environ["DJANGO_SETTINGS_MODULE"] = "closedloop.settings"
django.setup()
from django.core.cache import cache
if sys.argv[1] == "set":
    cache.set("closedloop-test-shared", "seen by another process", 60)
else:
    print(cache.get("closedloop-test-shared"))
"""


def test_a_redis_cache_url_shares_the_cache_between_processes(tmp_path):
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        pytest.skip("needs Redis on 127.0.0.1:6379")
    env = {
        **BASE_ENV,
        "CLOSEDLOOP_DEBUG": "1",
        "CLOSEDLOOP_DATA_DIR": str(tmp_path),
        "CLOSEDLOOP_CACHE_URL": "redis://127.0.0.1:6379/15",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    for step in ("set", "get"):
        done = subprocess.run(
            [sys.executable, "-c", SHARED_CACHE_SCRIPT, step],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "seen by another process"


def test_a_cache_url_that_is_not_redis_is_refused(tmp_path):
    result = run_closedloop(
        ["check"], tmp_path, CLOSEDLOOP_DEBUG="1", CLOSEDLOOP_CACHE_URL="memcached://x"
    )
    assert result.returncode != 0
    assert "CLOSEDLOOP_CACHE_URL" in result.stderr


@pytest.mark.django_db
def test_sqlite_connections_are_durable_wal_with_a_long_checkpoint_interval():
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite pragmas")
    with connection.cursor() as cursor:
        values = [cursor.execute(f"PRAGMA {name}").fetchone()[0] for name in _PRAGMAS]
    assert values == ["wal", 2, 10000]  # synchronous 2 is FULL: a commit survives a crash


_PRAGMAS = ("journal_mode", "synchronous", "wal_autocheckpoint")


def test_a_default_currency_that_is_not_iso_4217_is_refused(tmp_path):
    result = run_closedloop(["check"], tmp_path, CLOSEDLOOP_DEBUG="1", CLOSEDLOOP_CURRENCY="EURO")
    assert result.returncode != 0
    assert "CLOSEDLOOP_CURRENCY must be an ISO 4217 code" in result.stderr
