"""Importing leads: mapping, upserts, idempotency, every row accounted for, and failures."""

from datetime import UTC, datetime

import pytest

from closedloop.core.models import AuditEntry
from closedloop.crm.models import Lead, StageChange
from closedloop.imports.models import ImportStatus
from closedloop.imports.services import ImportRefused, create_import_job, error_rows, run_import
from tests.factories import make_lead
from tests.imports.helpers import accounted, errors_of, import_file, sample, write


def test_a_hubspot_contact_export_becomes_leads_with_our_values(alice, bob, mia):
    job = import_file(sample("hubspot_contacts.csv"), fmt="hubspot", user=mia)
    assert (job.status, job.created, job.failed) == ("done", 5, 0)
    grace = Lead.objects.get(external_id="51001")
    assert (grace.first_name, grace.email, grace.title) == (
        "Grace",
        "grace.hopper@navy-systems.com",
        "VP Engineering",
    )
    assert (grace.lifecycle_stage, grace.status, grace.source) == ("mql", "new", "organic_search")
    assert (grace.country, grace.employees, grace.owner) == ("US", 201, alice)
    assert grace.created_at == datetime(2024, 1, 15, 10, 23, tzinfo=UTC)
    assert grace.mql_at == grace.created_at
    ada = Lead.objects.get(external_id="51003")
    assert (ada.lifecycle_stage, ada.owner, ada.email) == ("sql", bob, "ADA@engines.io")
    assert Lead.objects.get(external_id="51004").lifecycle_stage == "customer"


def test_a_salesforce_lead_report_becomes_leads(charlie):
    job = import_file(sample("salesforce_leads.csv"), fmt="salesforce")
    assert (job.created, job.failed) == (3, 0)
    barbara = Lead.objects.get(external_id="00Q5j00000AbCdE")
    assert (barbara.source, barbara.status, barbara.owner) == ("organic_search", "new", charlie)
    don = Lead.objects.get(email="don@taocp.org")
    assert (don.source, don.status) == ("event", "attempting")
    assert don.created_at == datetime(2024, 2, 3, 10, 23, tzinfo=UTC)
    assert Lead.objects.get(email="frances@compilers.dev").employees == 4500


def test_importing_the_same_file_twice_creates_nothing_new(alice, bob):
    first = import_file(sample("hubspot_contacts.csv"), fmt="hubspot")
    leads, changes = Lead.objects.count(), StageChange.objects.count()
    second = import_file(sample("hubspot_contacts.csv"), fmt="hubspot")
    assert (second.created, second.updated, second.skipped, second.failed) == (0, 0, 5, 0)
    assert (Lead.objects.count(), StageChange.objects.count()) == (leads, changes)
    assert first.pk != second.pk


def test_rows_upsert_by_external_id_then_by_email_case_insensitively(tmp_path):
    by_ext = make_lead(external_id="X1", email="old@acme.com", first_name="Old")
    by_mail = make_lead(email="Ann@Acme.com", first_name="Ann")
    path = write(
        tmp_path,
        "leads.csv",
        "id,email,first_name\nX1,new@acme.com,New\n,ann@acme.com,Annie\n,c@acme.com,C\n",
    )
    job = import_file(path)
    assert (job.created, job.updated) == (1, 2)
    by_ext.refresh_from_db()
    by_mail.refresh_from_db()
    assert (by_ext.email, by_ext.first_name, by_ext.version) == ("new@acme.com", "New", 2)
    assert by_mail.first_name == "Annie"


def test_empty_cells_do_not_erase_stored_values(tmp_path):
    lead = make_lead(email="ann@acme.com", title="CEO", company="Acme")
    job = import_file(write(tmp_path, "l.csv", "email,title,company\nann@acme.com,,Acme Inc\n"))
    lead.refresh_from_db()
    assert (job.updated, lead.title, lead.company) == (1, "CEO", "Acme Inc")


def test_a_stage_change_by_import_is_recorded_with_the_file_as_reason(
    tmp_path, mia, django_capture_on_commit_callbacks
):
    lead = make_lead(email="ann@acme.com", stage="lead")
    received = []
    from closedloop.core import events

    def listener(sender, lead, payload, **kwargs):
        received.append(payload)

    events.lead_became_mql.connect(listener)
    try:
        path = write(tmp_path, "stages.csv", "email,lifecycle stage\nann@acme.com,MQL\n")
        with django_capture_on_commit_callbacks(execute=True):
            import_file(path, user=mia)
    finally:
        events.lead_became_mql.disconnect(listener)
    lead.refresh_from_db()
    change = StageChange.objects.get(lead=lead)
    assert (change.from_stage, change.to_stage, change.by) == ("lead", "mql", mia)
    assert change.reason == "import stages.csv"
    assert lead.lifecycle_stage == "mql" and lead.mql_at is not None
    assert [p["lead_id"] for p in received] == [lead.pk]


