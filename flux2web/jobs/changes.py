"""'This job changed', told to every process: Redis pub/sub when REDIS_URL is set, else
the database (the changed jobs' `updated_at`), for pages that show a job as it happens.

One listener thread per process, started on the first `watching`, wakes every thread
that waits on one of the changed jobs; a waiting thread holds no database connection.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress

from django.conf import settings
from django.db import connection, transaction

from flux2web.jobs.models import Job

log = logging.getLogger(__name__)

# How often, without Redis, the listener reads the watched jobs' `updated_at`.
DB_POLL_SECONDS = 0.1
# How long `watching` waits for a new Redis subscription to be confirmed.
SUBSCRIBE_WAIT_SECONDS = 3.0
# After Redis fails to take a message, announcements are dropped for this long rather than
# each transition waiting for a timeout (pages still refresh on their own).
PUBLISH_BACKOFF_SECONDS = 5.0


def announce(job_ids: Iterable[int]) -> None:
    """Tell watchers these jobs changed, once the current transaction commits (at once
    outside one); nothing if it rolls back. Without Redis, watchers see a change by the
    job's `updated_at` alone: a change worth telling writes it too."""
    ids = sorted({int(pk) for pk in job_ids})
    if ids and settings.REDIS_URL:
        # Without Redis the listeners read `updated_at` themselves: nothing to send.
        transaction.on_commit(lambda: _publisher.publish(ids))


class Watch:
    """Some jobs being watched by one thread."""

    def __init__(self, job_ids: list[int], seen: dict[int, object] | None = None, listener=None):
        self.job_ids = job_ids
        self._seen = seen or {}  # without Redis: each job's updated_at as last told
        self._listener = listener
        self._pending = False
        self._condition = threading.Condition()

    def wait(self, timeout: float) -> bool:
        """True as soon as one of the jobs may have changed since the watch began or the
        previous wait returned; False after `timeout` seconds without a change."""
        if not connection.in_atomic_block:
            connection.close()  # many threads wait at once: none holds a connection
        deadline = time.monotonic() + timeout
        with self._condition:
            while not self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._condition.wait(left)
            self._pending = False
            return True

    @property
    def live(self) -> bool:
        """Whether changes can be heard now: False while Redis is away (the watch was woken
        when it went), so that a page may refresh on its own meanwhile."""
        return self._listener is None or self._listener.ready.is_set()

    def _fire(self) -> None:
        with self._condition:
            self._pending = True
            self._condition.notify_all()


@contextmanager
def watching(job_ids: Iterable[int]) -> Iterator[Watch]:
    """Watch these jobs from now on: a change after this returns is never missed."""
    ids = sorted({int(pk) for pk in job_ids})
    listener = _listener_for_this_process()
    watch = Watch(ids, seen=listener.baseline(ids), listener=listener)
    _registry.add(watch)
    try:
        if not listener.ready.wait(SUBSCRIBE_WAIT_SECONDS):
            watch._fire()  # not listening yet (Redis away): nothing can be promised
        yield watch
    finally:
        _registry.remove(watch)


class _Registry:
    """Which watches wait on which job."""

    def __init__(self):
        self.lock = threading.Lock()
        self.by_job: dict[int, set[Watch]] = {}
        self.added = threading.Event()

    def add(self, watch: Watch) -> None:
        with self.lock:
            for pk in watch.job_ids:
                self.by_job.setdefault(pk, set()).add(watch)
        self.added.set()

    def remove(self, watch: Watch) -> None:
        with self.lock:
            for pk in watch.job_ids:
                watchers = self.by_job.get(pk)
                if watchers is not None:
                    watchers.discard(watch)
                    if not watchers:
                        del self.by_job[pk]

    def fire(self, job_ids: Iterable[int]) -> None:
        with self.lock:
            woken = {w for pk in job_ids for w in self.by_job.get(pk, ())}
        for watch in woken:
            watch._fire()

    def fire_all(self) -> None:
        with self.lock:
            woken = {w for watchers in self.by_job.values() for w in watchers}
        for watch in woken:
            watch._fire()

    def snapshot(self) -> dict[int, list[Watch]]:
        with self.lock:
            return {pk: list(watchers) for pk, watchers in self.by_job.items()}


_registry = _Registry()


def channel() -> str:
    # Pub/sub channels are shared by every Redis database: named by the task queue (as
    # django-q2 reads it), so two installations or test runs never hear each other.
    from django_q.conf import Conf

    return f"flux2web:{Conf.PREFIX}:jobs-changed"


