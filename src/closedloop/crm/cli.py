"""`closedloop opportunity …` (registered in closedloop.cli): the pipeline in force, and
moving, closing and reopening a deal through the same services as the pages and the API.
Django is set up inside each command, never at import. `--by EMAIL` attributes the act to a
user (and applies their permissions); without it the act is the system's, audited as CLI."""

from __future__ import annotations

import json

import typer

opportunity_app = typer.Typer(
    help="Opportunities: the pipeline, and moving, closing or reopening a deal.",
    no_args_is_help=True,
)
By = typer.Option("", "--by", help="Act as this user (email); default: the system")


def _setup() -> None:
    from closedloop.env import setup_django

    setup_django()


def _run(opportunity_id: int, by_email: str, act) -> None:
    """Find the deal and the user, run `act(opportunity, user)` audited as CLI, print the deal
    as JSON; a refusal prints its reason and exits 1."""
    _setup()
    from django.core.exceptions import PermissionDenied, ValidationError

    from closedloop.core.audit import acting_as
    from closedloop.core.models import AuditSource, User
    from closedloop.crm.models import Opportunity

    opportunity = Opportunity.objects.filter(pk=opportunity_id).first()
    user = User.objects.filter(email__iexact=by_email, is_active=True).first() if by_email else None
    if opportunity is None or (by_email and user is None):
        what = f"no opportunity {opportunity_id}" if opportunity is None else f"no user {by_email}"
        typer.echo(what, err=True)
        raise typer.Exit(1)
    try:
        with acting_as(user, AuditSource.CLI):
            act(opportunity, user)
    except ValidationError as exc:
        problems = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
        for field, texts in problems.items():
            typer.echo(f"{field}: {'; '.join(texts)}", err=True)
        raise typer.Exit(1) from None
    except PermissionDenied as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    opportunity.refresh_from_db()
    typer.echo(json.dumps(_summary(opportunity)))


def _summary(opportunity) -> dict:
    return {
        "id": opportunity.pk,
        "name": opportunity.name,
        "stage": opportunity.stage,
        "amount": str(opportunity.amount),
        "currency": opportunity.currency,
        "won_reason": opportunity.won_reason,
        "lost_reason": opportunity.lost_reason,
        "closed_at": opportunity.closed_at.isoformat() if opportunity.closed_at else None,
    }


@opportunity_app.command("stages")
def stages() -> None:
    """The contract's pipeline: each stage's code, label and probability, as JSON lines."""
    _setup()
    from closedloop.crm.services import pipeline_stages

    for stage in pipeline_stages():
        typer.echo(json.dumps(stage.as_dict()))


@opportunity_app.command("move")
def move(opportunity_id: int, stage: str, by: str = By) -> None:
    """Move an open deal to another open stage of the pipeline."""
    crm = _services()
    _run(opportunity_id, by, lambda o, u: crm.move_opportunity(o, by=u, to=stage))


@opportunity_app.command("close")
def close(
    opportunity_id: int,
    won: bool = typer.Option(..., "--won/--lost", help="The outcome"),
    reason: str = typer.Option(..., "--reason", help="A code of the managed close reasons"),
    note: str = typer.Option(..., "--note", help="What happened, in words"),
    by: str = By,
) -> None:
    """Close an open deal as won or lost, with a reason and a note."""
    crm = _services()
    _run(
        opportunity_id,
        by,
        lambda o, u: crm.close_opportunity(o, by=u, won=won, reason=reason, note=note),
    )


@opportunity_app.command("reopen")
def reopen(
    opportunity_id: int,
    reason: str = typer.Option(..., "--reason", help="Why the closed deal reopens (audited)"),
    stage: str = typer.Option("", "--stage", help="Open stage; default: where it closed from"),
    by: str = typer.Option(..., "--by", help="The admin reopening it (email)"),
) -> None:
    """An admin reopens a closed deal, with a reason kept in its history and the audit log."""
    crm = _services()
    _run(
        opportunity_id,
        by,
        lambda o, u: crm.reopen_opportunity(o, by=u, reason=reason, to=stage),
    )


def _services():
    _setup()
    from closedloop.crm import services

    return services
