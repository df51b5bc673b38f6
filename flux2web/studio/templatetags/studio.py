"""Small template helpers for the studio and gallery."""

import uuid
from datetime import timedelta

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince

register = template.Library()


@register.simple_tag(takes_context=True)
def new_key(context) -> str:
    """A fresh idempotency key: a double click on one rendered button makes one job. A card
    rendered to be kept (studio/cards.py) gets a placeholder, replaced on every use."""
    return context.get("key_placeholder") or uuid.uuid4().hex


@register.simple_tag
def submit_errors(*forms) -> list[tuple[str, str, str]]:
    """Every error of a press of Generate, for the list above its button: (the id of the
    field to link to, or "" for one not shown as a field, its label, the message)."""
    found = []
    for form in forms:
        shown = getattr(form, "shown_fields", None)
        for name, errors in form.errors.items():
            field = form.fields.get(name)
            if field is None:
                found += [("", "", message) for message in errors]
                continue
            linked = not field.widget.is_hidden and (shown is None or name in shown)
            target = form[name].id_for_label if linked else ""
            found += [(target, field.label or "", message) for message in errors]
    return found


@register.simple_tag(takes_context=True)
def card(context, job, oob=None):
    """A job's card, from the kept copy when nothing on it changed (studio/cards.py); the
    studio's page hands its cards over rendered (cards.render_page_parts)."""
    if oob is None and (rendered := (context.get("cards_html") or {}).get(job.pk)):
        return rendered
    from flux2web.studio.cards import render_card

    return render_card(context["request"], job, oob=oob)


@register.filter
def media_url(name: str) -> str:
    """Our access-checked address for a stored file (never the storage's own URL)."""
    return reverse("gallery:media", args=[name]) if name else ""


@register.filter
def ago(moment) -> str:
    """How long ago, in words, for every "last seen" on our pages: "just now" under a
    minute, where Django's timesince says "0 minutes"; "" for never."""
    if not moment:
        return ""
    if timezone.now() - moment < timedelta(minutes=1):
        return "just now"
    return f"{timesince(moment)} ago"


@register.filter
def usd(amount) -> str:
    return f"${amount:,.2f}" if amount is not None else ""


@register.filter
def waiting_line(job) -> str:
    """Who a job in flight waits for and why (studio/presenters.py)."""
    from flux2web.studio import presenters

    return presenters.waiting_line(job)


@register.filter
def failure_text(job) -> str:
    from flux2web.studio import presenters

    return presenters.failure_text(job)


@register.filter
def eta_end(job) -> str:
    """When a running job should be done, as a Unix time for the ticking countdown."""
    from flux2web.studio import presenters

    end = presenters.expected_end(job)
    return str(int(end.timestamp())) if end else ""


@register.filter
def batches(jobs) -> list[list]:
    """Jobs (newest first) grouped into generations: neighbours sharing a batch."""
    groups: list[list] = []
    for job in jobs or ():
        if groups and groups[-1][0].batch_id == job.batch_id:
            groups[-1].append(job)
        else:
            groups.append([job])
    return groups


def _shape(job) -> tuple[int, int]:
    """The job's picture shape, width and height: its stored image's, else what it asked."""
    for image in job.images_in_order:
        if image.width and image.height:
            return image.width, image.height
    if job.width and job.height:
        return job.width, job.height
    left, _, right = (job.aspect_ratio or "").partition(":")
    if left.isdigit() and right.isdigit() and int(left) and int(right):
        return int(left), int(right)
    return 1, 1


@register.filter
def job_shape(job) -> str:
    """For an SVG viewBox that holds the picture's place at its shape ("16 9")."""
    return "{} {}".format(*_shape(job))


@register.filter
def job_ratio(job) -> str:
    """The card's share of a justified row (ar-N, as the collections grid)."""
    from flux2web.collections.templatetags.sharing_tags import ratio_of

    return ratio_of(*_shape(job))


# The places in the top bar: (label, URL name, admins only, whether the page is this place).
PLACES = (
    ("Studio", "studio:home", False, lambda m: m.view_name == "studio:home"),
    ("Gallery", "gallery:index", False,
     lambda m: m.view_name in ("gallery:index", "sharing:team_gallery")),
    ("Collections", "sharing:collections", False,
     lambda m: m.app_name == "sharing" and "collection" in (m.url_name or "")),
    ("Usage", "team:usage", False, lambda m: m.view_name == "team:usage"),
    ("Team", "team:members", True, lambda m: m.app_name == "team" and m.url_name != "usage"),
    ("Providers", "credentials:index", True, lambda m: m.app_name == "credentials"),
)  # fmt: skip


@register.simple_tag(takes_context=True)
def nav_links(context):
    """The top bar's links, built once per request: the page shows them twice (the bar on
    wide screens, the menu on phones), and every page has them."""
    request = context.get("request")
    if request is None:
        return ""
    html = getattr(request, "_nav_links", None)
    if html is None:
        user, match = context.get("user"), request.resolver_match
        links = []
        for label, name, admins, here in PLACES:
            if admins and not getattr(user, "is_admin", False):
                continue
            current = ' aria-current="page"' if match is not None and here(match) else ""
            links.append(f'<a href="{reverse(name)}"{current}>{label}</a>')
        html = request._nav_links = mark_safe("".join(links))  # noqa: S308 - fixed labels
    return html


# ---- Compare providers: what a comparison's card says of each provider's job. ----------


@register.filter
def stored_in(job) -> str:
    """The time from its submit to its images stored, as a comparison's card shows it."""
    end = job.mirrored_at or (job.finished_at if job.is_succeeded else None)
    if not job.submitted_at or not end:
        return ""
    return f"{max(0.0, (end - job.submitted_at).total_seconds()):.1f} s"


@register.filter
def cost_words(job) -> str:
    """What the job costs its owner: the price settled, held, reserved or refunded."""
    if job.is_succeeded:
        return usd(job.price)
    if job.state == job.State.UNCERTAIN:
        return f"{usd(job.price)} held until an admin decides"
    if job.is_final:
        return "refunded"
    return f"{usd(job.price)} reserved"


COMPARE_AT_MOST = 4  # the compare page's most (gallery/compare.py)


def _stored(jobs) -> list:
    """(image id, provider's name, job) of a comparison's stored images, in the order asked."""
    ordered = sorted(jobs, key=lambda job: job.pk)
    return [
        (i.pk, job.requested_provider.name if job.requested_provider_id else "", job)
        for job in ordered
        for i in job.images_in_order
        if i.status == "mirrored"
    ]


@register.filter
def compared_images(jobs) -> str:
    """The query of the compare page for a comparison's stored images: two to four of
    them; more than four are chosen by the person (`compared_choice`)."""
    ids = [pk for pk, _, _ in _stored(jobs)]
    return "&".join(f"image={pk}" for pk in ids) if 1 < len(ids) <= COMPARE_AT_MOST else ""


@register.filter
def compared_choice(jobs) -> list[tuple[int, str, bool]]:
    """More stored images than the compare page takes: (image id, provider, ticked) for
    each, the kept one and the first asked ticked, four in all; empty otherwise."""
    stored = _stored(jobs)
    if len(stored) <= COMPARE_AT_MOST:
        return []
    kept = next((job.comparison.kept_id for _, _, job in stored if job.comparison_id), None)
    first = [pk for pk, _, job in stored if job.pk == kept][:1]
    first += [pk for pk, _, job in stored if job.pk != kept][: COMPARE_AT_MOST - len(first)]
    return [(pk, name, pk in first) for pk, name, _ in stored]
