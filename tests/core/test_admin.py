import pytest
from django.urls import reverse

from closedloop.core.audit import record_bulk
from closedloop.crm.models import Lead


@pytest.mark.parametrize("who", ["alice", "mia", "max_manager", "eve"])
def test_the_admin_is_closed_to_every_role_but_admin(client, request, who):
    user = request.getfixturevalue(who)
    user.is_staff = True  # even a stray staff flag must not open the admin
    user.save()
    client.force_login(user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.parametrize(
    "model",
    [
        "core/user",
        "core/team",
        "core/apitoken",
        "core/auditentry",
        "crm/account",
        "crm/lead",
        "crm/stagechange",
        "crm/activity",
        "crm/opportunity",
        "campaigns/campaign",
        "content/contentasset",
        "engagement/touchpoint",
    ],
)
def test_an_admin_can_open_every_model_in_the_admin(client, ada, model):
    client.force_login(ada)
    response = client.get(f"/admin/{model}/")
    assert response.status_code == 200


def test_the_audit_log_is_read_only_in_the_admin(client, ada):
    record_bulk(Lead, count=1, description="x")
    client.force_login(ada)
    assert client.get("/admin/core/auditentry/add/").status_code == 403
