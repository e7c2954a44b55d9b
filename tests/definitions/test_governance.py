"""Who may sign the contract for each side is a setting, not any single rep."""

import pytest
from django.core.exceptions import PermissionDenied

from closedloop.core.models import Role
from closedloop.definitions import services
from closedloop.definitions.models import ContractStatus, Side

pytestmark = pytest.mark.django_db


@pytest.fixture
def reps_sign_for_sales():
    """This module tests the setting itself: no reps signing unless it says so."""


def test_a_rep_cannot_sign_for_sales_by_default_but_the_sales_manager_can(mia, alice, max_manager):
    draft = services.create_draft(by=alice)  # a rep may still propose a change
    with pytest.raises(PermissionDenied, match="Sales manager"):
        services.sign_contract(draft, by=alice)
    services.sign_contract(draft, by=mia)
    services.sign_contract(draft, by=max_manager)
    draft.refresh_from_db()
    assert draft.status == ContractStatus.ACTIVE


def test_a_rep_signs_for_sales_once_an_admin_allows_it_in_settings(client, ada, mia, alice):
    client.force_login(ada)
    client.post("/settings/signers/", {"side": Side.SALES, "roles": [Role.REP, Role.MANAGER]})
    assert services.signing_side(alice) == Side.SALES
    draft = services.create_draft(by=mia)
    services.sign_contract(draft, by=alice)
    assert draft.signoffs.get().side == Side.SALES


def test_one_role_never_signs_for_both_sides(client, ada):
    client.force_login(ada)
    response = client.post("/settings/signers/", {"side": Side.SALES, "roles": [Role.MARKETING]})
    assert response.status_code == 422
    assert "marketing already sign for Marketing" in response.content.decode()
    empty = client.post("/settings/signers/", {"side": Side.SALES})
    assert empty.status_code == 422 and "roles: choose one or more" in empty.content.decode()


def test_only_admins_change_who_signs(max_manager):
    with pytest.raises(PermissionDenied):
        services.set_signers(by=max_manager, side=Side.SALES, roles=[Role.REP])
