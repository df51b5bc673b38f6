"""Small template helpers for the studio and gallery."""

import uuid

from django import template
from django.urls import reverse

register = template.Library()


@register.simple_tag
def new_key() -> str:
    """A fresh idempotency key: a double click on one rendered button makes one job."""
    return uuid.uuid4().hex


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
