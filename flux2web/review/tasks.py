"""django-q2 tasks of the review app: thin callers of a domain function, idempotent."""

from __future__ import annotations

import logging

from flux2web.review import digests

log = logging.getLogger(__name__)

SEND_DIGESTS = "flux2web.review.tasks.send_digests"


def send_digests() -> str:
    """Every few minutes (a schedule the migrations create): e-mail what is due."""
    sent = digests.send_due()
    log.info("e-mail digests: %s sent", sent)
    return f"{sent} sent"
