"""The `closedloop` command. Names and outputs are a contract (DESIGN.md): scripts depend on them.

Commands that print a secret (createuser, token create, source create) print it alone on the
last line so that a script can read it with `tail -n 1`.
"""

from __future__ import annotations

import gc
import json
from pathlib import Path

import typer

from closedloop.analytics import cli as analytics_cli
from closedloop.content import cli as content_cli
from closedloop.env import setup_django
from closedloop.handoff import cli as handoff_cli
from closedloop.scoring import cli as scoring_cli

app = typer.Typer(
    help="closedloop: one revenue cycle for sales and marketing.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
token_app = typer.Typer(help="Personal API tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")
source_app = typer.Typer(
    help="Tracking sources (Segment-compatible write keys).", no_args_is_help=True
)
app.add_typer(source_app, name="source")
person_app = typer.Typer(
    help="A person's data: a copy of it, or its erasure.", no_args_is_help=True
)
app.add_typer(person_app, name="person")
touches_app = typer.Typer(
    help="Touchpoints: retention of their raw properties.", no_args_is_help=True
)
app.add_typer(touches_app, name="touches")
app.add_typer(handoff_cli.sla_app, name="sla")
app.add_typer(handoff_cli.digest_app, name="digest")
app.command("route")(handoff_cli.route)
app.add_typer(scoring_cli.model_app, name="model")
app.command("score")(scoring_cli.score)
app.command("attribution")(analytics_cli.attribution)
app.add_typer(content_cli.content_app, name="content")


def call(name: str, *args: str, **options) -> None:
    setup_django()
    from django.core.management import call_command

    call_command(name, *args, **options)


@app.command()
def migrate() -> None:
    """Create or upgrade the database tables."""
    call("migrate", interactive=False, verbosity=1)


@app.command()
def check(deploy: bool = typer.Option(False, "--deploy", help="Also run the deployment checks")):
    """Check the configuration; with --deploy, the production hardening too (fails on warnings)."""
    setup_django()
    from closedloop.core.checks import format_problems, run_problems

    problems = run_problems(deploy=deploy)
    if not problems:
        typer.echo("No problems found." + (" Ready to deploy." if deploy else ""))
        return
    typer.echo(format_problems(problems), err=True)
    raise typer.Exit(1)


@app.command()
def serve(
    port: int = typer.Option(8000, "--port", "-p", help="TCP port to listen on"),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind"),
    threads: int = typer.Option(8, "--threads", help="Request threads"),
    worker: bool = typer.Option(
        True, "--worker/--no-worker", help="Also run one background worker beside the server"
    ),
) -> None:
    """Serve closedloop over HTTP (waitress), with one background worker by default."""
    setup_django()
    from django.conf import settings
    from django.core.management import call_command
    from waitress import serve as waitress_serve

    if not settings.DEBUG:
        call_command("collectstatic", interactive=False, verbosity=0)
    # Import the app only now: whitenoise indexes the static folder when the app is built.
    from closedloop.core import serving
    from closedloop.wsgi import application

    serving.stop_on_signals()
    worker_process = serving.start_worker() if worker else None
    # Everything loaded so far lives as long as the server: move it out of the garbage
    # collector's sight, so that the collections a busy server triggers stop re-walking it
    # (tracking ingestion: GC time ~0.4 -> ~0.07 ms per 100-event request).
    gc.collect()
    gc.freeze()
    typer.echo(f"closedloop is serving at http://{host}:{port}/  (Ctrl+C stops it)")
    try:
        waitress_serve(
            application,
            host=host,
            port=port,
            threads=threads,
            ident="closedloop",
            **serving.waitress_options(),
        )
    finally:
        if worker_process is not None:
            serving.stop_worker(worker_process)


@app.command()
def worker(
    queue: list[str] = typer.Option(["*"], "--queue", "-q", help="Queue names (default: all)"),
    batch: bool = typer.Option(
        False, "--batch", help="Run the tasks waiting now, then exit (database backend; for cron)"
    ),
    quiet: bool = typer.Option(
        False, "--quiet", help="No log line per task (outcomes stay in the task results)"
    ),
) -> None:
    """Run background tasks: the database queue by default, RQ when configured."""
    setup_django()
    from django.conf import settings
    from django.core.management import call_command

    from closedloop.core.schedule import start_periodic_tasks
    from closedloop.imports.indexes import rebuild_abandoned

    # An import killed while it held the lead table's indexes dropped gets them back here too,
    # not only when an import next runs (`closedloop serve` starts a worker).
    if rebuild_abandoned():
        typer.echo("Built again the indexes an interrupted import had dropped.")
    # Retraining, SLA checks and the feedback digest re-enqueue themselves from then on.
    start_periodic_tasks()
    backend = settings.TASKS["default"]["BACKEND"]
    if backend.startswith("django_tasks_rq"):
        names = [q for q in queue if q != "*"] or list(settings.RQ_QUEUES)
        # The scheduler moves deferred tasks (retries, periodic work) onto the queues when due.
        call_command(
            "rqworker", *names, job_class="django_tasks_rq.Job", with_scheduler=True, burst=batch
        )
    elif backend.startswith("django_tasks_db"):
        call_command(
            "db_worker",
            queue_name=",".join(queue),
            interval=0.5,
            batch=batch,
            startup_delay=not batch,
            verbosity=0 if quiet else 1,
        )
    else:
        typer.echo("The immediate task backend runs tasks in-process; no worker is needed.")


@app.command()
def createuser(
    email: str = typer.Argument(..., help="The user's email, used to log in"),
    role: str = typer.Option(..., "--role", help="admin|marketing|rep|manager|executive"),
    team: str = typer.Option("", "--team", help="Team name (created if missing)"),
    first_name: str = typer.Option("", "--first-name"),
    last_name: str = typer.Option("", "--last-name"),
) -> None:
    """Create a user (or reset an existing user's password); prints a generated password."""
    setup_django()
    from closedloop.core.services import create_or_reset_user

    try:
        user, password, created = create_or_reset_user(
            email=email, role=role, team_name=team, first_name=first_name, last_name=last_name
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    verb = "Created" if created else "Reset the password of"
    typer.echo(f"{verb} {user.email} ({user.get_role_display()}). Password:")
    typer.echo(password)


@token_app.command("create")
def token_create(
    email: str = typer.Argument(..., help="Whose token"),
    name: str = typer.Option("cli", "--name", help="A label to tell tokens apart"),
) -> None:
    """Create a personal API token; prints it once (only a hash is stored)."""
    setup_django()
    from closedloop.core.models import User
    from closedloop.core.services import create_api_token

    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        raise typer.BadParameter(f"no user with email {email}")
    _, secret = create_api_token(user=user, name=name)
    typer.echo(f"API token for {user.email} (shown once; send it as 'Authorization: Bearer'):")
    typer.echo(secret)


@source_app.command("create")
def source_create(name: str = typer.Argument(..., help="A name to tell sources apart")) -> None:
    """Create a tracking source; prints its write key once (only a hash is stored)."""
    setup_django()
    from closedloop.engagement.tracking import create_source

    try:
        _, key = create_source(name=name)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(f"Tracking source {name!r} (shown once; send it as the basic-auth user of /v1/*):")
    typer.echo(key)


@app.command()
def demo(
    leads: int = typer.Option(20_000, "--leads", help="How many leads to generate"),
    seed: int = typer.Option(7, "--seed", help="Random seed; the same seed gives the same company"),
    if_empty: bool = typer.Option(
        False, "--if-empty", help="Do nothing when the database already has leads"
    ),
    reset: bool = typer.Option(False, "--reset", help="Delete existing CRM data first"),
    score: bool = typer.Option(
        True, "--score/--no-score", help="Train the scorer on the demo's outcomes, score leads"
    ),
) -> None:
    """Load the synthetic demo company, and one user per role with printed passwords."""
    setup_django()
    from closedloop.demo.generator import DemoRefused, load_demo

    try:
        load_demo(
            leads=leads, seed=seed, if_empty=if_empty, reset=reset, echo=typer.echo, score=score
        )
    except DemoRefused as exc:
        raise typer.BadParameter(str(exc)) from exc


@app.command("import")
def import_(
    file: Path = typer.Argument(None, help="CSV file to import (not needed with --resume)"),
    kind: str = typer.Option("leads", "--kind", help="leads|accounts|opportunities|touchpoints"),
    fmt: str = typer.Option("generic", "--format", help="hubspot|salesforce|generic"),
    resume: int = typer.Option(0, "--resume", help="Resume the import job with this id"),
    errors: Path = typer.Option(None, "--errors", help="Where to write failed rows (CSV)"),
    as_user: str = typer.Option("", "--as", help="Attribute the changes to this user's email"),
    chunk_size: int = typer.Option(5000, "--chunk-size", help="Rows committed per transaction"),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar"),
) -> None:
    """Import a HubSpot, Salesforce or generic CSV; an interrupted import of it resumes."""
    setup_django()
    from closedloop.imports.cli import import_command

    if kind not in ("leads", "accounts", "opportunities", "touchpoints"):
        raise typer.BadParameter(
            f"--kind must be leads|accounts|opportunities|touchpoints, not {kind}"
        )
    if fmt not in ("hubspot", "salesforce", "generic"):
        raise typer.BadParameter(f"--format must be hubspot|salesforce|generic, not {fmt}")
    import_command(
        file,
        kind=kind,
        fmt=fmt,
        resume=resume,
        errors=errors,
        as_user=as_user,
        chunk_size=chunk_size,
        progress=progress,
    )


@app.command()
def export(
    file: Path = typer.Argument(..., help="CSV file to write"),
    kind: str = typer.Option(..., "--kind", help="leads|accounts|opportunities|touchpoints"),
    filters: list[str] = typer.Option(
        [], "--filter", help="key=value, e.g. stage=mql (repeatable)"
    ),
    raw: bool = typer.Option(False, "--raw", help="Do not neutralise formula-like cells"),
    as_user: str = typer.Option("", "--as", help="Export only what this user may see"),
) -> None:
    """Export leads, accounts, opportunities or touchpoints to CSV."""
    setup_django()
    from closedloop.imports.cli import export_command

    export_command(file, kind=kind, filters=filters, raw=raw, as_user=as_user)


@person_app.command("export")
def person_export(email: str = typer.Argument(..., help="The person's email")) -> None:
    """Print, as one JSON document, everything held about the person with this email."""
    setup_django()
    from closedloop.privacy.services import PersonNotFound, export_person

    try:
        document = export_person(email=email)
    except PersonNotFound as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False))


