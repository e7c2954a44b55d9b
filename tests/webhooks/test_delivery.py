import datetime
import json

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from closedloop.crm.services import change_stage
from closedloop.webhooks import services
from closedloop.webhooks.models import AllowedHost, Delivery, DeliveryStatus
from closedloop.webhooks.services import InvalidEndpoint, create_endpoint, verify_signature
from tests.factories import make_lead


@pytest.fixture
def local(ada):
    AllowedHost.objects.create(host="127.0.0.1", created_by=ada)


def test_an_endpoint_on_an_internal_address_is_refused_naming_the_url(ada):
    with pytest.raises(InvalidEndpoint) as refused:
        create_endpoint(url="http://192.168.1.20/hook", events=["lead.mql"], by=ada)
    assert refused.value.field == "url" and "private" in refused.value.problem


def test_unknown_events_are_refused(ada, local, receiver):
    with pytest.raises(InvalidEndpoint, match="lead.hot"):
        create_endpoint(url=receiver.url(), events=["lead.hot"], by=ada)


def test_a_lead_becoming_mql_is_posted_signed_to_a_real_local_server(
    ada, local, receiver, django_capture_on_commit_callbacks
):
    endpoint = create_endpoint(url=receiver.url(), events=["lead.mql"], by=ada)
    create_endpoint(url=receiver.url("/other"), events=["opportunity.won"], by=ada)
    lead = make_lead()
    with django_capture_on_commit_callbacks(execute=True):
        change_stage(lead, to="mql", reason="rule v1")
    assert [r["path"] for r in receiver.requests] == ["/hook"]  # only the subscriber
    request = receiver.requests[0]
    body = json.loads(request["body"])
    assert body["event"] == "lead.mql" and body["data"]["lead_id"] == lead.pk
    assert request["headers"]["X-Closedloop-Event"] == "lead.mql"
    assert verify_signature(
        endpoint.secret, request["body"], request["headers"]["X-Closedloop-Signature"]
    )
    assert request["headers"]["X-Closedloop-Timestamp"] == str(body["sent_at"])
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.response_code == 200


def test_a_signature_does_not_verify_with_another_secret_or_body(ada, local, receiver):
    endpoint = create_endpoint(url=receiver.url(), events=["lead.mql"], by=ada)
    signature = services.sign(endpoint.secret, b'{"a":1}')
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert verify_signature(endpoint.secret, b'{"a":1}', signature)
    assert not verify_signature(endpoint.secret, b'{"a":2}', signature)
    assert not verify_signature("whsec_other", b'{"a":1}', signature)


def test_a_500_is_retried_with_back_off_until_it_succeeds(ada, local, receiver):
    endpoint = create_endpoint(url=receiver.url(), events=["lead.mql"], by=ada)
    receiver.replies.extend([(500, {}), (503, {})])
    start = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        delivery = Delivery.objects.create(endpoint=endpoint, event="lead.mql", payload={"x": 1})
        services.deliver(delivery.pk)
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.response_code) == ("retrying", 1, 500)
        assert delivery.next_attempt_at == start + datetime.timedelta(seconds=30)
        assert services.retry_due_deliveries() == 0  # not due yet
    with time_machine.travel(start + datetime.timedelta(seconds=30), tick=False):
        assert services.retry_due_deliveries() == 1
        delivery.refresh_from_db()
        assert delivery.next_attempt_at == start + datetime.timedelta(seconds=90)  # 30 s + 1 min
    with time_machine.travel(start + datetime.timedelta(seconds=90), tick=False):
        services.retry_due_deliveries()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 3)
    assert [json.loads(r["body"])["attempt"] for r in receiver.requests] == [1, 2, 3]


def test_back_off_doubles_and_is_capped():
    assert [services.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert services.backoff(30) == datetime.timedelta(hours=6)


def test_after_the_last_attempt_a_delivery_fails_for_good(ada, local, receiver):
    endpoint = create_endpoint(url=receiver.url(), events=["lead.mql"], by=ada)
    delivery = Delivery.objects.create(
        endpoint=endpoint, event="lead.mql", attempts=services.MAX_ATTEMPTS - 1
    )
    receiver.replies.append((500, {}))
    services.deliver(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.next_attempt_at is None


def test_a_backend_that_can_defer_gets_the_retry_enqueued_for_its_time(ada, local, receiver):
    endpoint = create_endpoint(url=receiver.url(), events=["lead.mql"], by=ada)
    delivery = Delivery.objects.create(endpoint=endpoint, event="lead.mql")
    receiver.replies.append((500, {}))
    database_backend = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    with override_settings(TASKS=database_backend):
        services.deliver(delivery.pk)
    delivery.refresh_from_db()
    queued = DBTaskResult.objects.get()
    assert queued.args_kwargs["args"] == [delivery.pk]
    assert queued.run_after == delivery.next_attempt_at


def test_a_destination_that_became_internal_fails_without_retrying(ada, receiver):
    allowed = AllowedHost.objects.create(host="127.0.0.1", created_by=ada)
    endpoint = create_endpoint(url=receiver.url(), events=["lead.mql"], by=ada)
    allowed.delete()
    delivery = Delivery.objects.create(endpoint=endpoint, event="lead.mql")
    services.deliver(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "failed" and "loopback" in delivery.error
    assert receiver.requests == []


def test_a_delivery_is_sent_once_even_if_two_workers_take_it(ada, local, receiver):
    endpoint = create_endpoint(url=receiver.url(), events=["lead.mql"], by=ada)
    delivery = Delivery.objects.create(endpoint=endpoint, event="lead.mql")
    assert services.claim(delivery.pk, now=timezone.now()) is not None
    assert services.attempt_delivery(delivery.pk) is None  # already claimed
    assert receiver.requests == []


def test_disabled_endpoints_get_no_new_deliveries(ada, local, receiver):
    endpoint = create_endpoint(url=receiver.url(), events=["lead.mql"], by=ada)
    services.update_endpoint(endpoint, is_active=False)
    assert services.queue_event(event="lead.mql", payload={}) == []


def test_events_nobody_subscribes_to_cost_no_query(ada, local, receiver, django_assert_num_queries):
    create_endpoint(url=receiver.url(), events=["opportunity.won"], by=ada)
    services.subscribers("lead.mql")  # fills the cached table
    with django_assert_num_queries(0):
        assert services.queue_event(event="lead.mql", payload={}) == []


def test_a_new_endpoint_is_seen_by_the_next_event(ada, local, receiver):
    assert services.subscribers("lead.mql") == []
    endpoint = create_endpoint(url=receiver.url(), events=["lead.mql"], by=ada)
    assert services.subscribers("lead.mql") == [endpoint.pk]
