"""The notifications page, opening one, marking all read, the e-mail settings, and the
unsubscribe link of a digest (the one page here that needs no sign-in)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from flux2web.lib.htmx import render_page
from flux2web.lib.redirects import redirect_back
from flux2web.review import digests
from flux2web.review.models import Notification
from flux2web.review.notifications import mark_all_read, mark_read, site_path

PER_PAGE = 50


@require_GET
def notifications(request):
    mine = Notification.objects.for_reader(request.user).only("pk", "text", "created_at", "read_at")
    page = Paginator(mine, PER_PAGE).get_page(request.GET.get("page"))
    return render_page(
        request, "review/notifications.html", {"page": page}, partials={"notifications": "list"}
    )


@require_POST
def notification_open(request, pk):
    note = get_object_or_404(Notification.objects.for_reader(request.user), pk=pk)
    mark_read(notification=note)
    return redirect(site_path(note.url) or "review:notifications")


@require_POST
def notifications_read(request):
    marked = mark_all_read(user=request.user)
    if marked:
        messages.success(
            request, f"{marked} notification{'s' if marked != 1 else ''} marked as read."
        )
    return redirect_back(request, "review:notifications")


class EmailSettingsForm(forms.Form):
    kinds = forms.MultipleChoiceField(
        label="Send me an e-mail about",
        choices=digests.email_choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


@require_http_methods(["GET", "POST"])
def email_settings(request):
    if request.method == "POST":
        form = EmailSettingsForm(request.POST)
        if form.is_valid():
            digests.set_emailed_kinds(user=request.user, kinds=form.cleaned_data["kinds"])
            messages.success(request, "E-mail settings saved.")
            return redirect("review:email_settings")
        status = 400
    else:
        form = EmailSettingsForm(initial={"kinds": digests.emailed_kinds(request.user)})
        status = 200
    context = {"form": form, "has_email": bool(request.user.email)}
    return render(request, "review/email_settings.html", context, status=status)


@login_not_required
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    """A digest's link: GET asks, POST stops that kind of e-mail for the person it was
    sent to. The signed token is the only key; a forged or stale one is said to be so."""
    found = digests.read_token(token)
    if found is None or not get_user_model().objects.filter(pk=found[0]).exists():
        return render(request, "review/unsubscribe.html", {"invalid": True}, status=400)
    user_id, kind = found
    done = request.method == "POST"
    if done:
        digests.opt_out(user_id=user_id, kind=kind)
    context = {"label": digests.kind_label(kind), "done": done}
    return render(request, "review/unsubscribe.html", context)
