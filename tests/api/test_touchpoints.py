from datetime import timedelta

from django.utils import timezone

from closedloop.core import events
from closedloop.engagement.models import Touchpoint
from tests.api.conftest import problems
from tests.factories import make_lead


def _touch(lead, type="page_view", minutes_ago=0, **extra):
    return Touchpoint.objects.create(
        lead=lead, type=type, occurred_at=timezone.now() - timedelta(minutes=minutes_ago), **extra
    )


def test_recording_a_touchpoint_announces_its_lead_for_rescoring(
    api_as, alice, django_capture_on_commit_callbacks
):
    lead = make_lead(owner=alice)
    heard = []

    def listener(sender, payload, **kwargs):
        heard.append(payload)

    events.touchpoints_recorded.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = api_as(alice).post(
                "/touchpoints",
                {
                    "lead": lead.pk,
                    "type": "sales_call",
                    "occurred_at": timezone.now().isoformat(),
                    "channel": "sales",
                    "properties": {"minutes": 12},
                },
            )
    finally:
        events.touchpoints_recorded.disconnect(listener)
    assert response.status_code == 201, response.content
    touch = Touchpoint.objects.get(pk=response.json()["id"])
    assert touch.lead == lead and touch.properties == {"minutes": 12}
    assert heard == [{"lead_ids": [lead.pk]}]


def test_a_touchpoint_for_a_lead_you_cannot_see_is_refused_naming_lead(api_as, alice, charlie):
    theirs = make_lead(owner=charlie)
    response = api_as(alice).post(
        "/touchpoints",
        {"lead": theirs.pk, "type": "meeting", "occurred_at": timezone.now().isoformat()},
    )
    assert response.status_code == 422
    assert problems(response) == {"lead": f"no lead with id {theirs.pk}"}


def test_touchpoint_type_time_zone_and_duplicates_are_checked(api_as, alice):
    lead = make_lead(owner=alice)
    api = api_as(alice)
    response = api.post(
        "/touchpoints", {"lead": lead.pk, "type": "smoke", "occurred_at": "2025-01-01T10:00:00"}
    )
    assert response.status_code == 422
    found = problems(response)
    assert set(found) == {"type", "occurred_at"} and "time zone" in found["occurred_at"]
    body = {
        "lead": lead.pk,
        "type": "form",
        "occurred_at": "2025-01-01T10:00:00Z",
        "message_id": "m-1",
    }
    assert api.post("/touchpoints", body).status_code == 201
    again = api.post("/touchpoints", body)
    assert again.status_code == 422 and set(problems(again)) == {"message_id"}


def test_touchpoints_are_visible_only_through_their_lead(api_as, alice, charlie, mia):
    ours, theirs = _touch(make_lead(owner=alice)), _touch(make_lead(owner=charlie))
    anonymous = _touch(None, anonymous_id="anon-1")
    assert {t["id"] for t in api_as(alice).get("/touchpoints").json()["items"]} == {ours.pk}
    assert api_as(alice).get(f"/touchpoints/{theirs.pk}").status_code == 404
    assert {t["id"] for t in api_as(mia).get("/touchpoints").json()["items"]} == {
        ours.pk,
        theirs.pk,
        anonymous.pk,
    }


def test_touchpoints_filter_by_lead_type_and_since(api_as, mia):
    lead = make_lead()
    recent = _touch(lead, "email_open", minutes_ago=5)
    _touch(lead, "page_view", minutes_ago=60 * 24)
    _touch(make_lead(), "email_open")
    api = api_as(mia)

    def ids(**params):
        return {t["id"] for t in api.get("/touchpoints", params).json()["items"]}

    since = (timezone.now() - timedelta(hours=1)).isoformat()
    assert ids(lead=lead.pk, type="email_open") == {recent.pk}
    assert ids(lead=lead.pk, since=since) == {recent.pk}
    assert len(ids(type="email_open")) == 2


def test_touchpoint_pages_cover_every_row_once(api_as, mia):
    lead = make_lead()
    made = {_touch(lead, minutes_ago=i % 3).pk for i in range(11)}
    api, seen, cursor = api_as(mia), [], None
    while True:
        body = api.get(
            "/touchpoints", {"limit": 4, **({"cursor": cursor} if cursor else {})}
        ).json()
        seen += [t["id"] for t in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(made) and set(seen) == made


def test_times_with_any_offset_are_stored_and_filtered_in_utc(api_as, alice):
    lead = make_lead(owner=alice)
    api = api_as(alice)
    # Python allows offsets up to 24 h, PostgreSQL only 16 h: the API converts to UTC first.
    response = api.post(
        "/touchpoints",
        {
            "lead": lead.pk,
            "type": "email_open",
            "occurred_at": "2024-11-15T08:56:34-22:57",
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["occurred_at"] == "2024-11-16T07:53:34Z"
    listed = api.get("/touchpoints", {"since": "2024-11-16T07:00:00+23:30"}).json()["items"]
    assert [t["id"] for t in listed] == [response.json()["id"]]
    assert api.get("/touchpoints", {"since": "2024-11-16"}).status_code == 200
