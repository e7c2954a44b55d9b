"""Settings → Close reasons and Pipeline stages: admins only, audited, never deleting."""

import pytest

from closedloop.core.models import AuditEntry
from closedloop.crm.models import CloseReason
from tests.factories import make_opportunity

pytestmark = pytest.mark.django_db


def test_an_admin_adds_renames_reorders_and_deactivates_a_close_reason(client, ada):
    client.force_login(ada)
    page = client.get("/settings/close-reasons/")
    assert page.status_code == 200 and 'id="close-reasons-lost"' in page.content.decode()
    added = client.post(
        "/settings/close-reasons/", {"outcome": "lost", "label": "Went dark", "is_active": "1"}
    )
    assert added.status_code == 302
    reason = CloseReason.objects.get(outcome="lost", code="went_dark")
    form = {
        "reason": reason.pk,
        "label": "Stopped answering",
        "position": "0",
        "recycle_days": "30",
    }  # is_active unchecked: deactivated
    assert client.post("/settings/close-reasons/", form).status_code == 302
    reason.refresh_from_db()
    assert (reason.label, reason.position, reason.recycle_days, reason.is_active) == (
        "Stopped answering",
        0,
        30,
        False,
    )
    audit = AuditEntry.objects.filter(model="crm.closereason", object_id=str(reason.pk))
    assert audit.count() == 2 and audit.first().actor == ada


def test_a_bad_value_is_a_422_naming_the_field(client, ada):
    client.force_login(ada)
    response = client.post("/settings/close-reasons/", {"outcome": "won", "label": ""})
    assert response.status_code == 422
    assert "label: a reason needs a label" in response.content.decode()


def test_the_pipeline_page_shows_the_stages_in_force_and_where_deals_stand(client, ada):
    make_opportunity(stage="proposal")
    client.force_login(ada)
    page = client.get("/settings/pipeline/").content.decode()
    assert '<tr data-stage="proposal"><td>2</td><td>Proposal</td>' in page
    assert 'id="propose-pipeline-change"' in page


@pytest.mark.parametrize("role", ["alice", "max_manager", "mia", "eve"])
def test_only_admins_see_the_pipeline_settings(client, request, role):
    client.force_login(request.getfixturevalue(role))
    assert client.get("/settings/close-reasons/").status_code == 403
    assert (
        client.post("/settings/close-reasons/", {"outcome": "won", "label": "x"}).status_code == 403
    )
    assert client.get("/settings/pipeline/").status_code == 403