class _Publisher:
    def __init__(self):
        self.lock = threading.Lock()
        self.client = None
        self.key = None
        self.down = (None, 0.0)  # the Redis it could not reach, and till when it is let be

    def publish(self, ids: list[int]) -> None:
        key = (os.getpid(), settings.REDIS_URL)
        down_for, until = self.down
        if down_for == key and time.monotonic() < until:
            return
        try:
            self._client(key).publish(channel(), ",".join(map(str, ids)))
        except Exception as exc:  # never let a lost announcement break a committed move
            self.down = (key, time.monotonic() + PUBLISH_BACKOFF_SECONDS)
            log.warning("could not announce jobs %s changed: %s", ids[:10], type(exc).__name__)

    def _client(self, key):
        import redis

        with self.lock:
            if self.key != key:
                self.client = redis.Redis.from_url(
                    key[1], socket_timeout=1.0, socket_connect_timeout=1.0
                )
                self.key = key
            return self.client


_publisher = _Publisher()


class _Listener(threading.Thread):
    def __init__(self, key):
        super().__init__(name="flux2web-job-changes", daemon=True)
        self.key = key
        self.ready = threading.Event()
        self.stopped = threading.Event()

    def baseline(self, ids: list[int]) -> dict[int, object] | None:
        return None

    def stop(self) -> None:
        self.stopped.set()


class _RedisListener(_Listener):
    """One SUBSCRIBE connection for the process; whatever is heard wakes its watchers."""

    subscribed_before = False
    backoff = 0.5
    failing = False

    def run(self) -> None:
        import redis

        _, url, name = self.key  # what it was started for, though the settings change
        while not self.stopped.is_set():
            pubsub = None
            try:
                client = redis.Redis.from_url(
                    url, socket_connect_timeout=2.0, socket_keepalive=True
                )
                pubsub = client.pubsub()
                pubsub.subscribe(name)
                self._listen(pubsub)
            except Exception as exc:
                if not self.failing:  # once a spell, not at every try to come back
                    log.warning("job changes: Redis subscription lost (%s)", type(exc).__name__)
                self.failing = True
            finally:
                if self.ready.is_set():
                    self.ready.clear()
                    if not self.stopped.is_set():  # lost, not replaced (stop())
                        # Nothing can be heard until it is back: every watcher is told,
                        # and finds its watch no longer live.
                        _registry.fire_all()
                if pubsub is not None:
                    with suppress(Exception):
                        pubsub.close()
            self.stopped.wait(self.backoff)
            self.backoff = min(self.backoff * 2, 5.0)

    def _listen(self, pubsub) -> None:
        while not self.stopped.is_set():
            message = pubsub.get_message(timeout=1.0)
            if message is None:
                continue
            if message["type"] == "subscribe":
                self.ready.set()
                self.backoff = 0.5
                self.failing = False
                if self.subscribed_before:
                    # What was announced while the connection was down is lost: every
                    # watcher is told its jobs may have changed.
                    _registry.fire_all()
                self.subscribed_before = True
            elif message["type"] == "message":
                data = message["data"].decode() if isinstance(message["data"], bytes) else ""
                _registry.fire(int(pk) for pk in data.split(",") if pk.isdigit())


class _DatabaseListener(_Listener):
    """Reads the watched jobs' `updated_at` a few times a second: primary-key lookups,
    and none at all while nothing is watched."""

    def __init__(self, key):
        super().__init__(key)
        self.ready.set()
        self.failing = False

    def baseline(self, ids: list[int]) -> dict[int, object]:
        return dict(Job.objects.filter(pk__in=ids).values_list("pk", "updated_at"))

    def run(self) -> None:
        while not self.stopped.is_set():
            watched = _registry.snapshot()
            if not watched:
                connection.close()
                _registry.added.wait(5.0)
                _registry.added.clear()
                continue
            try:
                self._compare(watched)
                self.failing = False
            except Exception as exc:
                if not self.failing:  # once a spell, not every second of an outage
                    log.warning("job changes: cannot read the watched jobs: %r", exc)
                self.failing = True
                connection.close()
                _registry.fire_all()
                self.stopped.wait(1.0)
            self.stopped.wait(DB_POLL_SECONDS)
        connection.close()

    def _compare(self, watched: dict[int, list[Watch]]) -> None:
        ids = list(watched)
        now = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            now.update(Job.objects.filter(pk__in=chunk).values_list("pk", "updated_at"))
        for pk, watches in watched.items():
            current = now.get(pk)
            for watch in watches:
                if watch._seen.get(pk) != current:
                    watch._seen[pk] = current
                    watch._fire()


_listener: _Listener | None = None
_listener_lock = threading.Lock()


def _listener_for_this_process() -> _Listener:
    """The process's listener, started on first use (again after a fork, or when the
    settings it was started with changed, as in tests)."""
    global _listener
    key = (os.getpid(), settings.REDIS_URL, channel())
    with _listener_lock:
        if _listener is None or _listener.key != key or not _listener.is_alive():
            if _listener is not None:
                _listener.stop()
            _listener = (_RedisListener if settings.REDIS_URL else _DatabaseListener)(key)
            _listener.start()
        return _listener
