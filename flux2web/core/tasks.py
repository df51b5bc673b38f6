"""Background tasks for operations; django-q2 runs them by dotted path."""

import logging
import os
import socket

from django.utils import timezone

from flux2web.core.models import WORKER, Heartbeat

log = logging.getLogger(__name__)


def heartbeat() -> str:
    """Record that a worker is alive; scheduled every minute, and shown on /healthz."""
    detail = f"{socket.gethostname()} pid {os.getpid()}"
    Heartbeat.objects.update_or_create(
        name=WORKER, defaults={"seen_at": timezone.now(), "detail": detail}
    )
    log.debug("heartbeat from %s", detail)
    return detail
