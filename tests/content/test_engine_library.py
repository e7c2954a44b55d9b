"""The library's pure computation: queries, snippets, ranking, near duplicates, personas."""

from closedloop.content.engine import duplicates, personas
from closedloop.content.engine import search as engine
from closedloop.content.engine.search import MATCH_END, MATCH_START

BASE = (
    "Closedloop helps revenue teams agree on what a qualified lead is, hand leads over within "
    "hours, and show marketing which campaigns and which pieces of content turned into won "
    "deals. This case study follows a mid-sized software company through its first quarter: "
    "response times fell from two days to three hours, the share of leads accepted by sales "
    "rose from forty to seventy percent, and the sales team stopped rebuilding its own decks."
)


def test_words_are_all_required_and_punctuation_is_never_an_operator():
    query = engine.parse_query('pricing NEAR(saas) "AND" *')
    # A token holding punctuation is a phrase of its words, as for "e-mail" or "B2B/SaaS".
    assert query.as_fts5() == '("pricing") AND ("near saas") AND ("and")'
    assert query.as_websearch() == 'pricing "near saas" and'


def test_phrases_or_groups_and_exclusions_read_like_a_web_search():
    query = engine.parse_query('"case study" healthcare or finance -draft')
    assert query.as_fts5() == '("case study") AND ("healthcare" OR "finance") NOT "draft"'
    assert query.as_websearch() == '"case study" healthcare or finance -draft'


def test_a_query_of_only_exclusions_or_symbols_is_empty():
    assert engine.parse_query("-draft").empty
    assert engine.parse_query('"" ** --').empty
    assert engine.parse_query("or or").empty


def test_searches_group_by_their_words_whatever_the_order_and_case():
    assert engine.normalize_query("SaaS  Pricing, saas") == engine.normalize_query("pricing saas")


def test_a_snippet_is_escaped_and_only_the_markers_become_mark_tags():
    raw = f"<script>alert(1)</script> {MATCH_START}pricing{MATCH_END} & <mark>fake</mark>"
    html = engine.highlight(raw)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<mark>pricing</mark>" in html
    assert "<mark>fake</mark>" not in html
    assert engine.plain_snippet(raw).startswith("<script>alert(1)</script> pricing")


def test_measured_effectiveness_lifts_an_equally_relevant_asset_but_not_a_far_better_one():
    assert engine.blend(1.0, 0.9) > engine.blend(1.0, None) > engine.blend(1.0, 0.1)
    assert engine.blend(3.0, 0.0) > engine.blend(1.0, 1.0)


def test_a_copy_with_small_edits_is_a_near_duplicate():
    edited = (
        BASE.replace("two days", "48 hours")
        .replace("seventy", "72")
        .replace("software company", "SaaS firm")
    )
    original, copy = duplicates.minhash(BASE), duplicates.minhash(edited)
    assert original is not None and copy is not None
    found = duplicates.nearest(copy, [(1, original)])
    assert found is not None and found[0] == 1 and 0.5 <= found[1] < 1.0


def test_an_exact_copy_is_fully_similar_and_reordered_paragraphs_still_match():
    sentences = BASE.split(". ")
    reordered = ". ".join(sentences[1:] + sentences[:1])
    assert duplicates.similarities(duplicates.minhash(BASE), [duplicates.minhash(BASE)])[0] == 1.0
    assert (
        duplicates.nearest(duplicates.minhash(reordered), [(7, duplicates.minhash(BASE))])[0] == 7
    )


def test_a_different_text_on_the_same_topic_is_not_a_duplicate():
    other = (
        "Our webinar explains how finance leaders budget for marketing automation, which "
        "metrics a board asks for, and how to compare vendors on total cost of ownership over "
        "three years, with worksheets for licences, services, training and the hidden cost of "
        "switching systems later when the company grows into new markets and regions."
    )
    assert duplicates.nearest(duplicates.minhash(other), [(1, duplicates.minhash(BASE))]) is None


def test_short_texts_have_no_signature():
    assert duplicates.minhash("A one-line note") is None


def test_the_persona_comes_from_the_job_title():
    assert personas.persona_of("CFO") == "finance"
    assert personas.persona_of("Senior Software Engineer") == "technical"
    assert personas.persona_of("VP Marketing") == "executive"
    assert personas.persona_of("Audit specialist") == "practitioner"
    assert personas.persona_of("") == ""
