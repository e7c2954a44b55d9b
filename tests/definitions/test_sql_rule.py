"""The contract's SQL rule applied to a rep's answers (pure)."""

from closedloop.definitions.contract import SqlRule

RULE = SqlRule(requires=("budget", "authority", "need", "timeline"), min_confirmed=3)


def _yes(evidence="said so"):
    return {"confirmed": True, "evidence": evidence}


def test_enough_confirmed_criteria_with_evidence_qualify():
    verdict = RULE.judge({"budget": _yes(), "need": _yes(), "timeline": _yes()})
    assert verdict.qualified
    assert verdict.confirmed == ("budget", "need", "timeline")
    assert verdict.answers["authority"] == {"confirmed": False, "evidence": ""}


def test_too_few_confirmed_names_what_is_missing():
    verdict = RULE.judge({"budget": _yes(), "need": _yes()})
    assert not verdict.qualified
    assert verdict.problems == {
        "answers": "the SQL rule needs 3 of 4 criteria confirmed (confirmed: Budget and Need); "
        "confirm 1 more of Authority or Timeline"
    }


def test_a_confirmation_without_evidence_and_an_unknown_criterion_are_refused():
    verdict = RULE.judge({"budget": _yes(" "), "need": _yes(), "timeline": _yes(), "vibes": _yes()})
    assert set(verdict.problems) == {"answers.budget", "answers.vibes"}
    assert verdict.problems["answers.budget"] == "say what confirmed budget"


def test_only_true_confirms():
    verdict = RULE.judge({name: {"confirmed": "yes", "evidence": "x"} for name in RULE.requires})
    assert verdict.confirmed == ()
