"""CLOSEDLOOP_TASK_BACKEND=rq: tasks go to Redis and `closedloop worker` runs them.

Runs in a subprocess because the backend is chosen when settings load."""

import os
import socket
import subprocess
import sys
import uuid

import pytest


def redis_is_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


SCRIPT = """
import os, django
os.environ["DJANGO_SETTINGS_MODULE"] = "closedloop.settings"
django.setup()
from django.core.management import call_command
from django_tasks import default_task_backend
from closedloop.scoring.tasks import rescore_everything
from closedloop.cli import app
call_command("migrate", verbosity=0)
result = rescore_everything.enqueue("rq test")
print("queued", result.backend, result.status)
from typer.testing import CliRunner
outcome = CliRunner().invoke(app, ["worker", "--batch", "-q", "scoring"])
assert outcome.exit_code == 0, outcome.output
result.refresh()
print("after", result.status, [e.traceback for e in result.errors])
"""


@pytest.mark.skipif(not redis_is_up(), reason="needs Redis on 127.0.0.1:6379")
def test_the_rq_backend_queues_in_redis_and_the_worker_runs_the_task(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOSEDLOOP_")}
    env.update(
        CLOSEDLOOP_DEBUG="1",
        CLOSEDLOOP_DATA_DIR=str(tmp_path),
        CLOSEDLOOP_TASK_BACKEND="rq",
        # A database of its own on the Redis server, so parallel runs do not see each other.
        CLOSEDLOOP_REDIS_URL=f"redis://127.0.0.1:6379/{9 + uuid.uuid4().int % 6}",
    )
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "queued default READY" in done.stdout
    assert "after SUCCESSFUL" in done.stdout
