"""The revenue record's pages: home (the cycle at a glance), the leads list and a lead."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import islice

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from closedloop.campaigns.models import Campaign
from closedloop.core.models import Role, User
from closedloop.core.permissions import visible
from closedloop.crm import dashboard
from closedloop.crm.filters import SCORE_BANDS, SORTS, filter_leads, page_of
from closedloop.crm.models import (
    Lead,
    LeadSource,
    LifecycleStage,
    Opportunity,
    OpportunityContact,
    StageChange,
)
from closedloop.crm.permissions import opportunity_visibility, visible_opportunities

# What a row of the leads list shows; loading only these keeps 50 rows cheap to build.
LIST_COLUMNS = (
    "first_name",
    "last_name",
    "email",
    "company",
    "lifecycle_stage",
    "score",
    "fit_grade",
    "source",
    "created_at",
    "account__name",
    "owner__first_name",
    "owner__last_name",
    "owner__email",
)
TIMELINE_LIMIT = 100
STAGE_HISTORY_LIMIT = 50
TOP_REASONS = 6


@login_required
def home(request):
    leads = visible(Lead.objects.all(), request.user)
    snap = dashboard.snapshot(leads, scope=dashboard.visibility_scope(request.user))
    return render(
        request,
        "crm/home.html",
        {
            "snap": snap,
            "scope_label": _scope_label(request.user),
            "cache_minutes": max(1, round(dashboard.cache_seconds() / 60)),
            "chart_data": snap.weekly.chart_data(),
            "recent": dashboard.recent_stage_changes(
                visible(StageChange.objects.all(), request.user, via="lead")
            ),
            "deals": dashboard.pipeline_tile(visible_opportunities(request.user)),
        },
    )


def _scope_label(user: User) -> str:
    if user.sees_all_leads:
        return "all leads"
    if user.team_id is None:
        return "your leads"
    if user.role == Role.MANAGER:
        return f"{user.team}'s leads and unassigned leads"
    return f"{user.team}'s leads"


@login_required
def lead_list(request):
    leads = visible(Lead.objects.all(), request.user)
    leads, cleaned = filter_leads(leads, request.GET)
    leads = leads.select_related("owner", "account").only(*LIST_COLUMNS)
    page, page_error = page_of(leads, request.GET.get("page"))
    errors = cleaned.errors + ([page_error] if page_error else [])
    context = {
        "page": page,
        "filters": cleaned,
        "errors": errors,
        "prev_query": cleaned.as_query(page=str(page.number - 1)),
        "next_query": cleaned.as_query(page=str(page.number + 1)),
        "stages": LifecycleStage.choices,
        "sources": LeadSource.choices,
        "bands": list(SCORE_BANDS),
        "sorts": [(key, label) for key, (label, _) in SORTS.items()],
        "owners": owner_choices(request.user),
        "campaigns": Campaign.objects.order_by("-starts_on", "name").only("id", "name"),
    }
    # htmx swaps just the results when a filter changes; a plain GET gets the whole page.
    template = "crm/_lead_results.html" if request.htmx else "crm/lead_list.html"
    return render(request, template, context)


def owner_choices(user: User):
    owners = User.objects.filter(role__in=(Role.REP, Role.MANAGER), is_active=True)
    if not user.sees_all_leads:
        owners = owners.filter(team_id=user.team_id) if user.team_id else owners.filter(pk=user.pk)
    return owners.order_by("first_name", "last_name", "email")


@login_required
def lead_detail(request, pk: int):
    # A lead the user may not see is a 404, indistinguishable from one that does not exist.
    lead = get_object_or_404(
        visible(
            Lead.objects.select_related("account", "owner__team", "original_campaign"), request.user
        ),
        pk=pk,
    )
    roles = lead_roles(lead, request.user)
    return render(
        request,
        "crm/lead_detail.html",
        {
            "lead": lead,
            "reasons": score_reasons(lead.score_reasons),
            "history": lead.stage_changes.select_related("by").order_by("-at", "-id")[
                :STAGE_HISTORY_LIMIT
            ],
            "timeline": timeline(lead, request.user, roles=roles),
            "deals": lead_deals(roles),
        },
    )


def lead_deals(roles: list[OpportunityContact], *, limit: int = 10) -> list[Opportunity]:
    """The deals of these contact roles, open ones first, then the latest closed."""
    deals = [role.opportunity for role in roles]
    deals.sort(key=lambda deal: deal.closed_at or deal.created_at, reverse=True)
    deals.sort(key=lambda deal: deal.closed_at is not None)
    return deals[:limit]


@dataclass(frozen=True)
class Reason:
    text: str
    effect: float

    @property
    def raises(self) -> bool:
        return self.effect > 0

    @property
    def signed(self) -> str:
        # A real minus sign (U+2212), easier to read than a hyphen next to a number.
        return f"{'+' if self.raises else '−'}{abs(self.effect):.3g}"


def score_reasons(raw, *, top: int = TOP_REASONS) -> list[Reason]:
    """The `top` strongest score reasons, strongest first; malformed entries are skipped
    (the field is JSON written by the scorer, and a bad entry must not break the page)."""
    reasons = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            continue
        try:
            reasons.append(Reason(item["text"], float(item.get("effect", 0))))
        except (TypeError, ValueError):
            continue
    return sorted(reasons, key=lambda r: abs(r.effect), reverse=True)[:top]


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    kind: str  # "touchpoint" | "activity" | "opportunity": picks the template fragment
    obj: object


def lead_roles(lead: Lead, user: User, *, limit: int = TIMELINE_LIMIT) -> list[OpportunityContact]:
    """The lead's contact roles on deals `user` may see, newest deal first, at most `limit`."""
    roles = OpportunityContact.objects.filter(lead=lead).select_related("opportunity__account")
    rule = opportunity_visibility(user)
    if rule is not None:
        roles = roles.filter(opportunity__in=Opportunity.objects.filter(rule).values("id"))
    return list(roles.order_by("-opportunity__created_at", "-id")[:limit])


def timeline(
    lead: Lead,
    user: User,
    *,
    limit: int = TIMELINE_LIMIT,
    roles: list[OpportunityContact] | None = None,
) -> list[TimelineItem]:
    """The lead's touchpoints, activities and opportunities merged newest first, at most `limit`.

    Three bounded queries (each newest `limit`), so the cost does not grow with the history;
    `roles` (from `lead_roles`) saves the third when the caller has them already.
    """
    touches = lead.touchpoints.select_related("campaign", "content").order_by("-occurred_at", "-id")
    activities = lead.activities.select_related("rep").order_by("-at", "-id")
    if roles is None:
        roles = lead_roles(lead, user, limit=limit)
    items = [TimelineItem(t.occurred_at, "touchpoint", t) for t in touches[:limit]]
    items += [TimelineItem(a.at, "activity", a) for a in activities[:limit]]
    items += [
        TimelineItem(r.opportunity.closed_at or r.opportunity.created_at, "opportunity", r)
        for r in roles[:limit]
    ]
    items.sort(key=lambda item: item.at, reverse=True)
    return list(islice(items, limit))
