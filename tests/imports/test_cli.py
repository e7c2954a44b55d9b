"""`closedloop import` and `closedloop export` on the command line."""

import csv

from typer.testing import CliRunner

from closedloop.cli import app
from closedloop.core.models import AuditEntry
from closedloop.crm.models import Lead
from closedloop.imports.models import ImportJob
from tests.factories import make_lead
from tests.imports.helpers import sample, write

runner = CliRunner()


def test_import_prints_the_mapping_and_counts_and_writes_the_error_csv(tmp_path, mia):
    path = write(tmp_path, "leads.csv", "Email,First Name\nann@acme.com,Ann\nbroken,Bob\n")
    errors = tmp_path / "failed.csv"
    result = runner.invoke(
        app,
        [
            "import",
            str(path),
            "--kind",
            "leads",
            "--format",
            "generic",
            "--errors",
            str(errors),
            "--as",
            "mia@example.com",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Email → email" in result.output
    assert "2 rows: 1 created, 0 updated, 0 skipped, 1 failed" in result.output
    assert list(csv.reader(errors.open())) == [
        ["line", "column", "value", "reason"],
        ["3", "Email", "broken", "bad email 'broken'"],
    ]
    assert AuditEntry.objects.get(model="crm.lead").actor == mia


def test_import_of_a_hubspot_export_twice_creates_nothing_the_second_time(alice, bob):
    args = [
        "import",
        str(sample("hubspot_contacts.csv")),
        "--kind",
        "leads",
        "--format",
        "hubspot",
        "--no-progress",
    ]
    assert runner.invoke(app, args).exit_code == 0
    second = runner.invoke(app, args)
    assert "5 rows: 0 created, 0 updated, 5 skipped, 0 failed" in second.output
    assert Lead.objects.count() == 5


def test_import_resumes_an_interrupted_job_by_id(tmp_path):
    path = write(tmp_path, "leads.csv", "Email\na@acme.com\nb@acme.com\n")
    from closedloop.imports.services import create_import_job

    job = create_import_job(path=path, file_name="leads.csv", kind="leads", fmt="generic")
    ImportJob.objects.filter(pk=job.pk).update(status="interrupted")
    result = runner.invoke(app, ["import", "--resume", str(job.pk), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert Lead.objects.count() == 2


def test_import_refuses_a_file_without_the_required_column(tmp_path):
    path = write(tmp_path, "names.csv", "First Name\nAnn\n")
    result = runner.invoke(app, ["import", str(path), "--kind", "leads", "--no-progress"])
    assert result.exit_code == 2
    assert "no column is mapped to Email or External id" in result.output
    assert not Lead.objects.exists()


def test_import_rejects_an_unknown_kind_or_format(tmp_path):
    path = write(tmp_path, "a.csv", "Email\na@acme.com\n")
    assert runner.invoke(app, ["import", str(path), "--kind", "people"]).exit_code == 2
    assert runner.invoke(app, ["import", str(path), "--format", "pipedrive"]).exit_code == 2


def test_export_writes_the_filtered_list_as_seen_by_a_user(tmp_path, alice, charlie):
    make_lead(email="a@acme.com", owner=alice, stage="mql")
    make_lead(email="b@acme.com", owner=alice, stage="lead")
    make_lead(email="c@acme.com", owner=charlie, stage="mql")
    out = tmp_path / "out.csv"
    result = runner.invoke(
        app,
        [
            "export",
            str(out),
            "--kind",
            "leads",
            "--filter",
            "stage=mql",
            "--as",
            "alice@example.com",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    assert [row["email"] for row in rows] == ["a@acme.com"]
    everyone = runner.invoke(app, ["export", str(out), "--kind", "leads", "--filter", "stage=mql"])
    assert "Exported 2 leads" in everyone.output


def test_export_refuses_an_unknown_filter(tmp_path):
    result = runner.invoke(
        app, ["export", str(tmp_path / "o.csv"), "--kind", "leads", "--filter", "colour=red"]
    )
    assert result.exit_code == 2 and "unknown filter colour" in result.output
