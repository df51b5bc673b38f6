"""An API request for images, from its checked body to OpenAI's answer: the token's limits,
its Idempotency-Key, the jobs made as the studio makes them (job_requests: quota reserved,
settled and refunded there), the wait for every image to be stored, and the answer.

The connection waits for a "job changed" from jobs/changes.py, holding no database
connection meanwhile; a client that leaves loses nothing (the jobs go on to the gallery).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone

from flux2web.accounts.models import ApiToken
from flux2web.api import errors, results
from flux2web.api.asking import Asked
from flux2web.api.errors import ApiError
from flux2web.api.models import ApiRequest, ApiWait
from flux2web.core import throttle
from flux2web.jobs import changes, services
from flux2web.jobs.models import Image, Job
from flux2web.lib import holding

log = logging.getLogger(__name__)
# How long an Idempotency-Key is remembered (as OpenAI's are).
KEY_HOURS = 24
# A finished job's failure, as OpenAI would answer it: (status, code, param).
FAILURES = {
    "content_policy": (400, "content_policy_violation", "prompt"),
    "cancelled": (409, "cancelled", None),
}
DONE = (*Job.FINAL, Job.State.UNCERTAIN)  # ended, or parked until an admin decides


def generate(request, asked: Asked, *, uploads=None) -> JsonResponse:
    token = request.api_token
    started = time.time()
    record = _remember(
        token,
        request.headers.get("Idempotency-Key", ""),
        asked.digest,
        retry=_retried(request),
    )
    if not holding.take():  # before anything is made: the client may simply try again
        raise ApiError(
            503,
            "The server is busy: too many requests are waiting for images. Try again shortly.",
            code="server_busy",
            headers={"Retry-After": "5"},
        )
    try:
        with _waiting(token, record):
            jobs = _create(request, asked, record, uploads)
            deadline = time.monotonic() + settings.API_WAIT_SECONDS
            jobs = _wait(jobs, deadline=deadline, left=lambda: holding.client_left(request))
    except ClientLeft:
        # Its place among the token's waiting requests and its thread are free again; the
        # jobs go on to the gallery. Nobody reads this answer.
        log.info("API request of token %s: the client left while it waited", token.pk)
        return HttpResponse(status=499)
    finally:
        holding.give_back()
    # A token revoked (or its owner switched off) while it waited gets no addresses.
    if not ApiToken.objects.active().filter(pk=token.pk, owner__is_active=True).exists():
        raise errors.bad_key()
    return _answer(request, jobs, asked, created=int(started))


def _retried(request) -> bool:
    """Whether an OpenAI SDK sent this as a retry of a request it gave up on (a timeout,
    a dropped connection): it says so in `x-stainless-retry-count`."""
    count = request.headers.get("X-Stainless-Retry-Count", "0").strip()
    return count.isdigit() and int(count) > 0


def check_rate(token) -> None:
    """Every request counts against the token's minute, across every process."""
    wait = throttle.take(f"api:{token.pk}", limit=settings.API_RATE_PER_MINUTE, seconds=60)
    if wait:
        raise ApiError(
            429,
            f"Rate limit reached for this token: {settings.API_RATE_PER_MINUTE} requests a "
            f"minute. Try again in {wait:.0f} s.",
            type="requests",
            code="rate_limit_exceeded",
            headers={"Retry-After": str(max(1, round(wait)))},
        )


def _remember(token, key: str, digest: str, *, retry: bool = False) -> ApiRequest:
    """The request's record: a new one, or the one this Idempotency-Key made (409 when it
    was made for another body). An SDK's retry without a key is the latest request of the
    token with the same body, while that one may still be waiting: never made twice."""
    now = timezone.now()
    ApiRequest.objects.filter(token=token, created_at__lt=now - timedelta(hours=KEY_HOURS)).delete()
    hashed = hashlib.sha256(key.encode()).hexdigest() if key.strip() else ""
    batch = f"api.{token.pk}.{secrets.token_hex(12)}"
    if hashed:
        found = ApiRequest.objects.filter(token=token, key=hashed).first()
        if found is None:
            try:
                with transaction.atomic():
                    return ApiRequest.objects.create(
                        token=token, key=hashed, digest=digest, batch_key=batch
                    )
            except IntegrityError:  # the same key at the same moment: the other one made it
                found = ApiRequest.objects.get(token=token, key=hashed)
        if found.digest != digest:
            raise ApiError(
                409,
                "This Idempotency-Key was used for another request (a different body) in the "
                f"last {KEY_HOURS} hours; use a new key for a new request.",
                code="idempotency_key_reused",
            )
        return found
    if retry:
        since = now - timedelta(seconds=settings.API_WAIT_SECONDS + 120)
        earlier = ApiRequest.objects.filter(token=token, key="", digest=digest)
        if found := earlier.filter(created_at__gte=since).order_by("-pk").first():
            return found
    return ApiRequest.objects.create(token=token, digest=digest, batch_key=batch)


