"""The API client fixture of tests/api, for the analytics API tests kept beside their engine."""

from tests.api.conftest import api_as  # noqa: F401
