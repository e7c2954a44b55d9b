"""`closedloop backup` then `closedloop restore` into a fresh data folder gives every table back."""

import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from typer.testing import CliRunner

from closedloop.cli import app
from closedloop.engagement.models import Touchpoint, TouchpointType
from closedloop.imports.models import ImportJob
from tests.factories import make_lead, make_user

pytestmark = pytest.mark.django_db(transaction=True)
BASE_ENV = {k: v for k, v in os.environ.items() if not k.startswith("CLOSEDLOOP_")}
BASE_ENV.pop("DJANGO_SETTINGS_MODULE", None)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "old-data" / "media"
    (settings.MEDIA_ROOT / "imports").mkdir(parents=True)
    upload = settings.MEDIA_ROOT / "imports" / "leads.csv"
    upload.write_text("email,first_name\nsam@example.com,Sam\n")
    return settings.MEDIA_ROOT


@pytest.fixture
def some_data(media):
    user = make_user("owner@example.com")
    lead = make_lead(owner=user, first_name="Sam", email="sam@example.com")
    Touchpoint.objects.create(
        lead=lead,
        type=TouchpointType.PAGE_VIEW,
        occurred_at=timezone.now() - timedelta(days=3),
        properties={"url": "https://example.com/pricing"},
        message_id="m-1",
    )
    ImportJob.objects.create(
        kind="leads",
        format="generic",
        file_name="leads.csv",
        file_path=str((media / "imports" / "leads.csv").resolve()),
        file_sha256="0" * 64,
        file_size=40,
        created_by=user,
    )
    return lead


def restore_env(fresh: Path) -> dict:
    env = {**BASE_ENV, "CLOSEDLOOP_DATA_DIR": str(fresh), "CLOSEDLOOP_SECRET_KEY": "k" * 60}
    if connection.vendor == "postgresql":
        env["CLOSEDLOOP_DATABASE_URL"] = _restore_database_url()
    return env


def _restore_database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}_restore"


def rows_of(cursor, table: str) -> list[tuple]:
    cursor.execute(f'SELECT * FROM "{table}"')
    return sorted(cursor.fetchall(), key=repr)


def test_a_backup_restores_into_a_fresh_data_folder_with_every_table_and_upload(
    some_data, media, tmp_path
):
    if connection.vendor == "postgresql" and not shutil.which("pg_dump"):
        pytest.skip("pg_dump/pg_restore are not on the PATH")
    archive = tmp_path / "closedloop.tar.gz"
    result = CliRunner().invoke(app, ["backup", str(archive)])
    assert result.exit_code == 0, result.output
    with tarfile.open(archive) as opened:
        assert "media/imports/leads.csv" in opened.getnames()
    fresh = tmp_path / "fresh"
    with _fresh_database():
        done = subprocess.run(
            [sys.executable, "-m", "closedloop.cli", "restore", str(archive)],
            env=restore_env(fresh),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        _assert_same_tables(fresh, new_media=(fresh / "media").resolve(), old_media=media.resolve())
    assert (fresh / "media" / "imports" / "leads.csv").read_text().startswith("email,")


class _fresh_database:
    """An empty PostgreSQL database for the restore (SQLite: the fresh folder makes its own)."""

    def __enter__(self):
        if connection.vendor == "postgresql":
            self._admin("DROP DATABASE IF EXISTS {}", "CREATE DATABASE {}")

    def __exit__(self, *exc):
        if connection.vendor == "postgresql":
            self._admin("DROP DATABASE IF EXISTS {}")

    def _admin(self, *statements):
        import psycopg

        db = connection.settings_dict
        name = f"{db['NAME']}_restore"
        with psycopg.connect(
            host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], dbname="postgres",
            autocommit=True,
        ) as admin:  # fmt: skip
            for statement in statements:
                admin.execute(statement.format(f'"{name}"'))


def _assert_same_tables(fresh: Path, *, new_media: Path, old_media: Path) -> None:
    # Both sides read raw, through the driver: no Django type conversion in the way.
    if connection.vendor == "postgresql":
        import psycopg

        original = psycopg.connect(_restore_database_url().replace("_restore", ""))
        restored = psycopg.connect(_restore_database_url())
    else:
        original = sqlite3.connect(connection.settings_dict["NAME"])
        restored = sqlite3.connect(fresh / "closedloop.sqlite3")
    tables = sorted(connection.introspection.table_names(include_views=False))
    assert len(tables) > 40
    ours, copy = original.cursor(), restored.cursor()
    for table in tables:
        expected = rows_of(ours, table)
        if table == "imports_importjob":
            expected = [_moved(row, old_media, new_media) for row in expected]
        assert rows_of(copy, table) == expected, table
    original.close()
    restored.close()


def _moved(row: tuple, old: Path, new: Path) -> tuple:
    return tuple(
        value.replace(str(old), str(new)) if isinstance(value, str) else value for value in row
    )


def test_restore_refuses_a_database_that_already_has_tables(some_data, tmp_path):
    archive = tmp_path / "closedloop.tar.gz"
    CliRunner().invoke(app, ["backup", str(archive)])
    result = CliRunner().invoke(app, ["restore", str(archive)])
    assert result.exit_code == 1
    assert "already has closedloop's tables" in result.output


def test_restore_refuses_a_file_that_is_not_a_backup(db, tmp_path):
    bogus = tmp_path / "bogus.tar.gz"
    with tarfile.open(bogus, "w:gz"):
        pass
    result = CliRunner().invoke(app, ["restore", str(bogus), "--replace"])
    assert result.exit_code == 1
    assert "not a closedloop backup" in result.output
