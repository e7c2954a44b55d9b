"""Open deals in bulk for `bench pages`: top a loaded database up to N open opportunities.

Runs inside a process whose Django settings point at the benchmark's data directory. The rows
go through the bulk column writer the demo loader uses (`closedloop.core.db.columns`), in one
transaction: deals on random existing accounts, owned by the reps, spread over the open
pipeline stages (more early than late), created in the last four months, closing within the
next four, with amounts by company size as the demo draws them.
"""

from __future__ import annotations

import time

import numpy as np

DAY = 86_400
STAGE_SHARE = (0.45, 0.33, 0.22)  # early stages hold more deals than late ones


def top_up_open_opportunities(target: int, *, seed: int) -> dict:
    """Write open deals until `target` are open; returns {"written", "seconds"}."""
    import django

    django.setup()
    from django.db import transaction

    from closedloop.core.db import columns as bulk
    from closedloop.core.db.vendor import refresh_statistics
    from closedloop.crm.models import Opportunity, OpportunityStage

    started = time.perf_counter()
    closed = (OpportunityStage.WON, OpportunityStage.LOST)
    missing = target - Opportunity.objects.exclude(stage__in=closed).count()
    if missing <= 0:
        return {"written": 0, "seconds": 0.0}
    rng = np.random.default_rng(seed)
    with bulk.fast_load(), transaction.atomic():
        bulk.write_columns(Opportunity, _columns(rng, missing))
        bulk.reset_sequences([Opportunity])
    refresh_statistics()
    return {"written": missing, "seconds": round(time.perf_counter() - started, 1)}


def _columns(rng, count: int) -> dict[str, np.ndarray]:
    from django.db.models import Max

    from closedloop.core.models import Role, User
    from closedloop.crm.models import Account, Opportunity, OpportunityStage

    accounts = list(Account.objects.values_list("pk", "name", "employees"))
    reps = np.array(User.objects.filter(role=Role.REP).values_list("pk", flat=True))
    pick = rng.integers(0, len(accounts), count)
    ids, names, employees = (np.array(c, dtype=object)[pick] for c in zip(*accounts, strict=True))
    now = int(time.time()) // DAY * DAY
    created = now - rng.integers(1, 120 * DAY, count)
    open_stages = [s for s in OpportunityStage.values if s not in ("won", "lost")]
    stage = np.array(open_stages, dtype=object)[
        rng.choice(len(open_stages), count, p=_shares(len(open_stages)))
    ]
    size = np.maximum(np.array([e or 50 for e in employees], dtype=float), 1)
    first = (Opportunity.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
    columns = {
        "id": np.arange(first, first + count),
        "version": np.ones(count, dtype=np.int64),
        "created_at": created,
        "updated_at": created,
        "account_id": ids.astype(np.int64),
        "name": np.strings.add(names.astype(str), " – Expansion").astype(object),
        "amount": (6000 * (size / 50) ** 0.45 * rng.lognormal(0, 0.35, count)).round(-2),
        "stage": stage,
        "close_date": now + rng.integers(7, 120, count) * DAY,
        "owner_id": reps[rng.integers(0, len(reps), count)],
        "campaign_id": np.full(count, -1),
    }
    attnames = {f.attname for f in Opportunity._meta.concrete_fields}
    if "stage_entered_at" in attnames:  # the pipeline's days-in-stage
        columns["stage_entered_at"] = np.minimum(created + rng.integers(0, 20 * DAY, count), now)
    return columns


def _shares(n: int) -> np.ndarray:
    shares = np.array(STAGE_SHARE[:n] if n <= len(STAGE_SHARE) else [1.0] * n, dtype=float)
    return shares / shares.sum()
