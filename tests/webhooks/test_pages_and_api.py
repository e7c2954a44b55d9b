import json

import pytest

from closedloop.core.services import create_api_token
from closedloop.webhooks.models import AllowedHost, Delivery, Endpoint
from closedloop.webhooks.services import create_endpoint, verify_signature
from tests.api.conftest import Api, problems


@pytest.fixture
def local(ada):
    AllowedHost.objects.create(host="127.0.0.1", created_by=ada)


@pytest.fixture
def admin_client(client, ada):
    client.force_login(ada)
    return client


def test_only_admins_open_the_webhooks_page(client, mia, ada):
    client.force_login(mia)
    assert client.get("/webhooks/").status_code == 403
    client.force_login(ada)
    page = client.get("/webhooks/")
    assert page.status_code == 200 and b"New endpoint" in page.content
    assert b'href="/webhooks/"' in page.content  # the nav link admins see


def test_the_webhooks_nav_link_is_for_admins_only(client, mia):
    client.force_login(mia)
    assert b'href="/webhooks/"' not in client.get("/tokens/").content


def test_creating_an_endpoint_on_the_page_refuses_internal_urls_naming_the_field(admin_client):
    page = admin_client.post("/webhooks/", {"url": "http://10.0.0.5/hook", "events": ["lead.mql"]})
    assert page.status_code == 422
    assert b"URL: 10.0.0.5 is a private address" in page.content
    assert not Endpoint.objects.exists()


def test_an_admin_creates_an_endpoint_sends_a_test_event_and_sees_the_delivery(
    admin_client, local, receiver, django_capture_on_commit_callbacks
):
    response = admin_client.post(
        "/webhooks/",
        {"url": receiver.url(), "events": ["lead.mql", "sla.breached"], "description": "Relay"},
    )
    endpoint = Endpoint.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/webhooks/{endpoint.pk}/"
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(f"/webhooks/{endpoint.pk}/test/")
    request = receiver.requests[0]
    assert json.loads(request["body"])["event"] == "webhook.test"
    assert verify_signature(
        endpoint.secret, request["body"], request["headers"]["X-Closedloop-Signature"]
    )
    page = admin_client.get(f"/webhooks/{endpoint.pk}/").content.decode()
    assert "webhook.test" in page and "Delivered" in page and endpoint.secret in page


def test_disabling_an_endpoint_on_the_page(admin_client, ada, local, receiver):
    endpoint = create_endpoint(url=receiver.url(), events=["lead.mql"], by=ada)
    admin_client.post(f"/webhooks/{endpoint.pk}/toggle/")
    endpoint.refresh_from_db()
    assert not endpoint.is_active


def test_admins_allow_and_remove_internal_hosts(admin_client):
    admin_client.post("/webhooks/hosts/", {"host": "CRM.Internal.", "note": "our CRM"})
    host = AllowedHost.objects.get()
    assert host.host == "crm.internal"
    admin_client.post(f"/webhooks/hosts/{host.pk}/remove/")
    assert not AllowedHost.objects.exists()


def test_a_non_admin_cannot_allow_a_host(client, max_manager):
    client.force_login(max_manager)
    assert client.post("/webhooks/hosts/", {"host": "crm.internal"}).status_code == 403
    assert not AllowedHost.objects.exists()


def test_the_webhooks_api_is_for_admins_only(mia):
    response = Api(create_api_token(user=mia, name="t")[1]).get("/webhooks/endpoints")
    assert response.status_code == 403


def test_the_webhooks_api_creates_tests_lists_and_disables(
    ada, local, receiver, django_capture_on_commit_callbacks
):
    api = Api(create_api_token(user=ada, name="t")[1])
    refused = api.post("/webhooks/endpoints", {"url": "http://[::1]/x", "events": ["lead.mql"]})
    assert refused.status_code == 422 and set(problems(refused)) == {"url"}
    bad_events = api.post("/webhooks/endpoints", {"url": receiver.url(), "events": ["lead.hot"]})
    assert bad_events.status_code == 422 and set(problems(bad_events)) == {"events"}
    created = api.post("/webhooks/endpoints", {"url": receiver.url(), "events": ["lead.accepted"]})
    assert created.status_code == 201 and created.json()["secret"].startswith("whsec_")
    pk = created.json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(f"/webhooks/endpoints/{pk}/test", {}).status_code == 202
    log = api.get(f"/webhooks/endpoints/{pk}/deliveries").json()
    assert [(d["event"], d["status"]) for d in log["items"]] == [("webhook.test", "delivered")]
    assert api.patch(f"/webhooks/endpoints/{pk}", {"is_active": False}).json()["is_active"] is False
    assert Delivery.objects.count() == 1
