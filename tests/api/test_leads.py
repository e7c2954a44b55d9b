from datetime import timedelta

from django.utils import timezone

from closedloop.core.models import AuditEntry
from closedloop.crm.models import Lead, StageChange
from tests.api.conftest import problems
from tests.factories import make_lead


def test_a_rep_lists_their_teams_leads_and_not_another_teams(api_as, alice, bob, charlie):
    mine, teammates = make_lead(owner=alice), make_lead(owner=bob)
    make_lead(owner=charlie)
    response = api_as(alice).get("/leads")
    assert response.status_code == 200
    ids = {row["id"] for row in response.json()["items"]}
    assert ids == {mine.pk, teammates.pk}


def test_a_rep_reading_another_teams_lead_by_id_gets_404_not_403(api_as, alice, charlie):
    theirs = make_lead(owner=charlie)
    response = api_as(alice).get(f"/leads/{theirs.pk}")
    assert response.status_code == 404
    assert problems(response) == {"id": f"no lead with id {theirs.pk}"}


def test_getting_a_lead_returns_its_fields_and_version_as_etag(api_as, mia, alice):
    lead = make_lead(owner=alice, first_name="Grace", email="grace@example.com")
    response = api_as(mia).get(f"/leads/{lead.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["first_name"] == "Grace" and body["owner"] == alice.pk
    assert body["lifecycle_stage"] == "lead" and body["version"] == 1
    assert response["ETag"] == '"1"'


def test_creating_a_lead_validates_and_records_the_stage_with_who_and_why(api_as, mia):
    response = api_as(mia).post(
        "/leads",
        {
            "first_name": "Ada",
            "email": "ada@lovelace.example",
            "lifecycle_stage": "mql",
            "stage_reason": "webinar hand-raise",
            "source": "webinar",
        },
    )
    assert response.status_code == 201, response.content
    lead = Lead.objects.get(pk=response.json()["id"])
    assert lead.lifecycle_stage == "mql" and lead.mql_at is not None
    change = StageChange.objects.get(lead=lead)
    assert (change.from_stage, change.to_stage, change.by, change.reason) == (
        "",
        "mql",
        mia,
        "webinar hand-raise",
    )
    assert response["ETag"] == f'"{lead.version}"'


def test_a_reps_new_lead_is_their_own(api_as, alice):
    response = api_as(alice).post("/leads", {"last_name": "Hopper"})
    assert response.status_code == 201
    assert response.json()["owner"] == alice.pk


def test_invalid_fields_are_named_with_their_problem(api_as, mia):
    response = api_as(mia).post(
        "/leads", {"email": "not-an-email", "lifecycle_stage": "hot", "country": "France"}
    )
    assert response.status_code == 422
    found = problems(response)
    assert found["email"] == "value is not a valid email address"
    assert "'mql'" in found["lifecycle_stage"]
    assert "country" in found


def test_an_unknown_owner_id_is_a_422_naming_owner(api_as, ada):
    response = api_as(ada).post("/leads", {"last_name": "X", "owner": 999999})
    assert response.status_code == 422
    assert problems(response) == {"owner": "no active user with id 999999"}


def test_a_body_that_is_not_json_is_a_400_naming_the_body(api_as, mia):
    api = api_as(mia)
    response = api.client.post(
        "/api/v1/leads",
        "{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {api.secret}"},
    )
    assert response.status_code == 400
    assert set(problems(response)) == {"body"}


def test_a_marketer_cannot_reassign_an_owner(api_as, mia, alice, bob):
    lead = make_lead(owner=alice)
    response = api_as(mia).patch(f"/leads/{lead.pk}", {"owner": bob.pk})
    assert response.status_code == 403
    assert problems(response) == {"": "only managers and admins can reassign leads"}
    lead.refresh_from_db()
    assert lead.owner == alice


def test_a_rep_cannot_reassign_their_lead_either(api_as, alice, bob):
    lead = make_lead(owner=alice)
    assert api_as(alice).patch(f"/leads/{lead.pk}", {"owner": bob.pk}).status_code == 403


def test_a_manager_reassigns_within_the_team_but_not_to_another_team(
    api_as, max_manager, alice, bob, charlie
):
    lead = make_lead(owner=alice)
    api = api_as(max_manager)
    assert api.patch(f"/leads/{lead.pk}", {"owner": charlie.pk}).status_code == 403
    response = api.patch(f"/leads/{lead.pk}", {"owner": bob.pk})
    assert response.status_code == 200
    lead.refresh_from_db()
    assert lead.owner == bob and lead.assigned_at is not None


