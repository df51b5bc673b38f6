"""Small template helpers for the studio and gallery."""

import uuid

from django import template
from django.urls import reverse

register = template.Library()


@register.simple_tag(takes_context=True)
def new_key(context) -> str:
    """A fresh idempotency key: a double click on one rendered button makes one job. A card
    rendered to be kept (studio/cards.py) gets a placeholder, replaced on every use."""
    return context.get("key_placeholder") or uuid.uuid4().hex


@register.simple_tag(takes_context=True)
def card(context, job):
    """A job's card, from the kept copy when nothing on it changed (studio/cards.py)."""
    from flux2web.studio.cards import render_card

    return render_card(context["request"], job)


@register.filter
def media_url(name: str) -> str:
    """Our access-checked address for a stored file (never the storage's own URL)."""
    return reverse("gallery:media", args=[name]) if name else ""


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
