"""The permission matrix, generated from the URL resolver and the OpenAPI document: every
page and API route, for every role, for a record of another team or user and for a missing
id. A new route must be classified below, so one added without a thought for who may use it
fails here:

- anonymous visitors are sent to log in (pages) or get 401 (API), except on PUBLIC routes;
- a record a role may not see is answered exactly like a missing one (same status), so no
  answer reveals that it exists.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from closedloop.analytics.models import Goal
from closedloop.api import api
from closedloop.content.models import ContentAsset
from closedloop.core.models import Role
from closedloop.core.services import create_api_token
from closedloop.crm.models import LifecycleStage
from closedloop.imports.models import ImportJob
from tests.factories import make_lead, make_opportunity, make_team, make_user

pytestmark = pytest.mark.django_db

# Routes anyone may use: logging in, the tracking endpoints and forms (write keys and form
# keys authenticate them), and the API's own description.
PUBLIC = re.compile(
    r"^(login/|logout/|welcome/|password|v1/|f/|s/|api/v1/(openapi\.json|docs)|static/|admin/)"
)

# The owned record behind each kind of id a route takes, and which roles may not see one
# that belongs to another team or user. A route with an id of a kind not listed fails.
# Kinds with no owner (contract versions, export kinds) are the same for everyone.
OWNED = {
    "lead": ["alice", "max_manager"],
    "account": ["alice", "max_manager"],
    "opportunity": ["alice", "max_manager"],
    "import": ["mia", "alice", "max_manager", "eve"],
    "token": ["alice", "max_manager", "mia", "eve", "ada"],
    "source": ["alice", "max_manager"],  # executives read the tracking pages
    "form": ["alice", "max_manager"],
    "webhook": ["alice", "max_manager", "mia", "eve"],
    "delivery": ["alice", "max_manager", "mia", "eve"],
    "host": ["alice", "max_manager", "mia", "eve"],
    "user": ["alice", "max_manager", "mia", "eve"],
    "asset": ["alice", "max_manager"],  # another rep's personal upload
    "link": ["alice", "max_manager", "eve"],  # a share link of another team's lead
    "request": ["alice", "max_manager"],  # another rep's content request
    "goal": ["alice", "max_manager"],  # another team's goal
}
PAGE_IDS = {
    "revoke-token": "token",
    "lead-detail": "lead",
    "handoff-card": "lead",
    "lead-work-details": "lead",
    "lead-work-log": "lead",
    "lead-work-task": "lead",
    "lead-work-task-done": "lead",
    "settings-user": "user",
    "tracking-source": "source",
    "tracking-form": "form",
    "handoff-accept": "lead",
    "handoff-reject": "lead",
    "handoff-activity": "lead",
    "handoff-claim": "lead",
    "handoff-assign": "lead",
    "import-detail": "import",
    "import-progress": "import",
    "import-resume": "import",
    "import-errors": "import",
    "webhook-endpoint": "webhook",
    "webhook-toggle": "webhook",
    "webhook-test": "webhook",
    "webhook-rotate": "webhook",
    "webhook-redeliver": "delivery",
    "webhook-host-remove": "host",
    "content-asset": "asset",
    "content-asset-edit": "asset",
    "content-version-new": "asset",
    "content-asset-publish": "asset",
    "content-asset-retire": "asset",
    "content-version-file": "asset",
    "content-share": "asset",
    "content-presented": "asset",
    "content-asset-usage": "asset",
    "content-link-revoke": "link",
    "content-request": "request",
    "content-request-take": "request",
    "content-request-fulfil": "request",
    "content-request-decline": "request",
    "analytics-goal": "goal",
    "analytics-goal-sign": "goal",
    "analytics-goal-withdraw": "goal",
}
UNOWNED_PAGE_IDS = {
    "definitions-version",
    "definitions-edit",
    "definitions-sign",
    "definitions-withdraw",
    "definitions-simulate",
    "export-csv",
    "campaign-edit",  # campaigns are shared by both teams; editing is a role check
    "analytics-scoreboard-drill",  # a figure's name; the records are the user's scope's
}
API_IDS = {
    "lead_id": "lead",
    "account_id": "account",
    "opportunity_id": "opportunity",
    "job_id": "import",
    "endpoint_id": "webhook",
    "asset_id": "asset",
    "link_id": "link",
    "request_id": "request",
    "goal_id": "goal",
}
UNOWNED_API_IDS = {"number", "kind", "touchpoint_id", "token_id", "campaign_id"}
MISSING = 987654


def page_routes(patterns=None, prefix=""):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            yield from page_routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.name


def api_routes():
    schema = api.get_openapi_schema()
    for path, operations in schema["paths"].items():
        for method in operations:
            yield path, method


def fill(route: str, value) -> str:
    return re.sub(r"<(?:\w+:)?\w+>|\{\w+\}", str(value), route)


def test_every_page_route_sends_anonymous_visitors_to_log_in():
    client = Client()
    for route, name in page_routes():
        if PUBLIC.match(route) or route.startswith("api/"):
            continue
        url = "/" + fill(route, 1)
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code in (302, 401, 403, 405), (method, url, name)
            if response.status_code == 302:
                assert response["Location"].startswith("/login/"), (method, url)


def test_every_api_operation_refuses_a_request_without_a_token():
    client = Client()
    for path, method in api_routes():
        if PUBLIC.match(path.lstrip("/")):
            continue
        response = getattr(client, method)(fill(path, 1), content_type="application/json")
        assert response.status_code == 401, (method, path)


def test_every_route_with_an_id_is_classified():
    unclassified = [
        name
        for route, name in page_routes()
        if re.search(r"<", route)
        and not PUBLIC.match(route)
        and not route.startswith("api/")
        and name not in PAGE_IDS
        and name not in UNOWNED_PAGE_IDS
    ]
    params = {p for path, _ in api_routes() for p in re.findall(r"\{(\w+)\}", path)}
    assert unclassified == []
    assert params - set(API_IDS) - UNOWNED_API_IDS == set()


@pytest.fixture
def others(request, db):
    """One record of each owned kind that belongs to another team or user."""
    from closedloop.engagement.tracking import create_form, create_source
    from closedloop.webhooks.models import AllowedHost, Delivery, Endpoint

    west = make_team("Far West")
    stranger = make_user("stranger@example.com", role=Role.REP, team=west)
    marketer = make_user("marketer@example.com", role=Role.MARKETING)
    lead = make_lead(owner=stranger, stage=LifecycleStage.MQL)
    opportunity = make_opportunity(owner=stranger)
    endpoint = Endpoint.objects.create(url="https://hooks.example.com/x", events=["lead.created"])
    return {
        "lead": lead.pk,
        "account": opportunity.account_id,
        "opportunity": opportunity.pk,
        "import": ImportJob.objects.create(
            kind="leads", format="generic", file_name="x.csv", created_by=marketer
        ).pk,
        "token": create_api_token(user=stranger, name="theirs")[0].pk,
        "source": create_source(name="Site")[0].pk,
        "form": create_form(name="Contact")[0].pk,
        "webhook": endpoint.pk,
        "delivery": Delivery.objects.create(endpoint=endpoint, event="lead.created").pk,
        "host": AllowedHost.objects.create(host="intranet.example").pk,
        "user": stranger.pk,
        "asset": ContentAsset.objects.create(
            title="Their own deck",
            kind="deck",
            personal=True,
            owner=stranger,
            url="https://example.com/theirs",
        ).pk,
        **_content_records(stranger, lead),
        "goal": Goal.objects.create(
            team=west, starts_on=date(2026, 4, 1), amount=1000, created_at=timezone.now()
        ).pk,
    }


def _content_records(stranger, lead) -> dict:
    """A share link and a content request of another team's rep."""
    from django.utils import timezone

    from closedloop.content.models import ContentRequest, ShareLink

    published = ContentAsset.objects.create(
        title="Published", kind="deck", status="published", url="https://example.com/p"
    )
    link = ShareLink.objects.create(
        asset=published, lead=lead, created_by=stranger, token_hash="0" * 64
    )
    request = ContentRequest.objects.create(
        what="Theirs", requested_by=stranger, due_at=timezone.now()
    )
    return {"link": link.pk, "request": request.pk}


