"""The content API: search, assets, uploads, publishing, gaps, with the standard errors."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.api.conftest import problems
from tests.content import files
from tests.content.conftest import add_asset

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_as():
    from closedloop.core.services import create_api_token
    from tests.api.conftest import Api

    def make(user):
        return Api(create_api_token(user=user, name="tests")[1])

    return make


def test_search_answers_hits_with_plain_snippets_and_facets(api_as, mia, alice):
    asset = add_asset(
        mia, title="Security whitepaper", text="Encryption at rest", kind="whitepaper"
    )
    body = api_as(alice).get("/content/search", {"q": "encryption"}).json()
    assert body["total"] == 1 and body["search_id"]
    [hit] = body["items"]
    assert hit["id"] == asset.pk and hit["score"] > 0
    assert "Encryption" in hit["snippet"] and "\x02" not in hit["snippet"]
    assert body["facets"]["kind"] == [{"value": "whitepaper", "label": "Whitepaper", "count": 1}]


def test_a_rep_creates_a_personal_asset_uploads_its_file_and_reads_it_back(api_as, alice):
    api = api_as(alice)
    created = api.post("/content/assets", {"title": "My deck", "kind": "deck", "tags": ["a", "b"]})
    assert created.status_code == 201, created.content
    asset = created.json()
    assert asset["personal"] and asset["status"] == "draft" and asset["tags"] == ["a", "b"]
    upload = api.client.post(
        f"/api/v1/content/assets/{asset['id']}/versions",
        {"file": SimpleUploadedFile("deck.pptx", files.pptx_bytes("Why us"))},
        headers=api._headers(None),
    )
    assert upload.status_code == 201, upload.content
    assert upload.json()["number"] == 1 and upload.json()["mime"].endswith("presentation")
    detail = api.get(f"/content/assets/{asset['id']}").json()
    assert [v["number"] for v in detail["versions"]] == [1]


def test_a_wrong_type_upload_is_a_422_naming_the_file(api_as, mia):
    api = api_as(mia)
    asset = api.post("/content/assets", {"title": "x", "url": "https://example.com/v"}).json()
    refused = api.client.post(
        f"/api/v1/content/assets/{asset['id']}/versions",
        {"file": SimpleUploadedFile("x.pdf", files.WINDOWS_EXE)},
        headers=api._headers(None),
    )
    assert refused.status_code == 422 and "file" in problems(refused)


def test_only_marketing_publishes_and_an_invisible_asset_is_a_404(api_as, mia, alice, bob):
    mine = add_asset(alice, title="Mine", text="mine", publish=False)
    assert api_as(bob).get(f"/content/assets/{mine.pk}").status_code == 404
    assert api_as(alice).post(f"/content/assets/{mine.pk}/publish", {}).status_code == 403
    published = api_as(mia).post(f"/content/assets/{mine.pk}/publish", {})
    assert published.status_code == 200 and published.json()["status"] == "published"
    assert api_as(bob).get(f"/content/assets/{mine.pk}").status_code == 200


def test_bad_fields_are_422s_naming_them(api_as, mia):
    api = api_as(mia)
    assert "url" in problems(api.post("/content/assets", {"title": "x", "url": "javascript:x"}))
    assert "title" in problems(api.post("/content/assets", {"title": "   ", "url": "https://e.x"}))
    assert "kind" in str(problems(api.post("/content/assets", {"title": "x", "kind": "poem"})))


def test_gaps_are_for_marketing(api_as, mia, alice):
    api_as(alice).get("/content/search", {"q": "nothing like this"})
    assert api_as(alice).get("/content/gaps").status_code == 403
    body = api_as(mia).get("/content/gaps").json()
    assert body["no_result"] == 1 and body["gaps"][0]["normalized"] == "like nothing this"
