"""`closedloop backup FILE` and `closedloop restore FILE`: the database and the uploads, one file.

The archive is a gzip tar holding `manifest.json`, the database and `media/` (every upload:
import files, content files). SQLite is copied with its online backup API, a consistent
snapshot taken while the server keeps running. PostgreSQL is copied with `pg_dump -Fc` and
restored with `pg_restore`; both must be on the PATH
(docs/decisions/0014-privacy-backups-retention.md).
"""

from __future__ import annotations

import datetime
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import connection

FORMAT = 1


class BackupError(Exception):
    """A backup or restore that cannot be done, with the reason for the operator."""


def create_backup(path: Path) -> dict:
    """Write the database and MEDIA_ROOT into one archive at `path`; returns its manifest."""
    manifest = {
        "format": FORMAT,
        "vendor": connection.vendor,
        "created_at": datetime.datetime.now(datetime.UTC).isoformat(),
        "media_root": str(Path(settings.MEDIA_ROOT).resolve()),
    }
    with tempfile.TemporaryDirectory(prefix="closedloop-backup-") as work:
        database = _dump_database(Path(work))
        # SQLite: the copy's own counts, exact, checked after a restore. PostgreSQL: counted
        # beside the dump's snapshot, so for information only.
        manifest["tables"] = (
            _sqlite_counts(database) if database.suffix == ".sqlite3" else (table_counts())
        )
        manifest["counts_exact"] = database.suffix == ".sqlite3"
        partial = path.with_name(path.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            _add_bytes(archive, "manifest.json", json.dumps(manifest, indent=2).encode())
            archive.add(database, arcname=database.name)
            media = Path(settings.MEDIA_ROOT)
            if media.is_dir():
                archive.add(media, arcname="media")
        os.replace(partial, path)  # a half-written archive never takes the name
    return manifest


def restore_backup(path: Path, *, replace: bool = False) -> dict:
    """Load an archive made by create_backup into this data folder and database.

    Refuses a database that already holds closedloop's tables unless `replace`. Import jobs'
    file paths are moved to this data folder's uploads. Returns the manifest.
    """
    with tarfile.open(path, "r:gz") as archive, tempfile.TemporaryDirectory() as work:
        manifest = _read_manifest(archive)
        _check_target(manifest, replace=replace)
        archive.extractall(work, filter="data")
        _load_database(Path(work), manifest)
        _restore_media(Path(work) / "media")
    _move_import_paths(manifest["media_root"])
    _check_counts(manifest)
    return manifest


def table_counts() -> dict[str, int]:
    """Rows in every table of the database, by table name."""
    names = sorted(connection.introspection.table_names(include_views=False))
    with connection.cursor() as cursor:
        counts = {}
        for name in names:
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(name)}")
            counts[name] = cursor.fetchone()[0]
    return counts


def _sqlite_counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as copy:
        names = [
            row[0]
            for row in copy.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        counts = {
            name: copy.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0] for name in names
        }
    copy.close()
    return counts


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(datetime.datetime.now().timestamp())
    archive.addfile(info, io.BytesIO(data))


def _dump_database(work: Path) -> Path:
    if connection.vendor == "sqlite":
        target = work / "database.sqlite3"
        connection.ensure_connection()
        with sqlite3.connect(target) as copy:
            connection.connection.backup(copy)
        copy.close()
        return target
    if connection.vendor == "postgresql":
        target = work / "database.pgdump"
        _run_pg("pg_dump", "-Fc", "--no-owner", "--no-privileges", "-f", str(target))
        return target
    raise BackupError(f"backups support SQLite and PostgreSQL, not {connection.vendor}")


def _pg_args() -> tuple[list[str], dict]:
    db = connection.settings_dict
    args = [
        "-d",
        db["NAME"],
        "-h",
        db.get("HOST") or "127.0.0.1",
        "-p",
        str(db.get("PORT") or 5432),
    ]
    if db.get("USER"):
        args += ["-U", db["USER"]]
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return args, env


def _run_pg(tool: str, *args: str) -> None:
    if shutil.which(tool) is None:
        raise BackupError(f"{tool} is not on the PATH; install PostgreSQL's client tools")
    connection_args, env = _pg_args()
    done = subprocess.run([tool, *args, *connection_args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{tool} failed: {done.stderr.strip()[:2000]}")


def _read_manifest(archive: tarfile.TarFile) -> dict:
    try:
        manifest = json.load(archive.extractfile("manifest.json"))
    except (KeyError, ValueError) as exc:
        raise BackupError("not a closedloop backup: no readable manifest.json") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"backup format {manifest.get('format')} is not {FORMAT}")
    return manifest


def _check_target(manifest: dict, *, replace: bool) -> None:
    if manifest["vendor"] != connection.vendor:
        raise BackupError(
            f"this backup is of a {manifest['vendor']} database; the configured database is "
            f"{connection.vendor} (set CLOSEDLOOP_DATABASE_URL accordingly)"
        )
    existing = [n for n in connection.introspection.table_names() if n == "django_migrations"]
    if existing and not replace:
        raise BackupError(
            "the configured database already has closedloop's tables; restore into an empty "
            "one, or pass --replace to overwrite it"
        )


def _load_database(work: Path, manifest: dict) -> None:
    if manifest["vendor"] == "sqlite":
        connection.ensure_connection()
        with sqlite3.connect(work / "database.sqlite3") as source:
            source.backup(connection.connection)
        source.close()
        connection.close()  # later queries see the restored schema afresh
        return
    _run_pg(
        "pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
        "--single-transaction", str(work / "database.pgdump"),
    )  # fmt: skip


def _restore_media(extracted: Path) -> None:
    if not extracted.is_dir():
        return
    target = Path(settings.MEDIA_ROOT)
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(extracted, target, dirs_exist_ok=True)


def _move_import_paths(old_media_root: str) -> None:
    from closedloop.imports.models import ImportJob

    new_root = str(Path(settings.MEDIA_ROOT).resolve())
    if old_media_root == new_root:
        return
    for job in ImportJob.objects.filter(file_path__startswith=old_media_root).only("file_path"):
        moved = new_root + job.file_path[len(old_media_root) :]
        ImportJob.objects.filter(pk=job.pk).update(file_path=moved)


def _check_counts(manifest: dict) -> None:
    if not manifest.get("counts_exact"):
        return
    restored, counts = table_counts(), manifest["tables"]
    wrong = {n: (c, restored.get(n)) for n, c in counts.items() if restored.get(n) != c}
    if wrong:
        raise BackupError(f"restored row counts differ from the backup's: {wrong}")
