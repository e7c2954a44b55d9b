"""`closedloop opportunity …`: the same rules as the pages and the API."""

import json

import pytest
from typer.testing import CliRunner

from closedloop.cli import app
from tests.factories import make_opportunity

pytestmark = pytest.mark.django_db(transaction=False)
runner = CliRunner()


def test_the_stages_command_prints_the_pipeline_in_force():
    result = runner.invoke(app, ["opportunity", "stages"])
    assert result.exit_code == 0, result.output
    stages = [json.loads(line) for line in result.output.splitlines()]
    assert stages[0] == {"code": "discovery", "label": "Discovery", "probability": 10}


def test_closing_from_the_cli_needs_a_reason_and_a_note(alice):
    deal = make_opportunity(owner=alice)
    refused = runner.invoke(
        app, ["opportunity", "close", str(deal.pk), "--lost", "--reason", "nope", "--note", "x"]
    )
    assert refused.exit_code == 1 and "lost_reason" in refused.output
    closed = runner.invoke(
        app,
        [
            "opportunity",
            "close",
            str(deal.pk),
            "--won",
            "--reason",
            "value",
            "--note",
            "Signed",
            "--by",
            "alice@example.com",
        ],
    )
    assert closed.exit_code == 0, closed.output
    assert json.loads(closed.output)["stage"] == "won"
    deal.refresh_from_db()
    assert deal.stage_changes.first().by == alice


def test_reopening_from_the_cli_is_for_admins(alice, ada):
    deal = make_opportunity(owner=alice, stage="lost", lost_reason="price")
    args = ["opportunity", "reopen", str(deal.pk), "--reason", "Back", "--stage", "proposal"]
    assert runner.invoke(app, [*args, "--by", "alice@example.com"]).exit_code == 1
    result = runner.invoke(app, [*args, "--by", "ada@example.com"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["stage"] == "proposal"
