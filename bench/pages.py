"""Benchmark of the studio's pages (not a test): server time and queries with a big history.

    .venv/bin/python bench/pages.py [--images 10000] [--requests 300]

In a throw-away data folder on SQLite it seeds one user with --images finished images (and
a few jobs in flight), then times, in this process through Django's whole middleware
stack, signed in:

- the gallery's first page, and a search over the whole history;
- the in-flight refresh when nothing changed (what every open studio asks every 2 s);
- a bare Django view (HttpResponse("ok")) as the floor.

Server time is measured around the handler, without a network hop; the query count is
of one request. Results go to stdout; the README keeps the last figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = Path(tempfile.mkdtemp(prefix="flux2web-bench-pages-"))
TARGETS = {"gallery_p95_ms": 30, "gallery_queries": 8, "refresh_p95_ms": 5, "gallery_vs_bare": 3}
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
    args = parser.parse_args()
    configure()

    from django.core.cache import cache
    from django.http import HttpResponse
    from django.test import Client, override_settings
    from django.urls import clear_url_caches, path

    import flux2web.urls

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
    with override_settings(ROOT_URLCONF="bench_urls", ALLOWED_HOSTS=["testserver"]):
        clear_url_caches()
        rows = {
            "bare view": measure(client, "/_bare", requests=args.requests),
            "gallery": measure(client, "/gallery/", requests=args.requests),
            "gallery, search": measure(client, "/gallery/?q=heron+night", requests=args.requests),
            # Rendered pages are cached per person until their gallery changes; this is
            # the first view after a change (cache emptied before every request).
            "gallery, uncached": measure(
                client, "/gallery/", requests=args.requests, before_each=cache.clear
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
        }

    print(f"\n{'page':<22}{'p50 ms':>9}{'p95 ms':>9}{'queries':>9}")
    for name, row in rows.items():
        print(f"{name:<22}{row['p50']:>9.2f}{row['p95']:>9.2f}{row['queries']:>9}")
    gallery, refresh, floor = rows["gallery"], rows["refresh, unchanged"], rows["bare view"]
    ratio = gallery["p95"] / floor["p95"]
    checks = [
        (f"gallery p95 {gallery['p95']:.1f} ms <= {TARGETS['gallery_p95_ms']} ms",
         gallery["p95"] <= TARGETS["gallery_p95_ms"]),
        (f"gallery queries {gallery['queries']} <= {TARGETS['gallery_queries']}",
         gallery["queries"] <= TARGETS["gallery_queries"]),
        (f"refresh p95 {refresh['p95']:.2f} ms <= {TARGETS['refresh_p95_ms']} ms",
         refresh["p95"] <= TARGETS["refresh_p95_ms"]),
        (f"gallery p95 is {ratio:.1f}x the bare view's (target <= {TARGETS['gallery_vs_bare']}x)",
         ratio <= TARGETS["gallery_vs_bare"]),
    ]  # fmt: skip
    print()
    for text, ok in checks:
        print(f"{'met   ' if ok else 'MISSED'} {text}")


if __name__ == "__main__":
    main()
