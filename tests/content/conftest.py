import io

import pytest

from closedloop.content import services
from tests.content import files


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Uploads go to a folder of the test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def upload(data: bytes, name: str = "file.pdf") -> services.Upload:
    return services.Upload(io.BytesIO(data), name)


def add_asset(by, *, text: str = "", title: str = "An asset", publish: bool = True, **fields):
    """An asset with a PDF of `text` (extracted at once), published unless told not to."""
    data = files.pdf_bytes(*(text.split("\n") if text else ["(no text)"]))
    asset = services.create_asset(
        by=by, upload=upload(data), title=title, extract_now=True, **fields
    )
    if publish:
        services.publish_asset(asset, by=by)
    asset.refresh_from_db()
    return asset
