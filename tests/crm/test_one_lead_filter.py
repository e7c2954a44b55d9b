"""The API and the leads page search leads with the same rule: every word must match."""

from __future__ import annotations

import pytest

from tests.factories import make_lead

pytestmark = pytest.mark.django_db


def test_the_api_and_the_leads_page_find_the_same_leads_for_a_two_word_search(api_as, client, ada):
    wanted = make_lead(first_name="Ada", company="Acme Corp")
    make_lead(first_name="Ada", company="Initech")
    make_lead(first_name="Bob", company="Acme Corp")
    found_by_api = {
        row["id"] for row in api_as(ada).get("/leads", {"q": "ada  acme"}).json()["items"]
    }
    client.force_login(ada)
    page = client.get("/leads/", {"q": "ada acme"})
    assert found_by_api == {wanted.pk}
    assert [lead.pk for lead in page.context["page"].rows] == [wanted.pk]