def test_new_leads_enter_the_funnel_with_a_stage_change_at_their_creation(tmp_path):
    path = write(tmp_path, "new.csv", "email,stage,created\nann@acme.com,sql,2024-01-02\n")
    import_file(path)
    change = StageChange.objects.get()
    assert (change.from_stage, change.to_stage) == ("", "sql")
    assert change.at == datetime(2024, 1, 2, tzinfo=UTC)


def test_every_row_is_counted_once_and_failed_rows_say_line_column_and_reason(tmp_path):
    make_lead(email="known@acme.com", title="CEO")
    content = (
        "Email,First Name,Create Date,Lifecycle Stage\n"
        "ok@acme.com,Ok,2024-01-01,lead\n"  # 2 created
        "known@acme.com,,,\n"  # 3 unchanged → skipped
        "bad-email,Bad,2024-01-01,lead\n"  # 4 bad email
        "date@acme.com,Date,31/31/2024,lead\n"  # 5 bad date
        "stage@acme.com,Stage,2024-01-01,Hot\n"  # 6 unknown stage
        "OK@acme.com,Twice,2024-01-02,lead\n"  # 7 duplicate of line 2
        ",,,\n"  # 8 blank → skipped
        'multi@acme.com,"Multi\nLine",2024-01-01,lead\n'  # 9-10 created
        "last@acme.com,Last,2024-01-01,mql\n"  # 11 created
    )
    job = import_file(write(tmp_path, "mixed.csv", content), chunk_size=3)
    assert (job.created, job.updated, job.skipped, job.failed) == (3, 0, 2, 4)
    assert accounted(job) == 9
    assert errors_of(job) == [
        (4, "Email", "bad email 'bad-email'"),
        (5, "Create Date", "bad date '31/31/2024' (use YYYY-MM-DD or MM/DD/YYYY)"),
        (6, "Lifecycle Stage", "unknown lifecycle stage 'Hot'"),
        (7, "Email", "duplicate email within the file (first on line 2)"),
    ]
    assert Lead.objects.get(email="last@acme.com").lifecycle_stage == "mql"
    assert Lead.objects.get(email="multi@acme.com").first_name == "Multi\nLine"


def test_the_error_csv_lists_line_column_value_and_reason(tmp_path):
    job = import_file(write(tmp_path, "e.csv", "email,employees\nx@acme.com,many\n"))
    assert list(error_rows(job)) == [
        ["line", "column", "value", "reason"],
        ["2", "employees", "many", "not a whole number: 'many'"],
    ]


def test_a_file_without_a_required_column_fails_whole_before_any_write(tmp_path):
    path = write(tmp_path, "names.csv", "First Name,Last Name\nAnn,Lee\n")
    job = create_import_job(path=path, file_name="names.csv", kind="leads", fmt="hubspot")
    with pytest.raises(ImportRefused, match="no column is mapped to Email or External id"):
        run_import(job)
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED and "Email or External id" in job.message
    assert not Lead.objects.exists() and accounted(job) == 0


def test_an_empty_file_is_refused(tmp_path):
    with pytest.raises(ImportRefused, match="empty"):
        create_import_job(
            path=write(tmp_path, "empty.csv", ""),
            file_name="empty.csv",
            kind="leads",
            fmt="generic",
        )


def test_a_cp1252_file_imports_with_its_accents_and_a_note(tmp_path):
    path = write(tmp_path, "excel.csv", "Email,First Name\nrenee@acme.fr,Renée\n", "cp1252")
    job = import_file(path)
    assert job.encoding == "cp1252" and "cp1252" in job.note
    assert Lead.objects.get().first_name == "Renée"


def test_a_utf8_file_with_a_byte_order_mark_maps_its_first_column(tmp_path):
    path = write(tmp_path, "bom.csv", "\ufeffEmail,First Name\nzoe@acme.com,Zoë\n")
    job = import_file(path)
    assert job.mapping["Email"] == "email" and Lead.objects.get().first_name == "Zoë"


def test_rows_with_bytes_of_no_known_encoding_fail_and_the_rest_import(tmp_path):
    content = b"Email,First Name\nok@acme.com,Ok\nbad@acme.com,\x81\x8d\xff\n"
    job = import_file(write(tmp_path, "broken.csv", content))
    assert (job.created, job.failed) == (1, 1)
    assert errors_of(job) == [
        (3, "First Name", "bad encoding: bytes that are neither UTF-8 nor cp1252")
    ]


def test_an_unknown_owner_fails_the_row(tmp_path):
    job = import_file(write(tmp_path, "o.csv", "email,owner\na@acme.com,Nobody Known\n"))
    assert errors_of(job) == [
        (2, "owner", "unknown owner 'Nobody Known': no user with that email or name")
    ]


