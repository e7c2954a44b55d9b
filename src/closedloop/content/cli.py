"""`closedloop content add FILE` and `closedloop content search QUERY` (registered in
closedloop.cli). Django is set up inside each command, never at import."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

content_app = typer.Typer(
    help="The content library: add assets, search them, report their usage.", no_args_is_help=True
)


def _setup() -> None:
    from closedloop.env import setup_django

    setup_django()


def _user(email: str):
    from closedloop.core.models import User

    if not email:
        return None  # the operator: every right
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        raise typer.BadParameter(f"no user with email {email}")
    return user


@content_app.command("add")
def add(
    file: Path = typer.Argument(..., help="PDF, Word, PowerPoint, Excel or image file"),
    title: str = typer.Option("", "--title", help="Default: the file name"),
    kind: str = typer.Option("other", "--kind", help="case_study, whitepaper, deck, ..."),
    publish: bool = typer.Option(False, "--publish", help="Publish it to every rep at once"),
    now: bool = typer.Option(False, "--now", help="Extract its text now, not in the worker"),
    as_user: str = typer.Option("", "--as", help="Act as this user (default: the operator)"),
) -> None:
    """Add a file to the library; prints the asset as JSON."""
    _setup()
    from django.core.exceptions import PermissionDenied, ValidationError

    from closedloop.content import services
    from closedloop.core.audit import acting_as
    from closedloop.core.models import AuditSource

    if not file.is_file():
        raise typer.BadParameter(f"{file} is not a file")
    user = _user(as_user)
    fields: dict[str, Any] = {"title": title or file.stem.replace("_", " ")[:200], "kind": kind}
    try:
        with acting_as(user, AuditSource.CLI), file.open("rb") as stream:
            asset = services.create_asset(
                by=user, upload=services.Upload(stream, file.name), extract_now=now, **fields
            )
            if publish:
                services.publish_asset(asset, by=user)
    except ValidationError as exc:
        raise typer.BadParameter(_problems(exc)) from exc
    except PermissionDenied as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(json.dumps(_summary(asset)))


def _problems(exc) -> str:
    return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())


def _summary(asset) -> dict:
    asset.refresh_from_db()
    version = asset.current_version
    return {
        "id": asset.pk,
        "title": asset.title,
        "status": asset.status,
        "version": version.number if version else None,
        "mime": version.mime if version else None,
        "extraction": version.extraction if version else None,
        "message": version.extraction_message if version else "",
        "pages": version.page_count if version else None,
    }


@content_app.command("search")
def search(
    query: str = typer.Argument(..., help='Words; "a phrase"; a or b; -excluded'),
    limit: int = typer.Option(20, "--limit", min=1, max=1000),
    as_user: str = typer.Option("", "--as", help="Search as this user sees (default: all)"),
) -> None:
    """Print the matches as JSON lines: id, title, score, snippet."""
    _setup()
    from closedloop.content.services import search_assets

    results = search_assets(_user(as_user), query, limit=limit)
    for hit in results.hits:
        line = {"id": hit.asset.pk, "title": hit.asset.title, "score": hit.score,
                "snippet": hit.snippet_text}  # fmt: skip
        typer.echo(json.dumps(line, ensure_ascii=False))


@content_app.command("report")
def report(
    assets: bool = typer.Option(True, "--assets/--no-assets", help="Every asset's figures too"),
) -> None:
    """Print the library's usage figures, the bottom 20% with why, and (unless --no-assets)
    every asset's usage, influence and lift, as one JSON object."""
    _setup()
    from closedloop.content.services import usage

    result = usage.library_report()
    out = usage.library_summary(result)
    if assets:
        out["assets"] = result.rows()
    typer.echo(json.dumps(out, indent=2))
