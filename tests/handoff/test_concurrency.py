"""50 assigners at once over 10,000 leads: never two owners, round-robin within ±1.

Each thread has its own database connection (closed at the end of the thread). On PostgreSQL
the batches skip each other's locked rows; on SQLite the IMMEDIATE transactions queue.
"""

import threading

import pytest
from django.db import connection, connections
from django.db.models import Count
from django.utils import timezone

from closedloop.core.models import Role
from closedloop.crm.models import Lead, LifecycleStage
from closedloop.handoff import engine
from closedloop.handoff.models import Assignment, RoutingRule
from closedloop.handoff.routing import assign_leads
from tests.factories import make_team, make_user

LEADS = 10_000
WORKERS = 50


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_assigners_never_give_a_lead_two_owners():
    team = make_team("Inside sales")
    reps = [make_user(f"rep{i}@example.com", role=Role.REP, team=team) for i in range(7)]
    RoutingRule.objects.create(name="Everyone", team=team)
    now = timezone.now()
    Lead.objects.bulk_create(
        Lead(
            email=f"l{i}@example.com",
            lifecycle_stage=LifecycleStage.MQL,
            created_at=now,
            mql_at=now,
        )
        for i in range(LEADS)
    )
    errors, counts = [], []
    start = threading.Barrier(WORKERS)

    def worker():
        try:
            start.wait()
            counts.append(assign_leads(batch_size=100))
        except Exception as exc:  # reported below: a thread's failure must fail the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(counts) == LEADS  # every lead assigned exactly once across the workers
    assert not Lead.objects.filter(owner__isnull=True).exists()
    doubles = Assignment.objects.values("lead").annotate(n=Count("id")).filter(n__gt=1)
    assert doubles.count() == 0
    per_rep = dict(Lead.objects.values_list("owner").annotate(n=Count("id")))
    loads = [per_rep.get(rep.pk, 0) for rep in reps]
    assert max(loads) - min(loads) <= 1
    assert engine.imbalance(loads, [1] * len(loads)) <= 1
    connection.close()
