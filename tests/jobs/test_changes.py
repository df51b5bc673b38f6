"""A job's change reaches the threads watching it at once, from any thread or process."""

import os
import subprocess
import sys
import threading
import time

import pytest
from django.db import connections, transaction

from flux2web.jobs import changes
from flux2web.jobs.models import Job
from flux2web.jobs.transitions import transition
from tests.helpers import ROOT, subprocess_env
from tests.jobs.factories import make_jobs

pytestmark = pytest.mark.django_db(transaction=True)
S = Job.State
# "At once": well under the studio's old 2-second refresh, on a loaded two-core machine.
AT_ONCE = 0.5


@pytest.fixture
def job(owner, providers):
    return make_jobs(owner, provider=providers["LiangXin"])[0]


def cancel(job_id):
    return transition(job_id, from_states=[S.QUEUED], to=S.CANCELLED, message="test")


def in_a_thread(fn, *, delay=0.0):
    def run():
        time.sleep(delay)
        try:
            fn()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_watch_wakes_when_another_thread_commits_a_transition(job):
    with changes.watching([job.pk]) as watch:
        done = {}
        thread = in_a_thread(lambda: (cancel(job.pk), done.setdefault("at", time.monotonic())))
        assert watch.wait(10)
        woke = time.monotonic()
        thread.join()
    assert woke - done["at"] < AT_ONCE


def test_a_watch_wakes_when_another_process_commits_a_transition(job):
    from django.conf import settings
    from django_q.conf import Conf

    script = (
        "import time\n"
        "from flux2web.jobs.transitions import transition\n"
        f"transition({job.pk}, from_states=['queued'], to='cancelled', message='elsewhere')\n"
        "print(time.time(), flush=True)\n"
    )
    env = subprocess_env(REDIS_URL=settings.REDIS_URL, FLUX2WEB_QUEUE_NAME=Conf.PREFIX)
    with changes.watching([job.pk]) as watch:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "shell", "-c", script],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert watch.wait(60)
        woke = time.time()
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    committed = float(out.split()[-1])
    assert woke - committed < AT_ONCE
    assert Job.objects.get(pk=job.pk).state == S.CANCELLED


def test_a_rolled_back_transition_wakes_nobody(job):
    with changes.watching([job.pk]) as watch:

        def roll_back():
            with transaction.atomic():
                cancel(job.pk)
                transaction.set_rollback(True)

        in_a_thread(roll_back).join()
        assert not watch.wait(1.0)
    assert Job.objects.get(pk=job.pk).state == S.QUEUED


def test_a_wait_without_a_change_returns_false_after_its_timeout(job):
    with changes.watching([job.pk]) as watch:
        started = time.monotonic()
        assert not watch.wait(0.6)
        assert 0.55 < time.monotonic() - started < 0.6 + AT_ONCE


def test_a_change_before_the_wait_is_not_missed(job):
    with changes.watching([job.pk]) as watch:
        in_a_thread(lambda: cancel(job.pk)).join()
        time.sleep(0.5)  # the change is long told before anyone waits
        assert watch.wait(0.1)
        # Told once: the next wait waits for the next change.
        assert not watch.wait(0.5)


def test_a_change_to_another_job_does_not_wake_the_watch(owner, providers):
    watched, other = make_jobs(owner, provider=providers["LiangXin"], count=2)
    with changes.watching([watched.pk]) as watch:
        in_a_thread(lambda: cancel(other.pk)).join()
        assert not watch.wait(0.8)


def test_many_waiting_threads_hold_no_database_connection(job):
    waiting = 20
    woke = []
    held = []
    entered = threading.Barrier(waiting + 1)

    def wait():
        Job.objects.filter(pk=job.pk).exists()  # a view's read before it waits
        with changes.watching([job.pk]) as watch:
            held.append(connections["default"])
            entered.wait()
            woke.append(watch.wait(20))
        connections.close_all()

    postgres = connections["default"].vendor == "postgresql"
    # Earlier tests' servers and workers may still be closing theirs: counted from here.
    before = _other_connections() if postgres else 0
    threads = [in_a_thread(wait) for _ in range(waiting)]
    entered.wait()
    time.sleep(0.3)  # every thread is in wait() by now
    assert [c for c in held if c.connection is not None] == []
    if postgres:
        # At most the listener without Redis and one closing, not one per waiting thread.
        assert _other_connections() <= before + 2
    cancel(job.pk)
    for thread in threads:
        thread.join(10)
    assert woke == [True] * waiting


def _other_connections() -> int:
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def test_announce_outside_a_transaction_is_told_at_once(job):
    """A progress update (no transaction): its announcement is not held for a commit."""
    with changes.watching([job.pk]) as watch:

        def bump():
            from django.utils import timezone

            Job.objects.filter(pk=job.pk).update(progress=40, updated_at=timezone.now())
            changes.announce([job.pk])

        in_a_thread(bump).join()
        assert watch.wait(AT_ONCE + 0.5)


def test_a_lost_subscription_wakes_every_watch_and_says_the_feed_is_away(
    job, settings, monkeypatch
):
    import redis

    url = settings.REDIS_URL or os.environ.get("FLUX2WEB_TEST_REDIS_URL") or LOCAL_REDIS
    if not redis_answers(url):
        pytest.skip(f"no Redis answers at {url}")
    subscriptions = []
    pubsub = redis.Redis.pubsub
    monkeypatch.setattr(redis.Redis, "pubsub", lambda self: subscriptions.append(
        pubsub(self)) or subscriptions[-1])  # fmt: skip
    settings.REDIS_URL = url
    with changes._listener_lock:  # a listener of its own, whose pubsub is seen above
        if changes._listener is not None:
            changes._listener.stop()
        changes._listener = None
    with changes.watching([job.pk]) as watch:
        assert watch.live
        # Redis drops the listener's connection (a restart, a failover): by its address,
        # so that no other process's subscription on this Redis is touched.
        host, port = subscriptions[-1].connection._sock.getsockname()[:2]
        assert redis.Redis.from_url(url).client_kill(f"{host}:{port}")
        assert watch.wait(AT_ONCE + 1.0)
        assert not watch.live
        # It subscribes again by itself: watches are told again, as what was said is lost.
        assert watch.wait(10)
        assert watch.live


def test_a_listener_replaced_wakes_nobody(job, settings):
    # Only a lost subscription tells the watchers; a listener replaced (the settings it was
    # started for changed, as between tests) must not wake the new one's watches.
    url = settings.REDIS_URL or os.environ.get("FLUX2WEB_TEST_REDIS_URL") or LOCAL_REDIS
    if not redis_answers(url):
        pytest.skip(f"no Redis answers at {url}")
    settings.REDIS_URL = url
    with changes.watching([job.pk]) as watch:
        assert watch.live
    replaced = changes._listener
    settings.REDIS_URL = ""  # the database's listener from now on
    with changes.watching([job.pk]) as watch:
        replaced.join(5)
        assert not replaced.is_alive()
        assert not watch.wait(0.3)


LOCAL_REDIS = "redis://127.0.0.1:6379/15"  # as tests/core/test_qcluster.py


def redis_answers(url: str) -> bool:
    import redis

    try:
        return redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False
