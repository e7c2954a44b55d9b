"""Retention of raw touch properties: the touch stays, its raw payload goes after N days.

Touchpoints are by far the largest table, and most of their bytes are `properties`, the raw
fields a tracking client or an import sent (page URLs, user agents, form fields). Scores,
funnels and attribution read only the lead, type, time, channel, campaign and content, so
emptying `properties` after CLOSEDLOOP_TOUCH_PROPERTIES_RETENTION_DAYS keeps every count and
score while the table stops growing in bytes (docs/decisions/0014-privacy-backups-retention.md).
"""

from __future__ import annotations

import datetime
import gzip
import json
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from closedloop.core.audit import record_bulk
from closedloop.engagement.models import Touchpoint

BATCH = 10_000


def prune_touch_properties(
    *, older_than_days: int, archive: Path | None = None, now: datetime.datetime | None = None
) -> int:
    """Empty `properties` of touches that occurred more than `older_than_days` days ago.

    With `archive`, first append each emptied payload to that gzip JSON-lines file as
    {"id", "message_id", "occurred_at", "properties"}. Works in batches of BATCH rows, each in
    its own transaction, so a large backlog never holds the write lock for long. Returns how
    many touches were emptied.
    """
    if older_than_days < 1:
        raise ValueError("older_than_days must be at least 1")
    cutoff = (now or timezone.now()) - datetime.timedelta(days=older_than_days)
    total = 0
    while batch := _next_batch(cutoff):
        if archive is not None:
            _archive(archive, batch)
        with transaction.atomic():
            Touchpoint.objects.filter(pk__in=[row["id"] for row in batch]).update(properties={})
        total += len(batch)
    if total:
        record_bulk(
            Touchpoint,
            count=total,
            description=f"touch properties older than {cutoff:%Y-%m-%d} pruned",
        )
    return total


def _next_batch(cutoff: datetime.datetime) -> list[dict]:
    rows = (
        Touchpoint.objects.filter(occurred_at__lt=cutoff)
        .exclude(properties={})
        .order_by("occurred_at", "id")
        .values("id", "message_id", "occurred_at", "properties")[:BATCH]
    )
    return list(rows)


def _archive(path: Path, batch: list[dict]) -> None:
    with gzip.open(path, "at", encoding="utf-8") as stream:
        for row in batch:
            row = {**row, "occurred_at": row["occurred_at"].isoformat()}
            stream.write(json.dumps(row, ensure_ascii=False) + "\n")
