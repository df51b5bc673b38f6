"""Benchmark of held requests (not a test): the site's pages while many requests wait.

    .venv/bin/python bench/held.py [--api 50] [--streams 50] [--requests 60]

It starts the whole site as `./bin/run` does (`manage.py up`: gunicorn with
flux2web.lib.gunicorn_conf, the qcluster worker, the sandbox) in a throw-away data folder on
SQLite, with the sandbox's providers slowed so that no image lands during the run. It seeds
one person with a gallery and 7 API tokens, then times, over loopback, that person's studio
page and gallery:

- idle;
- while --api requests to POST /v1/images/generations wait for their images (spread over
  the tokens, each within its limit of requests waiting at once) and --streams studio event
  streams (/updates/stream) are open,

and prints each page's p50 and p95 and the ratio of the loaded p95 to the idle one (target:
at most 2x, measured side by side in this one run).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from html import unescape
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = Path(tempfile.mkdtemp(prefix="flux2web-bench-held-"))
TARGET = 2.0
TOKENS = 7
IMAGES = 500


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def configure():
    os.environ.update(
        {
            "FLUX2WEB_DATA_DIR": str(DATA),
            "FLUX2WEB_LOG_LEVEL": "warning",
            "DJANGO_SETTINGS_MODULE": "flux2web.settings",
            # Nothing lands while the requests are held: the run ends long before.
            "FLUX2WEB_SANDBOX_PROFILE": "*:speed=600",
        }
    )
    for name in ("DATABASE_URL", "REDIS_URL", "FLUX2WEB_DEBUG"):
        os.environ.pop(name, None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed():
    """One person with a gallery of finished images and TOKENS API tokens; their session."""
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils import timezone

    from flux2web.accounts import api_tokens
    from flux2web.jobs.models import Image, Job

    user = get_user_model().objects.create_user("bench")
    now = timezone.now()
    Job.objects.bulk_create(
        Job(owner=user, idempotency_key=f"seed-{n}:0", model="pro", prompt=f"a heron, study {n}",
            aspect_ratio="1:1", resolution="1K", state=Job.State.SUCCEEDED, price="0.05",
            created_at=now, finished_at=now)
        for n in range(IMAGES)
    )  # fmt: skip
    Image.objects.bulk_create(
        Image(job_id=pk, owner=user, index=0, status=Image.Status.MIRRORED, provider_url="x",
              original=f"images/{user.pk}/{pk}.png", thumbnail=f"thumbs/{user.pk}/{pk}.jpg",
              width=1024, height=1024, content_type="image/png")
        for pk in Job.objects.filter(owner=user).values_list("pk", flat=True)
    )  # fmt: skip
    tokens = [api_tokens.token_create(owner=user, name=f"tool {n}")[1] for n in range(TOKENS)]
    client = Client()
    client.force_login(user)
    return tokens, client.cookies["sessionid"].value


def start(port: int, sandbox_port: int) -> subprocess.Popen:
    manage = [sys.executable, str(ROOT / "manage.py"), "up", "--port", str(port)]
    proc = subprocess.Popen(
        [*manage, "--sandbox-port", str(sandbox_port)],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code < 500:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit("the site did not start within 60 s")


def measure(site: httpx.Client, path: str, requests: int) -> dict:
    for _ in range(5):
        site.get(path)
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = site.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    times.sort()
    return {"p50": statistics.median(times), "p95": times[int(len(times) * 0.95) - 1]}


def hold_api(base: str, token: str, stop: threading.Event, answered: list):
    try:
        response = httpx.post(
            f"{base}/v1/images/generations",
            json={"model": "flux-2-pro", "prompt": "a heron at dawn, held"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=900,
        )
        answered.append(response.status_code)
    except httpx.HTTPError as error:
        if not stop.is_set():
            answered.append(repr(error))


def hold_stream(base: str, cookie: str, cards: str, stop: threading.Event, opened: list):
    with httpx.Client(
        base_url=base, cookies={"sessionid": cookie}, timeout=httpx.Timeout(60, read=None)
    ) as client:
        try:
            with client.stream("GET", "/updates/stream", params={"cards": cards}) as response:
                opened.append(response.status_code)
                for _ in response.iter_raw():
                    if stop.is_set():
                        return
        except httpx.HTTPError:
            pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--api", type=int, default=50)
    parser.add_argument("--streams", type=int, default=50)
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()
    configure()
    from flux2web.api.models import ApiWait

    tokens, cookie = seed()
    port, sandbox_port = free_port(), free_port()
    proc = start(port, sandbox_port)
    base = f"http://127.0.0.1:{port}"
    stop = threading.Event()
    threads = []
    try:
        site = httpx.Client(base_url=base, cookies={"sessionid": cookie}, timeout=60)
        idle = {page: measure(site, page, args.requests) for page in ("/", "/gallery/")}

        answered: list = []
        for n in range(args.api):
            token = tokens[n % len(tokens)]
            threads.append(threading.Thread(target=hold_api, args=(base, token, stop, answered)))
            threads[-1].start()
        deadline = time.monotonic() + 120
        while ApiWait.objects.count() < args.api:
            if answered or time.monotonic() > deadline:
                raise SystemExit(f"the API requests did not all wait: {answered[:5]}")
            time.sleep(0.2)
        # The studio's refresher names the jobs in flight: each stream watches them.
        page = site.get("/").text
        found = re.search(r'data-push="[^"]*\?cards=([^"]+)"', page)
        if not found:
            raise SystemExit("the studio page names no event stream")
        cards = unescape(found.group(1))
        from urllib.parse import unquote

        cards = unquote(cards)
        opened: list = []
        for _ in range(args.streams):
            thread = threading.Thread(target=hold_stream, args=(base, cookie, cards, stop, opened))
            threads.append(thread)
            thread.start()
        deadline = time.monotonic() + 60
        while len(opened) < args.streams and time.monotonic() < deadline:
            time.sleep(0.1)
        if opened.count(200) < args.streams:
            raise SystemExit(f"only {opened.count(200)} of {args.streams} streams opened")
        held = ApiWait.objects.count()
        loaded = {page: measure(site, page, args.requests) for page in ("/", "/gallery/")}
        still = ApiWait.objects.count()
    finally:
        stop.set()
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(DATA, ignore_errors=True)

    streams = opened.count(200)
    print(f"held: {held} API requests waiting for images ({still} still at the end, "
          f"{len(answered)} answered meanwhile) and {streams} event streams open")  # fmt: skip
    print(f"\n{'page':<12}{'idle p50':>10}{'idle p95':>10}{'held p50':>10}{'held p95':>10}"
          f"{'ratio':>8}")  # fmt: skip
    checks = []
    for page in idle:
        before, after = idle[page], loaded[page]
        ratio = after["p95"] / before["p95"]
        print(f"{page:<12}{before['p50']:>10.2f}{before['p95']:>10.2f}"
              f"{after['p50']:>10.2f}{after['p95']:>10.2f}{ratio:>7.2f}x")  # fmt: skip
        checks.append((f"{page} p95 while held is {ratio:.2f}x idle (target <= {TARGET}x)",
                       ratio <= TARGET))  # fmt: skip
    checks.append((f"{still} of {args.api} API requests still waiting at the end, none answered",
                   still == args.api and not answered))  # fmt: skip
    print()
    for text, ok in checks:
        print(f"{'met   ' if ok else 'MISSED'} {text}")


if __name__ == "__main__":
    main()
