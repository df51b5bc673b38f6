"""Server-sent events for the studio's pages: "one of your jobs changed", the moment it does,
so a page fetches its changed cards at once rather than at its next refresh."""

from __future__ import annotations

import time

from django.http import HttpResponse, StreamingHttpResponse
from django.views.decorators.http import require_GET

from flux2web.jobs.changes import watching
from flux2web.jobs.models import Job
from flux2web.lib import holding
from flux2web.lib.ids import parse_id

# A comment this often: proxies keep the connection, and a closed tab is noticed.
HEARTBEAT_SECONDS = 15.0
# Then the stream ends and the browser opens a new one: no thread is held for ever.
STREAM_SECONDS = 240.0
# How soon the browser reconnects, in ms (its page refreshes as usual meanwhile).
RETRY_MS = 1000
# ... after a stream ended because changes could not be heard (Redis away).
AWAY_RETRY_MS = 10_000
WATCH_AT_MOST = 200


@require_GET
def stream(request):
    """The same `cards` the page's refresher sends (`id:fingerprint,…`); only the person's
    own jobs in flight among them are watched, and the events say nothing but "changed"."""
    ids = [parse_id(item.partition(":")[0]) for item in request.GET.get("cards", "").split(",")]
    wanted = [pk for pk in ids if pk is not None][:WATCH_AT_MOST]
    mine = Job.objects.visible().for_user(request.user).in_flight().filter(pk__in=wanted)
    watched = list(mine.values_list("pk", flat=True))
    # Nothing to watch, or this process's threads for waiting are all held (lib/holding.py):
    # EventSource does not come back after a 204, and the page refreshes as before.
    if not watched or not holding.take():
        return HttpResponse(status=204)
    response = StreamingHttpResponse(
        holding.Releasing(_events(watched)), content_type="text/event-stream"
    )
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"  # a proxy in front must not hold the events back
    return response


def _events(job_ids: list[int]):
    # Watching starts before the first bytes, and so before the page hears the stream is
    # open and asks for its cards once: nothing between that read and this watch is missed.
    with watching(job_ids) as watch:
        yield f"retry: {RETRY_MS}\n\n"
        deadline = time.monotonic() + STREAM_SECONDS
        while (left := deadline - time.monotonic()) > 0:
            # wait() lets go of the database connection: an idle stream holds none.
            if watch.wait(min(HEARTBEAT_SECONDS, left)):
                yield "data: changed\n\n"
            else:
                yield ": heartbeat\n\n"
            if not watch.live:
                # Nothing can be heard for now (Redis away): the stream ends, so the page
                # refreshes every 2 s as without push until the browser comes back.
                yield f"retry: {AWAY_RETRY_MS}\n\n"
                return