@person_app.command("erase")
def person_erase(
    email: str = typer.Argument(..., help="The person's email"),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation"),
) -> None:
    """Erase the personal data of the person with this email everywhere; counts stay."""
    setup_django()
    from closedloop.core.audit import acting_as
    from closedloop.core.models import AuditSource
    from closedloop.privacy.services import PersonNotFound, erase_person

    if not yes:
        typer.confirm(f"Erase every personal detail of {email}? This cannot be undone", abort=True)
    try:
        with acting_as(None, AuditSource.CLI):
            counts = erase_person(email=email)
    except PersonNotFound as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    typer.echo(json.dumps({"erased": True, **counts}))


@app.command()
def backup(file: Path = typer.Argument(..., help="The archive to write (.tar.gz)")) -> None:
    """Back up the database and the uploads into one file (safe while the server runs)."""
    setup_django()
    from closedloop.backup import BackupError, create_backup

    try:
        manifest = create_backup(file)
    except BackupError as exc:
        typer.echo(f"Backup failed: {exc}", err=True)
        raise typer.Exit(1) from exc
    rows = sum(manifest["tables"].values())
    summary = {"file": str(file), "bytes": file.stat().st_size, "vendor": manifest["vendor"]}
    typer.echo(json.dumps({**summary, "tables": len(manifest["tables"]), "rows": rows}))


