from django.db import connection

from closedloop.core.maintenance import refresh_planner_statistics
from tests.factories import make_lead


def test_refreshing_planner_statistics_gives_the_planner_row_counts(db):
    for _ in range(3):
        make_lead()
    refresh_planner_statistics()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'crm_lead'")
        else:
            cursor.execute("SELECT count(*) FROM pg_stats WHERE tablename = 'crm_lead'")
        assert cursor.fetchone()[0] > 0
