"""`closedloop demo` through the real command line app."""

import pytest
from typer.testing import CliRunner

from closedloop.cli import app
from closedloop.crm.models import Lead


@pytest.mark.django_db
def test_closedloop_demo_loads_the_company_and_prints_how_to_log_in():
    result = CliRunner().invoke(app, ["demo", "--leads", "250", "--seed", "2"])
    assert result.exit_code == 0, result.output
    assert Lead.objects.count() == 250
    assert "How to log in at http://127.0.0.1:8000/" in result.output
    assert "rep@demo.closedloop.test" in result.output


@pytest.mark.django_db
def test_closedloop_demo_if_empty_leaves_a_loaded_database_alone():
    runner = CliRunner()
    assert runner.invoke(app, ["demo", "--leads", "120", "--seed", "2"]).exit_code == 0
    result = runner.invoke(app, ["demo", "--leads", "300", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "already loaded" in result.output and "closedloop createuser" in result.output
    assert "How to log in" not in result.output
    assert Lead.objects.count() == 120


@pytest.mark.django_db
def test_closedloop_demo_refuses_to_mix_with_existing_data_and_says_how_to_replace_it():
    runner = CliRunner()
    assert runner.invoke(app, ["demo", "--leads", "120"]).exit_code == 0
    result = runner.invoke(app, ["demo", "--leads", "120"])
    assert result.exit_code == 2
    assert "--reset" in result.output
    replaced = runner.invoke(app, ["demo", "--leads", "80", "--reset"])
    assert replaced.exit_code == 0, replaced.output
    assert Lead.objects.count() == 80


@pytest.mark.django_db
def test_closedloop_demo_rejects_a_lead_count_below_one():
    result = CliRunner().invoke(app, ["demo", "--leads", "0"])
    assert result.exit_code == 2
    assert "--leads" in result.output


@pytest.mark.django_db
def test_closedloop_demo_scores_every_lead_unless_told_not_to():
    result = CliRunner().invoke(app, ["demo", "--leads", "300", "--seed", "4"])
    assert result.exit_code == 0, result.output
    assert "Scored 300 leads" in result.output
    assert not Lead.objects.filter(scored_at__isnull=True).exists()
    assert Lead.objects.exclude(score_reasons=[]).exists()


@pytest.mark.django_db
def test_closedloop_demo_no_score_leaves_scores_to_closedloop_score():
    result = CliRunner().invoke(app, ["demo", "--leads", "120", "--seed", "4", "--no-score"])
    assert result.exit_code == 0, result.output
    assert not Lead.objects.filter(scored_at__isnull=False).exists()
