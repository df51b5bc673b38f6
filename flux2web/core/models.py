"""Operational state shared by web and worker processes."""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.utils import timezone

# The heartbeat is scheduled every minute; twice that without one means no worker runs.
HEARTBEAT_STALE_AFTER = timedelta(minutes=2)


WORKER = "worker"


class HeartbeatQuerySet(models.QuerySet):
    def worker(self) -> Heartbeat | None:
        """The task worker's last heartbeat, if it ever beat."""
        return self.filter(name=WORKER).first()

    def worker_alive(self) -> bool:
        return self.filter(name=WORKER, seen_at__gt=timezone.now() - HEARTBEAT_STALE_AFTER).exists()


class Heartbeat(models.Model):
    """The last time a process of a kind (the task worker) proved it was alive."""

    name = models.CharField(max_length=50, unique=True)
    seen_at = models.DateTimeField()
    detail = models.CharField(max_length=200, blank=True)

    objects = HeartbeatQuerySet.as_manager()

    def __str__(self):
        return f"{self.name} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"

    @property
    def is_fresh(self) -> bool:
        return timezone.now() - self.seen_at < HEARTBEAT_STALE_AFTER


class ThrottleWindow(models.Model):
    """Tries counted against one key (a share link and a client, say) until `ends_at`; read
    and written by every web process alike (flux2web.core.throttle)."""

    key = models.CharField(max_length=100, primary_key=True)
    count = models.PositiveIntegerField(default=0)
    ends_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.key}: {self.count} until {self.ends_at:%H:%M:%S}"
