"""`closedloop sla check`, `closedloop digest send` and `closedloop route` (registered in
closedloop.cli). Django is set up inside each command, never at import."""

from __future__ import annotations

import json
import time

import typer

sla_app = typer.Typer(help="Service levels of the handoff.", no_args_is_help=True)
digest_app = typer.Typer(
    help="The weekly digest of sales feedback to marketing.", no_args_is_help=True
)


def _setup() -> None:
    from closedloop.env import setup_django

    setup_django()


@sla_app.command("check")
def sla_check(
    schedule: bool = typer.Option(
        False, "--schedule", help="Also queue the periodic check (every 5 minutes) for the worker"
    ),
) -> None:
    """Warn, record breaches and escalate them; return recycled leads whose date came.
    Prints JSON counts."""
    _setup()
    from closedloop.core.audit import acting_as
    from closedloop.core.models import AuditSource
    from closedloop.handoff.services import return_due_recycled_leads
    from closedloop.handoff.sla import check_slas
    from closedloop.handoff.tasks import run_sla_check

    with acting_as(None, AuditSource.CLI):
        result = check_slas()
        result["returned"] = return_due_recycled_leads()
    if schedule:
        run_sla_check.enqueue(True)
        result["scheduled"] = True
    typer.echo(json.dumps(result))


@digest_app.command("send")
def digest_send(
    days: int = typer.Option(7, "--days", min=1, help="Feedback of the last N days"),
    schedule: bool = typer.Option(
        False, "--schedule", help="Also queue the digest to repeat every N days in the worker"
    ),
):
    """Email marketing what sales said; prints how many were sent."""
    _setup()
    from closedloop.handoff.reports import send_digest
    from closedloop.handoff.tasks import send_feedback_digest

    typer.echo(f"Sent the digest to {send_digest(days=days)} marketing users.")
    if schedule:
        later = send_feedback_digest
        if later.get_backend().supports_defer:
            from datetime import timedelta

            from django.utils import timezone

            later = later.using(run_after=timezone.now() + timedelta(days=days))
        later.enqueue(days, True)
        typer.echo(f"The next digest is queued in {days} days.")


def route(batch: int = typer.Option(500, "--batch", min=1, help="Leads per transaction")) -> None:
    """Assign every unassigned MQL by the routing rules; prints the count and the time."""
    _setup()
    from closedloop.core.audit import acting_as
    from closedloop.core.models import AuditSource
    from closedloop.handoff.routing import assign_leads

    started = time.perf_counter()
    with acting_as(None, AuditSource.CLI):
        count = assign_leads(batch_size=batch)
    typer.echo(f"Assigned {count} leads in {time.perf_counter() - started:.2f} s.")
