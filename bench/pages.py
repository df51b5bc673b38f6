"""Benchmark of the studio's pages (not a test): server time and queries with a big history.

    .venv/bin/python bench/pages.py [--images 10000] [--requests 300]

In a throw-away data folder on SQLite it seeds one user with --images finished images (and
a few jobs in flight), then times, in this process through Django's whole middleware
stack, signed in:

- the gallery's first page, and a search over the whole history;
- the in-flight refresh when nothing changed (what every open studio asks every 2 s);
- a bare Django view (HttpResponse("ok")) as the floor;
- a public share page (/s/…) of a 500-image collection, as an anonymous visitor (its
  view is counted, as in life), and of a 50-image one (the query count must not differ);
- the owner's collection page of the same 500 and 50 images, cached and uncached;
- the collection's Sharing panel, signed in;
- a proofed collection (the same 500 images, REVIEW_COMMENTS comments, two in three by the
  link's REVIEWERS guests and the rest by a teammate, every guest with picks), and one of
  50 images, 200 comments and 2 guests: the collection page, its Sharing panel, the link's
  review page and the public page, whose query counts must not differ between the two;
- "download all" of the 500 images as a streamed ZIP, with the memory it grew by;
- the providers' scoreboard over 30 days and over 24 hours, with the record of
  --score-jobs (200,000) jobs across 4 providers x 2 models over 30 days, counted from
  bulk-created jobs by the same rebuild a migration runs (whose time is printed); and its
  first view after a job ended (that job's line and the charts' changed bars drawn afresh),
  as a member and as an admin (whose page is kept too, its pacing table drawn each time).

Server time is measured around the handler, without a network hop; the query count is
of one request. Results go to stdout; the README keeps the last figures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = Path(tempfile.mkdtemp(prefix="flux2web-bench-pages-"))
TARGETS = {"gallery_p95_ms": 30, "gallery_queries": 8, "refresh_p95_ms": 5, "gallery_vs_bare": 3,
           "share_p95_ms": 15, "zip_growth_mb": 50, "studio_p95_ms": 15, "studio_queries": 8,
           "uncached_vs_bare": 3, "scoreboard_vs_bare": 3}  # fmt: skip
SHARED = 500
REVIEW_COMMENTS, REVIEWERS = 2_000, 20
WORDS = ["fox", "owl", "heron", "castle", "lighthouse", "forest", "river", "snow", "desert",
         "city", "night", "storm"]  # fmt: skip


def configure():
    os.environ.update(
        {
            "FLUX2WEB_DATA_DIR": str(DATA),
            "FLUX2WEB_LOG_LEVEL": "warning",
            "DJANGO_SETTINGS_MODULE": "flux2web.settings",
        }
    )
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("FLUX2WEB_DEBUG", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed(count: int):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from flux2web.credentials.services import add_credential
    from flux2web.jobs.models import Image, Job

    user = get_user_model().objects.create_user("bench")
    provider = add_credential(
        name="Sandbox", dialect="kie", base_url="http://127.0.0.1:9", api_key="sandbox-key"
    )
    now = timezone.now()
    jobs = [
        Job(owner=user, idempotency_key=f"seed-{n}:0", model="pro",
            prompt=f"a {WORDS[n % len(WORDS)]} and a {WORDS[(n * 7) % len(WORDS)]}, study {n}",
            aspect_ratio="1:1", resolution="1K", provider=provider, requested_provider=None,
            state=Job.State.SUCCEEDED, price="0.05", favourite=n % 50 == 0,
            created_at=now - timezone.timedelta(minutes=count - n), finished_at=now)
        for n in range(count)
    ]  # fmt: skip
    Job.objects.bulk_create(jobs, batch_size=2000)
    ids = list(Job.objects.filter(owner=user).order_by("pk").values_list("pk", flat=True))
    Image.objects.bulk_create(
        (
            Image(job_id=job_id, owner=user, index=0, status=Image.Status.MIRRORED, provider_url="http://x/",
                  original=f"images/{user.pk}/bench-{job_id}.png",
                  thumbnail=f"thumbs/{user.pk}/bench-{job_id}.jpg", width=1440, height=1440,
                  content_type="image/png", bytes=1_000_000)
            for job_id in ids
        ),
        batch_size=2000,
    )  # fmt: skip
    for n in range(5):  # what a person watching the studio has in flight
        Job.objects.create(owner=user, idempotency_key=f"flight-{n}:0", model="pro",
                           prompt=f"in flight {n}", provider=provider,
                           state=Job.State.RUNNING, progress=10 * n)  # fmt: skip
    return user


def seed_share(user, *, images: int = SHARED):
    """A collection of `images` of the user's images with real files, and links to it and
    to a tenth of it; returns (big link's path, small link's path, big collection's id,
    small collection's id, bytes of the big one's originals)."""
    import io
    from datetime import timedelta

    from django.core.files.storage import default_storage
    from django.utils import timezone
    from PIL import Image as PILImage

    from flux2web.collections.models import Collection, CollectionItem
    from flux2web.jobs.models import Image
    from flux2web.links import services as links

    # Incompressible pixels, so the archive is as big as real results would make it.
    out = io.BytesIO()
    PILImage.frombytes("RGB", (512, 512), os.urandom(512 * 512 * 3)).save(out, format="PNG")
    data = out.getvalue()
    picked = list(Image.objects.filter(owner=user).order_by("-id")[:images])
    for image in picked:
        path = default_storage.path(image.original.name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)
    made = []
    for count in (images, images // 10):
        collection = Collection.objects.create(owner=user, title=f"Spring campaign {count}")
        CollectionItem.objects.bulk_create(
            CollectionItem(collection=collection, image=image, added_by=user, position=n)
            for n, image in enumerate(picked[:count])
        )
        settings = links.LinkSettings(
            title=collection.title, expires_at=timezone.now() + timedelta(days=30),
            downloads="original", show_prompts=True, show_parameters=True,
        )  # fmt: skip
        link, token = links.link_create(owner=user, settings=settings, collection=collection)
        made.append((f"/s/{link.slug}-{token}/", collection.pk))
    return made[0][0], made[1][0], made[0][1], made[1][1], len(data) * images


def seed_review(user, collection_id: int, *, comments: int, reviewers: int):
    """A copy of the collection shared by a link with picks and comments on: `reviewers`
    guests, each picking 5 to 43 images and half of them confirmed, and `comments`
    comments, two in three by the guests (a few on the whole set), the rest by a teammate.
    Returns (collection id, link id, the link's path)."""
    import hashlib
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from flux2web.collections.models import Collection, CollectionItem
    from flux2web.links import services as links
    from flux2web.review.models import Comment, Pick, Reviewer

    source = Collection.objects.get(pk=collection_id)
    collection = Collection.objects.create(owner=user, title=f"Proofed {source.title}")
    images = list(source.items.order_by("position").values_list("image_id", flat=True))
    CollectionItem.objects.bulk_create(
        CollectionItem(collection=collection, image_id=pk, added_by=user, position=n)
        for n, pk in enumerate(images)
    )
    settings = links.LinkSettings(
        title=collection.title, expires_at=timezone.now() + timedelta(days=30), downloads="web",
        allow_picks=True, allow_comments=True, show_reviewers=True,
    )  # fmt: skip
    link, token = links.link_create(owner=user, settings=settings, collection=collection)
    now = timezone.now()
    guests = Reviewer.objects.bulk_create(
        Reviewer(link=link, name=f"Client {n}", last_seen_at=now - timedelta(minutes=n),
                 browser=hashlib.sha256(f"{link.pk}:{n}".encode()).hexdigest(),
                 confirmed_at=now if n % 2 else None)
        for n in range(reviewers)
    )  # fmt: skip
    Pick.objects.bulk_create(
        Pick(reviewer=guest, image_id=images[(n * 7 + k * 3) % len(images)])
        for n, guest in enumerate(guests)
        for k in range(5 + 2 * n)
    )
    teammate, _ = get_user_model().objects.get_or_create(username="bench-teammate")
    rows = []
    for n in range(comments):
        image_id = images[(n * 13) % len(images)]
        if n % 3 == 2:
            rows.append(Comment(author=teammate, image_id=image_id, body=f"team note {n}"))
        else:
            on_set = n % 50 == 0
            rows.append(Comment(reviewer=guests[n % len(guests)], body=f"warmer, please {n}",
                                image_id=None if on_set else image_id))  # fmt: skip
    Comment.objects.bulk_create(rows, batch_size=1000)
    return collection.pk, link.pk, f"/s/{link.slug}-{token}/"


def seed_scores(count: int) -> float:
    """`count` ended jobs of another person across 4 providers x 2 models over 30 days (most
    succeeded, some failed at the vendor or on content, timed out or were cancelled), and
    the providers' record counted from them by the rebuild (jobs/tallies.py), as a
    database with that history gets it. Returns the rebuild's seconds and a provider's id."""
    import random
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from flux2web.credentials.services import add_credential
    from flux2web.jobs import tallies
    from flux2web.jobs.models import Job

    person = get_user_model().objects.create_user("bench-scores")
    providers = [
        add_credential(name=f"Bench {dialect}", dialect=dialect, base_url="http://127.0.0.1:9",
                       api_key="sandbox-key", priority=10 * n)
        for n, dialect in enumerate(("kie", "apixo", "liangxin", "apimart"), 1)
    ]  # fmt: skip
    ends = [("succeeded", ""), ("failed", "generation_failed"), ("failed", "content_policy"),
            ("timed_out", "timeout"), ("cancelled", "")]  # fmt: skip
    draw = random.Random(20)  # noqa: S311 - a repeatable history, not a secret
    now = timezone.now()
    span = 30 * 86400 - 3600

    def job(n):
        state, error = ends[0] if draw.random() < 0.88 else draw.choice(ends[1:])
        finished = now - timedelta(seconds=draw.uniform(60, span))
        took = draw.gauss(25, 8) if n % 4 else draw.gauss(45, 15)
        submitted = finished - timedelta(seconds=max(3.0, took))
        return Job(owner=person, idempotency_key=f"score-{n}", model=("pro", "flex")[n % 2],
                   prompt="a heron", resolution="1K", provider=providers[(n // 2) % 4],
                   state=state, error_class=error, price="0.05", submitted_at=submitted,
                   mirrored_at=finished if state == "succeeded" else None, finished_at=finished,
                   created_at=submitted)  # fmt: skip

    for start in range(0, count, 20_000):
        Job.objects.bulk_create([job(n) for n in range(start, min(count, start + 20_000))],
                                batch_size=2000)  # fmt: skip
    started = time.perf_counter()
    tallies.rebuild()
    return time.perf_counter() - started, providers[0].pk


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def measure_zip(path: str) -> dict:
    """Stream "download all" once, chunk by chunk, as a server hands it to a socket; the
    Python heap's peak (tracemalloc) and the process's resident size, sampled per chunk."""
    import tracemalloc

    from django.test import Client

    client = Client(HTTP_USER_AGENT="Mozilla/5.0 bench")
    rss_before = rss_peak = _rss_mb()
    tracemalloc.start()
    started = time.perf_counter()
    response = client.get(path + "all.zip")
    size = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        rss_peak = max(rss_peak, _rss_mb())
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"bytes": size, "seconds": seconds, "peak_mb": peak / 2**20,
            "rss_growth_mb": rss_peak - rss_before}  # fmt: skip


def measure(client, url, *, requests: int, headers=None, expect=200, before_each=None) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    headers = headers or {}
    for _ in range(20):  # warm caches, connections, compiled templates
        response = client.get(url, headers=headers)
        assert response.status_code == expect, (url, response.status_code)
    if before_each:
        before_each()
    with CaptureQueriesContext(connection) as queries:
        client.get(url, headers=headers)
    # Counted now: the next request empties the connection's log the count reads from.
    query_count = len(queries)
    times = []
    for _ in range(requests):
        if before_each:
            before_each()
        started = time.perf_counter()
        client.get(url, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "p50": statistics.median(times),
        "p95": times[int(len(times) * 0.95) - 1],
        "queries": query_count,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--score-jobs", type=int, default=200_000)
    args = parser.parse_args()
    configure()

    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.http import HttpResponse
    from django.test import Client, override_settings
    from django.urls import clear_url_caches, path

    import flux2web.urls
    from flux2web.accounts.models import gallery_changed

    started = time.perf_counter()
    user = seed(args.images)
    print(f"seeded {args.images} images for one user in {time.perf_counter() - started:.1f} s")

    def bare(request):
        return HttpResponse("ok")

    module = type(sys)("bench_urls")
    module.urlpatterns = [path("_bare", bare), *flux2web.urls.urlpatterns]
    sys.modules["bench_urls"] = module
    client = Client()
    client.force_login(user)

    from flux2web.studio.views import _refresher

    cards = _refresher(user)
    hx = {"HX-Request": "true"}
    big, small, collection_id, small_collection_id, zip_bytes = seed_share(user)
    print(f"shared {SHARED} images with real files ({zip_bytes / 2**20:.0f} MB)")
    proofed = seed_review(user, collection_id, comments=REVIEW_COMMENTS, reviewers=REVIEWERS)
    few = seed_review(user, small_collection_id, comments=REVIEW_COMMENTS // 10, reviewers=2)
    print(f"proofed: {SHARED} images, {REVIEW_COMMENTS} comments, {REVIEWERS} reviewers")
    started = time.perf_counter()
    rebuilt, scored = seed_scores(args.score_jobs)
    print(f"scoreboard: {args.score_jobs} jobs in {time.perf_counter() - started:.0f} s, "
          f"their record rebuilt in {rebuilt:.1f} s")  # fmt: skip
    visitor = Client(HTTP_USER_AGENT="Mozilla/5.0 (iPhone) bench")

    def job_ended():
        from decimal import Decimal

        from flux2web.scores import tally

        done = tally.Outcome("succeeded", seconds=20, images=1, charged=Decimal("0.05"))
        tally.add(scored, "pro", done)

    with override_settings(ROOT_URLCONF="bench_urls", ALLOWED_HOSTS=["testserver"]):
        clear_url_caches()
        rows = {
            "bare view": measure(client, "/_bare", requests=args.requests),
            "gallery": measure(client, "/gallery/", requests=args.requests),
            "gallery, search": measure(client, "/gallery/?q=heron+night", requests=args.requests),
            # Rendered pages are cached per person until their gallery changes; this is
            # the first view after a change: the person's gallery token moves before every
            # request, as saving, deleting or starring an image does.
            "gallery, uncached": measure(
                client,
                "/gallery/",
                requests=args.requests,
                before_each=lambda: gallery_changed(user.pk),
            ),
            "gallery, next page": measure(
                client,
                "/gallery/?before=5000",
                requests=args.requests,
                headers={**hx, "HX-Target": "gallery-more"},
            ),
            "refresh, unchanged": measure(
                client,
                f"/updates?cards={cards}",
                requests=args.requests,
                headers=hx,
                expect=204,
            ),
            "studio": measure(client, "/", requests=args.requests),
            f"share page, {SHARED} images": measure(visitor, big, requests=args.requests),
            f"share page, {SHARED // 10} images": measure(visitor, small, requests=args.requests),
            # The owner's own collection page (first 60 tiles, more as they scroll): the
            # query count must not grow with the collection.
            f"collection, {SHARED} images": measure(
                client, f"/collections/{collection_id}/", requests=args.requests
            ),
            f"collection, {SHARED // 10} images": measure(
                client, f"/collections/{small_collection_id}/", requests=args.requests
            ),
            f"collection, {SHARED} uncached": measure(
                client,
                f"/collections/{collection_id}/",
                requests=args.requests,
                before_each=cache.clear,
            ),
            "sharing panel": measure(
                client, f"/collections/{collection_id}/sharing", requests=args.requests
            ),
        }
        for size, (proofed_id, link_id, path) in ((SHARED, proofed), (SHARED // 10, few)):
            rows[f"proofed collection, {size}"] = measure(
                client, f"/collections/{proofed_id}/", requests=args.requests
            )
            rows[f"proofed panel, {size}"] = measure(
                client, f"/collections/{proofed_id}/sharing", requests=args.requests
            )
            rows[f"review page, {size}"] = measure(
                client, f"/links/{link_id}/review", requests=args.requests
            )
            rows[f"proofed share page, {size}"] = measure(visitor, path, requests=args.requests)
        for window, words in (("30d", "30 days"), ("24h", "24 hours")):
            rows[f"scoreboard, {words}"] = measure(
                client, f"/scoreboard/?window={window}", requests=args.requests
            )
        # The first view after a job ended: its line and the charts are drawn afresh.
        rows["scoreboard, 30 days, a job just ended"] = measure(
            client, "/scoreboard/?window=30d", requests=args.requests // 3, before_each=job_ended
        )
        # An admin's page: kept as a member's, with the live pacing table drawn each time.
        admin = Client()
        admin.force_login(get_user_model().objects.create_user("bench-admin", is_team_admin=True))
        rows["scoreboard, 30 days, an admin"] = measure(
            admin, "/scoreboard/?window=30d", requests=args.requests
        )
        rows["scoreboard, 30 days, an admin, a job just ended"] = measure(
            admin, "/scoreboard/?window=30d", requests=args.requests // 3, before_each=job_ended
        )
        zipped = measure_zip(big)

    print(f"\n{'page':<28}{'p50 ms':>9}{'p95 ms':>9}{'queries':>9}")
    for name, row in rows.items():
        print(f"{name:<28}{row['p50']:>9.2f}{row['p95']:>9.2f}{row['queries']:>9}")
    print(f"\ndownload all, {SHARED} images: {zipped['bytes'] / 2**20:.0f} MB in "
          f"{zipped['seconds']:.1f} s; Python heap peak {zipped['peak_mb']:.1f} MB, "
          f"RSS grew {zipped['rss_growth_mb']:.1f} MB")  # fmt: skip
    gallery, refresh, floor = rows["gallery"], rows["refresh, unchanged"], rows["bare view"]
    shared, fewer = rows[f"share page, {SHARED} images"], rows[f"share page, {SHARED // 10} images"]
    ratio = gallery["p95"] / floor["p95"]
    studio, uncached = rows["studio"], rows["gallery, uncached"]
    uncached_ratio = uncached["p95"] / floor["p95"]
    checks = [
        (f"studio p95 {studio['p95']:.1f} ms <= {TARGETS['studio_p95_ms']} ms",
         studio["p95"] <= TARGETS["studio_p95_ms"]),
        (f"studio queries {studio['queries']} <= {TARGETS['studio_queries']}",
         studio["queries"] <= TARGETS["studio_queries"]),
        (f"gallery, first view after a change (uncached) p95 is {uncached_ratio:.1f}x the bare "
         f"view's, same run (target <= {TARGETS['uncached_vs_bare']}x)",
         uncached_ratio <= TARGETS["uncached_vs_bare"]),
        (f"gallery p95 {gallery['p95']:.1f} ms <= {TARGETS['gallery_p95_ms']} ms",
         gallery["p95"] <= TARGETS["gallery_p95_ms"]),
        (f"gallery queries {gallery['queries']} <= {TARGETS['gallery_queries']}",
         gallery["queries"] <= TARGETS["gallery_queries"]),
        (f"refresh p95 {refresh['p95']:.2f} ms <= {TARGETS['refresh_p95_ms']} ms",
         refresh["p95"] <= TARGETS["refresh_p95_ms"]),
        (f"gallery p95 is {ratio:.1f}x the bare view's (target <= {TARGETS['gallery_vs_bare']}x)",
         ratio <= TARGETS["gallery_vs_bare"]),
        (f"share page p95 {shared['p95']:.1f} ms <= {TARGETS['share_p95_ms']} ms",
         shared["p95"] <= TARGETS["share_p95_ms"]),
        (f"share page queries {shared['queries']} for {SHARED} images = {fewer['queries']} "
         f"for {SHARED // 10}", shared["queries"] == fewer["queries"]),
        (f"collection page p95 {rows[f'collection, {SHARED} images']['p95']:.1f} ms "
         f"(uncached {rows[f'collection, {SHARED} uncached']['p95']:.1f} ms) <= "
         f"{TARGETS['share_p95_ms']} ms",
         rows[f"collection, {SHARED} images"]["p95"] <= TARGETS["share_p95_ms"]),
        (f"collection page queries {rows[f'collection, {SHARED} images']['queries']} for "
         f"{SHARED} images = {rows[f'collection, {SHARED // 10} images']['queries']} for "
         f"{SHARED // 10}", rows[f"collection, {SHARED} images"]["queries"]
         == rows[f"collection, {SHARED // 10} images"]["queries"]),
        (f"download all grew memory by {max(zipped['peak_mb'], zipped['rss_growth_mb']):.1f} MB"
         f" <= {TARGETS['zip_growth_mb']} MB",
         max(zipped["peak_mb"], zipped["rss_growth_mb"]) <= TARGETS["zip_growth_mb"]),
    ]  # fmt: skip
    checks += proofed_checks(rows)
    board, day = rows["scoreboard, 30 days"], rows["scoreboard, 24 hours"]
    board_ratio = board["p95"] / floor["p95"]
    checks += [
        (f"scoreboard over 30 days of {args.score_jobs} jobs p95 is {board_ratio:.1f}x the bare "
         f"view's, same run (target <= {TARGETS['scoreboard_vs_bare']}x)",
         board_ratio <= TARGETS["scoreboard_vs_bare"]),
        (f"scoreboard queries {board['queries']} over 30 days = {day['queries']} over 24 hours",
         board["queries"] == day["queries"]),
    ]  # fmt: skip
    for name in ("a job just ended", "an admin", "an admin, a job just ended"):
        ratio = rows[f"scoreboard, 30 days, {name}"]["p95"] / floor["p95"]
        checks.append((f"scoreboard over 30 days, {name}, p95 is {ratio:.1f}x the bare view's "
                       f"(target <= {TARGETS['scoreboard_vs_bare']}x)",
                       ratio <= TARGETS["scoreboard_vs_bare"]))  # fmt: skip
    print()
    for text, ok in checks:
        print(f"{'met   ' if ok else 'MISSED'} {text}")
    shutil.rmtree(DATA, ignore_errors=True)  # the shared images' files are hundreds of MB


def proofed_checks(rows) -> list[tuple[str, bool]]:
    """The proofed collection's pages: the collection and share page within their targets
    as they are without a review, and no query count that grows with images, comments and
    reviewers (500 images, 2,000 comments, 20 guests against 50, 200, 2)."""
    big, few = SHARED, SHARED // 10
    target = TARGETS["share_p95_ms"]
    checks = []
    for page in ("proofed collection", "proofed share page"):
        p95 = rows[f"{page}, {big}"]["p95"]
        checks.append((f"{page} p95 {p95:.1f} ms <= {target} ms", p95 <= target))
    for page in ("proofed collection", "proofed panel", "review page", "proofed share page"):
        many, fewer = rows[f"{page}, {big}"]["queries"], rows[f"{page}, {few}"]["queries"]
        checks.append((
            f"{page} queries {many} with {big} images, {REVIEW_COMMENTS} comments, "
            f"{REVIEWERS} reviewers = {fewer} with {few}, {REVIEW_COMMENTS // 10}, 2",
            many == fewer,
        ))  # fmt: skip
    return checks


if __name__ == "__main__":
    main()
