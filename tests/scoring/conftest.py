"""The API client fixture of tests/api, for the scoring API tests."""

from tests.api.conftest import api_as  # noqa: F401  (a fixture, used by name)
