"""Provider administration in the app: list with health, add, edit, test, switch on/off,
and how Auto routes among them."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from flux2web.accounts.models import TeamPolicy
from flux2web.credentials import health
from flux2web.credentials.forms import ProviderForm, RoutingForm
from flux2web.credentials.models import CredentialError, ProviderCredential, polling_words
from flux2web.credentials.services import check_credential
from flux2web.lib.access import admin_required

HEALTH_WINDOW = timedelta(hours=24)


@require_GET
@admin_required
def index(request):
    return _index(request, RoutingForm(instance=TeamPolicy.current()))


@require_POST
@admin_required
def routing(request):
    form = RoutingForm(request.POST, instance=TeamPolicy.current())
    if not form.is_valid():
        return _index(request, form, status=400)
    form.save()
    messages.success(request, form.saved_words())
    return redirect("credentials:index")


def _index(request, routing_form: RoutingForm, *, status: int = 200):
    since = timezone.now() - HEALTH_WINDOW
    credentials = list(ProviderCredential.objects.by_priority())
    errors: dict[int, dict[str, int]] = {}
    for row in (
        CredentialError.objects.filter(at__gte=since)
        .values("credential_id", "error_class")
        .annotate(n=Count("pk"))
    ):
        errors.setdefault(row["credential_id"], {})[row["error_class"]] = row["n"]
    for credential in credentials:
        credential.recent_errors = sorted(errors.get(credential.pk, {}).items())
        # Through the reverse relation and the jobs' own verb, so this app need not
        # import the jobs app (which points at credentials); a team has a few providers.
        credential.in_flight = credential.jobs.in_flight().count()
    context = {
        "credentials": credentials,
        "routing_form": routing_form,
        "polling": polling_words(credentials),
    }
    return render(request, "credentials/index.html", context, status=status)


@require_http_methods(["GET", "POST"])
@admin_required
def add(request):
    form = ProviderForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and (credential := _saved(form)):
        messages.success(request, f"Added {credential.name}. Test the connection to be sure.")
        return redirect("credentials:edit", credential.pk)
    return render(request, "credentials/edit.html", {"form": form, "credential": None})


def _saved(form):
    """The form's provider, saved; None when another tab gave a provider its name a moment
    ago (the form then says so, as its own check does)."""
    try:
        with transaction.atomic():
            return form.save()
    except IntegrityError:
        form.full_clean()
        return None


@require_http_methods(["GET", "POST"])
@admin_required
def edit(request, credential_id):
    credential = get_object_or_404(ProviderCredential, pk=credential_id)
    form = ProviderForm(request.POST or None, instance=credential)
    if request.method == "POST" and form.is_valid() and _saved(form):
        messages.success(request, f"Saved {credential.name}.")
        return redirect("credentials:index")
    recent = credential.errors.all()[:20]
    context = {"form": form, "credential": credential, "recent": recent}
    return render(request, "credentials/edit.html", context)


@require_POST
@admin_required
def test(request, credential_id):
    credential = get_object_or_404(ProviderCredential, pk=credential_id)
    result = check_credential(credential)
    (messages.success if result.ok else messages.error)(request, result.detail)
    return redirect("credentials:index")


@require_POST
@admin_required
def switch(request, credential_id, on):
    credential = get_object_or_404(ProviderCredential, pk=credential_id)
    if on:
        health.enable(credential)
        messages.success(request, f"{credential.name} is on; routing uses it again.")
    else:
        health.disable(credential)
        messages.success(request, f"{credential.name} is off; routing skips it.")
    return redirect("credentials:index")
