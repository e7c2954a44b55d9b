"""The pure contract rules: validation with per-field errors, the readable diff, plain words."""

import copy

import pytest

from closedloop.definitions import rules, wording
from closedloop.definitions.contract import parse_contract
from closedloop.definitions.defaults import DEFAULT_CONTRACT

CATALOG = rules.Catalog(
    fields={
        "industry": "text",
        "employees": "number",
        "seniority": "text",
        "country": "text",
        "email": "text",
        "title": "text",
    },
    touch_types=[
        "page_view",
        "email_open",
        "email_click",
        "content_view",
        "form",
        "webinar",
        "ad_click",
        "event",
        "sales_call",
        "meeting",
        "other",
    ],
    stages=[
        "subscriber",
        "lead",
        "mql",
        "sal",
        "sql",
        "opportunity",
        "customer",
        "recycled",
        "disqualified",
    ],
    field_labels={"employees": "Employees", "industry": "Industry", "title": "Title"},
    touch_labels={"email_click": "Email click", "page_view": "Page view", "ad_click": "Ad click"},
)


def body(**sections) -> dict:
    result = copy.deepcopy(DEFAULT_CONTRACT)
    result.update(sections)
    return result


def errors_of(raw) -> dict:
    return rules.validate_contract(raw, CATALOG)[1]


def test_the_default_contract_is_valid_and_unchanged_by_cleaning():
    cleaned, errors = rules.validate_contract(DEFAULT_CONTRACT, CATALOG)
    assert errors == {}
    assert cleaned == DEFAULT_CONTRACT


def test_numbers_typed_into_a_form_are_read_as_numbers():
    raw = body()
    raw["mql_rule"] = {"min_engagement": " 55 ", "min_fit_grade": "B"}
    raw["icp"][1]["value"] = "250"
    raw["icp"][0]["value"] = "Software, Retail"
    cleaned, errors = rules.validate_contract(raw, CATALOG)
    assert errors == {}
    assert cleaned["mql_rule"]["min_engagement"] == 55
    assert cleaned["icp"][1]["value"] == 250
    assert cleaned["icp"][0]["value"] == ["Software", "Retail"]


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (
            lambda b: b["icp"][0].update(field="shoe_size"),
            "icp.0.field",
            "unknown lead field 'shoe_size'",
        ),
        (lambda b: b["icp"][0].update(op="like"), "icp.0.op", "unknown operator 'like'"),
        (
            lambda b: b["icp"][1].update(op="contains"),
            "icp.1.op",
            "does not apply to number field 'employees'",
        ),
        (
            lambda b: b["icp"][3].update(op="gte"),
            "icp.3.op",
            "does not apply to text field 'seniority'",
        ),
        (lambda b: b["icp"][1].update(value="lots"), "icp.1.value", "must be a number, not 'lots'"),
        (lambda b: b["icp"][0].update(value=[]), "icp.0.value", "needs at least one value"),
        (lambda b: b["icp"][5].update(value=["a", "b"]), "icp.5.value", "must be a single value"),
        (lambda b: b["icp"][2].update(step=0), "icp.2.step", "cannot be 0"),
        (lambda b: b["icp"][2].update(step=2.5), "icp.2.step", "must be a whole number"),
        (lambda b: b["icp"][2].update(step=13), "icp.2.step", "cannot be more than 12"),
        (lambda b: b["icp"][2].update(label=""), "icp.2.label", "is required"),
        (
            lambda b: b["icp"][2].update(label="200+ employees"),
            "icp.2.label",
            "is used by another criterion",
        ),
        (
            lambda b: b["mql_rule"].update(min_fit_grade="E"),
            "mql_rule.min_fit_grade",
            "'E' is not a grade",
        ),
        (
            lambda b: b["mql_rule"].update(min_engagement=-1),
            "mql_rule.min_engagement",
            "cannot be negative",
        ),
        (
            lambda b: b["sql_rule"].update(min_confirmed=5),
            "sql_rule.min_confirmed",
            "cannot be more than 4",
        ),
        (
            lambda b: b["sql_rule"].update(requires=["budget", "budget"]),
            "sql_rule.requires",
            "lists a criterion twice",
        ),
        (
            lambda b: b["sla"].update(first_touch_minutes=-10),
            "sla.first_touch_minutes",
            "cannot be below 1",
        ),
        (
            lambda b: b["sla"].update(accept_rate_floor=1.5),
            "sla.accept_rate_floor",
            "cannot be more than 1",
        ),
        (
            lambda b: b["sla"].update(warn_before_minutes=300),
            "sla.warn_before_minutes",
            "must be less than",
        ),
        (lambda b: b["sla"].update(lunch_minutes=30), "sla.lunch_minutes", "unknown SLA setting"),
        (lambda b: b["sla"].pop("attempts"), "sla.attempts", "is required"),
        (
            lambda b: b["engagement"]["points"].update(tweet=4),
            "engagement.points.tweet",
            "unknown touch type",
        ),
        (
            lambda b: b["engagement"]["points"].update(form=-15),
            "engagement.points.form",
            "cannot be negative",
        ),
        (
            lambda b: b["engagement"].update(half_life_days=0),
            "engagement.half_life_days",
            "cannot be below 0.5",
        ),
        (
            lambda b: b["engagement"]["caps"]["web"].update(max=0),
            "engagement.caps.web.max",
            "cannot be below 1",
        ),
        (
            lambda b: b["engagement"]["caps"]["email"]["types"].append("page_view"),
            "engagement.caps.email.types",
            "already capped by “web”",
        ),
        (lambda b: b["stages"].pop(), "stages", "missing stages: disqualified"),
        (lambda b: b["stages"][2].update(entry=""), "stages.mql.entry", "is required"),
        (lambda b: b.update(colour="blue"), "colour", "is not a contract section"),
    ],
)
def test_each_bad_value_is_reported_under_its_path(change, path, message):
    raw = body()
    change(raw)
    errors = errors_of(raw)
    assert path in errors, errors
    assert message in errors[path]


