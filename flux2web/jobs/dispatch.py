"""Dispatch and pacing: which waiting jobs go to the broker now, fairly and at the set rate."""

from __future__ import annotations

import time
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Max, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from flux2web.jobs import queue
from flux2web.jobs.models import Job

State = Job.State


# The broker is first in, first out. Were a burst of submits all enqueued at once, every
# callback's follow-up and every mirror would wait behind them. So submits are dispatched
# only while the broker holds fewer than a window of tasks of any kind: work on jobs that
# already cost money (following, mirroring) goes first, new work waits. The window is
# topped up after commit, after each submit and by every poller pass.
DISPATCH_PER_WORKER = 4
DISPATCH_TIMEOUT = timedelta(minutes=2)


def broker_backlog() -> int:
    from django_q.brokers import get_broker

    return get_broker().queue_size() or 0


# With pacing on, each dispatched job gets its own moment to go out, 1/rate apart, up to
# this far ahead; the submit task waits for its moment. Tasks are in the broker before
# their moment, so workers never sit idle waiting for the next dispatch.
PACING_HORIZON = timedelta(seconds=1)

# Fair between people: waiting jobs go out round-robin by owner, so one person's batch of
# 200 cannot make a teammate's single image wait until the whole batch has gone out.
# Everyone's oldest waiting job comes before anyone's second; among people at the same
# turn, whoever was sent something least recently goes first; within a person, oldest
# first. Pacing and each provider's create window apply as before: this only decides
# whose job takes the next moment.
FAIRNESS_MEMORY = timedelta(minutes=1)


def _fair_order(due, *, now, limit: int) -> list[tuple[int, object]]:
    """(pk, dispatched_at) of up to `limit` due jobs, in round-robin order by owner."""
    turns = Window(RowNumber(), partition_by=[F("owner_id")], order_by=["created_at", "pk"])
    candidates = list(
        due.annotate(turn=turns)
        .filter(turn__lte=limit)
        .values_list("pk", "dispatched_at", "owner_id", "turn", "created_at")
    )
    last_sent = dict(
        Job.objects.filter(dispatched_at__gte=now - FAIRNESS_MEMORY)
        .order_by()
        .values("owner_id")
        .annotate(last=Max("dispatched_at"))
        .values_list("owner_id", "last")
    )
    long_ago = now - FAIRNESS_MEMORY
    candidates.sort(key=lambda c: (c[3], last_sent.get(c[2], long_ago), c[4], c[0]))
    return [(pk, dispatched_at) for pk, dispatched_at, *_ in candidates[:limit]]


def dispatch_submits(*, now=None) -> int:
    """Enqueue submit tasks for waiting jobs, keeping at most a window in the broker."""
    now = now or timezone.now()
    window = DISPATCH_PER_WORKER * settings.Q_CLUSTER["workers"]
    waiting = Job.objects.queued()
    in_broker = broker_backlog()
    if in_broker >= window:
        return 0
    due = _fair_order(
        waiting.filter(
            Q(dispatched_at__isnull=True) | Q(dispatched_at__lte=now - DISPATCH_TIMEOUT)
        ).attempt_due(now),
        now=now,
        limit=window - in_broker,
    )
    rate = settings.SUBMIT_RATE
    step = timedelta(seconds=1 / rate) if rate else None
    slot = now
    if rate:
        latest = Job.objects.aggregate(latest=Max("dispatched_at"))["latest"]
        slot = max(now, latest + step) if latest else now
    sent = 0
    for job_id, dispatched_at in due:
        if rate and slot > now + PACING_HORIZON:
            break  # the rest wait for a later dispatch
        # Conditional, so two dispatchers (a web request, the poller) never both send it.
        if Job.objects.filter(pk=job_id, state=State.QUEUED, dispatched_at=dispatched_at).update(
            dispatched_at=slot
        ):
            queue.enqueue(queue.SUBMIT, job_id)
            sent += 1
            if rate:
                slot += step
    return sent


def wait_for_slot(job_id: int) -> None:
    """Paced submits wait for the moment the dispatcher gave them (never long)."""
    moment = Job.objects.filter(pk=job_id).values_list("dispatched_at", flat=True).first()
    if moment is None:
        return
    delay = (moment - timezone.now()).total_seconds()
    if delay > 0:
        time.sleep(min(delay, PACING_HORIZON.total_seconds()))
