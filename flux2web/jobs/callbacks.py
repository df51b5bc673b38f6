"""Callbacks: a provider says a task ended. Only ever a hint (the job is then polled with our
key), and the way back for a job whose create answer was lost: its callback names the task."""

from __future__ import annotations

import hmac
import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from django.utils import timezone

from flux2web.billing import ledger
from flux2web.jobs import actions, following, queue
from flux2web.jobs.models import Job, JobEvent
from flux2web.jobs.submitting import callback_url
from flux2web.jobs.transitions import add_note, adopt, call_events
from flux2web.lib import holding
from flux2web.providers import catalog
from flux2web.providers.base import SHAPE_ERRORS, CallbacksNotSupported
from flux2web.providers.transport import CallRecord
from flux2web.providers.types import ProviderError, TaskStatus, ValidationFailed

State = Job.State
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CallbackAnswer:
    status: int
    message: str


def receive_callback(*, job_id: int, secret: str, body: bytes, headers: Mapping[str, str]):
    """A provider says a task ended. Only a hint: the job is polled with our key at once,
    so a forged body cannot finish a job, and late or repeated ones change nothing."""
    job = Job.objects.select_related("provider").filter(pk=job_id).first()
    # One answer for "no such job" and "wrong secret": nothing to learn by guessing.
    if (
        job is None
        or job.provider is None
        or not hmac.compare_digest(job.callback_secret.encode(), secret.encode())
    ):
        return CallbackAnswer(404, "Unknown callback.")
    try:
        with job.provider.client() as client:
            status = client.parse_callback(body, headers)
    except CallbacksNotSupported:
        return CallbackAnswer(404, "This provider sends no callbacks.")
    except ValidationFailed as exc:
        return CallbackAnswer(400, exc.message)
    except SHAPE_ERRORS:  # the dialects refuse bad shapes by name; a net for the rest
        return CallbackAnswer(400, "The callback body could not be read.")
    except ProviderError as exc:  # a bad or stale KIE signature
        add_note(job.pk, f"refused a callback: {exc.message}", provider=job.provider.name)
        return CallbackAnswer(401, exc.message)
    # The create's answer is not here yet (slow, or lost in a worker that died) or was lost;
    # or the vendor had said it no longer knew the task: the callback is the way back.
    if job.state in (State.SUBMITTING, State.UNCERTAIN) and (
        not job.provider_task_id or job.provider_task_id == status.task_id
    ):
        return _recover_lost_answer(job, status)
    if status.task_id != job.provider_task_id:
        return CallbackAnswer(400, "The callback names another task.")
    add_note(
        job.pk, f"callback says {status.provider_state or status.state}", provider=job.provider.name
    )
    if job.state == State.RUNNING:
        follow_now(job.pk)
    return CallbackAnswer(200, "OK")


# Callbacks followed by the web threads that heard them, at most this many at once per
# process: each holds its thread while it reads the task and downloads the images (and
# the images' bytes while it does). The rest are followed by the workers, from the queue.
CALLBACK_FOLLOWS = 4
_following: set[int] = set()  # the jobs this process follows now
_following_lock = threading.Lock()


def follow_now(job_id: int) -> None:
    """Someone is likely watching for this picture: read the task and store its images in
    this thread, before answering the callback (vendors allow 30 s or more), which spares
    the trip through the task queue. A job this process follows already (a vendor's retry)
    is left to that thread; past CALLBACK_FOLLOWS, when the process has no thread to spare
    (lib/holding.py), or when following breaks, a worker follows the job instead."""
    with _following_lock:
        if job_id in _following:
            return
        room = len(_following) < CALLBACK_FOLLOWS
        if room:
            _following.add(job_id)
    if not room or not holding.take():
        _forget(job_id)
        why = "no thread to spare" if room else f"{CALLBACK_FOLLOWS} followed here already"
        log.info("job %s: a worker follows it after its callback (%s)", job_id, why)
        queue.enqueue(queue.FOLLOW, job_id)
        return
    try:
        following.follow_job(job_id=job_id)
    except Exception:
        log.exception("job %s: following it after its callback failed; a worker will", job_id)
        queue.enqueue(queue.FOLLOW, job_id)
    finally:
        holding.give_back()
        _forget(job_id)


def _forget(job_id: int) -> None:
    with _following_lock:
        _following.discard(job_id)


WHY_RECOVERED = {
    "": "the answer to our create was lost, but {name}'s callback named task {task}",
    "sending": "{name}'s callback named task {task} before the answer to our create came",
    "known": "{name} had said it no longer knew task {task}, but its callback names it",
}