@app.command()
def restore(
    file: Path = typer.Argument(..., help="An archive made by `closedloop backup`"),
    replace: bool = typer.Option(
        False, "--replace", help="Overwrite a database that already holds closedloop's tables"
    ),
) -> None:
    """Restore a backup into this data folder and database (stop the server first)."""
    setup_django()
    from closedloop.backup import BackupError, restore_backup

    try:
        manifest = restore_backup(file, replace=replace)
    except (BackupError, OSError) as exc:
        typer.echo(f"Restore failed: {exc}", err=True)
        raise typer.Exit(1) from exc
    rows = sum(manifest["tables"].values())
    typer.echo(json.dumps({"restored": str(file), "tables": len(manifest["tables"]), "rows": rows}))


@touches_app.command("prune")
def touches_prune(
    older_than_days: int = typer.Option(
        0, "--older-than-days", help="Default: CLOSEDLOOP_TOUCH_PROPERTIES_RETENTION_DAYS"
    ),
    archive: Path = typer.Option(
        None, "--archive", help="First append the emptied properties to this .jsonl.gz file"
    ),
) -> None:
    """Empty the raw properties of old touches; the touches (type, time, lead) stay."""
    setup_django()
    from django.conf import settings

    from closedloop.core.audit import acting_as
    from closedloop.core.models import AuditSource
    from closedloop.engagement.retention import prune_touch_properties

    days = older_than_days or settings.TOUCH_PROPERTIES_RETENTION_DAYS
    if days < 1:
        raise typer.BadParameter(
            "give --older-than-days N or set CLOSEDLOOP_TOUCH_PROPERTIES_RETENTION_DAYS"
        )
    with acting_as(None, AuditSource.CLI):
        pruned = prune_touch_properties(older_than_days=days, archive=archive)
    typer.echo(json.dumps({"pruned": pruned, "older_than_days": days}))


def _benchmarks_dir() -> Path:
    here = Path(__file__).resolve()
    for candidate in (Path.cwd() / "benchmarks", here.parents[2] / "benchmarks"):
        if candidate.is_dir():
            return candidate
    raise typer.BadParameter("no benchmarks/ folder found (run from the repository)")


@app.command()
def bench(
    name: str = typer.Argument(..., help="Benchmark name: a file benchmarks/NAME.py"),
    option: list[str] = typer.Option(
        [], "--set", "-s", help="KEY=VALUE passed to the benchmark (e.g. -s leads=1000000)"
    ),
) -> None:
    """Run a benchmark from benchmarks/ and print its result as JSON."""
    import importlib.util

    path = _benchmarks_dir() / f"{name}.py"
    if not path.is_file():
        names = sorted(p.stem for p in path.parent.glob("*.py") if not p.stem.startswith("_"))
        raise typer.BadParameter(f"unknown benchmark {name!r}; known: {', '.join(names)}")
    spec = importlib.util.spec_from_file_location(f"closedloop_bench_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    options = dict(item.split("=", 1) for item in option)
    result = module.run(**options)
    typer.echo(json.dumps(result, indent=2, default=str))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