class _waiting:
    """This connection's place among the token's requests waiting at once (the limit holds
    across every process: counted under the token's row lock)."""

    def __init__(self, token, record: ApiRequest):
        self.token, self.record, self.wait = token, record, None

    def __enter__(self):
        limit = settings.API_CONCURRENT_REQUESTS
        now = timezone.now()
        with transaction.atomic():
            ApiToken.objects.select_for_update().filter(pk=self.token.pk).first()
            ApiWait.objects.filter(token=self.token, until__lte=now).delete()
            if ApiWait.objects.filter(token=self.token).count() >= limit:
                raise ApiError(
                    429,
                    f"Too many requests waiting at once for this token (at most {limit}); "
                    "try again when one has answered.",
                    type="requests",
                    code="rate_limit_exceeded",
                    headers={"Retry-After": "5"},
                )
            until = now + timedelta(seconds=settings.API_WAIT_SECONDS + 60)
            self.wait = ApiWait.objects.create(token=self.token, until=until)

    def __exit__(self, *exc):
        ApiWait.objects.filter(pk=self.wait.pk).delete()


def _create(request, asked: Asked, record: ApiRequest, uploads) -> list[Job]:
    try:
        jobs, _ = services.create_or_get_jobs(
            owner=request.user,
            spec=asked.spec,
            idempotency_key=record.batch_key,
            attachments=uploads,
        )
    except services.OverQuota as refused:
        raise ApiError(
            429,
            " ".join(p.message for p in refused.problems),
            type="insufficient_quota",
            code="insufficient_quota",
        ) from None
    except services.JobRefused as refused:
        problem = refused.problems[0]
        raise ApiError(
            400,
            " ".join(p.message for p in refused.problems),
            param=asked.param(problem.field),
            code="invalid_value",
        ) from None
    return jobs


class ClientLeft(Exception):
    """The client closed its connection while its request waited."""


def _wait(jobs: list[Job], *, deadline: float, left=lambda: False) -> list[Job]:
    """The jobs once every one has ended, re-read each time one of them changes (and every
    5 s, or every second while changes cannot be heard); ClientLeft as soon as `left()`
    says the client is gone (looked at each second)."""
    ids = [job.pk for job in jobs]
    with changes.watching(ids) as watch:
        while True:
            jobs = list(Job.objects.filter(pk__in=ids).order_by("pk"))
            if all(job.state in DONE for job in jobs):
                return jobs
            now = time.monotonic()
            if now >= deadline:
                raise ApiError(
                    504,
                    f"The images were not ready within {settings.API_WAIT_SECONDS} s. The "
                    "request goes on: its images will be in your gallery when they are done "
                    f"(job{'s' if len(ids) > 1 else ''} {', '.join(map(str, ids))}).",
                    code="timeout",
                )
            until = min(deadline, now + (5.0 if watch.live else 1.0))
            while not watch.wait(min(until - time.monotonic(), 1.0)):
                if left():
                    raise ClientLeft
                if time.monotonic() >= until:
                    break


def _answer(request, jobs: list[Job], asked: Asked, *, created: int) -> JsonResponse:
    done = [job for job in jobs if job.state == Job.State.SUCCEEDED]
    if not done:
        raise _failure(jobs[0])
    images = list(
        Image.objects.filter(job__in=done, status=Image.Status.MIRRORED).order_by("job_id", "index")
    )
    data = []
    for image in images:
        if asked.response_format == "b64_json":
            with default_storage.open(image.original.name) as handle:
                data.append({"b64_json": base64.b64encode(handle.read()).decode()})
        else:
            data.append({"url": request.build_absolute_uri(results.path_for(image))})
    return JsonResponse({"created": created, "data": data})


def _failure(job: Job) -> ApiError:
    status, code, param = FAILURES.get(job.error_class or job.state, (502, "provider_error", None))
    if job.state == Job.State.UNCERTAIN:
        message = (
            "The provider's answer was lost; an admin decides whether it made the image (your "
            "money is held until then)."
        )
    else:
        message = job.error_message or f"The job ended {job.get_state_display().lower()}."
    return ApiError(status, message, param=param, code=code)
