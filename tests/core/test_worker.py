from django.test import override_settings
from django_tasks import task
from django_tasks_db.models import DBTaskResult
from typer.testing import CliRunner

from closedloop.cli import app

DATABASE_TASKS = {
    "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "scoring"]}
}
calls: list[int] = []


@task()
def remember(value: int) -> int:
    calls.append(value)
    return value * 2


@override_settings(TASKS=DATABASE_TASKS)
def test_the_worker_runs_tasks_queued_in_the_database(transactional_db):
    calls.clear()
    result = remember.enqueue(21)
    assert calls == []  # queued, not run in the caller
    outcome = CliRunner().invoke(app, ["worker", "--batch"])
    assert outcome.exit_code == 0, outcome.output
    assert calls == [21]
    assert DBTaskResult.objects.get(id=result.id).status == "SUCCESSFUL"
