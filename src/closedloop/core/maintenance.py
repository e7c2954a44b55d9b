"""Database upkeep that no request should wait for."""

from django_tasks import task

from closedloop.core.db import vendor


def refresh_planner_statistics() -> None:
    """Give the query planner fresh table statistics (after bulk loads, and daily).

    Without them SQLite cannot tell a selective index from a poor one, and at a million leads
    it answers some list pages by sorting a whole team's leads. PostgreSQL's autovacuum
    analyses by itself eventually; running ANALYZE right after a bulk load closes the gap.
    """
    vendor.refresh_statistics()


@task()
def refresh_planner_statistics_daily(reschedule: bool = True) -> None:
    from datetime import timedelta

    from django.utils import timezone

    refresh_planner_statistics()
    if reschedule and refresh_planner_statistics_daily.get_backend().supports_defer:
        later = timezone.now() + timedelta(days=1)
        refresh_planner_statistics_daily.using(run_after=later).enqueue(True)
