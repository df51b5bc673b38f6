"""Two machines' workers on PostgreSQL + Redis: polling moves between them, nothing is lost.

Each cluster is a `manage.py qcluster` process group, as on its own machine. Only one
worker process in all of them holds the poller lease at a time; the lease row names the
process holding it (host:pid:random), so the test can tell whose it is.
"""

import os
import time

import pytest
from django.conf import settings
from django.utils import timezone

from flux2web.core.models import Heartbeat
from flux2web.jobs.models import Job
from tests.helpers import wait_for
from tests.jobs.factories import make_jobs, wait_until_done

S = Job.State
LEASE = 5  # seconds; long enough that waiting it out is plainly told from a hand-over

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not settings.REDIS_URL or settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"),
        reason="the two-cluster drill needs PostgreSQL and Redis (CI's second run has both)",
    ),
]


def holding_cluster(clusters):
    """The cluster whose worker renewed the poller lease in the last second, if any."""
    beat = Heartbeat.objects.filter(name="poller").exclude(detail="").first()
    if beat is None or (timezone.now() - beat.seen_at).total_seconds() > 1.5:
        return None
    pid = int(beat.detail.split(":")[1])
    for cluster in clusters:
        try:
            if cluster.proc.poll() is None and os.getpgid(pid) == cluster.proc.pid:
                return cluster
        except ProcessLookupError:
            return None
    return None


def started(cluster):
    wait_for(lambda: "poller thread" in cluster.output(), timeout=40, message=cluster.output)
    return cluster


def all_running(jobs):
    ids = [j.pk for j in jobs]
    return wait_for(
        lambda: Job.objects.filter(pk__in=ids, state=S.RUNNING).count() == len(ids),
        timeout=30,
        message=lambda: list(Job.objects.filter(pk__in=ids).values_list("state", flat=True)),
    )


def test_a_stopped_cluster_hands_polling_over_at_once_and_a_killed_one_within_the_lease(
    owner, providers, sandbox, cluster, media
):
    liangxin = providers["LiangXin"]
    a, b = cluster(workers=1, FLUX2WEB_POLLER_LEASE=str(LEASE)), None
    b = cluster(workers=1, FLUX2WEB_POLLER_LEASE=str(LEASE))
    started(a), started(b)
    first = wait_for(lambda: holding_cluster([a, b]), timeout=20)
    other = b if first is a else a

    # Stopped gracefully (SIGTERM, as systemd or a deploy does) with jobs in flight.
    batch1 = make_jobs(owner, prompt="a ferry [sandbox:duration=5]", provider=liangxin, count=4)
    all_running(batch1)
    first.stop()
    stopped_at = time.monotonic()
    assert wait_for(lambda: holding_cluster([other]), timeout=LEASE + 3) is other
    handed_over_after = time.monotonic() - stopped_at
    assert handed_over_after < 2, f"took {handed_over_after:.1f} s, as if the lease ran out"

    # A third machine joins; then the one polling dies with SIGKILL, jobs in flight.
    c = started(cluster(workers=1, FLUX2WEB_POLLER_LEASE=str(LEASE)))
    batch2 = make_jobs(owner, prompt="a tram [sandbox:duration=5]", provider=liangxin, count=4)
    all_running(batch2)
    holder = wait_for(lambda: holding_cluster([other, c]), timeout=10)
    survivor = c if holder is other else other
    holder.kill()
    killed_at = time.monotonic()
    assert wait_for(lambda: holding_cluster([survivor]), timeout=LEASE + 5) is survivor
    assert time.monotonic() - killed_at < LEASE + 2

    finished = wait_until_done(batch1 + batch2, timeout=60, cluster=survivor)
    assert {j.state for j in finished} == {S.SUCCEEDED}  # 0 lost
    assert sandbox.snapshot()["create_requests:liangxin"] == len(finished)  # 0 duplicates
    assert all(j.images.count() == 1 for j in finished)
