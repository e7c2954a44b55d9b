"""`closedloop attribution`: attribution models on a ChannelAttribution path file.

The command needs no database: it reads the file, runs the pure engine and prints JSON
`{channel: {"conversions": x, "value": y}}` whose conversions add up to the file's total.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from closedloop.analytics.engine.attribution import MODELS, attribute
from closedloop.analytics.engine.pathfile import PathFileError, read_path_lines

MODEL_NAMES = "|".join(MODELS)


def attribution(
    paths: Path = typer.Option(
        ..., "--paths", help="path;total_conversions;total_conversion_value;total_null file"
    ),
    model: str = typer.Option(..., "--model", help=MODEL_NAMES),
    order: int = typer.Option(1, "--order", help="Markov order k (markov only)"),
    half_life: float = typer.Option(
        None, "--half-life", help="time_decay: half-life in touches (path files have no times)"
    ),
    characteristic: str = typer.Option(
        "conversions", "--characteristic", help="shapley: conversions|rate (docs/analytics.md)"
    ),
) -> None:
    """Credit a path file's conversions and value to channels with one model; prints JSON."""
    if model not in MODELS:
        raise typer.BadParameter(f"--model must be one of {MODEL_NAMES}, not {model!r}")
    if order < 1:
        raise typer.BadParameter("--order must be at least 1")
    try:
        with paths.open(encoding="utf-8", newline="") as handle:
            journeys = read_path_lines(handle)
        credits = attribute(
            journeys, model=model, **_settings(model, order, half_life, characteristic)
        )
    except (OSError, UnicodeDecodeError) as exc:
        raise typer.BadParameter(f"cannot read {paths}: {exc}") from exc
    except (PathFileError, ValueError) as exc:
        raise typer.BadParameter(f"{paths}: {exc}") from exc
    typer.echo(json.dumps(credits.as_dict(), indent=2))


def _settings(model: str, order: int, half_life: float | None, characteristic: str) -> dict:
    if model == "markov":
        return {"order": order}
    if model == "time_decay":
        return {"half_life": half_life}
    if model == "shapley":
        return {"characteristic": characteristic}
    return {}
