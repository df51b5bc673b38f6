"""Who calls /v1/: the person whose token is in `Authorization: Bearer <token>`. `endpoint`
wraps every /v1/ view: the token is checked first, before the body is read or the method
looked at, so a dead token gets 401 whatever it sent; no session, no CSRF token (a
browser's cookies open nothing here)."""

from __future__ import annotations

import logging
import traceback
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt

from flux2web.accounts import api_tokens
from flux2web.api import errors
from flux2web.lib.logs import redact
from flux2web.providers import catalog

log = logging.getLogger(__name__)


def bearer_token(request):
    """The token (checked or not), or None where no Bearer credentials were sent."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def authenticate(request):
    raw = bearer_token(request)
    if raw is None:
        raise errors.no_key()
    token = api_tokens.authenticate(raw)
    if token is None:
        raise errors.bad_key()
    return token


def body_limit() -> int:
    """The largest body a request may send: as many images as any provider takes as
    references, each as large as an upload may be, and a megabyte for the rest. Django
    writes a request's files to disk before any view sees them."""
    most = max(
        (caps.ref_max for d in catalog.DIALECTS.values() for caps in d.models.values()),
        default=1,
    )
    return most * settings.MAX_IMAGE_BYTES + 2**20


def _declared_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def endpoint(*methods: str):
    """A /v1/ view answering `methods`. It runs with `request.api_token` and `request.user`
    (its owner) set; an `ApiError` it raises is the answer, anything else a 500 in the same
    shape, logged without the request's headers."""

    def decorate(view):
        @csrf_exempt
        @login_not_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            try:
                token = authenticate(request)
                request.api_token, request.user = token, token.owner
                if methods and request.method not in methods:
                    raise errors.wrong_method(request, methods)
                if _declared_length(request) > body_limit():  # refused before it is read
                    raise errors.too_big()
                return view(request, *args, **kwargs)
            except errors.ApiError as error:
                return error.response()
            except RequestDataTooBig:
                return errors.too_big().response()
            except (MultiPartParserError, SuspiciousOperation):  # too many files or fields
                return errors.unreadable().response()
            except Exception:
                # Redacted here too, not only by the handlers' filter: an exception's words
                # may quote the request's header.
                trace = redact(traceback.format_exc())
                log.error("API error on %s %s\n%s", request.method, request.path, trace)
                return errors.server_error().response()

        return wrapped

    return decorate
