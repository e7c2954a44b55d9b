"""The library's pages: search, an asset, uploads, publishing, gaps, the lead panel."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from closedloop.content.models import AssetStatus, ContentAsset, SearchLog
from tests.content import files
from tests.content.conftest import add_asset
from tests.factories import make_lead

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_rep_searches_sees_facets_and_an_escaped_snippet(mia, alice):
    add_asset(mia, title="Pricing <b>playbook</b>", text="defend the price <script>x</script>",
              kind="battlecard")  # fmt: skip
    page = login(alice).get("/content/", {"q": "price"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "Pricing &lt;b&gt;playbook&lt;/b&gt;" in html
    assert "<mark>price</mark>" in html and "<script>x" not in html
    assert "Battlecard" in html  # the kind facet
    assert SearchLog.objects.get().query == "price"


def test_opening_a_result_records_the_open_on_the_search(mia, alice):
    asset = add_asset(mia, title="Guide", text="onboarding guide")
    login(alice).get("/content/", {"q": "onboarding"})
    log = SearchLog.objects.get()
    assert login(alice).get(f"/content/{asset.pk}/", {"s": log.pk}).status_code == 200
    log.refresh_from_db()
    assert log.opened_asset == asset


def test_marketing_uploads_through_the_form_and_a_bad_file_gets_a_422_naming_the_field(mia):
    client = login(mia)
    good = SimpleUploadedFile("deck.pptx", files.pptx_bytes("Why us"))
    response = client.post("/content/new/", {"title": "Deck", "kind": "deck", "file": good})
    assert response.status_code == 302
    asset = ContentAsset.objects.get(title="Deck")
    assert asset.current_version.original_name == "deck.pptx" and not asset.personal
    bad = SimpleUploadedFile("evil.pdf", files.WINDOWS_EXE)
    refused = client.post("/content/new/", {"title": "Evil", "kind": "deck", "file": bad})
    assert refused.status_code == 422
    assert 'id="error-file"' in refused.content.decode()


def test_a_reps_upload_goes_to_their_space_and_warns_when_it_copies_the_library(mia, alice):
    text = (
        "Closedloop cut our response time from two days to three hours and doubled the "
        "share of leads sales accepted, while the team stopped rebuilding decks "
    ) * 2
    original = add_asset(mia, title="Case study", text=text)
    copy = SimpleUploadedFile("mine.docx", files.docx_bytes(text.replace("two days", "48 hours")))
    client = login(alice)
    # A small file is read during the upload, so the rep is told at once.
    response = client.post("/content/new/", {"title": "Mine", "kind": "deck", "file": copy},
                           follow=True)  # fmt: skip
    mine = ContentAsset.objects.get(title="Mine")
    assert mine.personal and mine.owner == alice
    assert mine.duplicate_of == original
    assert "nearly duplicates" in response.content.decode()


def test_a_rep_cannot_publish_or_retire_and_executives_cannot_upload(mia, alice, eve):
    asset = add_asset(mia, title="Guide", text="guide")
    assert login(alice).post(f"/content/{asset.pk}/retire/").status_code == 403
    assert login(eve).get("/content/new/").status_code == 403
    assert login(mia).post(f"/content/{asset.pk}/retire/").status_code == 302
    asset.refresh_from_db()
    assert asset.status == AssetStatus.RETIRED
    assert login(alice).get(f"/content/{asset.pk}/").status_code == 404


def test_a_version_file_downloads_for_those_who_may_see_it(mia, alice, bob):
    mine = add_asset(alice, title="Mine", text="private", publish=False)
    response = login(alice).get(f"/content/{mine.pk}/versions/1/file/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert login(bob).get(f"/content/{mine.pk}/versions/1/file/").status_code == 404


def test_the_gaps_page_is_marketings(mia, alice):
    login(alice).get("/content/", {"q": "roi calculator"})
    assert login(alice).get("/content/gaps/").status_code == 403
    page = login(mia).get("/content/gaps/")
    assert page.status_code == 200 and "roi calculator" in page.content.decode()


def test_the_lead_page_shows_content_for_the_leads_persona_and_stage(mia, alice):
    fitting = add_asset(mia, title="CFO brief", text="brief", persona="finance", stage="mql")
    add_asset(mia, title="Unrelated", text="other", persona="technical", stage="customer")
    lead = make_lead(owner=alice, title="CFO", stage="mql")
    html = login(alice).get(f"/leads/{lead.pk}/").content.decode()
    assert "Content for this lead" in html
    # The recommendations only (the share form below them lists every published asset).
    recommended = html.split('id="content-for"')[1].split("</ul>")[0]
    assert "CFO brief" in recommended and "Unrelated" not in recommended
    assert f"/content/{fitting.pk}/" in html
