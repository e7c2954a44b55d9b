"""The starting list of rejection reasons, one per path; admins edit the list afterwards."""

from django.db import migrations

REASONS = [
    ("not-now", "Not now: timing", "recycle", 90, 1),
    ("wrong-fit", "Wrong fit", "disqualify", 0, 2),
    ("bad-data", "Bad data: cannot reach", "bad_data", 0, 3),
    ("duplicate", "Duplicate of another lead", "duplicate", 0, 4),
]


def add_reasons(apps, schema_editor):
    RejectionReason = apps.get_model("handoff", "RejectionReason")
    for code, label, path, days, position in REASONS:
        RejectionReason.objects.get_or_create(
            code=code,
            defaults={"label": label, "path": path, "recycle_days": days or 90, "position": position},
        )


def remove_reasons(apps, schema_editor):
    apps.get_model("handoff", "RejectionReason").objects.filter(
        code__in=[r[0] for r in REASONS], uses__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("handoff", "0001_initial")]
    operations = [migrations.RunPython(add_reasons, remove_reasons)]
