from datetime import timedelta

import pytest
from django.utils import timezone

from closedloop.core.api_support import Ordering, encode_cursor
from tests.api.conftest import problems
from tests.factories import make_lead


def _walk(api, path: str, **params) -> list[int]:
    seen, cursor, pages = [], None, 0
    while True:
        response = api.get(path, {**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.content
        body = response.json()
        seen += [row["id"] for row in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return seen, pages


@pytest.mark.parametrize("sort", ["-created_at", "created_at", "score", "-score", "-updated_at"])
def test_walking_every_page_returns_each_lead_once_in_order(api_as, mia, sort):
    base = timezone.now()
    # Many ties on created_at and score, so the id tie-breaker is exercised.
    leads = [make_lead(created_at=base - timedelta(minutes=i // 3), score=i % 4) for i in range(23)]
    ids, pages = _walk(api_as(mia), "/leads", limit=5, sort=sort)
    assert pages == 5
    assert sorted(ids) == sorted(lead.pk for lead in leads)  # no duplicates, no misses
    field = sort.lstrip("-")
    keys = {lead.pk: (getattr(lead, field), lead.pk) for lead in leads}
    assert ids == sorted(ids, key=lambda pk: keys[pk], reverse=sort.startswith("-"))


def test_rows_created_while_paging_cause_no_duplicates(api_as, mia):
    for _ in range(6):
        make_lead()
    api = api_as(mia)
    first = api.get("/leads", {"limit": 3}).json()
    make_lead()  # newest: sorts before the cursor, so it is not on later pages
    second = api.get("/leads", {"limit": 3, "cursor": first["next_cursor"]}).json()
    assert not {r["id"] for r in first["items"]} & {r["id"] for r in second["items"]}


def test_a_cursor_that_was_not_issued_is_a_422_naming_cursor(api_as, mia):
    response = api_as(mia).get("/leads", {"cursor": "definitely-not"})
    assert response.status_code == 422
    assert problems(response) == {"cursor": "not a cursor returned by this endpoint"}


def test_a_cursor_from_another_sort_is_refused(api_as, mia):
    cursor = encode_cursor(Ordering.parse("score", {"score": int}), 3, 1)
    response = api_as(mia).get("/leads", {"cursor": cursor})
    assert response.status_code == 422 and "sort" in problems(response)["cursor"]


def test_an_unknown_sort_is_a_422_naming_sort(api_as, mia):
    response = api_as(mia).get("/leads", {"sort": "email"})
    assert response.status_code == 422 and set(problems(response)) == {"sort"}


def test_the_limit_is_between_1_and_200(api_as, mia):
    api = api_as(mia)
    assert api.get("/leads", {"limit": 201}).status_code == 422
    assert api.get("/leads", {"limit": 200}).status_code == 200
