import pytest


@pytest.fixture(autouse=True)
def _db(db):
    """Every import test touches the database."""


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Uploads land in the test's own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def client_as():
    from django.test import Client

    def login(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return login
