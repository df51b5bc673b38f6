"""Job cards rendered once and kept: a finished job's card only changes when the job or its
images do, and rendering twenty cards (each with five small forms) was most of the studio
page's time (bench/pages.py). The key is a digest of every field of the job and its images,
so any change at all renders it afresh; what differs per request (the CSRF token, the page
to come back to, a fresh idempotency key per button) is filled in after."""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from html import escape

from django.core.cache import cache
from django.middleware.csrf import get_token
from django.template.loader import get_template, render_to_string
from django.utils.safestring import SafeString, mark_safe

from flux2web.lib.shells import code_digest, marker

CARD_SECONDS = 3600
VERSION = "4"  # bump when the card's markup changes
# Where the per-request parts go; keyed by the secret key, so no text a person types (a
# collection title, a prompt) can pose as one.
CSRF, NEXT, KEY = marker("card-csrf"), marker("card-next"), marker("card-key")


class _Placeholders:
    """Stands in for the request while a card is rendered to be kept."""

    @staticmethod
    def get_full_path() -> str:
        return NEXT


def _fields(obj) -> list:
    """The row's loaded columns (deferred ones are not in the instance's dict)."""
    loaded = vars(obj)
    return [
        (f.attname, loaded[f.attname]) for f in obj._meta.concrete_fields if f.attname in loaded
    ]


# A card in flight is kept this long at most: its words say when the next try is and how
# long is left, and the page's script counts the seconds in between.
IN_FLIGHT_SECONDS = 5


def card_key(job, user) -> str | None:
    moment = ""
    if not job.is_final:
        moment = int(time.time() // IN_FLIGHT_SECONDS)
    parts = [VERSION, moment, user.pk, user.is_admin, job.provider.name if job.provider_id else ""]
    parts += [_fields(job), [_fields(image) for image in job.images_in_order]]
    return "studio-card:" + hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def render_card(request, job, *, oob=None) -> SafeString:
    key = None if oob else card_key(job, request.user)
    html = cache.get(key) if key else None
    if html is None:
        context = {
            "job": job,
            "user": request.user,
            "request": _Placeholders,
            "csrf_token": CSRF,
            "key_placeholder": KEY,
            "oob": oob,
        }
        html = render_to_string("studio/home.html#job-card", context)
        if key:
            cache.set(key, html, CARD_SECONDS if job.is_final else IN_FLIGHT_SECONDS)
    if not hasattr(request, "_card_fill"):  # once per request, not per card
        request._card_fill = (get_token(request), escape(request.get_full_path()))
    token, path = request._card_fill
    html = html.replace(CSRF, token).replace(NEXT, path)
    return mark_safe(re.sub(KEY, lambda _: uuid.uuid4().hex, html))  # noqa: S308 - rendered template


# Values the options do not show (the prompt, the references, the per-render key).
NOT_OPTIONS = {"prompt", "reference_urls", "reference_ids", "idempotency_key"}


def _options_digest(form) -> str:
    options = form.options
    parts = [
        VERSION,
        [(_fields(c), c.cooling) for c in options.credentials],
        options.model,
        sorted((k, v) for k, v in form.initial.items() if k not in NOT_OPTIONS),
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def render_options(form) -> SafeString:
    """The generation form's options, rendered once per (providers, choices, values): the
    catalog decides them, and rendering a dozen widgets was a third of the studio page.
    Only an unbound form is kept; one with errors is rendered afresh."""
    key = None
    if not form.is_bound:
        key = "studio-options:" + _options_digest(form)
        html = cache.get(key)
        if html is not None:
            return mark_safe(html)  # noqa: S308 - rendered template
    html = render_to_string(
        "studio/home.html#form-options", {"form": form, "options": form.options}
    )
    if key:
        cache.set(key, html, CARD_SECONDS)
    return mark_safe(html)  # noqa: S308 - rendered template


IDEMPOTENCY, QUOTA = marker("compose-key"), marker("compose-quota")


def render_compose(request, context: dict) -> SafeString:
    """The generation form as a plain visit to the studio shows it (nothing typed, no
    errors, no remix), kept per (person, their collections and default visibility, the
    options, the templates): widgets and the sharing choices were a fifth of the page.
    The CSRF token, a fresh idempotency key and the quota line are filled in per visit."""
    form, extras, user = context["form"], context["extras"], request.user
    parts = [VERSION, code_digest(), user.pk, user.collections_token,
             extras.initial.get("visibility"),
             _options_digest(form)]  # fmt: skip
    key = "studio-compose:" + hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    html = cache.get(key)
    if html is None:
        form.initial["idempotency_key"] = IDEMPOTENCY
        kept = {**context, "csrf_token": CSRF, "quota_slot": QUOTA}
        html = render_to_string("studio/home.html#compose-form", kept, request=request)
        cache.set(key, html, CARD_SECONDS)
    quota = get_template("studio/home.html#quota-line").render({"usage": context["usage"]})
    html = html.replace(CSRF, get_token(request)).replace(IDEMPOTENCY, uuid.uuid4().hex)
    return mark_safe(html.replace(QUOTA, quota))  # noqa: S308 - rendered template
