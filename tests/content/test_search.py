"""Search over the library on the database at hand (CI runs it on SQLite and PostgreSQL)."""

import pytest

from closedloop.content import services
from closedloop.content.models import SearchLog
from tests.content.conftest import add_asset

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(mia):
    return {
        "pricing": add_asset(
            mia, title="Pricing playbook", kind="battlecard", persona="finance",
            text="How to defend our price against discounts\nTotal cost of ownership worksheet",
            tags="pricing, negotiation",
        ),
        "onboarding": add_asset(
            mia, title="Onboarding guide", kind="ebook", persona="practitioner",
            text="The first ninety days with closedloop: onboarding, training and adoption",
            industry="Healthcare",
        ),
        "security": add_asset(
            mia, title="Security whitepaper", kind="whitepaper", persona="technical",
            text="Encryption at rest, single sign-on and audit logs for the security review",
            description="For the customer's security team",
        ),
        "draft": add_asset(mia, title="Pricing draft", text="price list draft", publish=False),
    }  # fmt: skip


def ids(results):
    return [hit.asset.pk for hit in results.hits]


def test_search_finds_words_in_the_files_text_with_a_highlighted_snippet(alice, library):
    results = services.search_assets(alice, "encryption review")
    assert ids(results) == [library["security"].pk]
    snippet = results.hits[0].snippet_html
    assert "<mark>Encryption</mark>" in snippet and "<mark>review</mark>" in snippet


def test_stemming_finds_other_forms_of_a_word(alice, library):
    assert ids(services.search_assets(alice, "discount")) == [library["pricing"].pk]


def test_a_title_match_ranks_above_a_match_deep_in_the_text(mia, alice, library):
    deep = add_asset(
        mia, title="Customer story", text="A story. " * 50 + "onboarding mentioned once"
    )
    found = ids(services.search_assets(alice, "onboarding"))
    assert found.index(library["onboarding"].pk) < found.index(deep.pk)


def test_tags_and_descriptions_are_searched(alice, library):
    assert ids(services.search_assets(alice, "negotiation")) == [library["pricing"].pk]
    assert ids(services.search_assets(alice, "customer's team")) == [library["security"].pk]


def test_reps_do_not_find_drafts_but_marketing_does(alice, mia, library):
    assert library["draft"].pk not in ids(services.search_assets(alice, "pricing"))
    assert library["draft"].pk in ids(services.search_assets(mia, "pricing"))


def test_a_rep_finds_their_own_uploads_but_not_another_reps(alice, bob, library):
    mine = add_asset(alice, title="My pricing notes", text="my pricing notes", publish=False)
    assert mine.pk in ids(services.search_assets(alice, "pricing"))
    assert mine.pk not in ids(services.search_assets(bob, "pricing"))


def test_facets_count_the_matches_and_filters_narrow_them(mia, alice, library):
    add_asset(mia, title="Pricing one-pager", kind="one_pager", text="pricing at a glance")
    results = services.search_assets(alice, "pricing")
    kinds = {value: count for value, _label, count in results.facets["kind"]}
    assert kinds == {"battlecard": 1, "one_pager": 1} and results.total == 2
    narrowed = services.search_assets(alice, "pricing", filters={"kind": "one_pager"})
    assert narrowed.total == 1 and narrowed.hits[0].asset.kind == "one_pager"


def test_an_empty_query_browses_what_the_user_may_see_with_facets(alice, library):
    results = services.search_assets(alice, "")
    assert results.total == 3 and results.log_id is None
    assert {v for v, _l, _n in results.facets["persona"]} == {
        "finance",
        "practitioner",
        "technical",
    }


def test_operators_and_symbols_typed_by_users_never_break_the_search(alice, library):
    for text in ['"unclosed', "NEAR(", "a OR", "*", "-", "price)", "col:umn", "'; DROP TABLE", "ü"]:
        services.search_assets(alice, text)  # no database error
    assert ids(services.search_assets(alice, "security -encryption")) == []
    assert ids(services.search_assets(alice, '"audit logs"')) == [library["security"].pk]
    assert len(ids(services.search_assets(alice, "onboarding or encryption"))) == 2


def test_measured_effectiveness_breaks_a_tie_in_relevance(mia, alice):
    a = add_asset(mia, title="Webinar recap", text="webinar recap")
    b = add_asset(mia, title="Webinar recap", text="webinar recap")
    type(a).objects.filter(pk=b.pk).update(effectiveness=0.9)
    type(a).objects.filter(pk=a.pk).update(effectiveness=0.1)
    assert ids(services.search_assets(alice, "webinar")) == [b.pk, a.pk]


def test_every_search_is_logged_and_an_open_from_it_is_recorded(alice, bob, library):
    results = services.search_assets(alice, "  Encryption  ")
    log = SearchLog.objects.get(pk=results.log_id)
    assert (log.query, log.normalized, log.result_count, log.user) == (
        "Encryption",
        "encryption",
        1,
        alice,
    )
    assert not services.record_search_open(log.pk, library["security"], user=bob)
    assert services.record_search_open(log.pk, library["security"], user=alice)
    log.refresh_from_db()
    assert log.opened_asset == library["security"]


def test_content_gaps_group_empty_and_unopened_searches_against_the_five_percent(
    alice, bob, library
):
    for user, text in [(alice, "ROI calculator"), (bob, "roi  CALCULATOR"), (alice, "security")]:
        services.search_assets(user, text)
    opened = services.search_assets(alice, "onboarding")
    services.record_search_open(opened.log_id, library["onboarding"], user=alice)
    gaps = services.content_gaps()
    assert gaps["searches"] == 4 and gaps["no_result"] == 2
    assert gaps["no_result_share"] == 0.5 and gaps["no_result_target"] == 0.05
    rows = {g["normalized"]: g for g in gaps["gaps"]}
    assert set(rows) == {"calculator roi", "security"}
    assert rows["calculator roi"]["searches"] == 2 and rows["calculator roi"]["people"] == 2
    assert rows["calculator roi"]["why"] == "no result"
    assert rows["security"]["why"] == "nothing opened"


def test_changing_an_asset_reindexes_it(mia, alice, library):
    services.update_asset(library["onboarding"], by=mia, title="Adoption handbook")
    assert ids(services.search_assets(alice, "handbook")) == [library["onboarding"].pk]