@pytest.mark.parametrize("role", ["alice", "max_manager", "mia", "eve", "ada"])
def test_a_record_a_role_may_not_see_answers_exactly_like_a_missing_one(request, role, others):
    user = request.getfixturevalue(role)
    client = Client()
    client.force_login(user)
    secret = create_api_token(user=user, name="matrix")[1]
    leaks = []
    for route, name in page_routes():
        kind = PAGE_IDS.get(name)
        if kind is None or role not in OWNED[kind]:
            continue
        for method in ("get", "post"):
            hidden = getattr(client, method)("/" + fill(route, others[kind])).status_code
            missing = getattr(client, method)("/" + fill(route, MISSING)).status_code
            if hidden != missing:
                leaks.append((method, route, hidden, missing))
    headers = {"Authorization": f"Bearer {secret}"}
    for path, method in api_routes():
        names = re.findall(r"\{(\w+)\}", path)
        kinds = [API_IDS[n] for n in names if n in API_IDS]
        if len(kinds) != 1 or role not in OWNED[kinds[0]]:
            continue
        call = getattr(client, method)
        hidden = call(
            fill(path, others[kinds[0]]), content_type="application/json", headers=headers
        )
        missing = call(fill(path, MISSING), content_type="application/json", headers=headers)
        if hidden.status_code != missing.status_code:
            leaks.append((method, path, hidden.status_code, missing.status_code))
    assert leaks == [], leaks
