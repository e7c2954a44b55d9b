"""`closedloop score` and `closedloop model evaluate|train|status` (registered in closedloop.cli).

`model evaluate` needs no database: it judges the predictive scorer on any CSV of leads with an
outcome column. The others set Django up inside the command, never at import.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

model_app = typer.Typer(
    help="The predictive scorer: judge it on a CSV, train it, see it.", no_args_is_help=True
)
MAX_CSV_BYTES = 512 * 1024 * 1024


def _setup() -> None:
    from closedloop.env import setup_django

    setup_django()


def score() -> None:
    """Rescore every lead (fit grade, engagement, prediction, reasons); prints counts and time."""
    _setup()
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from closedloop.core.audit import acting_as
    from closedloop.core.models import AuditSource
    from closedloop.scoring.services import rescore_all

    with Progress(TextColumn("{task.description:<10}"), BarColumn(), TimeElapsedColumn()) as bar:
        task = bar.add_task("read", total=1.0)

        def progress(step: str, fraction: float) -> None:
            bar.update(task, description=step, completed=fraction)

        with acting_as(None, AuditSource.CLI):
            result = rescore_all(trigger="cli", progress=progress)
    typer.echo(
        f"Rescored {result['leads']:,} leads with the {result['scorer']} scorer in "
        f"{result['total_s']:.1f} s (compute {result['compute_s']:.2f} s); "
        f"{result['became_mql']:,} became MQL."
    )


@model_app.command(
    "evaluate", context_settings={"allow_extra_args": True, "ignore_unknown_options": False}
)
def evaluate(
    ctx: typer.Context,
    csv: Path = typer.Option(..., "--csv", help="A CSV file of leads, one row per lead"),  # noqa: B008
    target: str = typer.Option(..., "--target", help="The outcome column (1/yes/won = converted)"),
    id_column: str = typer.Option("", "--id", help="An id column, left out of the features"),
    drop: list[str] = typer.Option(  # noqa: B008  (typer declares options this way)
        [], "--drop", help="Columns to leave out: --drop A B C, or --drop A --drop B"
    ),
    folds: int = typer.Option(5, "--folds", min=2, max=20, help="Cross-validation folds"),
    seed: int = typer.Option(0, "--seed", help="Seed of the fold split"),
    reference: bool = typer.Option(
        False, "--reference", help="Also judge the Odoo-style naive Bayes on the same folds"
    ),
) -> None:
    """Nested cross-validated quality of the automatic model choice on a CSV export.

    Reads any encoding, byte-order mark and delimiter (, ; tab |); prints one JSON object on
    standard output and, on standard error, which columns it left out and why.
    """
    from closedloop.scoring.engine import evaluate_csv_frame, read_csv_export

    drop = drop_columns(drop, ctx.args)
    if not csv.is_file():
        raise typer.BadParameter(f"no such file: {csv}", param_hint="--csv")
    if csv.stat().st_size > MAX_CSV_BYTES:
        raise typer.BadParameter("the file is larger than 512 MB", param_hint="--csv")
    try:
        fmt, frame = read_csv_export(csv.read_bytes())
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--csv") from exc
    started = time.perf_counter()
    try:
        result = evaluate_csv_frame(
            frame,
            target=target,
            id_column=id_column or None,
            drop=drop,
            folds=folds,
            seed=seed,
            reference=reference,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    result["seconds"] = round(time.perf_counter() - started, 2)
    result["format"] = {"encoding": fmt.encoding, "delimiter": fmt.delimiter, "bom": fmt.bom}
    for column in result["screened"]:
        typer.echo(f"Left out {column['column']!r} ({column['kind']}): {column['why']}", err=True)
    typer.echo(json.dumps(result))


def drop_columns(repeated: list[str], extra: list[str]) -> list[str]:
    """--drop values: repeated options plus the words that follow one (`--drop A B C`).

    Click gives the words after `--drop A` as extra arguments; any other stray word is an error.
    """
    if extra and not repeated:
        raise typer.BadParameter(f"unexpected argument(s): {' '.join(extra)}")
    return list(dict.fromkeys([*repeated, *extra]))


@model_app.command("train")
def train(
    schedule: bool = typer.Option(
        False, "--schedule", help="Also queue the weekly retraining for the worker"
    ),
) -> None:
    """Train the predictive model on this installation's outcomes, then rescore every lead."""
    _setup()
    from closedloop.core.audit import acting_as
    from closedloop.core.models import AuditSource
    from closedloop.scoring.services import NotEnoughHistory, rescore_all, train_model
    from closedloop.scoring.tasks import ensure_retrain_scheduled

    with acting_as(None, AuditSource.CLI):
        try:
            model = train_model(by="cli")
        except NotEnoughHistory as exc:
            typer.echo(f"Not trained: {exc}. The rules stay in use.", err=True)
            raise typer.Exit(1) from exc
        rescore = rescore_all(trigger="retrain")
    typer.echo(
        json.dumps(
            {
                "model_id": model.pk,
                "rows": model.rows,
                "positives": model.positives,
                "metrics": model.metrics,
                "rescored": rescore["leads"],
            }
        )
    )
    if schedule:
        queued = ensure_retrain_scheduled()
        typer.echo("Weekly retraining queued." if queued else "Weekly retraining already queued.")


@model_app.command("status")
def status() -> None:
    """Which scorer is in use, the active model's metrics and the last rescore, as JSON."""
    _setup()
    from closedloop.scoring.services import scoring_status

    typer.echo(json.dumps(scoring_status(), default=str))
