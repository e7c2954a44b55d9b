from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from closedloop.core.schedule import PERIODIC, start_periodic_tasks

DATABASE_TASKS = {
    "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "scoring"]}
}


@override_settings(TASKS=DATABASE_TASKS)
def test_the_worker_start_queues_each_periodic_task_once(db):
    assert len(start_periodic_tasks()) == len(PERIODIC)
    assert start_periodic_tasks() == []  # a restarted worker adds no copies
    waiting = DBTaskResult.objects.filter(status="READY")
    assert sorted(waiting.values_list("task_path", flat=True)) == sorted(
        p.task_path for p in PERIODIC
    )
    assert all(row.run_after is not None for row in waiting)


def test_in_process_tasks_have_nothing_to_schedule(db):
    assert start_periodic_tasks() == []