def test_an_executive_reads_but_cannot_write(api_as, eve, alice):
    lead = make_lead(owner=alice)
    api = api_as(eve)
    assert api.get(f"/leads/{lead.pk}").status_code == 200
    assert api.patch(f"/leads/{lead.pk}", {"first_name": "Z"}).status_code == 403
    assert api.post("/leads", {"last_name": "Z"}).status_code == 403


def test_an_update_with_the_current_version_succeeds_and_bumps_the_etag(api_as, alice):
    lead = make_lead(owner=alice)
    api = api_as(alice)
    etag = api.get(f"/leads/{lead.pk}")["ETag"]
    response = api.patch(f"/leads/{lead.pk}", {"title": "CTO"}, **{"If-Match": etag})
    assert response.status_code == 200
    assert response.json()["title"] == "CTO" and response["ETag"] == '"2"'


def test_a_second_writer_with_a_stale_version_gets_412_and_nothing_changes(api_as, alice, bob):
    lead = make_lead(owner=alice, title="CEO")
    first, second = api_as(alice), api_as(bob)
    etag = first.get(f"/leads/{lead.pk}")["ETag"]
    assert second.get(f"/leads/{lead.pk}")["ETag"] == etag
    assert (
        first.patch(f"/leads/{lead.pk}", {"title": "CTO"}, **{"If-Match": etag}).status_code == 200
    )
    response = second.patch(
        f"/leads/{lead.pk}", {"title": "CFO", "lifecycle_stage": "sal"}, **{"If-Match": etag}
    )
    assert response.status_code == 412
    assert set(problems(response)) == {"If-Match"}
    lead.refresh_from_db()
    assert (lead.title, lead.lifecycle_stage, lead.version) == ("CTO", "lead", 2)


def test_a_malformed_if_match_is_a_400_naming_the_header(api_as, alice):
    lead = make_lead(owner=alice)
    response = api_as(alice).patch(f"/leads/{lead.pk}", {"title": "X"}, **{"If-Match": "yesterday"})
    assert response.status_code == 400
    assert set(problems(response)) == {"If-Match"}


def test_a_stage_change_through_the_api_goes_into_the_history(api_as, alice):
    lead = make_lead(owner=alice, stage="mql")
    response = api_as(alice).patch(
        f"/leads/{lead.pk}", {"lifecycle_stage": "sal", "stage_reason": "called, interested"}
    )
    assert response.status_code == 200 and response.json()["lifecycle_stage"] == "sal"
    change = StageChange.objects.get(lead=lead)
    assert (change.from_stage, change.to_stage, change.by, change.reason) == (
        "mql",
        "sal",
        alice,
        "called, interested",
    )


def test_an_explicit_null_for_a_text_field_is_refused(api_as, alice):
    lead = make_lead(owner=alice)
    response = api_as(alice).patch(f"/leads/{lead.pk}", {"email": None})
    assert response.status_code == 422 and "email" in problems(response)


def test_changes_through_the_api_are_audited_with_source_api(api_as, alice):
    lead = make_lead(owner=alice)
    api_as(alice).patch(f"/leads/{lead.pk}", {"title": "VP Sales"})
    entry = AuditEntry.objects.get(model="crm.lead", object_id=str(lead.pk), action="update")
    assert entry.source == "api" and entry.actor == alice
    assert entry.changes == {"title": ["", "VP Sales"]}


def test_filters_narrow_the_list(api_as, mia, alice, bob):
    now = timezone.now()
    hot = make_lead(owner=alice, score=90, source="webinar", company="Initech", stage="mql")
    make_lead(owner=bob, score=20, source="webinar")
    make_lead(owner=alice, score=60, source="referral")
    api = api_as(mia)

    def ids(**params):
        response = api.get("/leads", params)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["items"]}

    assert ids(stage="mql") == {hot.pk}
    assert ids(score_min=80) == {hot.pk}
    assert ids(source="webinar", score_max=50) == ids(owner=bob.pk)
    assert ids(q="initech") == {hot.pk}
    assert len(ids(owner=alice.pk)) == 2
    assert len(ids(updated_since=(now - timedelta(minutes=1)).isoformat())) == 3
    assert ids(updated_since=(now + timedelta(days=1)).isoformat()) == set()


def test_a_bad_filter_value_names_the_parameter(api_as, mia):
    response = api_as(mia).get("/leads", {"stage": "lukewarm", "limit": 0})
    assert response.status_code == 422
    assert set(problems(response)) == {"stage", "limit"}


def test_absurd_ids_are_refused_by_validation_not_by_the_database(api_as, mia):
    api = api_as(mia)
    huge = 2**70
    assert set(problems(api.get(f"/leads/{huge}"))) == {"lead_id"}
    response = api.post("/leads", {"owner": huge, "employees": 2**40})
    assert response.status_code == 422 and set(problems(response)) == {"owner", "employees"}
