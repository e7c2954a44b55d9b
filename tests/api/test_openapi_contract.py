"""Property-based contract test: every operation answers as /api/v1/openapi.json says."""

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from closedloop.core.services import create_api_token
from closedloop.engagement.models import Touchpoint
from closedloop.webhooks import netguard
from tests.factories import make_lead, make_opportunity

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _no_dns(host, port):
    raise netguard.UnsafeDestination(f"no DNS in tests ({host})")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_every_operation_answers_as_the_openapi_document_says(ada, alice, settings, monkeypatch):
    settings.API_RATE_LIMIT = "off"
    monkeypatch.setattr(netguard, "resolve", _no_dns)  # generated webhook URLs stay offline
    lead = make_lead(owner=alice)
    make_opportunity(owner=alice)
    Touchpoint.objects.create(lead=lead, type="form", occurred_at=timezone.now())
    secret = create_api_token(user=ada, name="contract")[1]
    # In-process WSGI, as Django's test client does it: the request must not close the
    # connection that holds the test's transaction.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WSGIHandler())
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 14
        for operation in operations:
            _check_operation(operation, secret)
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)


def _check_operation(operation, secret: str) -> None:

    @given(case=operation.as_strategy())
    @hypothesis_settings(
        max_examples=12,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def conforms(case):
        case.call_and_validate(headers={"Authorization": f"Bearer {secret}"}, checks=CHECKS)

    conforms()
