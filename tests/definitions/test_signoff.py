"""Sign-off rules: one marketing and one sales signature, never both by one person."""

import pytest
from django.core.exceptions import PermissionDenied

from closedloop.core import events
from closedloop.core.models import Role
from closedloop.definitions import services
from closedloop.definitions.defaults import DEFAULT_CONTRACT
from closedloop.definitions.models import ContractStatus, ContractVersion, Side
from tests.factories import make_user


@pytest.fixture
def activations():
    """The contract_activated payloads sent during the test."""
    sent = []

    def listener(sender, payload, **kwargs):
        sent.append(payload)

    events.contract_activated.connect(listener)
    yield sent
    events.contract_activated.disconnect(listener)


def lowered(body: dict, engagement: int) -> dict:
    body["mql_rule"]["min_engagement"] = engagement
    return body


def test_the_defaults_are_version_1_in_force_until_a_change_is_signed(db):
    assert services.active_contract_version() == 1
    assert services.active_contract_body() == DEFAULT_CONTRACT
    version = ContractVersion.objects.get()
    assert version.status == ContractStatus.ACTIVE and version.author is None
    assert not version.signoffs.exists()


def test_one_marketing_and_one_sales_signature_put_a_draft_in_force(
    mia, alice, django_capture_on_commit_callbacks, activations
):
    draft = services.create_draft(by=mia, body=lowered(services.active_contract_body(), 30))
    services.sign_contract(draft, by=mia)
    draft.refresh_from_db()
    assert draft.status == ContractStatus.DRAFT and services.active_contract_version() == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.sign_contract(draft, by=alice)
    draft.refresh_from_db()
    assert draft.status == ContractStatus.ACTIVE and draft.activated_at is not None
    assert services.active_contract_version() == draft.number
    assert services.active_contract_body()["mql_rule"]["min_engagement"] == 30
    assert ContractVersion.objects.get(number=1).status == ContractStatus.SUPERSEDED
    assert activations == [{"version": draft.number}]


def test_the_sales_side_may_sign_first_and_a_manager_signs_for_sales(mia, max_manager):
    draft = services.create_draft(by=max_manager)
    assert services.sign_contract(draft, by=max_manager).side == Side.SALES
    services.sign_contract(draft, by=mia)
    draft.refresh_from_db()
    assert draft.status == ContractStatus.ACTIVE


def test_the_author_cannot_sign_twice(mia):
    draft = services.create_draft(by=mia)
    services.sign_contract(draft, by=mia)
    with pytest.raises(services.ContractStateError, match="already signed"):
        services.sign_contract(draft, by=mia)
    assert draft.signoffs.count() == 1


def test_one_person_never_signs_both_sides_even_after_a_change_of_role(mia):
    draft = services.create_draft(by=mia)
    services.sign_contract(draft, by=mia)
    mia.role = Role.REP  # she moved to sales; she still signed this version for marketing
    mia.save()
    with pytest.raises(services.ContractStateError, match="someone else"):
        services.sign_contract(draft, by=mia)
    draft.refresh_from_db()
    assert draft.status == ContractStatus.DRAFT


def test_a_second_marketing_signature_is_refused_and_does_not_activate(mia):
    other_marketer = make_user("mo@example.com", role=Role.MARKETING, first_name="Mo")
    draft = services.create_draft(by=mia)
    services.sign_contract(draft, by=mia)
    with pytest.raises(
        services.ContractStateError, match="marketing side of v2 was already signed by Mia"
    ):
        services.sign_contract(draft, by=other_marketer)
    draft.refresh_from_db()
    assert draft.status == ContractStatus.DRAFT and draft.signoffs.count() == 1


def test_two_sales_signatures_do_not_activate_either(alice, bob):
    draft = services.create_draft(by=alice)
    services.sign_contract(draft, by=alice)
    with pytest.raises(services.ContractStateError):
        services.sign_contract(draft, by=bob)
    draft.refresh_from_db()
    assert draft.status == ContractStatus.DRAFT


def test_signing_a_superseded_version_is_refused(mia, alice, bob):
    first = services.create_draft(by=mia)
    services.sign_contract(first, by=mia)
    services.sign_contract(first, by=alice)
    second = services.create_draft(by=mia)
    services.sign_contract(second, by=mia)
    services.sign_contract(second, by=alice)
    first.refresh_from_db()
    assert first.status == ContractStatus.SUPERSEDED
    with pytest.raises(services.ContractStateError, match="superseded; only a draft can be signed"):
        services.sign_contract(first, by=bob)


def test_activating_a_version_supersedes_the_other_open_drafts(mia, alice, bob):
    parallel = services.create_draft(by=bob)
    services.sign_contract(parallel, by=bob)
    winner = services.create_draft(by=mia)
    services.sign_contract(winner, by=mia)
    services.sign_contract(winner, by=alice)
    parallel.refresh_from_db()
    # It was a copy of v1: signing it now would quietly undo the winner's change.
    assert parallel.status == ContractStatus.SUPERSEDED
    assert ContractVersion.objects.filter(status=ContractStatus.ACTIVE).get() == winner


def test_admins_and_executives_sign_for_no_team(mia, ada, eve):
    draft = services.create_draft(by=mia)
    for user in (ada, eve):
        with pytest.raises(PermissionDenied):
            services.sign_contract(draft, by=user)


def test_executives_cannot_draft(eve):
    with pytest.raises(PermissionDenied):
        services.create_draft(by=eve)


def test_editing_a_signed_draft_removes_its_signatures(mia):
    draft = services.create_draft(by=mia)
    services.sign_contract(draft, by=mia)
    services.update_draft(draft, by=mia, body=lowered(draft.body, 35))
    assert not draft.signoffs.exists()


def test_editing_only_the_note_keeps_the_signatures(mia):
    draft = services.create_draft(by=mia)
    services.sign_contract(draft, by=mia)
    services.update_draft(draft, by=mia, body=draft.body, change_note="typo fixed")
    assert draft.signoffs.count() == 1


def test_only_the_author_or_an_admin_edits_a_draft(mia, alice, ada):
    draft = services.create_draft(by=mia)
    with pytest.raises(PermissionDenied):
        services.update_draft(draft, by=alice, change_note="mine now")
    services.update_draft(draft, by=ada, change_note="tidied by admin")


def test_an_active_version_cannot_be_edited(mia):
    with pytest.raises(services.ContractStateError, match="only a draft can be edited"):
        services.update_draft(services.active_contract(), by=mia, change_note="sneaky")


def test_a_draft_with_an_invalid_body_is_refused_with_every_problem(mia):
    body = services.active_contract_body()
    body["mql_rule"]["min_engagement"] = -5
    body["icp"][0]["op"] = "like"
    with pytest.raises(services.ContractInvalid) as refused:
        services.create_draft(by=mia, body=body)
    assert set(refused.value.errors) == {"mql_rule.min_engagement", "icp.0.op"}
    assert ContractVersion.objects.count() == 1


def test_withdrawn_drafts_cannot_be_signed(mia, alice):
    draft = services.create_draft(by=mia)
    services.withdraw_draft(draft, by=mia)
    with pytest.raises(services.ContractStateError, match="withdrawn"):
        services.sign_contract(draft, by=alice)
