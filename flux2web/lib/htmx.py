"""HTMX plumbing kept out of the views: partial rendering, messages, redirects."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.messages import get_messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render, resolve_url
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers
from django_htmx.http import HttpResponseClientRedirect, HttpResponseLocation


def render_page(request: HttpRequest, template: str, context: dict, *, partials: dict[str, str]):
    """The whole page, or only the partial the HTMX request's target names.

    `partials` maps target ids to partial names, e.g. {"gallery-results": "results"}.
    """
    partial = partials.get(request.htmx.target or "") if request.htmx else None
    response = render(request, f"{template}#{partial}" if partial else template, context)
    patch_vary_headers(response, ("HX-Target",))  # HX-Request: VaryOnHtmx, for every page
    return response


class VaryOnHtmx:
    """Any page may answer an HTMX request with a part of itself: say so to every cache,
    once, rather than in each view that does."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        patch_vary_headers(response, ("HX-Request",))
        return response


class HtmxMessagesMiddleware:
    """For HTMX requests: messages ride along as an out-of-band swap of the message area,
    and a redirect becomes HX-Location (htmx would otherwise swap the next page into the
    element that asked)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not getattr(request, "htmx", False) or any(
            response.has_header(name) for name in ("HX-Location", "HX-Redirect")
        ):
            return response
        if response.status_code in (301, 302, 303) and response.has_header("Location"):
            login = resolve_url(settings.LOGIN_URL)
            if response["Location"].startswith(login):
                # Signed out: the sign-in page is a page of its own (its body differs), and
                # afterwards the person goes back to the page they were on, not to the
                # address htmx asked (a refresh or an action).
                return HttpResponseClientRedirect(_login_from(request, login, response))
            # htmx fetches the next page and swaps it in, pushing its address (radiofeed's
            # way): no full reload. app.js listens on the document, so nothing needs binding.
            location = HttpResponseLocation(response["Location"])
            location.cookies = response.cookies  # e.g. the colour theme just chosen
            return location
        if response.status_code != 200 or response.streaming:
            return response
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        storage = get_messages(request)
        if not len(storage):
            return response
        response.write(
            render_to_string(
                "base.html#messages", {"messages": storage, "oob": True}, request=request
            )
        )
        return response


def _login_from(request: HttpRequest, login: str, response: HttpResponse) -> str:
    try:
        current = urlsplit(request.htmx.current_url or "")
    except ValueError:  # a header no browser sends ("http://[")
        return response["Location"]
    if not current.path or current.netloc not in ("", request.get_host()):
        return response["Location"]
    page = current.path + (f"?{current.query}" if current.query else "")
    return f"{login}?{urlencode({'next': page})}"


def no_change() -> HttpResponse:
    """htmx leaves the page alone on a 204."""
    return HttpResponse(status=204)
