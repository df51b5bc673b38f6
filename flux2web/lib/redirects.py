"""Going back after an action: to the `next` a form sent, only if it is a path on this site."""

from __future__ import annotations

from django.http import HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme

MAX_LENGTH = 2000


def safe_next(request) -> str:
    """The request's `next` (POST for a POST, else the query) if it is a path on this site;
    otherwise "". Never handed to redirect() as such, which would take `home` for a view
    name and fail; a control character or an over-long value is refused too."""
    source = request.POST if request.method == "POST" else request.GET
    target = source.get("next", "")
    if (
        not target
        or len(target) > MAX_LENGTH
        or not target.startswith("/")
        or target.startswith(("//", "/\\"))
        or any(ord(c) < 32 or ord(c) == 127 for c in target)
        or not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    ):
        return ""
    return target


def redirect_back(request, default, *args) -> HttpResponseRedirect:
    """To the request's safe `next`, else to `default` (a URL name with its args, or a path)."""
    return HttpResponseRedirect(safe_next(request) or resolve_url(default, *args))
