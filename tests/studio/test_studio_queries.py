"""The studio page in a fixed number of queries whatever its cards show (the target:
at most 8), so no card field is fetched one job at a time."""

import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.utils import timezone

from flux2web.jobs.models import Job, JobEvent
from flux2web.studio import cards
from tests.jobs.factories import finish, make_jobs

pytestmark = pytest.mark.django_db


def test_the_studio_shows_cards_in_every_state_in_eight_queries(
    signed_in, owner, providers, django_assert_max_num_queries, monkeypatch
):
    # A card in flight is kept for the 5 seconds its words hold: the clock the cards read is
    # held still, so that the pages measured below never fall either side of those seconds.
    held = time.time()
    monkeypatch.setattr(cards, "time", SimpleNamespace(time=lambda: held))
    kie = providers["KIE.ai"]
    now = timezone.now()
    for n, state in enumerate(["succeeded", "failed", "cancelled", "timed_out", "uncertain"]):
        (job,) = make_jobs(owner, prompt=f"finished {n}", provider=kie, aspect_ratio="1:1")
        finish(job, state=state, with_image=state == "succeeded")
        said = "Every provider refused 4 times"
        Job.objects.filter(pk=job.pk).update(provider=kie, error_class="quota", error_message=said)
    batch = make_jobs(owner, prompt="a batch", provider=kie, count=3, aspect_ratio="16:9")
    states = [Job.State.QUEUED, Job.State.SUBMITTING, Job.State.RUNNING]
    for job, state in zip(batch, states, strict=True):
        Job.objects.filter(pk=job.pk).update(
            state=state, provider=kie, submitted_at=now, attempts=1,
            next_attempt_at=now + timedelta(seconds=60),
        )  # fmt: skip
    JobEvent.objects.create(job=batch[0], kind="note", provider="KIE.ai",
                            message="KIE.ai refused: rate_limited: slow down")  # fmt: skip
    signed_in.get("/")  # the worker heartbeat and team policy are kept a few seconds
    forget_kept_cards()  # but no card yet: every field is read afresh
    # 8, and one more for the event log of each card that names who refused it: the queued
    # one waiting out a refusal, and each failure whose text names the providers asked
    # (shown here: a quota failure is the person's to read). Kept cards ask nothing again.
    with django_assert_max_num_queries(8 + 1 + 3):
        html = signed_in.get("/").content.decode()
    # The page above may have outlasted what is kept a few seconds (a loaded machine, two
    # suites at once): asked again, so that only the kept cards are measured next.
    signed_in.get("/")
    with django_assert_max_num_queries(8 + 1):
        signed_in.get("/")
    assert "KIE.ai asked us to wait (rate limited)" in html and "Sending to KIE.ai" in html


def forget_kept_cards():
    """Delete the kept card renderings only, on the local-memory cache or on Redis (CI's
    second run), whose stored keys read ":1:<key>"."""
    if hasattr(cache._cache, "keys"):
        stored = list(cache._cache.keys())
    else:
        client = cache._cache.get_client()
        stored = [k.decode() for k in client.scan_iter(match="*studio-card*")]
    cache.delete_many([k.split(":", 2)[-1] for k in stored if "studio-card" in k])
