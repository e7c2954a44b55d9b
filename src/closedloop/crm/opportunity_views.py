"""The opportunity pages: the board (a column per stage, drag or keyboard moves), the list
(totals, weighted pipeline, CSV export), a deal's page, and its edit, move and close forms.

Every write goes through `crm.services`; a deal the user may not see is a 404 (before any
other check), and only its owner, their manager or an admin may change it (403 otherwise).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl, urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from closedloop.core.models import Role, Team, User
from closedloop.crm import pipeline_board as pb
from closedloop.crm.filters import page_of
from closedloop.crm.models import Opportunity
from closedloop.crm.opportunity_detail import deal_sections
from closedloop.crm.opportunity_filters import (
    PERIODS,
    SORTS,
    STATUSES,
    filter_opportunities,
    narrow_opportunities,
    parse_filters,
)
from closedloop.crm.permissions import (
    can_work_opportunity,
    check_can_work_opportunity,
    visible_opportunities,
)
from closedloop.crm.services import StaleVersion, move_opportunity, update_opportunity
from closedloop.crm.views import owner_choices
from closedloop.vocabulary import CURRENCIES


def _filter_choices(user: User) -> dict:
    teams = Team.objects.order_by("name") if user.sees_all_leads else Team.objects.none()
    return {
        "owners": owner_choices(user),
        "teams": teams,
        "periods": list(PERIODS.items()),
    }


@login_required
def board(request):
    # htmx swaps just the board when a filter changes; a plain GET gets the whole page.
    template = "crm/_board.html" if request.htmx else "crm/opportunity_board.html"
    return render(request, template, board_context(request, request.GET))


def board_context(request, params, **extra) -> dict:
    """The board's context for the filters in `params` (the page and the htmx refresh)."""
    pipeline = pb.current_pipeline()
    cleaned = parse_filters(params, stage_codes=pb.stage_codes(pipeline))
    deals = narrow_opportunities(
        visible_opportunities(request.user), cleaned, today=timezone.localdate()
    )
    columns = pb.board_columns(deals, pipeline)
    for column in columns:
        for card in column.cards:
            card.can_move = can_work_opportunity(request.user, card.deal)
    return {
        "columns": columns,
        "filters": cleaned,
        "board_query": cleaned.board_query(),
        "board_url": reverse("opportunity-board"),
        "closed_days": pb.CLOSED_WINDOW.days,
        "per_column": pb.BOARD_CARDS,
        **_filter_choices(request.user),
        **extra,
    }


@login_required
def opportunity_list(request):
    pipeline = pb.current_pipeline()
    deals, cleaned = filter_opportunities(
        visible_opportunities(request.user),
        request.GET,
        stage_codes=pb.stage_codes(pipeline),
        closed_codes=pb.closed_codes(pipeline),
    )
    # The page's ids first (one index walk, no joins), then those rows with their account
    # and owner: joined from the start, SQLite may plan from the accounts and sort every deal.
    page, page_error = page_of(deals.values_list("id", flat=True), request.GET.get("page"))
    loaded = pb.load_cards(page.rows)
    page = replace(page, rows=[loaded[i] for i in page.rows if i in loaded])
    labels = {stage.code: stage for stage in pipeline}
    context = {
        "page": page,
        "rows": [_row(deal, labels.get(deal.stage)) for deal in page.rows],
        "totals": pb.list_totals(deals, pipeline),
        "filters": cleaned,
        "errors": cleaned.errors + ([page_error] if page_error else []),
        "prev_query": cleaned.as_query(page=str(page.number - 1)),
        "next_query": cleaned.as_query(page=str(page.number + 1)),
        "export_query": cleaned.as_query(status=cleaned.status, sort=""),
        "sort_links": _sort_links(cleaned),
        "statuses": list(STATUSES.items()),
        "stages": pipeline,
        "sorts": [(key, label) for key, (label, _) in SORTS.items()],
        **_filter_choices(request.user),
    }
    template = "crm/_opportunity_results.html" if request.htmx else "crm/opportunity_list.html"
    return render(request, template, context)


def _row(deal: Opportunity, stage: pb.PipelineStage | None) -> tuple:
    return deal, stage, pb.weighted(deal.amount, stage.probability if stage else 0)


def _sort_links(cleaned) -> dict[str, str]:
    """Per sortable column, the query that sorts by it (the other direction if it is the sort)."""
    links = {}
    for key in ("name", "amount", "close"):
        ascending = "-amount" if key == "amount" else key
        flipped = ascending[1:] if ascending.startswith("-") else f"-{ascending}"
        links[key] = cleaned.as_query(sort=flipped if cleaned.sort == ascending else ascending)
    return links


def deal_or_404(request, pk: int, *, related=("account", "owner__team")) -> Opportunity:
    # A deal the user may not see is a 404, the same as one that does not exist.
    return get_object_or_404(visible_opportunities(request.user).select_related(*related), pk=pk)


@login_required
def opportunity_detail(request, pk: int):
    deal = deal_or_404(request, pk, related=("account", "owner__team", "campaign"))
    return render(request, "crm/opportunity_detail.html", detail_context(request, deal))


def detail_context(request, deal: Opportunity, **extra) -> dict:
    pipeline = pb.current_pipeline()
    stage = next((s for s in pipeline if s.code == deal.stage), None)
    return {
        "deal": deal,
        "stage": stage,
        "currencies": sorted(CURRENCIES),
        "is_admin": request.user.role == Role.ADMIN,
        "weighted": pb.weighted(deal.amount, stage.probability if stage else 0),
        "open_stages": [s for s in pipeline if not s.is_closed],
        "can_work": can_work_opportunity(request.user, deal),
        "owners": owner_choices(request.user) if request.user.can_reassign else [],
        "errors": {},
        **deal_sections(deal, request.user, labels={s.code: s.label for s in pipeline}),
        **extra,
    }


