"""Content requests: asked from a lead, worked by marketing against a deadline, answered
with an asset; the rep's failed searches come with it and the rep is told."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from closedloop.content.models import SearchLog
from closedloop.content.services import requests as service
from closedloop.content.usage_models import ContentRequest, RequestStatus, Urgency
from closedloop.handoff.engine import TimerState
from closedloop.handoff.models import Notification
from tests.content.conftest import add_asset
from tests.factories import make_lead

pytestmark = pytest.mark.django_db
MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def lead(alice):
    return make_lead(owner=alice)


def test_the_deadline_is_working_time_by_urgency_or_the_day_it_is_needed(alice, lead):
    high = service.due_at(MONDAY_10, urgency=Urgency.HIGH, needed_by=None)
    normal = service.due_at(MONDAY_10, urgency=Urgency.NORMAL, needed_by=None)
    assert high == datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    assert normal == datetime(2026, 3, 4, 10, 0, tzinfo=UTC)  # two 8-hour days
    friday = service.due_at(
        datetime(2026, 3, 6, 16, 0, tzinfo=UTC), urgency=Urgency.HIGH, needed_by=None
    )
    assert friday == datetime(2026, 3, 9, 12, 0, tzinfo=UTC)  # the weekend does not count
    soon = service.due_at(MONDAY_10, urgency=Urgency.LOW, needed_by=date(2026, 3, 3))
    assert soon == datetime(2026, 3, 3, 23, 59, tzinfo=UTC)


def test_a_request_keeps_the_reps_recent_searches_that_found_nothing(alice, bob, lead):
    empty = SearchLog.objects.create(
        query="pricing for hospitals",
        normalized="for hospitals pricing",
        user=alice,
        result_count=0,
    )
    SearchLog.objects.create(query="other", normalized="other", user=bob, result_count=0)
    old = SearchLog.objects.create(query="old", normalized="old", user=alice, result_count=0)
    SearchLog.objects.filter(pk=old.pk).update(created_at=MONDAY_10 - timedelta(days=60))
    item = service.request_content(by=alice, what="A hospital pricing one-pager", lead=lead)
    assert list(item.searches.all()) == [empty]
    assert item.status == RequestStatus.OPEN


def test_a_request_needs_what_and_a_date_not_in_the_past(alice):
    with pytest.raises(ValidationError) as error:
        service.request_content(by=alice, what="  ")
    assert "what" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        service.request_content(by=alice, what="x", needed_by=date(2000, 1, 1))
    assert "needed_by" in error.value.message_dict


def test_marketing_fulfils_with_an_asset_and_the_rep_is_told(alice, mia, lead):
    item = service.request_content(by=alice, what="A case study in healthcare", lead=lead)
    service.take_request(item, by=mia)
    asset = add_asset(mia, title="Healthcare case study")
    service.fulfil_request(item, by=mia, asset=asset)
    item.refresh_from_db()
    assert item.status == RequestStatus.FULFILLED and item.fulfilled_by == asset
    assert service.clock(item).state == TimerState.MET
    texts = list(Notification.objects.filter(user=alice).values_list("text", flat=True))
    assert any("Healthcare case study" in t for t in texts)
    assert any("working on" in t for t in texts)


def test_only_marketing_works_the_queue(alice, lead):
    item = service.request_content(by=alice, what="x", lead=lead)
    with pytest.raises(PermissionDenied):
        service.take_request(item, by=alice)


def test_declining_needs_a_reason_that_the_rep_reads(alice, mia):
    item = service.request_content(by=alice, what="x")
    with pytest.raises(ValidationError):
        service.decline_request(item, by=mia, answer=" ")
    service.decline_request(item, by=mia, answer="We have one: the ROI deck")
    assert Notification.objects.get(user=alice).text.endswith("the ROI deck")


def test_a_rep_asks_from_the_lead_page_and_sees_only_their_own_requests(alice, bob, lead):
    client = Client()
    client.force_login(alice)
    page = client.get(reverse("content-request-new") + f"?lead={lead.pk}")
    assert page.status_code == 200
    response = client.post(
        reverse("content-request-new"),
        {"lead": lead.pk, "what": "A security one-pager", "urgency": "high", "needed_by": ""},
    )
    item = ContentRequest.objects.get()
    assert response.status_code == 302 and item.lead == lead and item.urgency == "high"
    other = Client()
    other.force_login(bob)
    assert other.get(reverse("content-request", args=[item.pk])).status_code == 404
    assert "A security one-pager" not in other.get(reverse("content-requests")).content.decode()


def test_a_lead_the_rep_cannot_see_is_a_404_on_the_request_form(charlie, lead):
    client = Client()
    client.force_login(charlie)
    assert client.get(reverse("content-request-new") + f"?lead={lead.pk}").status_code == 404


def test_the_queue_exports_csv(alice, mia):
    service.request_content(by=alice, what="=HYPERLINK(evil)")
    client = Client()
    client.force_login(mia)
    response = client.get(reverse("content-requests") + "?format=csv")
    assert response["Content-Type"].startswith("text/csv")
    assert "'=HYPERLINK(evil)" in response.content.decode()
