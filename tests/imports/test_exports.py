"""CSV exports: filtered as the list is, only what the user may see, formulas neutralised."""

import csv
import io

import pytest

from closedloop.core.services import create_api_token
from closedloop.imports.exports import ExportRefused, export_rows, neutralise
from tests.factories import make_account, make_lead, make_opportunity
from tests.imports.helpers import import_file


def emails(rows) -> set[str]:
    rows = list(rows)
    column = rows[0].index("email")
    return {row[column] for row in rows[1:]}


def download(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+1 555 0100", "'+1 555 0100"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_cells_that_a_spreadsheet_would_run_are_prefixed_with_an_apostrophe(value, safe):
    assert neutralise(value) == safe


def test_exported_text_is_neutralised_but_numbers_are_not(alice):
    make_lead(
        email="x@acme.com", first_name='=HYPERLINK("http://evil","click")', owner=alice, employees=5
    )
    header, row = list(export_rows("leads", user=None))
    assert row[header.index("first_name")] == '\'=HYPERLINK("http://evil","click")'
    assert row[header.index("employees")] == "5"


def test_a_raw_export_is_for_admins_only(alice, ada):
    make_lead(email="x@acme.com", first_name="=1+1", owner=alice)
    with pytest.raises(ExportRefused, match="only admins"):
        list(export_rows("leads", user=alice, raw=True))
    header, row = list(export_rows("leads", user=ada, raw=True))
    assert row[header.index("first_name")] == "=1+1"


def test_a_reps_export_holds_only_the_leads_the_rep_may_see(alice, bob, charlie, mia):
    make_lead(email="alice@acme.com", owner=alice)
    make_lead(email="bob@acme.com", owner=bob)
    make_lead(email="charlie@acme.com", owner=charlie)
    make_lead(email="nobody@acme.com")
    assert emails(export_rows("leads", user=alice)) == {"alice@acme.com", "bob@acme.com"}
    assert emails(export_rows("leads", user=charlie)) == {"charlie@acme.com"}
    assert len(emails(export_rows("leads", user=mia))) == 4


def test_the_lead_export_uses_the_lists_filters(alice):
    make_lead(email="mql@acme.com", stage="mql", owner=alice)
    make_lead(email="lead@acme.com", stage="lead", owner=alice)
    assert emails(export_rows("leads", user=alice, params={"stage": "mql"})) == {"mql@acme.com"}
    assert emails(export_rows("leads", user=alice, params={"q": "lead@"})) == {"lead@acme.com"}


def test_unknown_filters_and_kinds_are_refused():
    with pytest.raises(ExportRefused, match="unknown filter colour"):
        list(export_rows("leads", user=None, params={"colour": "red"}))
    with pytest.raises(ExportRefused, match="kind must be one of"):
        list(export_rows("users", user=None))


def test_opportunity_and_account_exports_respect_visibility(alice, charlie):
    east = make_account("East Co", owner=alice)
    west = make_account("West Co", owner=charlie)
    make_opportunity(account=east, owner=alice, name="East deal")
    make_opportunity(account=west, owner=charlie, name="West deal")
    names = [row[2] for row in list(export_rows("opportunities", user=alice))[1:]]
    assert names == ["East deal"]
    accounts = [row[2] for row in list(export_rows("accounts", user=alice))[1:]]
    assert accounts == ["East Co"]


def test_an_export_imports_back_as_a_generic_file_without_changes(tmp_path, alice):
    make_lead(
        email="ann@acme.com",
        first_name="Ann",
        owner=alice,
        stage="mql",
        country="US",
        employees=40,
        title="CEO",
    )
    path = tmp_path / "export.csv"
    with open(path, "w", newline="") as out:
        csv.writer(out).writerows(export_rows("leads", user=None))
    job = import_file(path)
    assert (job.created, job.updated, job.skipped, job.failed) == (0, 0, 1, 0)


def test_the_export_page_streams_csv_filtered_and_visible(client_as, alice, charlie):
    make_lead(email="a-mql@acme.com", stage="mql", owner=alice)
    make_lead(email="a-lead@acme.com", stage="lead", owner=alice)
    make_lead(email="c-mql@acme.com", stage="mql", owner=charlie)
    response = client_as(alice).get("/exports/leads.csv?stage=mql&page=2")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Disposition"] == 'attachment; filename="closedloop-leads.csv"'
    assert emails(download(response)) == {"a-mql@acme.com"}


def test_the_export_page_refuses_raw_to_non_admins_and_bad_filters(client_as, alice, ada):
    assert client_as(alice).get("/exports/leads.csv?raw=1").status_code == 403
    assert client_as(ada).get("/exports/leads.csv?raw=1").status_code == 200
    response = client_as(ada).get("/exports/leads.csv?colour=red")
    assert response.status_code == 400 and b"unknown filter colour" in response.content


def test_the_export_api_answers_for_the_tokens_user(client, alice, charlie):
    make_lead(email="a@acme.com", owner=alice)
    make_lead(email="c@acme.com", owner=charlie)
    _, secret = create_api_token(user=alice, name="t")
    response = client.get("/api/v1/exports/leads", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200 and emails(download(response)) == {"a@acme.com"}
    raw = client.get("/api/v1/exports/leads?raw=1", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert raw.status_code == 403 and raw.json()["errors"][0]["field"] == "raw"


def test_the_import_api_is_for_admins_and_marketing(client, alice, mia):
    content = b"Email,First Name\nann@acme.com,Ann\n"
    _, rep_secret = create_api_token(user=alice, name="t")
    refused = client.post(
        "/api/v1/imports",
        {
            "kind": "leads",
            "format": "generic",
            "file": io.BytesIO(content),
        },
        HTTP_AUTHORIZATION=f"Bearer {rep_secret}",
    )
    assert refused.status_code == 403
    _, secret = create_api_token(user=mia, name="t")
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        "/api/v1/imports",
        {
            "kind": "leads",
            "format": "generic",
            "file": SimpleUploadedFile("leads.csv", content, "text/csv"),
            "mapping": '{"Email": "email", "First Name": ""}',
        },
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["created"], body["mapping"]["First Name"]) == ("done", 1, "")
    got = client.get(f"/api/v1/imports/{body['id']}", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert got.json()["created"] == 1


def test_the_import_api_names_the_bad_field(client, mia):
    _, secret = create_api_token(user=mia, name="t")
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        "/api/v1/imports",
        {
            "kind": "people",
            "format": "generic",
            "file": SimpleUploadedFile("leads.csv", b"Email\na@b.com\n", "text/csv"),
        },
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "kind"


def test_through_the_api_marketing_reads_only_its_own_import_jobs(client, mia, ada, tmp_path):
    from closedloop.core.models import Role
    from closedloop.imports.services import create_import_job
    from tests.factories import make_user
    from tests.imports.helpers import write

    other = make_user("mo@example.com", role=Role.MARKETING)
    path = write(tmp_path, "c.csv", "Email\na@acme.com\n")
    job = create_import_job(path=path, file_name="c.csv", kind="leads", fmt="generic", user=other)

    def status(user, url):
        secret = create_api_token(user=user, name="t")[1]
        return client.get(url, HTTP_AUTHORIZATION=f"Bearer {secret}").status_code

    urls = [f"/api/v1/imports/{job.pk}", f"/api/v1/imports/{job.pk}/errors"]
    assert [status(mia, url) for url in urls] == [404, 404]
    assert [status(ada, url) for url in urls] == [200, 200]
