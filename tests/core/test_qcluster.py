"""A task enqueued through django-q2 runs in a real qcluster process, on either broker."""

import os

import pytest
import redis
from django.conf import settings
from django_q.brokers import orm, redis_broker
from django_q.conf import Conf
from django_q.tasks import async_task, fetch

from flux2web.core.models import Heartbeat
from tests.helpers import wait_for

TEST_REDIS_URL = (
    os.environ.get("FLUX2WEB_TEST_REDIS_URL") or settings.REDIS_URL or ("redis://127.0.0.1:6379/15")
)


def redis_answers(url: str) -> bool:
    try:
        return redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


def run_heartbeat_through(cluster, broker):
    task_id = async_task("flux2web.core.tasks.heartbeat", broker=broker)
    task = wait_for(
        lambda: fetch(task_id),
        timeout=30,
        message=lambda: f"task {task_id} to finish; qcluster said:\n{cluster.output()}",
    )
    return task


@pytest.mark.django_db(transaction=True)
def test_a_task_runs_in_a_qcluster_on_the_orm_broker(start_qcluster):
    cluster = start_qcluster(redis_url="")
    task = run_heartbeat_through(cluster, orm.ORM(list_key=cluster.queue_name))

    assert task.success, task.result
    # The task ran in a worker process, not in this one, and wrote to the shared database.
    assert f"pid {os.getpid()}" not in task.result
    beat = Heartbeat.objects.get(name="worker")
    assert beat.is_fresh


@pytest.mark.django_db(transaction=True)
def test_a_task_runs_in_a_qcluster_on_redis(start_qcluster, monkeypatch):
    if not redis_answers(TEST_REDIS_URL):
        pytest.skip(f"no Redis answers at {TEST_REDIS_URL}")
    monkeypatch.setattr(Conf, "REDIS", TEST_REDIS_URL)
    cluster = start_qcluster(redis_url=TEST_REDIS_URL)
    broker = redis_broker.Redis(list_key=cluster.queue_name)
    broker.purge_queue()

    task = run_heartbeat_through(cluster, broker)

    assert task.success, task.result
    assert f"pid {os.getpid()}" not in task.result
    assert Heartbeat.objects.get(name="worker").is_fresh
    assert broker.queue_size() == 0
