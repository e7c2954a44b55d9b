"""The import pages: who may use them, upload checks, the mapping preview, progress, errors."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from closedloop.crm.models import Lead
from closedloop.imports.models import ImportJob, ImportStatus
from tests.imports.helpers import sample


def upload(client, name: str, content: bytes, *, kind="leads", fmt="hubspot"):
    return client.post(
        "/imports/",
        {
            "kind": kind,
            "format": fmt,
            "file": SimpleUploadedFile(name, content, "text/csv"),
        },
    )


@pytest.mark.parametrize("who", ["alice", "max_manager", "eve"])
@pytest.mark.parametrize(
    "url", ["/imports/", "/imports/1/", "/imports/1/progress/", "/imports/1/errors.csv"]
)
def test_reps_managers_and_executives_cannot_use_imports(request, client_as, who, url):
    assert client_as(request.getfixturevalue(who)).get(url).status_code == 403


def test_reps_cannot_upload_either(client_as, alice):
    response = upload(client_as(alice), "c.csv", b"Email\na@acme.com\n")
    assert response.status_code == 403 and not ImportJob.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in(client):
    assert client.get("/imports/").status_code == 302


@pytest.mark.parametrize("who", ["mia", "ada"])
def test_marketing_and_admins_see_the_upload_page(request, client_as, who):
    response = client_as(request.getfixturevalue(who)).get("/imports/")
    assert response.status_code == 200 and b'name="file"' in response.content


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("contacts.xlsx", b"Email\na@acme.com\n", "is not a .csv file"),
        ("contacts.csv", b"", "the file is empty"),
        ("contacts.csv", b"PK\x03\x04\x00\x00binary", "the file is not text"),
        ("contacts.csv", b"Email\x00,Name\na@acme.com,Ann\n", "the file is not text"),
        ("contacts.csv", b"Email," + b"x," * 3000 + b"\n", "the limit is 2000"),
        ("contacts.csv", b"Email," + b"x," * 70_000 + b"\n", "the limit is 128 KB"),
        ("contacts.csv", b"Email,x" + b"y" * 2_000_000 + b"\n", "the header row cannot be read"),
    ],
)
def test_uploads_that_are_not_csv_text_are_refused_with_the_reason(
    client_as, mia, name, content, problem, settings
):
    response = upload(client_as(mia), name, content)
    assert response.status_code == 400
    assert problem in response.content.decode()
    assert not ImportJob.objects.exists()
    assert not list(settings.MEDIA_ROOT.glob("imports/*"))  # nothing left on disk


def test_an_oversized_upload_is_refused(client_as, mia, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 10
    response = upload(client_as(mia), "c.csv", b"Email\na@acme.com\nb@acme.com\n")
    assert response.status_code == 400 and "the limit is" in response.content.decode()


def test_an_upload_shows_each_column_its_first_values_and_detected_field(client_as, mia):
    client = client_as(mia)
    response = upload(client, "hubspot.csv", sample("hubspot_contacts.csv").read_bytes())
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/imports/{job.pk}/"
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "Lifecycle Stage" in page and "marketingqualifiedlead" in page
    assert '<option value="lifecycle_stage" selected>' in page
    assert "grace.hopper@navy-systems.com" in page
    assert not Lead.objects.exists()  # nothing is written before the user starts it


def test_starting_with_a_fixed_mapping_imports_in_the_background(client_as, mia, alice, bob):
    client = client_as(mia)
    upload(client, "hubspot.csv", sample("hubspot_contacts.csv").read_bytes())
    job = ImportJob.objects.get()
    form = {f"col-{i}": job.mapping[header] for i, header in enumerate(job.headers)}
    title = job.headers.index("Job Title")
    form[f"col-{title}"] = ""  # the user decides not to import titles
    response = client.post(f"/imports/{job.pk}/", form)
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.status, job.created, job.created_by) == (ImportStatus.DONE, 5, mia)
    assert set(Lead.objects.values_list("title", flat=True)) == {""}
    progress = client.get(f"/imports/{job.pk}/progress/").content.decode()
    assert "hx-trigger" not in progress  # finished: polling stops
    assert ">5<" in progress


def test_a_mapping_without_a_required_field_is_refused_and_names_it(client_as, mia):
    client = client_as(mia)
    upload(client, "hubspot.csv", sample("hubspot_contacts.csv").read_bytes())
    job = ImportJob.objects.get()
    response = client.post(f"/imports/{job.pk}/", {f"col-{i}": "" for i in range(len(job.headers))})
    assert response.status_code == 400
    assert "no column is mapped to Email or External id (required)" in response.content.decode()
    job.refresh_from_db()
    assert job.status == ImportStatus.PENDING


def test_a_running_import_polls_its_progress(client_as, mia):
    upload(client_as(mia), "c.csv", b"Email\na@acme.com\n")
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING, created=1)
    progress = client_as(mia).get(f"/imports/{job.pk}/progress/").content.decode()
    assert 'hx-trigger="every 1s"' in progress


def test_the_failed_rows_download_as_csv_with_formulas_neutralised(client_as, mia):
    client = client_as(mia)
    upload(
        client,
        "bad.csv",
        b"Email,Lifecycle Stage\n=HYPERLINK(1),lead\nok@acme.com,Hot\n",
        fmt="generic",
    )
    job = ImportJob.objects.get()
    client.post(f"/imports/{job.pk}/", {"col-0": "email", "col-1": "lifecycle_stage"})
    response = client.get(f"/imports/{job.pk}/errors.csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == [
        ["line", "column", "value", "reason"],
        ["2", "Email", "'=HYPERLINK(1)", "bad email '=HYPERLINK(1)'"],
        ["3", "Lifecycle Stage", "Hot", "unknown lifecycle stage 'Hot'"],
    ]


def test_an_interrupted_import_can_be_resumed_from_the_page(client_as, mia):
    client = client_as(mia)
    upload(client, "c.csv", b"Email\na@acme.com\nb@acme.com\n", fmt="generic")
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.INTERRUPTED)
    response = client.post(f"/imports/{job.pk}/resume/")
    job.refresh_from_db()
    assert response.status_code == 302 and (job.status, job.created) == ("done", 2)


def test_a_done_import_cannot_be_resumed(client_as, mia):
    client = client_as(mia)
    upload(client, "c.csv", b"Email\na@acme.com\n", fmt="generic")
    job = ImportJob.objects.get()
    client.post(f"/imports/{job.pk}/", {"col-0": "email"})
    client.post(f"/imports/{job.pk}/resume/")
    job.refresh_from_db()
    assert (job.status, job.created, Lead.objects.count()) == ("done", 1, 1)


def test_marketing_sees_only_its_own_import_jobs_and_admins_see_all(client_as, mia, ada):
    from closedloop.core.models import Role
    from tests.factories import make_user

    other = make_user("mo@example.com", role=Role.MARKETING)
    upload(client_as(other), "c.csv", b"Email\na@acme.com\n")
    job = ImportJob.objects.get()
    urls = [f"/imports/{job.pk}/", f"/imports/{job.pk}/progress/", f"/imports/{job.pk}/errors.csv"]

    assert [client_as(mia).get(url).status_code for url in urls] == [404, 404, 404]
    assert [client_as(ada).get(url).status_code for url in urls] == [200, 200, 200]
    assert "c.csv" not in client_as(mia).get("/imports/").content.decode()
    assert "c.csv" in client_as(ada).get("/imports/").content.decode()
