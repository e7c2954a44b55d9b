from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from closedloop.core.models import ApiToken
from closedloop.core.services import create_api_token, revoke_api_token


@login_required
def tokens(request):
    """The signed-in user's API tokens; a new token's secret is shown once, on this response."""
    new_secret = None
    if request.method == "POST":
        name = request.POST.get("name", "").strip()
        if not name:
            messages.error(request, "Give the token a name, so you can tell it apart later.")
        else:
            _, new_secret = create_api_token(user=request.user, name=name)
    rows = ApiToken.objects.filter(user=request.user)
    return render(request, "core/tokens.html", {"tokens": rows, "new_secret": new_secret})


@login_required
@require_POST
def revoke_token(request, pk: int):
    # Scoped to the owner: another user's token id is a 404, not a revocation.
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    revoke_api_token(token)
    messages.success(request, f"Token “{token.name}” revoked.")
    return redirect("tokens")
