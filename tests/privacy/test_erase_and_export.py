"""Erasing a person leaves no trace of them in any table, text column, upload or database file."""

import json
import secrets
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.db import connection
from django.utils import timezone
from typer.testing import CliRunner

from closedloop.cli import app
from closedloop.core.audit import acting_as
from closedloop.core.models import AuditEntry, AuditSource, Role
from closedloop.core.services import create_api_token
from closedloop.crm.models import Activity, Lead, StageChange
from closedloop.engagement.models import Identity, IdentityKind, Touchpoint, TouchpointType
from closedloop.handoff.models import Dispute, Notification, Rejection, RejectionReason
from closedloop.imports.models import ImportJob, RowError
from closedloop.privacy.services import erase_person, export_person
from closedloop.webhooks.models import Delivery, Endpoint
from tests.factories import make_lead, make_user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    (settings.MEDIA_ROOT / "imports").mkdir(parents=True)
    return settings.MEDIA_ROOT


def plant(marker: str, media: Path) -> Lead:
    """The person, with the marker in every place a person's data can live."""
    email = f"{marker}@example.com"
    rep = make_user(f"rep-{marker[:4]}@corp.example", role=Role.REP)
    with acting_as(rep, AuditSource.UI):
        lead = make_lead(
            owner=rep, first_name=marker, last_name="Doe", email=email, phone=f"+1 {marker}"
        )
        lead.city = "Springfield"
        lead.save()
    now = timezone.now()
    anonymous = f"anon-{marker}"
    Identity.objects.create(kind=IdentityKind.ANONYMOUS, value=anonymous, lead=lead)
    Identity.objects.create(kind=IdentityKind.USER, value=f"user-{marker}", lead=lead)
    for n, lead_or_none in enumerate([lead, None]):
        Touchpoint.objects.create(
            lead=lead_or_none, anonymous_id=anonymous, type=TouchpointType.PAGE_VIEW,
            occurred_at=now - timedelta(days=n), properties={"email": email, "name": marker},
            message_id=secrets.token_hex(8),
        )  # fmt: skip
    Activity.objects.create(lead=lead, rep=rep, kind="call", notes=f"spoke to {marker}", at=now)
    StageChange.objects.create(lead=lead, to_stage="mql", at=now, reason=f"{marker} asked")
    reason = RejectionReason.objects.create(
        code=f"r-{marker[:8]}", label="Wrong fit", path="disqualify"
    )
    Rejection.objects.create(
        lead=lead, rep=rep, reason=reason, note=f"{marker} is a student", at=now
    )
    Dispute.objects.create(
        lead=lead, claimant=rep, owner=rep, reason=f"I met {marker}", created_at=now
    )
    Notification.objects.create(user=rep, lead=lead, text=f"New lead {marker} Doe", at=now)
    upload = media / "imports" / "upload.csv"
    upload.write_text(f"email,first_name\n{email},{marker}\nother@example.com,Other\n")
    job = ImportJob.objects.create(
        kind="leads", format="generic", file_name="upload.csv", file_path=str(upload),
        file_sha256="0" * 64, created_by=rep,
    )  # fmt: skip
    RowError.objects.create(job=job, line=2, column="phone", value=f"{marker}x", reason="bad phone")
    endpoint = Endpoint.objects.create(url="https://hooks.example.com/x", events=[], secret="s")
    Delivery.objects.create(endpoint=endpoint, event="lead.mql", payload={"lead": {"email": email}})
    AccessAttempt.objects.create(
        username=email, ip_address="192.0.2.1", user_agent="ua", attempt_time=now,
        get_data="", post_data="", http_accept="", path_info="/login/", failures_since_start=1,
    )  # fmt: skip
    return lead


def database_hits(marker: str) -> list[str]:
    """Every (table, column) whose text holds the marker, on SQLite or PostgreSQL."""
    hits = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(include_views=False):
            for column in _text_columns(cursor, table):
                cast = f'CAST("{column}" AS TEXT)'
                cursor.execute(
                    f'SELECT COUNT(*) FROM "{table}" WHERE LOWER({cast}) LIKE %s',
                    [f"%{marker.lower()}%"],
                )
                if cursor.fetchone()[0]:
                    hits.append(f"{table}.{column}")
    return hits


def _text_columns(cursor, table: str) -> list[str]:
    # Every column, whatever its declared type: a marker in an integer column would be a bug too.
    return [c.name for c in connection.introspection.get_table_description(cursor, table)]


def file_hits(marker: str, *folders: Path) -> list[str]:
    needle = marker.lower().encode()
    hits = []
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file() and needle in path.read_bytes().lower():
                hits.append(str(path))
    return hits


def data_files() -> list[Path]:
    """The database's own files on SQLite (the test database, its WAL and shared memory)."""
    if connection.vendor != "sqlite":
        return []
    name = Path(connection.settings_dict["NAME"])
    return [p for p in (name, Path(f"{name}-wal")) if p.exists()]


