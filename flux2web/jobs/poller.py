"""The poller: a thread in every worker process, one of them polling at a time (a lease)."""

from __future__ import annotations

import logging
import multiprocessing.util
import os
import socket
import threading
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections
from django.db.models import Q
from django.utils import timezone

from flux2web.core.models import Heartbeat
from flux2web.jobs import dispatch, following, mirroring, queue

log = logging.getLogger(__name__)

IDLE_SLEEP = 0.2
# Often enough that paced submits (settings.SUBMIT_RATE) flow steadily.
DISPATCH_EVERY = 0.25
POLLER = "poller"

# Not a long-running task: that would hold a worker slot, make a graceful shutdown wait
# for it, and, when re-enqueued, queue behind a backlog of submits. A daemon thread dies
# with its worker; a lease in the database lets exactly one thread poll, and another takes
# over when the holder stops renewing it. A worker that stops gracefully (qcluster got
# SIGTERM, or django-q2 recycles the worker) stops its thread and hands the lease back, so
# another machine's poller takes over within a second rather than after the whole lease.

_poller: threading.Thread | None = None
_poller_stop = threading.Event()
_release_registered_in: int | None = None  # the pid whose exit hands the lease back


def lease_seconds() -> float:
    return settings.POLLER_LEASE_SECONDS


def take_lease(token: str) -> bool:
    """Take the poller lease, or keep it if this token holds it."""
    now = timezone.now()
    Heartbeat.objects.get_or_create(
        name=POLLER, defaults={"seen_at": now - timedelta(days=1), "detail": ""}
    )
    stale = now - timedelta(seconds=lease_seconds())
    return bool(
        Heartbeat.objects.filter(name=POLLER)
        .filter(Q(seen_at__lt=stale) | Q(detail=token) | Q(detail=""))
        .update(seen_at=now, detail=token)
    )


def release_lease(token: str) -> bool:
    """Hand the lease back if this token holds it: any poller may take it at once."""
    return bool(
        Heartbeat.objects.filter(name=POLLER, detail=token).update(
            detail="", seen_at=timezone.now() - timedelta(days=1)
        )
    )


def new_token() -> str:
    # Which machine and process holds the lease, for whoever reads the heartbeat row.
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def poller_loop(*, stop: threading.Event | None = None):
    token = new_token()
    stop = stop or threading.Event()
    log.info("poller thread %s started", token)
    try:
        _poll_until(stop, token)
    finally:
        try:
            if release_lease(token):
                log.info("poller stopped; lease handed back")
        except Exception:  # the lease then runs out by itself
            log.exception("could not hand the poller lease back")
        close_old_connections()


def _poll_until(stop: threading.Event, token: str):
    dispatch_due = 0.0
    while not stop.is_set():
        try:
            if take_lease(token):
                found = poll_pass()
                # Dispatching submits and picking up mirror retries can wait a second;
                # polls cannot: under load every pass counts.
                if time.monotonic() >= dispatch_due:
                    dispatch_and_retry_mirrors()
                    dispatch_due = time.monotonic() + DISPATCH_EVERY
                if not found:
                    stop.wait(IDLE_SLEEP)
            else:
                stop.wait(1)  # another thread polls; be ready to take over
        except Exception:  # a database hiccup must not end polling for good
            log.exception("poller pass failed")
            close_old_connections()
            stop.wait(1)


def poll_pass() -> int:
    return following.poll_due(now=timezone.now())


def dispatch_and_retry_mirrors():
    now = timezone.now()
    dispatch.dispatch_submits(now=now)
    for job_id in mirroring.due_mirrors(now):
        queue.enqueue(queue.MIRROR, job_id)


def ensure_poller() -> bool:
    """Start this process's poller thread unless it runs; True if it had to be started."""
    global _poller, _release_registered_in
    if _poller is not None and _poller.is_alive():
        return False
    _poller_stop.clear()
    _poller = threading.Thread(
        target=poller_loop, kwargs={"stop": _poller_stop}, name="flux2web-poller", daemon=True
    )
    _poller.start()
    if _release_registered_in != os.getpid():
        # django-q2 workers are multiprocessing children: they leave through os._exit, so
        # atexit never runs, but multiprocessing's own exit finalizers do, on every normal
        # end of the worker (the STOP pill of a graceful shutdown, a recycle). SIGKILL
        # runs nothing: then the lease runs out and another poller takes over.
        multiprocessing.util.Finalize(None, stop_poller, exitpriority=10)
        _release_registered_in = os.getpid()
    return True


def stop_poller(timeout: float = 5) -> None:
    """Stop this process's poller thread; it hands the lease back as it ends."""
    thread = _poller
    _poller_stop.set()
    if thread is not None and thread.is_alive():
        thread.join(timeout)


def poller_alive() -> bool:
    stale = timezone.now() - timedelta(seconds=lease_seconds())
    return Heartbeat.objects.filter(name=POLLER, seen_at__gte=stale).exclude(detail="").exists()