def refused(request, deal: Opportunity, *, status: int, errors: dict):
    deal = deal_or_404(request, deal.pk, related=("account", "owner__team", "campaign"))
    context = detail_context(request, deal, errors=errors)
    return render(request, "crm/opportunity_detail.html", context, status=status)


@login_required
@require_POST
def opportunity_edit(request, pk: int):
    deal = deal_or_404(request, pk)
    check_can_work_opportunity(request.user, deal)
    errors: dict[str, str] = {}
    changes = _edit_changes(request, errors)
    version = posted_version(request, errors)
    if errors:
        return refused(request, deal, status=422, errors=errors)
    try:
        update_opportunity(deal, by=request.user, changes=changes, expected_version=version)
    except StaleVersion:
        message = "Someone saved this deal first: the form shows their version now."
        return refused(request, deal, status=409, errors={"version": message})
    except ValidationError as exc:
        return refused(request, deal, status=422, errors=field_errors(exc))
    messages.success(request, "Deal saved.")
    return redirect("opportunity-detail", pk=deal.pk)


def _edit_changes(request, errors: dict) -> dict:
    post = request.POST
    changes: dict = {}
    name = post.get("name", "").strip()
    if not name or len(name) > 200:
        errors["name"] = "a deal needs a name of at most 200 characters"
    changes["name"] = name
    changes["amount"] = _amount(post.get("amount", ""), errors)
    changes["close_date"] = _date(post.get("close_date", ""), errors)
    changes["next_step"] = post.get("next_step", "").strip()
    if len(changes["next_step"]) > 200:
        errors["next_step"] = "at most 200 characters"
    if "currency" in post:
        changes["currency"] = post["currency"].strip().upper()
    if "owner" in post and request.user.can_reassign:
        changes["owner"] = _owner(request, post["owner"], errors)
    return changes


def _amount(raw: str, errors: dict) -> Decimal:
    try:
        amount = Decimal(raw.strip().replace(",", ""))
    except InvalidOperation:
        errors["amount"] = "expected a number, e.g. 12500 or 12500.50"
        return Decimal(0)
    if not amount.is_finite() or amount < 0 or amount >= 10**12:
        errors["amount"] = "expected an amount from 0 to 999,999,999,999.99"
        return Decimal(0)
    return amount.quantize(Decimal("0.01"))


def _date(raw: str, errors: dict):
    if not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        errors["close_date"] = "expected a date as YYYY-MM-DD"
        return None


def _owner(request, raw: str, errors: dict) -> User | None:
    if raw == "":
        return None
    owner = owner_choices(request.user).filter(pk=int(raw) if raw.isdigit() else 0).first()
    if owner is None:
        errors["owner"] = "not an active rep or manager you may assign to"
    return owner


def posted_version(request, errors: dict) -> int | None:
    raw = request.POST.get("version", "")
    if not raw.isdigit():
        errors["version"] = "missing; reload the page"
        return None
    return int(raw)


def field_errors(exc: ValidationError) -> dict:
    if hasattr(exc, "message_dict"):
        return {field: problems[0] for field, problems in exc.message_dict.items()}
    return {"__all__": exc.messages[0]}


@login_required
@require_POST
def opportunity_move(request, pk: int):
    """Move a deal to another open stage (board drag, the card's buttons, the deal's page).
    A move to a closing stage is the close form's: the user is sent there."""
    deal = deal_or_404(request, pk)
    check_can_work_opportunity(request.user, deal)
    pipeline = pb.current_pipeline()
    stage = request.POST.get("stage", "")
    if stage in pb.closed_codes(pipeline):
        return _to_close_form(request, deal, stage)
    errors: dict[str, str] = {}
    version = posted_version(request, errors)
    if stage not in pb.stage_codes(pipeline):
        errors["stage"] = f"expected one of {', '.join(pb.stage_codes(pipeline))}"
    if not errors:
        try:
            move_opportunity(deal, by=request.user, to=stage, expected_version=version)
        except StaleVersion:
            errors["version"] = "Someone changed this deal first: it shows as it is now."
        except ValidationError as exc:
            errors = field_errors(exc)
    return _moved(request, deal, errors)


def _moved(request, deal: Opportunity, errors: dict):
    status = 409 if "version" in errors and len(errors) == 1 else 422 if errors else 200
    label = dict((s.code, s.label) for s in pb.current_pipeline()).get(deal.stage, deal.stage)
    message = "" if errors else f"Moved “{deal.name}” to {label}."
    if request.htmx and request.POST.get("from") == "board":
        board = _board_params(request.POST.get("board", ""))
        context = board_context(request, board, message=message, errors=errors)
        return render(request, "crm/_board.html", context, status=status)
    if errors:
        return refused(request, deal, status=status, errors=errors)
    messages.success(request, message)
    return redirect(next_url(request, reverse("opportunity-detail", args=[deal.pk])))


def _board_params(query: str) -> dict[str, str]:
    return dict(parse_qsl(query[:1000]))


def _to_close_form(request, deal: Opportunity, outcome: str):
    url = reverse("opportunity-close", args=[deal.pk]) + f"?outcome={outcome}"
    following = request.POST.get("next", "")
    if following and url_has_allowed_host_and_scheme(following, allowed_hosts=None):
        url += "&" + urlencode({"next": following})
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def next_url(request, default: str) -> str:
    following = request.POST.get("next") or request.GET.get("next") or ""
    allowed = {request.get_host()}
    if following and url_has_allowed_host_and_scheme(following, allowed_hosts=allowed):
        return following
    return default
