"""The API tokens pages: a person's own tokens (make, list, revoke) and, for admins, every
token of the team. The /v1/ API itself is in v1.py."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from flux2web.accounts import api_tokens
from flux2web.accounts.models import ApiToken
from flux2web.api.forms import TokenForm
from flux2web.lib.access import admin_required
from flux2web.lib.redirects import redirect_back


def _listed(tokens):
    now = timezone.now()
    tokens = list(tokens.select_related("owner"))
    for token in tokens:
        token.state = token.status(now)
    return tokens


def _page(request, *, form=None, new_token=None, status=200):
    context = {
        "form": form or TokenForm(),
        "tokens": _listed(ApiToken.objects.for_user(request.user)),
        "new_token": new_token,
    }
    return render(request, "api/tokens.html", context, status=status)


@require_GET
def tokens(request):
    return _page(request)


@require_POST
def token_create(request):
    form = TokenForm(request.POST)
    if form.is_valid():
        try:
            token, raw = api_tokens.token_create(
                owner=request.user, name=form.cleaned_data["name"], days=form.cleaned_data["days"]
            )
        except api_tokens.TokenError as error:
            form.add_error("name", str(error))
        else:
            # Shown on this answer only: no redirect (its address or a message could keep
            # it), and NoStoreForPeople keeps the browser from storing the page.
            return _page(request, new_token={"token": token, "raw": raw})
    return _page(request, form=form, status=400)


def _token_for(request, token_id) -> ApiToken:
    """The person's own token, or any token for an admin; 404 for anyone else."""
    tokens = ApiToken.objects.all()
    if not request.user.is_admin:
        tokens = tokens.for_user(request.user)
    token = tokens.filter(pk=token_id).select_related("owner").first()
    if token is None:
        raise Http404("No such token.")
    return token


@require_POST
def token_revoke(request, token_id):
    token = _token_for(request, token_id)
    if ApiToken.objects.filter(pk=token.pk).revoke():
        messages.success(request, f"Revoked the token “{token.name}”; it no longer works.")
    else:
        messages.info(request, f"The token “{token.name}” was already revoked.")
    return redirect_back(request, "api:tokens")


@require_GET
@admin_required
def all_tokens(request):
    context = {"tokens": _listed(ApiToken.objects.select_related("owner"))}
    return render(request, "api/all_tokens.html", context)
