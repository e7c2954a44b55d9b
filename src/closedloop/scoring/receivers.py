"""Scoring's listeners on domain events (connected in ScoringConfig.ready).

Each hands the work to a background task, enqueued after the sender's transaction commits,
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


def _touchpoints_storing(sender, payload=None, **kwargs) -> bool:
    """Queue the rescore inside the transaction that stores the touches when the task queue is
    this same database (it then commits with them); a broker backend (RQ) could run the task
    before that commit, so there it waits for `touchpoints_recorded`, after the commit."""
    from closedloop.scoring.tasks import rescore_touched_leads

    lead_ids = (payload or {}).get("lead_ids") or []
    backend = rescore_touched_leads.get_backend()
    if not lead_ids or not type(backend).__module__.startswith("django_tasks_db"):
        return False
    rescore_touched_leads.enqueue(lead_ids)
    return True


# Leads per rescoring task: an import announces thousands at a time, and smaller tasks let
# the worker interleave other work and report progress (rescore_leads takes any number).
RESCORE_BATCH = 5_000


def _imported(sender, payload=None, **kwargs):
    """Imported leads are scored like any other: those that meet the MQL rule become MQL (and
    are routed) without waiting for a touch or a full rescore."""
    from closedloop.scoring.tasks import rescore_touched_leads

    lead_ids = sorted({int(i) for i in (payload or {}).get("lead_ids", []) if i is not None})
    for start in range(0, len(lead_ids), RESCORE_BATCH):
        part = lead_ids[start : start + RESCORE_BATCH]
        transaction.on_commit(lambda part=part: rescore_touched_leads.enqueue(part))


def _reentered(sender, payload=None, **kwargs):
    """Recycled leads back at stage Lead: a rescore applies the MQL rule to them."""
    _imported(sender, payload=payload, **kwargs)


def _contract(sender, payload=None, **kwargs):
    from closedloop.scoring.tasks import rescore_everything

    version = (payload or {}).get("version")
    transaction.on_commit(lambda: rescore_everything.enqueue(f"contract v{version}"))


def connect() -> None:
    events.touchpoints_recorded.connect(_touchpoints, dispatch_uid="scoring-touchpoints")
    events.touchpoints_storing.connect(_touchpoints_storing, dispatch_uid="scoring-storing")
    events.contract_activated.connect(_contract, dispatch_uid="scoring-contract")
    events.leads_imported.connect(_imported, dispatch_uid="scoring-imported")
    events.leads_reentered.connect(_reentered, dispatch_uid="scoring-reentered")
