"""Pages of the definitions contract: the agreement, versions, editor, sign-off, diff, what-if."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from closedloop.definitions import forms, rules, services, wording
from closedloop.definitions.models import ContractVersion, Side


def _version(number: int) -> ContractVersion:
    return get_object_or_404(
        ContractVersion.objects.select_related("author").prefetch_related("signoffs__user"),
        number=number,
    )


def _signatures(version: ContractVersion) -> list[dict]:
    """One row per side: who signed it and when, or None."""
    signed = {s.side: s for s in version.signoffs.all()}
    return [{"side": side.label, "signoff": signed.get(side.value)} for side in Side]


@login_required
@require_GET
def agreement(request):
    """The contract in force as a one-page agreement, and the history of every version."""
    active = services.active_contract()
    versions = ContractVersion.objects.select_related("author").prefetch_related("signoffs__user")
    return render(
        request,
        "definitions/agreement.html",
        {
            "version": active,
            "agreement": wording.describe_contract(active.contract, services.catalog()),
            "signatures": _signatures(active),
            "versions": versions,
            "can_draft": services.can_draft(request.user),
        },
    )


@login_required
@require_GET
def version_detail(request, number: int):
    """One version: its text, what it changes, its signatures; for drafts, sign and simulate."""
    version = _version(number)
    compared = services.compared_version(version)
    side = services.signing_side(request.user)
    signed = {s.side: s for s in version.signoffs.all()}
    return render(
        request,
        "definitions/version.html",
        {
            "version": version,
            "agreement": wording.describe_contract(version.contract, services.catalog()),
            "signatures": _signatures(version),
            "compared": compared,
            "changes": services.diff_versions(compared, version) if compared else [],
            "can_edit": services.can_edit(request.user, version),
            "can_draft": services.can_draft(request.user),
            "my_side": side,
            "may_sign": version.is_draft
            and side is not None
            and side.value not in signed
            and all(s.user_id != request.user.pk for s in signed.values()),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def create_draft(request):
    """Propose a change: the editor on a copy of the contract in force (or of the version in
    `?from=N`). Nothing is stored until it is saved, so walking away leaves no draft behind."""
    services.require_draft_rights(request.user)
    source = request.GET.get("from", "")
    base = _version(int(source)) if source.isdigit() else services.active_contract()
    catalog = services.catalog()
    body, errors, note = base.body, {}, ""
    if request.method == "POST":
        body, errors, draft = _save_new_draft(request, catalog)
        if draft is not None:
            messages.success(request, f"Draft v{draft.number} saved. Both teams sign it next.")
            return redirect("definitions-version", number=draft.number)
        note = request.POST.get("change_note", "")
    return render(
        request,
        "definitions/edit.html",
        {
            "version": None,
            "base": base,
            "change_note": note,
            "errors": errors,
            **forms.editor_context(body, errors, catalog),
        },
        status=422 if errors else 200,
    )


def _save_new_draft(request, catalog) -> tuple[dict, dict, ContractVersion | None]:
    body, errors = forms.body_from_post(request.POST, catalog)
    if errors:  # show every other problem too, not one round trip per problem
        return body, {**rules.validate_contract(body, catalog)[1], **errors}, None
    note = request.POST.get("change_note", "")
    try:
        draft = services.create_draft(by=request.user, body=body, change_note=note)
    except services.ContractInvalid as invalid:
        return body, invalid.errors, None
    return body, {}, draft


@login_required
@require_http_methods(["GET", "POST"])
def edit_draft(request, number: int):
    """The editor: numbers and rules as a form, ICP criteria as rows; errors beside each input."""
    version = _version(number)
    if not version.is_draft:
        messages.error(
            request, f"v{number} is {version.get_status_display().lower()}: start a new draft."
        )
        return redirect("definitions-version", number=number)
    if not services.can_edit(request.user, version):
        raise PermissionDenied("only the author of a draft (or an admin) edits it")
    catalog = services.catalog()
    body, note = version.body, version.change_note
    errors: dict[str, str] = {}
    if request.method == "POST":
        body, errors = forms.body_from_post(request.POST, catalog)
        note = request.POST.get("change_note", "")
        if errors:  # show every other problem too, not one round trip per problem
            errors = {**rules.validate_contract(body, catalog)[1], **errors}
        else:
            try:
                had_signatures = version.signoffs.exists()
                services.update_draft(version, by=request.user, body=body, change_note=note)
            except services.ContractInvalid as invalid:
                errors = invalid.errors
            else:
                text = f"Draft v{number} saved."
                if had_signatures and not version.signoffs.exists():
                    text += " Its signatures were removed: both teams sign the new text."
                messages.success(request, text)
                return redirect("definitions-version", number=number)
    return render(
        request,
        "definitions/edit.html",
        {
            "version": version,
            "change_note": note,
            "errors": errors,
            **forms.editor_context(body, errors, catalog),
        },
        status=422 if errors else 200,
    )


@login_required
@require_GET
def criterion_row(request):
    """One blank criterion row for the editor (htmx), plus the next add button out of band."""
    if not services.can_draft(request.user):
        raise PermissionDenied("only marketing, sales and admin users change the definitions")
    try:
        index = int(request.GET.get("index", "0"))
    except ValueError:
        index = 0
    row = forms.criterion_row(index, {}, {}, services.catalog())
    return render(
        request,
        "definitions/_criterion_row.html",
        {"row": row, "next_index": index + 1, "oob": True},
    )


@login_required
@require_GET
def removed_row(request):
    # htmx's "delete" swap drops the row whatever we answer; an empty 200 keeps it simple.
    return HttpResponse("")


@login_required
@require_POST
def sign(request, number: int):
    version = _version(number)
    try:
        signoff = services.sign_contract(version, by=request.user)
    except services.ContractStateError as refused:
        messages.error(request, str(refused))
        return redirect("definitions-version", number=number)
    version.refresh_from_db()
    if version.status == "active":
        messages.success(
            request,
            f"Signed for {signoff.get_side_display().lower()}. Both teams "
            f"have signed: v{number} is now in force and every lead is being rescored.",
        )
    else:
        messages.success(
            request,
            f"Signed for {signoff.get_side_display().lower()}. v{number} "
            "takes effect when the other team signs.",
        )
    return redirect("definitions-version", number=number)


@login_required
@require_POST
def withdraw(request, number: int):
    version = _version(number)
    try:
        services.withdraw_draft(version, by=request.user)
    except services.ContractStateError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"Draft v{number} discarded; it stays in the history.")
    return redirect("definitions-version", number=number)


@login_required
@require_GET
def diff(request):
    """The differences between any two versions (?from=N&to=M)."""
    numbers = {}
    for key in ("from", "to"):
        raw = request.GET.get(key, "")
        if not raw.isdigit():
            raise Http404(f"{key!r} must be a version number")
        numbers[key] = int(raw)
    old, new = _version(numbers["from"]), _version(numbers["to"])
    return render(
        request,
        "definitions/diff.html",
        {
            "old": old,
            "new": new,
            "changes": services.diff_versions(old, new),
            "versions": ContractVersion.objects.only("number", "status"),
            "old_signatures": _signatures(old),
            "new_signatures": _signatures(new),
        },
    )


@login_required
@require_GET
def simulate(request, number: int):
    """What-if: the last 13 weeks under this version and under the contract in force."""
    version = _version(number)
    result = services.simulate_contract(version)
    rows = [
        {"week": week, "candidate": c, "active": a}
        for week, c, a in zip(
            result["weeks"],
            result["candidate"]["mqls_per_week"],
            result["active"]["mqls_per_week"],
            strict=True,
        )
    ]
    chart = {
        "labels": [week.strftime("%b %d") for week in result["weeks"]],
        "datasets": [
            {
                "label": f"v{result['active_version']} (in force)",
                "data": result["active"]["mqls_per_week"],
            },
            {
                "label": f"v{result['candidate_version']}",
                "data": result["candidate"]["mqls_per_week"],
            },
        ],
    }
    template = "definitions/_simulation.html" if request.htmx else "definitions/simulation.html"
    return render(
        request,
        template,
        {
            "version": version,
            "result": result,
            "rows": rows,
            "chart_id": f"simulation-chart-{number}",
            "chart": chart,
            "chart_json": json.dumps(chart),
        },
    )
