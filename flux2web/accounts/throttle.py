"""What django-axes needs from us to throttle sign-ins: the sign-in page that says why it
refuses. (The client's address comes from flux2web.lib.clients, as for share links.)"""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import render

from flux2web.accounts.forms import SignInForm


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return (
        "Too many failed sign-ins for this account or from this address. Wait "
        f"{minutes} minutes and try again, or ask an admin to unlock it sooner."
    )


def locked_out(request, original_response=None, credentials=None):
    """The sign-in page again (429), with the reason instead of the form's usual error."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    form = SignInForm(request, initial={"username": username[:150]})
    context = {
        "form": form,
        "lockout": lockout_message(),
        "next": request.POST.get("next") or request.GET.get("next", ""),
    }
    return render(request, "accounts/login.html", context, status=429)