def test_a_body_that_is_not_an_object_is_refused():
    assert list(errors_of(["icp"])) == ["body"]


def test_a_missing_section_is_one_error_not_one_per_field():
    raw = body()
    del raw["sla"]
    assert errors_of(raw) == {"sla": "is required"}


def test_steps_read_as_fractions_of_a_letter():
    assert wording.describe_step(3) == "+1 letter"
    assert wording.describe_step(1) == "+⅓ letter"
    assert wording.describe_step(2) == "+⅔ letter"
    assert wording.describe_step(-3) == "−1 letter"
    assert wording.describe_step(4) == "+1⅓ letters"


def diff_texts(old, new) -> list[str]:
    changes = wording.diff_contracts(parse_contract(old), parse_contract(new), CATALOG)
    return [change.text for change in changes]


def test_identical_contracts_have_no_differences():
    assert diff_texts(DEFAULT_CONTRACT, copy.deepcopy(DEFAULT_CONTRACT)) == []


def test_the_diff_reads_field_by_field():
    new = body()
    new["mql_rule"]["min_engagement"] = 50
    new["mql_rule"]["min_fit_grade"] = "C+"
    new["engagement"]["points"]["email_click"] = 5
    new["engagement"]["half_life_days"] = 45
    new["sla"]["first_touch_minutes"] = 120
    new["sla"]["accept_rate_floor"] = 0.7
    new["sql_rule"]["requires"] = ["budget", "need", "timeline", "champion"]
    assert diff_texts(DEFAULT_CONTRACT, new) == [
        "Points for email click 3 → 5",
        "Engagement half-life 30 days → 45 days",
        "MQL minimum engagement 40 → 50",
        "MQL minimum fit grade B- → C+",
        "SQL criterion added: champion",
        "SQL criterion removed: authority",
        "SLA first touch after MQL (working minutes) 240 → 120",
        "SLA acceptance-rate floor 60% → 70%",
    ]


