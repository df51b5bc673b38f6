"""Job cards and the studio's form, kept rendered (lib/kept.py): a finished job's card only
changes when the job or its images do, and rendering twenty cards (each with five small
forms) was most of the studio page's time (bench/pages.py). A card shows every field of
its job and images, so any change at all renders it afresh; what differs per request (the
CSRF token, the page to come back to, a fresh idempotency key per button) is filled in
after."""

from __future__ import annotations

import time
import uuid
from html import escape

from django.middleware.csrf import get_token
from django.template.loader import get_template, render_to_string
from django.utils.safestring import SafeString

from flux2web.lib.kept import HOUR, fill, kept, marker


class _Placeholders:
    """Stands in for the request while a card is rendered to be kept."""

    @staticmethod
    def get_full_path() -> str:
        return marker("next")


def _fields(obj) -> list:
    """The row's loaded columns (deferred ones are not in the instance's dict)."""
    loaded = vars(obj)
    return [
        (f.attname, loaded[f.attname]) for f in obj._meta.concrete_fields if f.attname in loaded
    ]


# A card in flight is kept this long at most: its words say when the next try is and how
# long is left, and the page's script counts the seconds in between.
IN_FLIGHT_SECONDS = 5


def _card_shows(job, user, oob) -> tuple:
    moment = "" if job.is_final else int(time.time() // IN_FLIGHT_SECONDS)
    provider = job.provider.name if job.provider_id else ""
    images = [_fields(image) for image in job.images_in_order]
    # A comparison's card marks the one kept, a choice stored on the comparison.
    kept = job.comparison.kept_id if job.comparison_id else None
    return moment, user.pk, user.is_admin, provider, oob, _fields(job), images, kept


def render_card(request, job, *, oob=None) -> SafeString:
    """The one way a job's card is rendered: on the page, new in a batch, answering an
    action, or swapped in by the refresher (`oob`)."""

    def render() -> str:
        context = {
            "job": job,
            "user": request.user,
            "request": _Placeholders,
            "csrf_token": marker("csrf"),
            "key_placeholder": marker("key"),
            "oob": oob,
        }
        return render_to_string("studio/home.html#job-card", context)

    seconds = HOUR if job.is_final else IN_FLIGHT_SECONDS
    html = kept("studio-card", _card_shows(job, request.user, oob), render, seconds)
    if not hasattr(request, "_card_fill"):  # once per request, not per card
        request._card_fill = (get_token(request), escape(request.get_full_path()))
    token, path = request._card_fill
    return fill(html, csrf=token, next=path, key=lambda: uuid.uuid4().hex)


# Values the options do not show (the prompt, the references, the per-render key).
NOT_OPTIONS = {"prompt", "reference_urls", "reference_ids", "idempotency_key"}


def _options_shows(form) -> tuple:
    options = form.options
    return (
        [(_fields(c), c.cooling) for c in options.credentials],
        options.model,
        sorted((k, v) for k, v in form.initial.items() if k not in NOT_OPTIONS),
    )


def render_compose(request, context: dict) -> SafeString:
    """The generation form as a plain visit to the studio shows it (nothing typed, no
    errors, no remix), kept per (person, their collections and default visibility, the
    options): widgets and the sharing choices were a fifth of the page. The CSRF token,
    a fresh idempotency key and the quota line are filled in per visit."""
    form, extras, user = context["form"], context["extras"], request.user
    shows = (user.pk, user.collections_token, extras.initial.get("visibility"),
             _options_shows(form))  # fmt: skip

    def render() -> str:
        form.initial["idempotency_key"] = marker("idempotency")
        slots = {**context, "csrf_token": marker("csrf"), "quota_slot": marker("quota")}
        return render_to_string("studio/home.html#compose-form", slots, request=request)

    html = kept("studio-compose", shows, render)
    quota = get_template("studio/home.html#quota-line").render({"usage": context["usage"]})
    return fill(html, csrf=get_token(request), idempotency=uuid.uuid4().hex, quota=quota)


def render_page_parts(request, jobs, *, compose: dict | None = None) -> dict:
    """What the studio's page shows from here, asked for once: each job's card by id (the
    page's `{% card %}` tags take theirs from it) and, given the form's context for a
    plain visit, the form as kept."""
    parts = {"cards_html": {job.pk: render_card(request, job) for job in jobs}}
    if compose is not None:
        parts["compose_html"] = render_compose(request, compose)
    return parts
