"""Fill the leads' stage timestamps (`sal_at`, `sql_at`, ...) from their stage history.

The first time a lead entered each stage is the earliest StageChange to that stage. One
UPDATE per chunk of lead ids sets every timestamp at once from one grouped pass over that
chunk's history (the `stagechange_lead_at` index range), so each lead row is written once,
whatever the number of stages; a timestamp already set (e.g. `mql_at`) is kept. Plain SQL
that SQLite (3.33+, UPDATE ... FROM) and PostgreSQL both run, with the tables' names as of
this migration.
"""

from django.db import migrations

STAGES = (
    "subscriber",
    "lead",
    "mql",
    "sal",
    "sql",
    "opportunity",
    "customer",
    "recycled",
    "disqualified",
)
CHUNK = 100_000  # lead ids per statement: bounded memory for the grouped pass


def _statement() -> str:
    firsts = ", ".join(
        f"MIN(CASE WHEN to_stage = '{stage}' THEN \"at\" END) AS {stage}" for stage in STAGES
    )
    sets = ", ".join(f"{stage}_at = COALESCE(crm_lead.{stage}_at, m.{stage})" for stage in STAGES)
    return (
        f"UPDATE crm_lead SET {sets} FROM (SELECT lead_id, {firsts} FROM crm_stagechange"
        " WHERE lead_id >= %s AND lead_id < %s GROUP BY lead_id) AS m"
        " WHERE crm_lead.id = m.lead_id"
    )


def backfill(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT MIN(id), MAX(id) FROM crm_lead")
        low, high = cursor.fetchone()
        if low is None:
            return
        statement = _statement()
        for start in range(low, high + 1, CHUNK):
            cursor.execute(statement, [start, start + CHUNK])


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0005_lead_stage_timestamps"),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
