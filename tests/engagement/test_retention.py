"""Old raw touch properties are emptied; the touches, scores and counts stay."""

import gzip
import json
from datetime import timedelta

import pytest
from django.utils import timezone
from typer.testing import CliRunner

from closedloop.cli import app
from closedloop.core.models import AuditEntry
from closedloop.engagement.models import Touchpoint, TouchpointType
from closedloop.engagement.retention import prune_touch_properties
from closedloop.engagement.tasks import prune_touch_properties_daily
from closedloop.scoring.services import rescore_leads
from tests.factories import make_lead

pytestmark = pytest.mark.django_db


def touch(lead, *, days_ago: int, n: int, **properties) -> Touchpoint:
    return Touchpoint.objects.create(
        lead=lead,
        type=TouchpointType.PAGE_VIEW if n % 2 else TouchpointType.EMAIL_CLICK,
        occurred_at=timezone.now() - timedelta(days=days_ago),
        properties={"url": f"https://example.com/page/{n}", **properties},
        message_id=f"m-{lead.pk}-{n}",
    )


@pytest.fixture
def touched_lead():
    lead = make_lead(email="pat@example.com")
    for n in range(6):
        touch(lead, days_ago=200 + n, n=n, email="pat@example.com")
    for n in range(6, 9):
        touch(lead, days_ago=5, n=n)
    rescore_leads([lead.pk])
    lead.refresh_from_db()
    return lead


def test_pruning_empties_only_old_properties_and_keeps_every_touch_and_score(touched_lead):
    before = list(Touchpoint.objects.order_by("id").values_list("id", "type", "occurred_at"))
    score = (touched_lead.engagement_score, touched_lead.score)
    assert prune_touch_properties(older_than_days=90) == 6
    after = list(Touchpoint.objects.order_by("id").values_list("id", "type", "occurred_at"))
    assert after == before
    old = Touchpoint.objects.filter(occurred_at__lt=timezone.now() - timedelta(days=90))
    assert list(old.values_list("properties", flat=True)) == [{}] * 6
    recent = Touchpoint.objects.filter(occurred_at__gte=timezone.now() - timedelta(days=90))
    assert all(p["url"] for p in recent.values_list("properties", flat=True))
    rescore_leads([touched_lead.pk])
    touched_lead.refresh_from_db()
    assert (touched_lead.engagement_score, touched_lead.score) == score
    assert AuditEntry.objects.filter(model="engagement.touchpoint", changes={"rows": 6}).exists()


def test_pruning_again_finds_nothing_left(touched_lead):
    prune_touch_properties(older_than_days=90)
    assert prune_touch_properties(older_than_days=90) == 0


def test_the_archive_keeps_what_was_emptied(touched_lead, tmp_path, monkeypatch):
    monkeypatch.setattr("closedloop.engagement.retention.BATCH", 4)  # two batches
    archive = tmp_path / "touches.jsonl.gz"
    assert prune_touch_properties(older_than_days=90, archive=archive) == 6
    with gzip.open(archive, "rt") as stream:
        rows = [json.loads(line) for line in stream]
    assert len(rows) == 6
    assert {row["properties"]["email"] for row in rows} == {"pat@example.com"}


def test_the_daily_task_follows_the_setting(touched_lead, settings):
    settings.TOUCH_PROPERTIES_RETENTION_DAYS = 0
    assert prune_touch_properties_daily.call() == 0
    settings.TOUCH_PROPERTIES_RETENTION_DAYS = 30
    assert prune_touch_properties_daily.call() == 6


def test_the_cli_prunes_and_reports_json(touched_lead):
    result = CliRunner().invoke(app, ["touches", "prune", "--older-than-days", "90"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"pruned": 6, "older_than_days": 90}


def test_the_cli_without_a_retention_explains_itself(db):
    result = CliRunner().invoke(app, ["touches", "prune"])
    assert result.exit_code != 0
    assert "--older-than-days" in result.output


def test_the_worker_schedules_the_daily_pruning():
    from closedloop.core.schedule import PERIODIC

    assert "closedloop.engagement.tasks.prune_touch_properties_daily" in {
        p.task_path for p in PERIODIC
    }
