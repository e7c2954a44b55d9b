"""Scheduled retraining: one weekly retraining waits in the database queue, never two."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from closedloop.scoring.tasks import RETRAIN_EVERY, ensure_retrain_scheduled, retrain_model

DATABASE_QUEUE = {
    "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "scoring"]}
}


@pytest.mark.django_db
@override_settings(TASKS=DATABASE_QUEUE)
def test_the_worker_queues_one_weekly_retraining_and_not_a_second():
    from django_tasks_db.models import DBTaskResult

    assert ensure_retrain_scheduled() is True
    assert ensure_retrain_scheduled() is False
    waiting = DBTaskResult.objects.get(task_path=retrain_model.module_path)
    assert waiting.run_after > timezone.now() + RETRAIN_EVERY - timedelta(minutes=1)
    assert waiting.queue_name == "scoring"


@pytest.mark.django_db
def test_a_scheduled_retraining_without_enough_history_says_so_and_keeps_the_rules():
    result = retrain_model.call(False, "test")
    assert "the model needs 1000" in result["skipped"]


@pytest.mark.django_db
@override_settings(TASKS=DATABASE_QUEUE)
def test_a_scheduled_retraining_queues_the_next_one():
    from django_tasks_db.models import DBTaskResult

    retrain_model.call(True, "schedule")
    assert DBTaskResult.objects.filter(task_path=retrain_model.module_path).count() == 1
