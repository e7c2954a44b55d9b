import pytest


@pytest.fixture(autouse=True)
def _db(db):
    """Every import test touches the database."""
