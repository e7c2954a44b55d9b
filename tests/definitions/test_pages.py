"""The definitions pages: reading, drafting, editing with per-field errors, signing, diff."""

import pytest
from django.urls import reverse

from closedloop.core.models import AuditEntry
from closedloop.definitions import services
from closedloop.definitions.models import ContractStatus, ContractVersion


def login(client, user):
    client.force_login(user)
    return client


def editor_post(version, **changes) -> dict:
    """The editor's POST for `version`'s body, with `changes` ({input name: value}) applied."""
    body = version.body
    data = {"change_note": "test change"}
    for i, c in enumerate(body["icp"]):
        value = ", ".join(map(str, c["value"])) if isinstance(c["value"], list) else c["value"]
        data.update(
            {
                f"icp.{i}.field": c["field"],
                f"icp.{i}.op": c["op"],
                f"icp.{i}.value": value,
                f"icp.{i}.step": c["step"],
                f"icp.{i}.label": c["label"],
            }
        )
    engagement = body["engagement"]
    for name, points in engagement["points"].items():
        data[f"engagement.points.{name}"] = points
    data["engagement.half_life_days"] = engagement["half_life_days"]
    lists = {}
    for j, (name, cap) in enumerate(engagement["caps"].items()):
        data[f"engagement.caps.{j}.name"] = name
        data[f"engagement.caps.{j}.max"] = cap["max"]
        lists[f"engagement.caps.{j}.types"] = cap["types"]
    data["mql_rule.min_engagement"] = body["mql_rule"]["min_engagement"]
    data["mql_rule.min_fit_grade"] = body["mql_rule"]["min_fit_grade"]
    data["sql_rule.requires"] = ", ".join(body["sql_rule"]["requires"])
    data["sql_rule.min_confirmed"] = body["sql_rule"]["min_confirmed"]
    for key, value in body["sla"].items():
        data[f"sla.{key}"] = value
    for stage in body["stages"]:
        data[f"stages.{stage['stage']}.label"] = stage["label"]
        data[f"stages.{stage['stage']}.entry"] = stage["entry"]
    for k, stage in enumerate(body["pipeline"]["stages"]):
        for key in ("code", "label", "probability"):
            data[f"pipeline.stages.{k}.{key}"] = stage[key]
        data[f"pipeline.stages.{k}.order"] = k + 1
    data.update(changes)
    return {**{k: str(v) for k, v in data.items()}, **lists}