def test_erasing_a_person_leaves_their_marker_nowhere_and_keeps_the_counts(media):
    marker = "zq" + secrets.token_hex(6)
    lead = plant(marker, media)
    assert len(database_hits(marker)) >= 10  # the search does find it where it is
    touches, stage_changes = Touchpoint.objects.count(), StageChange.objects.count()
    counts = erase_person(email=f"{marker.upper()}@EXAMPLE.COM")
    assert counts["leads"] == 1 and counts["touchpoints"] == 2
    assert database_hits(marker) == []
    assert file_hits(marker, media) == []
    for path in data_files():
        assert marker.encode() not in path.read_bytes().lower(), path
    # The aggregates stay: the lead, its touches and its stage history are still counted.
    assert Lead.objects.filter(pk=lead.pk, lifecycle_stage=lead.lifecycle_stage).exists()
    assert (Touchpoint.objects.count(), StageChange.objects.count()) == (touches, stage_changes)
    assert (media / "imports" / "upload.csv").read_text().count("other@example.com") == 1


def test_the_erasure_is_itself_audited_without_the_personal_data(media):
    marker = "zq" + secrets.token_hex(6)
    plant(marker, media)
    admin = make_user("ada-privacy@example.com", role=Role.ADMIN)
    with acting_as(admin, AuditSource.CLI):
        erase_person(email=f"{marker}@example.com")
    entry = AuditEntry.objects.get(model="privacy.person")
    assert entry.actor == admin and entry.source == AuditSource.CLI
    assert entry.changes["leads"] == [None, 1]
    assert marker not in json.dumps(entry.changes) + entry.object_repr


def test_export_gives_everything_held_about_the_person(media):
    marker = "zq" + secrets.token_hex(6)
    plant(marker, media)
    document = export_person(email=f"{marker}@example.com")
    assert document["leads"][0]["first_name"] == marker
    assert len(document["touchpoints"]) == 2 and len(document["identities"]) == 2
    for key in ("activities", "stage_changes", "rejections", "disputes", "notifications"):
        assert len(document[key]) == 1, key
    assert document["webhook_deliveries"] and document["import_row_errors"]
    assert document["audit_entries"]
    json.dumps(document)  # one JSON document


def test_the_cli_exports_and_erases(media):
    marker = "zq" + secrets.token_hex(6)
    plant(marker, media)
    runner = CliRunner()
    exported = runner.invoke(app, ["person", "export", f"{marker}@example.com"])
    assert (
        exported.exit_code == 0 and json.loads(exported.output)["leads"][0]["first_name"] == marker
    )
    erased = runner.invoke(app, ["person", "erase", f"{marker}@example.com", "--yes"])
    assert erased.exit_code == 0 and json.loads(erased.output)["erased"] is True
    missing = runner.invoke(app, ["person", "export", f"{marker}@example.com"])
    assert missing.exit_code == 1 and "no lead has the email" in missing.output


def test_the_api_is_for_admins_only(client, media):
    marker = "zq" + secrets.token_hex(6)
    plant(marker, media)
    _, admin_token = create_api_token(user=make_user("ada2@example.com", role=Role.ADMIN), name="t")
    _, rep_token = create_api_token(user=make_user("rita@example.com", role=Role.REP), name="t")
    body = {"email": f"{marker}@example.com"}

    def post(path, token):
        return client.post(
            f"/api/v1/people/{path}", body, content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )  # fmt: skip

    assert post("export", rep_token).status_code == 403
    assert post("erase", rep_token).status_code == 403
    assert post("export", admin_token).json()["leads"][0]["first_name"] == marker
    assert post("erase", admin_token).json()["leads"] == 1
    assert post("export", admin_token).status_code == 404


def test_the_admin_lead_list_offers_both_actions(client, media):
    marker = "zq" + secrets.token_hex(6)
    lead = plant(marker, media)
    client.force_login(
        make_user("ada3@example.com", role=Role.ADMIN, is_staff=True, is_superuser=True)
    )
    exported = client.post(
        "/admin/crm/lead/", {"action": "export_people", "_selected_action": [lead.pk]}
    )
    assert json.loads(exported.content)[0]["leads"][0]["first_name"] == marker
    client.post("/admin/crm/lead/", {"action": "erase_people", "_selected_action": [lead.pk]})
    assert database_hits(marker) == []


@pytest.mark.parametrize("path", ["export", "erase"])
def test_an_email_with_a_nul_character_is_a_422_naming_the_field(client, path):
    _, token = create_api_token(user=make_user("ada3@example.com", role=Role.ADMIN), name="t")
    response = client.post(
        f"/api/v1/people/{path}", {"email": "a\x00b@example.com"},
        content_type="application/json", headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip
    assert response.status_code == 422
    assert "email" in str(response.json()["errors"])