def test_criteria_added_removed_and_changed_each_read_as_one_line():
    new = body()
    new["icp"] = copy.deepcopy(DEFAULT_CONTRACT["icp"])
    removed = new["icp"].pop(0)
    new["icp"][0]["value"] = 150
    new["icp"][0]["step"] = 2
    new["icp"].append(
        {
            "field": "title",
            "op": "contains",
            "value": "head of",
            "step": 2,
            "label": "Heads of teams",
        }
    )
    new["icp"].reverse()  # order alone is not a change
    changes = wording.diff_contracts(parse_contract(DEFAULT_CONTRACT), parse_contract(new), CATALOG)
    assert [(c.kind, c.text) for c in changes] == [
        (
            "removed",
            f"ICP criterion removed: “{removed['label']}” (Industry is one of Software, "
            "Financial services, Healthcare, +1 letter)",
        ),
        ("added", "ICP criterion added: “Heads of teams” (Title contains “head of”, +⅔ letter)"),
        ("changed", "ICP “200+ employees” condition Employees ≥ 200 → Employees ≥ 150"),
        ("changed", "ICP “200+ employees” step +1 letter → +⅔ letter"),
    ]


def test_a_renamed_criterion_is_matched_by_its_field_and_operator():
    new = body()
    new["icp"] = copy.deepcopy(DEFAULT_CONTRACT["icp"])
    new["icp"][5]["label"] = "Free-mail address"
    assert diff_texts(DEFAULT_CONTRACT, new) == [
        "ICP criterion renamed “Personal email address” → “Free-mail address”"
    ]


def test_caps_and_stage_words_show_in_the_diff():
    new = body()
    new["engagement"] = copy.deepcopy(DEFAULT_CONTRACT["engagement"])
    new["engagement"]["caps"]["web"]["max"] = 30
    del new["engagement"]["caps"]["email"]
    new["stages"] = copy.deepcopy(DEFAULT_CONTRACT["stages"])
    new["stages"][2]["entry"] = "Meets the MQL rule."
    texts = diff_texts(DEFAULT_CONTRACT, new)
    assert (
        texts[0]
        == "Cap “web” page view, ad click at most 20 points → page view, ad click at most 30 points"
    )
    assert texts[1].startswith("Cap removed: “email”")
    assert texts[2].startswith("Marketing qualified lead entry rule “Meets the MQL rule: fit")
    assert texts[2].endswith("→ “Meets the MQL rule.”")


def test_the_agreement_says_the_rules_in_sentences():
    words = wording.describe_contract(parse_contract(DEFAULT_CONTRACT), CATALOG)
    assert words["mql"] == (
        "A lead becomes a Marketing qualified lead when its fit grade is B- or better and its "
        "engagement score is at least 40 points."
    )
    assert words["sql"] == (
        "A lead is a Sales qualified lead when the rep has confirmed at least 3 of: budget, "
        "authority, need, timeline."
    )
    assert words["criteria"][1] == {
        "label": "200+ employees",
        "condition": "Employees ≥ 200",
        "effect": "+1 letter",
        "up": True,
    }
    assert "Make the first touch within 240 working minutes" in words["sales_promises"][0]


def test_a_stage_may_move_only_to_known_stages_and_not_to_itself():
    raw = copy.deepcopy(DEFAULT_CONTRACT)
    raw["stages"][2]["next"] = ["sal", "heaven"]
    raw["stages"][3]["next"] = "sql, sal"
    errors = rules.validate_contract(raw, CATALOG)[1]
    assert errors["stages.mql.next"] == "unknown stage 'heaven'"
    assert errors["stages.sal.next"] == "a stage cannot move to itself"


def test_a_contract_signed_before_stage_moves_existed_moves_as_the_starting_one():
    raw = copy.deepcopy(DEFAULT_CONTRACT)
    for stage in raw["stages"]:
        del stage["next"]
    cleaned, errors = rules.validate_contract(raw, CATALOG)
    assert errors == {}
    assert cleaned["stages"] == DEFAULT_CONTRACT["stages"]