def test_marketing_fills_empty_owners_but_does_not_reassign(tmp_path, alice, bob, mia, ada):
    owned = make_lead(email="owned@acme.com", owner=alice)
    free = make_lead(email="free@acme.com")
    path = write(
        tmp_path,
        "own.csv",
        "email,owner\nowned@acme.com,bob@example.com\nfree@acme.com,bob@example.com\n",
    )
    import_file(path, user=mia)
    owned.refresh_from_db()
    free.refresh_from_db()
    assert (owned.owner, free.owner) == (alice, bob)
    import_file(path, user=ada)
    owned.refresh_from_db()
    assert owned.owner == bob


def test_imports_are_audited_once_per_chunk_as_imports(tmp_path, mia):
    rows = "".join(f"lead{n}@acme.com\n" for n in range(7))
    import_file(write(tmp_path, "many.csv", "email\n" + rows), user=mia, chunk_size=3)
    entries = AuditEntry.objects.filter(model="crm.lead")
    assert entries.count() == 3
    assert {(e.action, e.source, e.actor_id) for e in entries} == {("bulk", "import", mia.pk)}
    assert sum(e.changes["rows"] for e in entries) == 7


def test_a_row_without_email_or_external_id_fails_so_a_reimport_cannot_duplicate_it(tmp_path):
    path = write(tmp_path, "k.csv", "Record ID,Email,First Name\n,,Nameless\n1,,Keyed\n")
    job = import_file(path, fmt="hubspot")
    assert (job.created, job.failed) == (1, 1)
    reason = "no Record ID or Email: a row needs one to be matched when imported again"
    assert errors_of(job) == [(2, "Record ID", reason)]


def test_new_leads_enter_the_funnel_at_their_stage_and_creation_time(mia):
    import_file(sample("hubspot_contacts.csv"), fmt="hubspot", user=mia)
    entries = {
        (c.lead.external_id, c.from_stage, c.to_stage, c.at == c.lead.created_at, c.by)
        for c in StageChange.objects.select_related("lead")
    }
    assert entries == {
        (lead.external_id, "", lead.lifecycle_stage, True, mia) for lead in Lead.objects.all()
    }
    assert set(StageChange.objects.values_list("reason", flat=True)) == {
        "import hubspot_contacts.csv"
    }


def test_an_import_gives_the_sqlite_connection_its_page_cache_and_checkpoints_back(tmp_path):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("the page cache is a SQLite setting")

    def settings() -> tuple:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size")
            cache = cursor.fetchone()[0]
            cursor.execute("PRAGMA wal_autocheckpoint")
            return cache, cursor.fetchone()[0]

    before = settings()
    during = []
    job = create_import_job(
        path=write(tmp_path, "l.csv", "email\nann@acme.com\nbob@acme.com\n"),
        file_name="l.csv",
        kind="leads",
        fmt="generic",
    )
    run_import(job, chunk_size=1, on_chunk=lambda job: during.append(settings()))
    assert during[0] != before and settings() == before


def test_imported_leads_are_rescored_and_those_meeting_the_mql_rule_become_mql_and_are_routed(
    tmp_path, mia, alice, bob, east, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from closedloop.core import events
    from closedloop.engagement.models import Touchpoint
    from closedloop.handoff.models import RoutingRule

    RoutingRule.objects.create(name="All to East", team=east, position=100)

    # Engaged, but a poor fit as far as we knew: the import brings the firmographics.
    engaged = make_lead(email="vp@bigco.example", industry="Retail", employees=3, stage="lead")
    for days_ago, kind in enumerate(["form", "webinar", "form", "webinar", "meeting"]):
        Touchpoint.objects.create(
            lead=engaged, type=kind, occurred_at=timezone.now() - timedelta(days=days_ago)
        )
    became_mql = []

    def listener(sender, lead, payload, **kwargs):
        became_mql.append(lead.pk)

    events.lead_became_mql.connect(listener)
    try:
        path = write(
            tmp_path,
            "firmo.csv",
            "email,industry,employees,seniority,country\n"
            "vp@bigco.example,Software,1500,VP,US\n"
            "new@bigco.example,Software,1500,VP,US\n",
        )
        with django_capture_on_commit_callbacks(execute=True):
            job = import_file(path, user=mia)
    finally:
        events.lead_became_mql.disconnect(listener)
    assert (job.created, job.updated) == (1, 1)
    engaged.refresh_from_db()
    new = Lead.objects.get(email="new@bigco.example")
    assert engaged.lifecycle_stage == "mql" and engaged.mql_at is not None
    assert became_mql == [engaged.pk]
    assert engaged.owner_id in (alice.pk, bob.pk)  # routed by the rule
    change = StageChange.objects.filter(lead=engaged).latest("at")
    assert change.reason.startswith("MQL rule")
    # The new lead is scored too; without any touch it is not engaged enough to be an MQL.
    assert new.fit_grade.startswith("A") and new.scored_at is not None
    assert new.lifecycle_stage == "lead"
