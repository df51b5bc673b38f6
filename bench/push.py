"""Benchmark of push (not a test): from a job done at the provider to its picture drawn on
the studio card, in a real browser.

    .venv/bin/python bench/push.py [--jobs 20] [--every 1.5] [--duration 2]

In a throw-away data folder on SQLite with the ORM broker (or on DATABASE_URL/REDIS_URL when
--keep-env is given): the sandbox provider in this process (so each task's end is read off
its clock), one provider that calls back (KIE.ai), gunicorn with flux2web.lib.gunicorn_conf
for the pages and the callbacks, a qcluster, and Chromium with the studio open. It presses
Generate --jobs times, --every seconds apart, each job taking --duration s at the provider,
and records when each card's picture is drawn. Printed: p50/p95 of

- provider done -> on screen (the callback, the push, the card fetched and its thumbnail
  drawn): target p95 <= 0.5 s;
- of which provider done -> stored (the callback, the poll and the download it asks for);
- of which stored (the job's move to succeeded) -> on screen: the push's own part.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = Path(tempfile.mkdtemp(prefix="flux2web-bench-push-"))
TARGET = 0.5
CHROMIUM = os.environ.get("FLUX2WEB_CHROMIUM", "/usr/bin/chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def configure(sandbox_host: str, web_port: int, keep_env: bool) -> None:
    os.environ.update(
        {
            "FLUX2WEB_DATA_DIR": str(DATA),
            "FLUX2WEB_QUEUE_NAME": f"bench-{uuid.uuid4().hex[:8]}",
            "FLUX2WEB_ALLOW_PRIVATE_URLS": sandbox_host,
            "FLUX2WEB_PUBLIC_URL": f"http://127.0.0.1:{web_port}",
            "FLUX2WEB_LOG_LEVEL": "warning",
            "DJANGO_SETTINGS_MODULE": "flux2web.settings",
        }
    )
    if not keep_env:
        for name in ("DATABASE_URL", "REDIS_URL"):
            os.environ.pop(name, None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def spawn(*command: str) -> subprocess.Popen:
    return subprocess.Popen(
        list(command),
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def wait_until(what: str, predicate, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise SystemExit(f"{what} did not happen within {timeout:g} s")


def web_up(port: int) -> bool:
    import httpx

    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code < 500
    except httpx.HTTPError:
        return False


def percentiles(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[max(0, round(len(values) * 0.95) - 1)]
    return f"p50 {statistics.median(values) * 1000:4.0f} ms, p95 {p95 * 1000:4.0f} ms"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--every", type=float, default=1.5, help="seconds between presses")
    parser.add_argument("--duration", type=float, default=2.0, help="seconds at the provider")
    parser.add_argument("--keep-env", action="store_true", help="use DATABASE_URL/REDIS_URL")
    args = parser.parse_args()

    from flux2web.providers.sandbox import Sandbox, SandboxConfig

    sandbox = Sandbox(config=SandboxConfig(duration=args.duration, create_limit=None)).start()
    web_port = free_port()
    configure(sandbox.url.removeprefix("http://"), web_port, args.keep_env)

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from playwright.sync_api import expect, sync_playwright

    from flux2web.core.models import Heartbeat
    from flux2web.credentials.services import add_credential
    from flux2web.jobs.models import Job, JobEvent
    from tests.e2e.watching import WATCH_PICTURES

    owner = get_user_model().objects.create_user("bench", password=uuid.uuid4().hex)
    add_credential(name="KIE.ai", dialect="kie", base_url=sandbox.base_url("kie"),
                   api_key="sandbox-key", priority=10)  # fmt: skip
    client = Client()
    client.force_login(owner)
    procs = [
        spawn(sys.executable, "-m", "gunicorn", "flux2web.wsgi:application", "--bind",
              f"127.0.0.1:{web_port}", "--workers", "2",
              "--config", "python:flux2web.lib.gunicorn_conf"),
        spawn(sys.executable, str(ROOT / "manage.py"), "qcluster"),
    ]  # fmt: skip
    try:
        wait_until("the web server's start", lambda: web_up(web_port))
        wait_until("the worker's start", Heartbeat.objects.worker_alive)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            base = f"http://127.0.0.1:{web_port}"
            page.context.add_cookies(
                [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}]
            )
            page.goto(base + "/")
            page.evaluate(WATCH_PICTURES)
            prompt = page.get_by_label("Prompt", exact=True)
            for n in range(args.jobs):
                pressed = time.monotonic()
                prompt.fill(f"a paper boat on a puddle, take {n}")
                prompt.press("Control+Enter")
                page.locator("#job-list .job-card", has_text=f"take {n}").first.wait_for()
                # The button is held a moment after each press, against double clicks.
                expect(page.locator("#compose .generate-bar button[type=submit]")).to_be_enabled()
                page.wait_for_timeout(max(0, args.every - (time.monotonic() - pressed)) * 1000)
            wait_until(
                "every picture on screen",
                lambda: len(page.evaluate("() => window.__shown")) >= args.jobs,
                timeout=args.duration + 60,
            )
            shown = page.evaluate("() => window.__shown")
            browser.close()
        callbacks = sandbox.stats["callbacks_sent"]
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        sandbox.stop()
        shutil.rmtree(DATA, ignore_errors=True)

    done_at = {t.prompt: t.created + t.duration for t in list(sandbox.tasks.values())}
    done, stored, pipeline = [], [], []
    steps = {"callback": [], "status read": [], "downloaded": []}
    for pk, prompt_text, finished in Job.objects.filter(owner=owner).values_list(
        "pk", "prompt", "finished_at"
    ):
        drawn = shown[str(pk)] / 1000
        done.append(drawn - done_at[prompt_text])
        stored.append(drawn - finished.timestamp())
        pipeline.append(finished.timestamp() - done_at[prompt_text])
        # Where the pipeline's part goes, from the job's own event log.
        events = JobEvent.objects.filter(job_id=pk)
        heard = events.filter(message__startswith="callback says").first()
        read = events.filter(kind="call", method="GET").last()
        mirroring = events.filter(to_state="mirroring").first()
        if heard and read and mirroring:
            steps["callback"].append(heard.at.timestamp() - done_at[prompt_text])
            steps["status read"].append((read.at - heard.at).total_seconds())
            steps["downloaded"].append((finished - mirroring.at).total_seconds())
    broker = "Redis (broker, push)" if settings.REDIS_URL else "ORM broker, push by the database"
    print("## Push: a job done at the provider -> its picture on the studio card (Chromium)")
    print(f"{len(done)} jobs, one every {args.every:g} s, {args.duration:g} s each at KIE.ai "
          f"(sandbox) with callbacks ({callbacks} sent); "
          f"{settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, {broker}")  # fmt: skip
    print(f"provider done -> on screen: {percentiles(done)}")
    print(f"  of which provider done -> stored: {percentiles(pipeline)}")
    for step, values in steps.items():
        if values:
            print(f"    {step + ':':<31} {percentiles(values)}")
    print(f"  of which stored -> on screen:     {percentiles(stored)}")
    p95 = sorted(done)[max(0, round(len(done) * 0.95) - 1)]
    print(f"{'met   ' if p95 <= TARGET else 'MISSED'} p95 done -> on screen <= {TARGET:g} s")


if __name__ == "__main__":
    main()
