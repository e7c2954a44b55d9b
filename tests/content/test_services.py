"""Uploads, versions, statuses and near duplicates through content.services."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from closedloop.content import services
from closedloop.content.models import AssetStatus, ExtractionStatus
from closedloop.content.permissions import visible_assets
from tests.content import files
from tests.content.conftest import add_asset, upload

pytestmark = pytest.mark.django_db

DECK_TEXT = (
    "Closedloop helps revenue teams agree on what a qualified lead is, hand leads over within "
    "hours, and show marketing which campaigns and which pieces of content turned into won "
    "deals. This case study follows a mid-sized software company through its first quarter: "
    "response times fell from two days to three hours, the share of leads accepted by sales "
    "rose from forty to seventy percent, and the sales team stopped rebuilding its own decks."
)


def test_marketing_adds_a_file_and_its_text_is_extracted_and_stored(mia):
    asset = add_asset(mia, text="Pricing guide for SaaS", title="Pricing guide", kind="ebook")
    version = asset.current_version
    assert asset.status == AssetStatus.PUBLISHED and not asset.personal
    assert version.number == 1 and version.mime == "application/pdf"
    assert version.extraction == ExtractionStatus.EXTRACTED
    assert "Pricing guide for SaaS" in version.extracted_text and version.page_count == 1
    assert len(version.sha256) == 64 and version.size > 0
    assert version.file.name.startswith(f"content/{asset.pk}/1/")


def test_extraction_waits_for_the_worker_unless_asked_now(mia, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        asset = services.create_asset(by=mia, upload=upload(files.docx_bytes("Later")), title="T")
    assert len(callbacks) == 1  # the task was queued after commit (the test backend runs it)
    asset.refresh_from_db()
    assert asset.current_version.extraction == ExtractionStatus.EXTRACTED


def test_replacing_the_file_makes_a_new_version_and_keeps_the_old(mia):
    asset = add_asset(mia, text="First edition")
    services.add_version(asset, upload(files.docx_bytes("Second edition"), "v2.docx"), by=mia,
                         extract_now=True)  # fmt: skip
    asset.refresh_from_db()
    assert [v.number for v in asset.versions.all()] == [2, 1]
    assert asset.current_version.number == 2
    assert "Second edition" in asset.current_version.extracted_text
    assert "First edition" in asset.versions.get(number=1).extracted_text


def test_retiring_hides_an_asset_from_reps_and_keeps_its_history(mia, alice):
    asset = add_asset(mia, text="Old battlecard")
    services.retire_asset(asset, by=mia)
    assert not visible_assets(alice).filter(pk=asset.pk).exists()
    assert visible_assets(mia).filter(pk=asset.pk).exists()
    assert asset.versions.count() == 1 and asset.retired_at is not None


def test_a_rep_uploads_into_a_personal_space_that_other_reps_do_not_see(alice, bob, mia):
    mine = add_asset(alice, text="My own notes", publish=False)
    assert mine.personal and mine.status == AssetStatus.DRAFT
    assert visible_assets(alice).filter(pk=mine.pk).exists()
    assert not visible_assets(bob).filter(pk=mine.pk).exists()
    assert visible_assets(mia).filter(pk=mine.pk).exists()


def test_only_marketing_publishes_and_retires(alice, mia, eve):
    asset = add_asset(mia, text="Draft", publish=False)
    for user in (alice, eve):
        with pytest.raises(PermissionDenied):
            services.publish_asset(asset, by=user)
        with pytest.raises(PermissionDenied):
            services.retire_asset(asset, by=user)
    mine = add_asset(alice, text="Mine", publish=False)
    with pytest.raises(PermissionDenied):
        services.publish_asset(mine, by=alice)


def test_a_rep_cannot_add_to_the_shared_library_or_edit_marketing_assets(alice, mia, eve):
    with pytest.raises(PermissionDenied):
        services.create_asset(by=alice, personal=False, title="x", url="https://example.com")
    asset = add_asset(mia, text="Theirs")
    with pytest.raises(PermissionDenied):
        services.update_asset(asset, by=alice, title="Mine now")
    with pytest.raises(PermissionDenied):
        services.create_asset(by=eve, title="x", url="https://example.com")


@pytest.mark.parametrize(
    ("data", "name", "problem"),
    [
        (b"", "empty.pdf", "empty"),
        (files.WINDOWS_EXE, "brochure.pdf", "not a PDF"),
        (b"just some text, renamed", "deck.pptx", "not a PDF"),
    ],
)
def test_an_empty_or_wrong_type_file_is_refused_naming_the_file_field(mia, data, name, problem):
    with pytest.raises(ValidationError) as refused:
        services.create_asset(by=mia, upload=upload(data, name), title="Bad")
    assert problem in " ".join(refused.value.message_dict["file"])
    assert not mia.content_assets.exists()


def test_an_oversize_file_is_refused_before_it_is_stored(mia, settings, media):
    settings.CONTENT_MAX_UPLOAD_MB = 1
    data = files.pdf_bytes("x") + b"%" * (1024 * 1024)
    with pytest.raises(ValidationError) as refused:
        services.create_asset(by=mia, upload=upload(data), title="Huge")
    assert "1 MB limit" in refused.value.message_dict["file"][0]
    assert not media.exists() or not any(media.rglob("*.pdf"))


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (files.encrypted_pdf_bytes(), ExtractionStatus.ENCRYPTED),
        (files.corrupted_pdf_bytes(), ExtractionStatus.UNREADABLE),
        (files.png_bytes(), ExtractionStatus.NO_TEXT),
    ],
)
def test_a_file_that_cannot_be_read_is_stored_with_a_clear_status(mia, data, status):
    asset = services.create_asset(by=mia, upload=upload(data, "x.pdf"), title="T", extract_now=True)
    asset.refresh_from_db()
    assert asset.current_version.extraction == status
    assert asset.current_version.extraction_message


def test_a_docx_renamed_to_pdf_is_read_as_the_word_file_it_is(mia):
    asset = services.create_asset(
        by=mia, upload=upload(files.docx_bytes("Really Word"), "fake.pdf"), title="T",
        extract_now=True,
    )  # fmt: skip
    asset.refresh_from_db()
    assert asset.current_version.mime.endswith("wordprocessingml.document")
    assert "Really Word" in asset.current_version.extracted_text


def test_a_link_asset_needs_no_file_but_an_asset_needs_one_or_the_other(mia):
    asset = services.create_asset(
        by=mia, title="Demo video", kind="video", url="https://v.example/1"
    )
    assert asset.is_link
    with pytest.raises(ValidationError) as refused:
        services.create_asset(by=mia, title="Nothing")
    assert "file" in refused.value.message_dict


def test_a_reps_edited_copy_of_a_published_asset_is_flagged_and_counted(mia, alice, bob, charlie):
    original = add_asset(mia, text=DECK_TEXT, title="Case study")
    edited = DECK_TEXT.replace("two days", "48 hours").replace("seventy", "72")
    copy = add_asset(alice, text=edited, title="My case study", publish=False)
    own = add_asset(bob, text="A call plan for the week " * 12, title="Call plan", publish=False)
    assert copy.duplicate_of_id == original.pk and copy.duplicate_similarity >= 0.5
    assert own.duplicate_of_id is None
    counts = services.recreation_counts()
    by_rep = {r["rep"]: r["recreated"] for r in counts["reps"]}
    assert by_rep == {"Alice": 1, "Bob": 0}
    assert counts["teams"][0] == {"team": "East", "recreated": 1}
