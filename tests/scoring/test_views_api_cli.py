"""The scoring page, its JSON API and the CLI: who may see and do what, and what they get."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from closedloop.cli import app
from closedloop.scoring.models import ScoringModel
from closedloop.scoring.services import rescore_all
from tests.api.conftest import problems
from tests.factories import make_lead
from tests.scoring.test_services import history

runner = CliRunner()


@pytest.fixture
def scored(alice, charlie):
    leads = {
        "alice": make_lead(owner=alice, industry="Software"),
        "charlie": make_lead(owner=charlie),
    }
    rescore_all()
    return leads


def login(client, user):
    client.force_login(user)
    return client


def test_the_scoring_page_shows_the_scorer_in_use_and_the_calibration_table(client, alice, scored):
    response = login(client, alice).get("/scoring/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Rules (fit grade + engagement)" in body and 'id="calibration"' in body
    assert 'data-chart="calibration-data"' in body and "chart.umd.min.js" in body
    assert 'id="retrain"' not in body  # reps do not retrain


def test_the_nav_links_to_scoring(client, alice):
    assert 'href="/scoring/"' in login(client, alice).get("/").content.decode()


def test_the_scoring_page_needs_a_login(client):
    response = client.get("/scoring/")
    assert response.status_code == 302 and "/login" in response["Location"]


def test_a_rep_may_not_retrain(client, alice):
    assert login(client, alice).post("/scoring/retrain/").status_code == 403


def test_retraining_is_a_post_with_a_csrf_token(alice, mia):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(mia)
    assert strict.post("/scoring/retrain/").status_code == 403
    assert strict.get("/scoring/retrain/").status_code == 405


def test_marketing_retrains_from_the_page_and_the_model_takes_over(
    client, mia, django_capture_on_commit_callbacks
):
    history(1000, 100)
    page = login(client, mia).get("/scoring/").content.decode()
    assert 'id="retrain"' in page and "enough history now" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/scoring/retrain/")
    assert response.status_code == 302
    assert ScoringModel.objects.filter(
        is_active=True, trained_by=f"{mia.display_name} (page)"
    ).exists()
    page = client.get("/scoring/").content.decode()
    assert "Predictive model" in page and 'id="model-auc"' in page
    assert 'id="model-choice"' in page and "<strong>chosen</strong>" in page
    assert "Gradient boosting with interactions (LightGBM)" in page


def test_the_api_reports_status_and_calibration(api_as, alice, scored):
    api = api_as(alice)
    status = api.get("/scoring/status").json()
    assert status["scorer"] == "rules" and status["model"] is None
    assert status["history"]["needed_labelled"] == 1000
    bands = api.get("/scoring/calibration").json()
    assert len(bands) == 10 and sum(b["leads"] for b in bands) == 2


def test_the_api_gives_a_visible_leads_score_and_reasons(api_as, alice, scored):
    body = api_as(alice).get(f"/scoring/leads/{scored['alice'].pk}").json()
    assert body["fit_grade"] == "C" and body["score"] > 0
    assert {"text": "Industry we win in", "effect": pytest.approx(12.5)} in body["reasons"]


def test_the_api_hides_other_teams_leads(api_as, alice, scored):
    response = api_as(alice).get(f"/scoring/leads/{scored['charlie'].pk}")
    assert response.status_code == 404
    assert problems(response) == {"lead_id": f"no lead with id {scored['charlie'].pk}"}


def test_only_admin_and_marketing_may_retrain_through_the_api(api_as, alice, mia):
    refused = api_as(alice).post("/scoring/retrain", {})
    assert refused.status_code == 403 and "role" in problems(refused)
    accepted = api_as(mia).post("/scoring/retrain", {})
    assert accepted.status_code == 202 and accepted.json()["queued"] is True


def write_csv(path, rows=400, seed=3):
    rng = np.random.default_rng(seed)
    lines = ["Lead ID,Visits,Source,Converted,Junk"]
    for i in range(rows):
        visits = int(rng.poisson(3))
        source = rng.choice(["Google", "Referral", "Select"])
        converted = int(rng.random() < (0.2 + 0.1 * visits > 0.5) * 0.6 + 0.2)
        lines.append(f"L{i},{visits},{source},{'Yes' if converted else 'No'},{rng.random()}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_model_evaluate_prints_one_json_object_with_the_quality_keys(tmp_path):
    csv = write_csv(tmp_path / "leads.csv")
    result = runner.invoke(
        app,
        [
            "model",
            "evaluate",
            "--csv",
            str(csv),
            "--target",
            "Converted",
            "--id",
            "Lead ID",
            "--drop",
            "Junk",
            "--folds",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert {"auc", "brier", "rows", "folds"} <= set(body)
    assert body["rows"] == 400 and body["folds"] == 3 and 0.5 < body["auc"] <= 1


def test_model_evaluate_takes_several_columns_after_one_drop_and_reads_a_bom_semicolon_export(
    tmp_path,
):
    rng = np.random.default_rng(4)
    lines = ["ID;Visits;Note;Z_Cost;Junk;Other;Converted"]
    for i in range(300):
        visits = int(rng.poisson(3))
        converted = int(rng.random() < 0.15 + 0.1 * visits)
        note = '"line one\nline; two"' if i % 7 == 0 else "plain"
        lines.append(f"{9000 + 3 * i};{visits};{note};3;{rng.random()};{rng.random()};{converted}")
    csv = tmp_path / "export.csv"
    csv.write_bytes(b"\xef\xbb\xbf" + ("\r\n".join(lines) + "\r\n").encode())
    result = runner.invoke(
        app,
        ["model", "evaluate", "--csv", str(csv), "--target", "Converted"]
        + ["--drop", "Junk", "Other", "--folds", "2"],
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["rows"] == 300 and body["dropped_as_asked"] == ["Junk", "Other"]
    assert body["format"] == {"encoding": "utf-8", "delimiter": ";", "bom": True}
    assert {c["column"]: c["kind"] for c in body["screened"]} == {
        "ID": "identifier",
        "Z_Cost": "constant",
    }
    assert "Left out 'Z_Cost' (constant)" in result.stderr
    assert len(body["chosen_per_fold"]) == 2


def test_model_evaluate_refuses_a_stray_word_without_drop(tmp_path):
    csv = write_csv(tmp_path / "leads.csv", rows=50)
    result = runner.invoke(
        app, ["model", "evaluate", "--csv", str(csv), "--target", "Converted", "Junk"]
    )
    assert result.exit_code != 0 and "unexpected argument(s): Junk" in result.output


def test_model_evaluate_names_an_unknown_column(tmp_path):
    csv = write_csv(tmp_path / "leads.csv", rows=50)
    result = runner.invoke(app, ["model", "evaluate", "--csv", str(csv), "--target", "Outcome"])
    assert result.exit_code != 0 and "Outcome" in result.output


def test_closedloop_score_rescores_and_prints_counts(scored):
    result = runner.invoke(app, ["score"])
    assert result.exit_code == 0, result.output
    assert "Rescored 2 leads with the rules scorer" in result.output


def test_model_train_refuses_without_enough_history(scored):
    result = runner.invoke(app, ["model", "train"])
    assert result.exit_code == 1 and "the model needs 1000" in result.output