def test_the_agreement_page_shows_the_contract_in_force_in_words(client, eve):
    response = login(client, eve).get(reverse("definitions"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "fit grade is B- or better and its engagement score is at least 40 points" in text
    assert "Employees ≥ 200" in text and "Definitions</a>" in text
    assert "Propose a change" not in text  # executives read only


def test_a_marketer_drafts_edits_and_sees_the_change_in_words(client, mia):
    login(client, mia)
    in_force = services.active_contract()
    response = client.post(
        reverse("definitions-new"), editor_post(in_force, **{"mql_rule.min_engagement": "30"})
    )
    assert response.status_code == 302
    draft = ContractVersion.objects.get(status=ContractStatus.DRAFT)
    assert response.url == reverse("definitions-version", args=[draft.number])
    assert draft.body["mql_rule"]["min_engagement"] == 30 and draft.change_note == "test change"
    page = client.get(reverse("definitions-version", args=[draft.number])).content.decode()
    assert "MQL minimum engagement 40 → 30" in page and "Sign for marketing" in page


def test_the_editor_names_each_bad_value_beside_its_input(client, mia):
    login(client, mia)
    draft = services.create_draft(by=mia)
    response = client.post(
        reverse("definitions-edit", args=[draft.number]),
        editor_post(
            draft,
            **{
                "icp.0.field": "shoe_size",
                "icp.1.op": "contains",
                "mql_rule.min_fit_grade": "Z",
                "sla.attempts": "-2",
            },
        ),
    )
    assert response.status_code == 422
    text = response.content.decode()
    assert "unknown lead field &#x27;shoe_size&#x27;" in text
    assert "does not apply to number field" in text
    assert "cannot be below 1 (got -2)" in text
    assert "&#x27;Z&#x27; is not a grade" in text
    draft.refresh_from_db()
    assert draft.body["icp"][0]["field"] == "industry"  # nothing was saved


def test_removing_and_adding_criteria_in_the_editor(client, mia):
    login(client, mia)
    draft = services.create_draft(by=mia)
    data = editor_post(draft)
    for key in [k for k in data if k.startswith("icp.0.")]:
        del data[key]  # the row removed in the browser
    data.update(
        {
            "icp.9.field": "title",
            "icp.9.op": "contains",
            "icp.9.value": "head of",
            "icp.9.step": "2",
            "icp.9.label": "Head of something",
        }
    )
    assert client.post(reverse("definitions-edit", args=[draft.number]), data).status_code == 302
    draft.refresh_from_db()
    labels = [c["label"] for c in draft.body["icp"]]
    assert "Industry we win in" not in labels and labels[-1] == "Head of something"


def test_the_add_criterion_button_returns_a_blank_row_and_the_next_button(client, mia):
    response = login(client, mia).get(
        reverse("definitions-criterion-row"), {"index": 7}, HTTP_HX_REQUEST="true"
    )
    text = response.content.decode()
    assert 'name="icp.7.field"' in text and "index=8" in text and 'hx-swap-oob="true"' in text


def test_signing_through_the_pages_activates_and_writes_audit_entries(client, mia, alice):
    draft = services.create_draft(by=mia, change_note="lower the bar")
    url = reverse("definitions-sign", args=[draft.number])
    login(client, mia).post(url)
    login(client, alice).post(url)
    draft.refresh_from_db()
    assert draft.status == ContractStatus.ACTIVE
    signed = AuditEntry.objects.filter(model="definitions.signoff", action="create")
    assert {e.actor for e in signed} == {mia, alice}
    page = client.get(reverse("definitions")).content.decode()
    assert "Alice" in page and "Mia" in page


def test_executives_and_admins_cannot_sign(client, mia, eve, ada):
    draft = services.create_draft(by=mia)
    url = reverse("definitions-sign", args=[draft.number])
    assert login(client, eve).post(url).status_code == 403
    assert login(client, ada).post(url).status_code == 403
    assert not draft.signoffs.exists()


def test_executives_cannot_draft_and_others_cannot_edit_someone_elses_draft(
    client, mia, eve, alice
):
    assert login(client, eve).get(reverse("definitions-new")).status_code == 403
    draft = services.create_draft(by=mia)
    assert (
        login(client, alice).get(reverse("definitions-edit", args=[draft.number])).status_code
        == 403
    )


def test_an_admin_may_edit_and_withdraw_any_draft(client, mia, ada):
    draft = services.create_draft(by=mia)
    login(client, ada)
    assert client.get(reverse("definitions-edit", args=[draft.number])).status_code == 200
    client.post(reverse("definitions-withdraw", args=[draft.number]))
    draft.refresh_from_db()
    assert draft.status == ContractStatus.WITHDRAWN


def test_pages_need_a_login(client):
    response = client.get(reverse("definitions"))
    assert response.status_code == 302 and "/login/" in response.url


def test_signing_needs_a_post_with_csrf(mia):
    from django.test import Client

    draft = services.create_draft(by=mia)
    client = Client(enforce_csrf_checks=True)
    client.force_login(mia)
    assert client.get(reverse("definitions-sign", args=[draft.number])).status_code == 405
    assert client.post(reverse("definitions-sign", args=[draft.number])).status_code == 403
    assert not draft.signoffs.exists()


def test_the_diff_page_compares_any_two_versions(client, mia, alice, eve):
    draft = services.create_draft(by=mia)
    body = draft.body
    body["sla"]["first_touch_minutes"] = 120
    services.update_draft(draft, by=mia, body=body)
    response = login(client, eve).get(reverse("definitions-diff"), {"from": 1, "to": draft.number})
    assert "SLA first touch after MQL (working minutes) 240 → 120" in response.content.decode()
    assert client.get(reverse("definitions-diff"), {"from": "x", "to": 1}).status_code == 404


@pytest.mark.parametrize("name", ["definitions", "definitions-diff"])
def test_pages_render_for_every_role(client, name, mia, alice, max_manager, eve, ada):
    services.create_draft(by=mia)
    params = {"from": 1, "to": 2} if name == "definitions-diff" else {}
    for user in (mia, alice, max_manager, eve, ada):
        assert login(client, user).get(reverse(name), params).status_code == 200


def test_the_admin_shows_versions_but_cannot_change_them(client, ada, mia):
    draft = services.create_draft(by=mia)
    login(client, ada)
    assert client.get(f"/admin/definitions/contractversion/{draft.pk}/change/").status_code == 200
    assert client.get("/admin/definitions/contractversion/add/").status_code == 403
    client.post(f"/admin/definitions/contractversion/{draft.pk}/change/", {"status": "active"})
    draft.refresh_from_db()
    assert draft.status == ContractStatus.DRAFT


def test_two_cap_groups_with_one_name_are_refused_with_the_other_problems(client, mia):
    login(client, mia)
    draft = services.create_draft(by=mia)
    data = editor_post(draft, **{"engagement.caps.1.name": "web", "sla.attempts": "0"})
    response = client.post(reverse("definitions-edit", args=[draft.number]), data)
    text = response.content.decode()
    assert response.status_code == 422
    assert "two cap groups are named “web”" in text and "cannot be below 1 (got 0)" in text


def test_a_new_cap_group_is_added_from_the_blank_row(client, mia):
    login(client, mia)
    draft = services.create_draft(by=mia)
    data = editor_post(draft)
    data.update({"engagement.caps.2.name": "events", "engagement.caps.2.max": "30"})
    data["engagement.caps.2.types"] = ["event", "webinar"]
    assert client.post(reverse("definitions-edit", args=[draft.number]), data).status_code == 302
    draft.refresh_from_db()
    assert draft.body["engagement"]["caps"]["events"] == {"types": ["event", "webinar"], "max": 30}


def test_proposing_a_change_stores_nothing_until_it_is_saved(client, mia):
    login(client, mia)
    page = client.get(reverse("definitions-new")).content.decode()
    assert 'id="new-draft-note"' in page and "Nothing is stored until you save" in page
    assert not ContractVersion.objects.filter(status=ContractStatus.DRAFT).exists()
    refused = client.post(
        reverse("definitions-new"),
        editor_post(services.active_contract(), **{"mql_rule.min_engagement": "-3"}),
    )
    assert refused.status_code == 422
    assert not ContractVersion.objects.filter(status=ContractStatus.DRAFT).exists()


def test_an_abandoned_draft_is_discarded_and_stays_in_the_history(client, mia):
    draft = services.create_draft(by=mia)
    login(client, mia)
    page = client.get(reverse("definitions-version", args=[draft.number])).content.decode()
    assert 'id="discard-draft"' in page
    client.post(reverse("definitions-withdraw", args=[draft.number]))
    draft.refresh_from_db()
    assert draft.status == ContractStatus.WITHDRAWN


def test_the_pipeline_is_edited_in_the_contract_editor(client, mia):
    login(client, mia)
    draft = services.create_draft(by=mia)
    page = client.get(reverse("definitions-edit", args=[draft.number])).content.decode()
    assert 'id="pipeline-edit"' in page and 'name="pipeline.stages.0.probability"' in page
    data = editor_post(
        draft,
        **{
            "pipeline.stages.1.label": "Proposal sent",
            "pipeline.stages.1.probability": "40",
            "pipeline.stages.7.code": "demo",
            "pipeline.stages.7.label": "Demo",
            "pipeline.stages.7.probability": "25",
            "pipeline.stages.7.order": "1.5",
        },
    )
    assert client.post(reverse("definitions-edit", args=[draft.number]), data).status_code == 302
    draft.refresh_from_db()
    stages = [(s["code"], s["label"], s["probability"]) for s in draft.body["pipeline"]["stages"]]
    assert stages[:3] == [
        ("discovery", "Discovery", 10),
        ("demo", "Demo", 25),
        ("proposal", "Proposal sent", 40),
    ]
    assert [s[0] for s in stages[-2:]] == ["won", "lost"]


def test_a_bad_pipeline_value_is_named_beside_its_input(client, mia):
    login(client, mia)
    draft = services.create_draft(by=mia)
    data = editor_post(draft, **{"pipeline.stages.0.probability": "130"})
    response = client.post(reverse("definitions-edit", args=[draft.number]), data)
    assert response.status_code == 422
    assert "cannot be more than 100" in response.content.decode()