DECIDED = "a callback named task {task}, but an admin has decided this job already; left as it is."


def _recover_lost_answer(job: Job, status: TaskStatus) -> CallbackAnswer:
    """We never learnt the task id (the create's answer was lost, or is not here yet: a
    callback can outrun it), or the vendor said it no longer knew the task; the vendor's
    callback for this job names it. Only a hint: the task is asked about with our own key,
    and adopted only if the vendor knows it, it is no other job's, and what the vendor kept
    of its request (KIE's `param`) is this job's. Then the job is followed as usual: nothing
    is sent again, and the ledger's hold (if any) becomes one settle (or refund); a create
    answer that comes after finds its task followed already (submitting.py)."""
    name, task_id = job.provider.name, status.task_id
    if ledger.resolved(job.pk):
        add_note(job.pk, DECIDED.format(task=task_id), provider=name)
        return CallbackAnswer(200, "OK")
    taken = Job.objects.filter(provider=job.provider, provider_task_id=task_id).exclude(pk=job.pk)
    if taken.exists():
        add_note(
            job.pk,
            f"refused a callback naming task {task_id}: another job follows it.",
            provider=name,
        )
        return CallbackAnswer(400, "The callback names another job's task.")
    calls: list[CallRecord] = []
    try:
        with job.provider.client(observer=calls.append) as client:
            confirmed = client.status(task_id)
    except ProviderError as exc:
        JobEvent.objects.bulk_create(call_events(job.pk, name, calls))
        add_note(
            job.pk,
            f"a callback named task {task_id}, but {name} did not confirm it "
            f"({exc.error_class}: {exc.message}); still uncertain.",
            provider=name,
        )
        return CallbackAnswer(400, "The task this callback names could not be confirmed.")
    JobEvent.objects.bulk_create(call_events(job.pk, name, calls))
    if not _requested_by(job, confirmed):
        add_note(
            job.pk,
            f"refused a callback naming task {task_id}: {name} says that task was "
            "made for another request.",
            provider=name,
        )
        return CallbackAnswer(400, "The callback names a task made for another request.")
    now = timezone.now()
    caps = catalog.capabilities(job.provider.dialect, job.model)
    # Read afresh under the lock (transitions.adopt): the job may have moved on while the
    # vendor was asked (the create answered or timed out, an admin decided).
    case = "known" if job.provider_task_id else "sending" if job.state == State.SUBMITTING else ""
    why = WHY_RECOVERED[case].format(name=name, task=task_id)
    outcome = adopt(
        job.pk,
        task_id=task_id,
        provider_id=job.provider_id,
        submitted_at=job.submitted_at or job.claimed_at or now,
        callback_sent=True,
        error_class="",
        error_message="",
        unknown_answers=0,
        next_poll_at=now if caps else None,
        message=f"recovered: {why}, and {name} confirmed it to our key; following it "
        "(nothing was sent again).",
    )
    if outcome == "decided":
        add_note(job.pk, DECIDED.format(task=task_id), provider=name)
        return CallbackAnswer(200, "OK")
    if outcome not in ("adopted", "followed"):
        # It moved on some other way meanwhile (held as uncertain as its create timed
        # out): the vendor is asked to send the callback again, which will find it so.
        return CallbackAnswer(409, "The job changed while this callback was read; send it again.")
    # The person pressed Cancel while it was being sent: they were told it would not be
    # followed once accepted, so it is not. Else it is followed as any callback's job is
    # (also when the create's answer got there first).
    if outcome == "followed" or not actions.honour_cancel_request(job_id=job.pk):
        follow_now(job.pk)
    return CallbackAnswer(200, "OK")


def _requested_by(job: Job, confirmed: TaskStatus) -> bool:
    """Whether what the vendor kept of the task's request (KIE's `param`, the create body
    as a JSON string) is this job's: its callback URL (which holds the job's secret) and
    prompt. A vendor that keeps none is taken at its word."""
    data = confirmed.raw.get("data") if isinstance(confirmed.raw, dict) else None
    param = data.get("param") if isinstance(data, dict) else None
    if isinstance(param, str):
        try:
            param = json.loads(param)
        except ValueError:
            param = None
    if not isinstance(param, dict):
        return True
    sent_to = param.get("callBackUrl") or param.get("callback_url")
    if sent_to and sent_to != callback_url(job):
        return False
    given = param.get("input") if isinstance(param.get("input"), dict) else param
    prompt = given.get("prompt")
    return not isinstance(prompt, str) or prompt.strip() == job.prompt.strip()
