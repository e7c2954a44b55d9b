"""Share links: a rep shares an asset with a lead; the buyer's opening is a content view of
the lead, the rep is told; revoked and expired links never serve the file."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from closedloop.content.services import retire_asset, sharing
from closedloop.content.usage_models import ShareLink, UsageEvent, UsageKind
from closedloop.core.services import hash_token
from closedloop.engagement.models import Touchpoint, TouchpointType
from closedloop.handoff.models import Notification
from tests.content.conftest import add_asset
from tests.factories import make_lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def asset(mia):
    return add_asset(mia, text="Why teams switch to us", title="Switching guide")


@pytest.fixture
def lead(alice):
    return make_lead(owner=alice, first_name="Lena", last_name="Buyer")


def test_sharing_stores_only_a_hash_of_the_token_and_logs_the_share(asset, lead, alice):
    link, token = sharing.share_asset(asset, lead=lead, by=alice)
    assert len(token) >= 32
    assert link.token_hash == hash_token(token) and token not in link.token_hash
    assert link.expires_at - link.created_at == timedelta(days=sharing.LINK_DAYS)
    event = UsageEvent.objects.get(kind=UsageKind.SHARE)
    assert (event.asset, event.lead, event.user, event.share_link) == (asset, lead, alice, link)


def test_opening_a_link_records_a_content_view_of_the_lead_and_tells_the_rep(asset, lead, alice):
    link, token = sharing.share_asset(asset, lead=lead, by=alice)
    response = Client().get(reverse("content-share-open", args=[token]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    touch = Touchpoint.objects.get(lead=lead)
    assert touch.type == TouchpointType.CONTENT_VIEW and touch.content == asset
    assert touch.properties["share_link"] == link.pk
    assert touch.properties["version"] == asset.current_version.number
    assert touch.properties["rep"] == alice.pk
    note = Notification.objects.get(user=alice)
    assert "Switching guide" in note.text and note.lead == lead
    link.refresh_from_db()
    assert link.views == 1 and link.last_viewed_at is not None


def test_reopening_within_half_an_hour_counts_the_view_but_records_one_touch(asset, lead, alice):
    _link, token = sharing.share_asset(asset, lead=lead, by=alice)
    now = timezone.now()
    sharing.open_link(token, now=now)
    sharing.open_link(token, now=now + timedelta(minutes=10))
    sharing.open_link(token, now=now + timedelta(minutes=45))
    assert Touchpoint.objects.filter(lead=lead).count() == 2
    assert ShareLink.objects.get().views == 3


@pytest.mark.parametrize("state", ["revoked", "expired", "retired"])
def test_a_revoked_or_expired_link_answers_a_clear_page_never_the_file(
    state, asset, lead, alice, mia
):
    link, token = sharing.share_asset(asset, lead=lead, by=alice, days=1)
    if state == "revoked":
        sharing.revoke_link(link, by=alice)
    elif state == "expired":
        ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(1))
    else:
        retire_asset(asset, by=mia)
    response = Client().get(reverse("content-share-open", args=[token]))
    assert response.status_code == 410
    assert response["Content-Type"].startswith("text/html")
    assert b"%PDF" not in response.content
    assert Touchpoint.objects.count() == 0 and Notification.objects.count() == 0


def test_an_unknown_token_is_a_404_page_that_names_nobody(asset, lead, alice):
    sharing.share_asset(asset, lead=lead, by=alice)
    response = Client().get(reverse("content-share-open", args=["x" * 32]))
    assert response.status_code == 404
    assert b"Lena" not in response.content and b"alice" not in response.content


def test_the_page_of_a_link_names_neither_the_lead_nor_the_rep(asset, lead, alice):
    link, token = sharing.share_asset(asset, lead=lead, by=alice)
    sharing.revoke_link(link, by=alice)
    content = Client().get(reverse("content-share-open", args=[token])).content
    for secret in (b"Lena", b"Buyer", b"alice", b"Alice"):
        assert secret not in content


def test_a_rep_cannot_share_with_a_lead_they_cannot_see(asset, charlie, lead):
    with pytest.raises(PermissionDenied):
        sharing.share_asset(asset, lead=lead, by=charlie)


def test_a_draft_cannot_be_shared(mia, lead, alice):
    draft = add_asset(mia, title="Draft", publish=False)
    with pytest.raises(PermissionDenied):  # a rep does not even see a draft
        sharing.share_asset(draft, lead=lead, by=alice)
    with pytest.raises(ValidationError):
        sharing.share_asset(draft, lead=lead, by=mia)


def test_the_share_page_shows_the_url_once_and_the_lead_page_lists_the_link(asset, lead, alice):
    client = Client()
    client.force_login(alice)
    response = client.post(reverse("content-share", args=[asset.pk]), {"lead": lead.pk})
    assert response.status_code == 200
    url = response.context["url"]
    assert "/s/" in url
    page = client.get(reverse("lead-detail", args=[lead.pk])).content.decode()
    assert "Switching guide" in page and "not opened yet" in page
    assert url not in page


def test_a_rep_records_a_presentation(asset, alice):
    client = Client()
    client.force_login(alice)
    client.post(reverse("content-presented", args=[asset.pk]))
    assert UsageEvent.objects.get().kind == UsageKind.PRESENT
