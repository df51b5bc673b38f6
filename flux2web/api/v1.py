"""The OpenAI-compatible API under /v1/ (its views; `auth.endpoint` checks the token)."""

from __future__ import annotations

from django.http import JsonResponse

from flux2web.api import catalog, errors
from flux2web.api.auth import endpoint


@endpoint("GET")
def models(request):
    data = [m.as_json() for m in catalog.available()]
    return JsonResponse({"object": "list", "data": data})


@endpoint()
def not_found(request, rest=""):
    raise errors.invalid_url(request)
