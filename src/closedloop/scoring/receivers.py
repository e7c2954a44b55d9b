"""Scoring's listeners on domain events (connected in ScoringConfig.ready).

Both hand the work to a background task, enqueued after the sender's transaction commits,
so a request that records a touch or activates a contract never waits for scoring.
"""

from __future__ import annotations

from django.db import transaction

from closedloop.core import events


def _touchpoints(sender, payload=None, **kwargs):
    from closedloop.scoring.tasks import rescore_touched_leads

    if (payload or {}).get("rescore_queued"):
        return  # the sender queued the task in the transaction that stored the touches
    lead_ids = sorted({int(i) for i in (payload or {}).get("lead_ids", []) if i is not None})
    if lead_ids:
        transaction.on_commit(lambda: rescore_touched_leads.enqueue(lead_ids))


def _contract(sender, payload=None, **kwargs):
    from closedloop.scoring.tasks import rescore_everything

    version = (payload or {}).get("version")
    transaction.on_commit(lambda: rescore_everything.enqueue(f"contract v{version}"))


def connect() -> None:
    events.touchpoints_recorded.connect(_touchpoints, dispatch_uid="scoring-touchpoints")
    events.contract_activated.connect(_contract, dispatch_uid="scoring-contract")
