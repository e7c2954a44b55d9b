"""The pages that manage sources and forms, and `closedloop source create`."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from closedloop.cli import app
from closedloop.engagement.models import EventMapping, Form, Source
from closedloop.engagement.tracking import hash_key, source_for_key

pytestmark = pytest.mark.django_db


def test_marketing_creates_a_source_and_sees_its_key_once(client, mia):
    client.force_login(mia)

    created = client.post("/tracking/sources/", {"name": "Website"})
    listed = client.get("/tracking/sources/")

    key = re.search(rb'<pre class="secret">(wk_[^<]+)</pre>', created.content).group(1).decode()
    source = Source.objects.get()
    assert (source.name, source.key_hash, source.created_by) == ("Website", hash_key(key), mia)
    assert key.encode() not in listed.content
    assert source_for_key(key).id == source.pk


def test_a_duplicate_source_name_is_refused_with_the_field_named(client, mia):
    client.force_login(mia)
    client.post("/tracking/sources/", {"name": "Website"})

    response = client.post("/tracking/sources/", {"name": "website"}, follow=True)

    assert Source.objects.count() == 1
    assert b"name: a source called" in response.content


@pytest.mark.parametrize("who", ["alice", "max_manager"])
def test_sales_cannot_see_or_create_sources_or_forms(client, who, request):
    client.force_login(request.getfixturevalue(who))

    assert client.get("/tracking/sources/").status_code == 403
    assert client.post("/tracking/sources/", {"name": "Sneaky"}).status_code == 403
    assert client.get("/tracking/forms/").status_code == 403
    assert not Source.objects.exists()


def test_an_executive_reads_but_cannot_create(client, eve):
    client.force_login(eve)

    assert client.get("/tracking/sources/").status_code == 200
    assert client.post("/tracking/sources/", {"name": "Nope"}).status_code == 403
    assert client.post("/tracking/forms/", {"name": "Nope"}).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    response = client.get("/tracking/sources/")

    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_an_event_mapping_is_added_and_removed_on_the_source_page(client, ada):
    client.force_login(ada)
    client.post("/tracking/sources/", {"name": "App"})
    source = Source.objects.get()

    client.post(
        f"/tracking/sources/{source.pk}/",
        {"action": "map", "event_name": "Trial Started", "touchpoint_type": "event"},
    )
    mapping = EventMapping.objects.get()
    page = client.get(f"/tracking/sources/{source.pk}/")
    client.post(f"/tracking/sources/{source.pk}/", {"action": "unmap", "mapping": mapping.pk})

    assert b"Trial Started" in page.content
    assert not EventMapping.objects.exists()


def test_rotating_a_source_key_stops_the_old_key(client, ada):
    client.force_login(ada)
    created = client.post("/tracking/sources/", {"name": "App"})
    old = re.search(rb"(wk_[^<]+)</pre>", created.content).group(1).decode()
    source = Source.objects.get()

    rotated = client.post(f"/tracking/sources/{source.pk}/", {"action": "rotate"})
    new = re.search(rb"(wk_[^<]+)</pre>", rotated.content).group(1).decode()

    assert source_for_key(old) is None
    assert source_for_key(new).id == source.pk


def test_creating_a_form_shows_an_embed_snippet_that_works(client, mia):
    client.force_login(mia)

    response = client.post("/tracking/forms/", {"name": "Demo <request>", "allowed_origins": ""})

    form = Form.objects.get()
    assert form.name == "Demo <request>"
    assert b"Demo &lt;request&gt;" in response.content
    action = re.search(rb"action=&quot;http://testserver(/f/fk_[^&]+)&quot;", response.content)
    client.logout()
    posted = client.post(action.group(1).decode(), {"email": "snippet@example.com"})
    assert posted.status_code == 200
    assert b"name=&quot;homepage&quot;" in response.content


def test_source_create_prints_the_write_key_alone_on_the_last_line(db):
    result = CliRunner().invoke(app, ["source", "create", "Server events"])

    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert source_for_key(key).name == "Server events"


def test_source_create_refuses_a_duplicate_name(db):
    CliRunner().invoke(app, ["source", "create", "Web"])

    result = CliRunner().invoke(app, ["source", "create", "Web"])

    assert result.exit_code != 0
    assert Source.objects.count() == 1


def test_a_form_with_a_bad_origin_or_thank_you_address_is_refused_naming_the_field(client, mia):
    client.force_login(mia)

    bad_origin = client.post("/tracking/forms/", {"name": "A", "allowed_origins": "example.com/x"})
    bad_url = client.post("/tracking/forms/", {"name": "B", "redirect_url": "javascript:alert(1)"})

    assert b"allowed_origins: " in bad_origin.content
    assert b"redirect_url: " in bad_url.content
    assert not Form.objects.exists()
