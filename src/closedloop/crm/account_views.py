"""The account pages: the list, and one company in one place (its people, deals open and
closed with totals, recent touches, logged work and owner), with the owner's edit form.

An account the user may not see is a 404. The owner changes through
`crm.services.update_account`, which applies the same reassignment rules as for leads.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from closedloop.core.models import User
from closedloop.core.permissions import visible
from closedloop.crm import pipeline_board as pb
from closedloop.crm.filters import MAX_SEARCH_LENGTH, MAX_SEARCH_WORDS, normalise_search, page_of
from closedloop.crm.models import Account, Activity, Lead
from closedloop.crm.opportunity_filters import positive_int
from closedloop.crm.permissions import visible_accounts, visible_opportunities
from closedloop.crm.services import StaleVersion, update_account
from closedloop.crm.views import owner_choices
from closedloop.pipeline import LOST, WON

PEOPLE_LIMIT = 50
DEALS_LIMIT = 50
RECENT_LIMIT = 20
# The leads whose touches and activities the page reads (an account of thousands of people
# shows the recent work of its newest thousand, so the page stays one index range per lead).
LEADS_FOR_RECENT = 1000
ACCOUNT_LIST_COLUMNS = (
    "name",
    "domain",
    "industry",
    "country",
    "owner__first_name",
    "owner__last_name",
    "owner__email",
)


@login_required
def account_list(request):
    accounts, q, owner = _filtered_accounts(request)
    rows = accounts.select_related("owner").only(*ACCOUNT_LIST_COLUMNS).order_by("name", "id")
    page, page_error = page_of(rows, request.GET.get("page"))
    figures = _deal_figures(request.user, [account.pk for account in page.rows])
    query = {"q": q, "owner": str(owner or "")}
    return render(
        request,
        "crm/account_list.html",
        {
            "page": page,
            "rows": [(account, figures.get(account.pk, {})) for account in page.rows],
            "q": q,
            "owner": owner,
            "owners": owner_choices(request.user),
            "errors": [page_error] if page_error else [],
            "query": "&".join(f"{k}={v}" for k, v in query.items() if v),
        },
    )


def _filtered_accounts(request) -> tuple[QuerySet[Account], str, int | None]:
    accounts = visible_accounts(request.user)
    q = normalise_search((request.GET.get("q") or "")[:MAX_SEARCH_LENGTH])
    for word in q.split()[:MAX_SEARCH_WORDS]:
        accounts = accounts.filter(Q(name__icontains=word) | Q(domain__icontains=word))
    owner = positive_int((request.GET.get("owner") or "").strip())
    if owner:
        accounts = accounts.filter(owner_id=owner)
    return accounts, q, owner


def _deal_figures(user: User, account_ids: list[int]) -> dict[int, dict]:
    """{account id: {"open": n, "open_amount": Amounts, "won_amount": Amounts}} for these
    accounts, in one grouped query over the deals `user` may see."""
    if not account_ids:
        return {}
    closed = pb.closed_codes(pb.current_pipeline())
    rows = (
        visible_opportunities(user)
        .filter(account_id__in=account_ids)
        .order_by()
        .values_list("account_id", "currency")
        .annotate(
            open=Count("id", filter=~Q(stage__in=closed)),
            open_amount=Sum("amount", filter=~Q(stage__in=closed)),
            won_amount=Sum("amount", filter=Q(stage=WON)),
        )
    )
    figures: dict[int, dict] = {}
    for account_id, currency, n, open_amount, won_amount in rows:
        found = figures.setdefault(
            account_id, {"open": 0, "open_amount": pb.Amounts(), "won_amount": pb.Amounts()}
        )
        found["open"] += n
        found["open_amount"] += pb.Amounts({currency: open_amount or Decimal(0)})
        found["won_amount"] += pb.Amounts({currency: won_amount or Decimal(0)})
    return figures


def _account(request, pk: int) -> Account:
    # An account the user may not see is a 404, the same as one that does not exist.
    return get_object_or_404(visible_accounts(request.user).select_related("owner__team"), pk=pk)


@login_required
def account_detail(request, pk: int):
    account = _account(request, pk)
    return render(request, "crm/account_detail.html", account_context(request, account))


def account_context(request, account: Account, **extra) -> dict:
    people = visible(Lead.objects.filter(account=account), request.user)
    lead_ids = list(
        people.order_by("-created_at", "-id").values_list("id", flat=True)[:LEADS_FOR_RECENT]
    )
    return {
        "account": account,
        "people": list(
            people.select_related("owner").order_by("-created_at", "-id")[:PEOPLE_LIMIT]
        ),
        "people_count": len(lead_ids),
        "touches": _recent_touches(lead_ids),
        "activities": _recent_activities(lead_ids),
        "owners": owner_choices(request.user) if request.user.can_reassign else [],
        "errors": {},
        **account_deals(request.user, account),
        **extra,
    }


def account_deals(user: User, account: Account) -> dict:
    """The account's deals the user may see: open and closed (newest first, bounded) and the
    totals of each group (open amount and weighted, won, lost)."""
    pipeline = pb.current_pipeline()
    closed = pb.closed_codes(pipeline)
    deals = visible_opportunities(user).filter(account=account)
    sums = pb.stage_sums(deals)
    labels = {stage.code: stage for stage in pipeline}
    listed = deals.select_related("owner").order_by("-created_at", "-id")
    open_deals = listed.exclude(stage__in=closed)[:DEALS_LIMIT]
    closed_deals = listed.filter(stage__in=closed).order_by("-closed_at", "-id")[:DEALS_LIMIT]
    return {
        "open_deals": [(deal, labels.get(deal.stage)) for deal in open_deals],
        "closed_deals": [(deal, labels.get(deal.stage)) for deal in closed_deals],
        "deal_totals": _group_totals(sums, pipeline),
    }


def _group_totals(sums: dict[str, pb.StageSum], pipeline) -> dict:
    """Open deals (count, amounts, weighted), won and lost (count, amounts)."""
    none = pb.StageSum(0, pb.Amounts())
    open_count, open_amount, open_weighted = 0, pb.Amounts(), pb.Amounts()
    for stage in pipeline:
        found = sums.get(stage.code, none)
        if not stage.is_closed:
            open_count += found.count
            open_amount += found.amounts
            open_weighted += found.amounts.scaled(stage.probability)
    won, lost = sums.get(WON, none), sums.get(LOST, none)
    return {
        "open_count": open_count,
        "open_amount": open_amount,
        "open_weighted": open_weighted,
        "won_count": won.count,
        "won_amount": won.amounts,
        "lost_count": lost.count,
        "lost_amount": lost.amounts,
    }


def _recent_touches(lead_ids: list[int]) -> list[dict]:
    """The newest touches of these leads as rows (lead, type, channel, campaign, content, at).

    Read through Lead's reverse relation: the engagement app sits above crm and crm does not
    import it (the same relation the lead page's timeline reads)."""
    if not lead_ids:
        return []
    rows = (
        Lead.objects.filter(id__in=lead_ids, touchpoints__isnull=False)
        .order_by("-touchpoints__occurred_at", "-touchpoints__id")
        .values(
            "id",
            "first_name",
            "last_name",
            "email",
            type=F("touchpoints__type"),
            channel=F("touchpoints__channel"),
            campaign=F("touchpoints__campaign__name"),
            content=F("touchpoints__content__title"),
            at=F("touchpoints__occurred_at"),
        )[:RECENT_LIMIT]
    )
    return [{**row, "label": str(row["type"]).replace("_", " ").capitalize()} for row in rows]


def _recent_activities(lead_ids: list[int]) -> list[Activity]:
    if not lead_ids:
        return []
    activities = Activity.objects.filter(lead_id__in=lead_ids).select_related("rep", "lead")
    return list(activities.order_by("-at", "-id")[:RECENT_LIMIT])


@login_required
@require_POST
def account_owner(request, pk: int):
    """Give the account to another owner (managers within their team, admins anyone)."""
    account = _account(request, pk)
    if not request.user.can_reassign:
        raise PermissionDenied("only managers and admins change an account's owner")
    raw, version = request.POST.get("owner", ""), request.POST.get("version", "")
    owner = owner_choices(request.user).filter(pk=positive_int(raw) or 0).first()
    errors = {}
    if raw and owner is None:
        errors["owner"] = "not an active rep or manager you may assign to"
    if not version.isdigit():
        errors["version"] = "missing; reload the page"
    if not errors:
        errors = _save_owner(request, account, owner, int(version))
    if errors:
        status = 409 if "version" in errors and version.isdigit() else 422
        context = account_context(request, _account(request, pk), errors=errors)
        return render(request, "crm/account_detail.html", context, status=status)
    messages.success(request, f"{account.name} is now owned by {owner or 'nobody'}.")
    return redirect("account-detail", pk=account.pk)


def _save_owner(request, account: Account, owner: User | None, version: int) -> dict:
    try:
        update_account(account, by=request.user, changes={"owner": owner}, expected_version=version)
    except StaleVersion:
        return {"version": "Someone changed this account first: it shows as it is now."}
    except PermissionDenied as exc:
        return {"owner": str(exc)}
    return {}
