"""Benchmark of Compare providers (not a test): from the press of Compare to the last
provider's create, against the floor of one single-provider job's press to its create.

    .venv/bin/python bench/compare.py [--rounds 5] [--workers 3]

In a throw-away data folder on SQLite with the ORM broker: the sandbox provider (in this
process, so each create's arrival is read off its clock), its five providers registered
as `manage.py up` registers them, and a qcluster (its own process). Each round presses
the studio's Generate with one named provider (the floor), then Compare with all five,
through the studio's own view; the time is from the press to the create reaching the
sandbox. It also checks that each provider was asked exactly once per comparison.

Results go to stdout; the README keeps the last figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = Path(tempfile.mkdtemp(prefix="flux2web-bench-compare-"))

# The five providers of a fresh install, each on its sandbox mount.
PROVIDERS = [
    ("LiangXin", "liangxin", "liangxin"),
    ("KIE.ai", "kie", "kie"),
    ("Apikley", "kie", "apikley"),
    ("Apixo", "apixo", "apixo"),
    ("APIMart", "apimart", "apimart"),
]


def configure(sandbox_host: str, workers: int) -> None:
    os.environ.update(
        {
            "FLUX2WEB_DATA_DIR": str(DATA),
            "FLUX2WEB_QUEUE_NAME": f"bench-{uuid.uuid4().hex[:8]}",
            "FLUX2WEB_ALLOW_PRIVATE_URLS": sandbox_host,
            "FLUX2WEB_LOG_LEVEL": "warning",
            "FLUX2WEB_WORKERS": str(workers),
            "DJANGO_SETTINGS_MODULE": "flux2web.settings",
        }
    )
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def wait_for_worker(timeout: float = 60) -> None:
    from flux2web.core.models import Heartbeat

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if Heartbeat.objects.worker_alive():
            return
        time.sleep(0.2)
    raise SystemExit("the qcluster did not start")


def press(client, credentials, *, names, prompt) -> float:
    """Press Generate (one name) or Compare (several) in the studio; the moment pressed."""
    data = {
        "prompt": prompt, "model": "pro", "count": "1", "aspect_ratio": "1:1",
        "idempotency_key": uuid.uuid4().hex,
    }  # fmt: skip
    if len(names) == 1:
        data["provider"] = str(credentials[names[0]].pk)
    else:
        data.update(provider="", action="compare", compare=[str(credentials[n].pk) for n in names])
    pressed = time.time()
    response = client.post("/generate", data, HTTP_HOST="localhost")
    if response.status_code != 302:
        raise SystemExit(f"the press was refused: {response.status_code}")
    return pressed


def creates_for(sandbox, prompt: str, n: int, timeout: float = 30) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tasks = [t for t in list(sandbox.tasks.values()) if t.prompt == prompt]
        if len(tasks) >= n:
            return tasks
        time.sleep(0.005)
    raise SystemExit(f"{prompt!r}: {n} creates did not arrive")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args()

    from flux2web.providers.sandbox import Sandbox, SandboxConfig

    sandbox = Sandbox(config=SandboxConfig(duration=1.0)).start()
    configure(sandbox.url.removeprefix("http://"), args.workers)

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from flux2web.credentials.services import add_credential

    owner = get_user_model().objects.create_user("bench", password=uuid.uuid4().hex)
    credentials = {
        name: add_credential(name=name, dialect=dialect, base_url=sandbox.base_url(mount),
                             api_key="sandbox-key", priority=10 * (n + 1))
        for n, (name, dialect, mount) in enumerate(PROVIDERS)
    }  # fmt: skip
    client = Client()
    client.force_login(owner)
    cluster = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "qcluster"],
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for_worker()
        names = [name for name, _, _ in PROVIDERS]
        floors, lasts, firsts, twice = [], [], [], 0
        for round_ in range(args.rounds):
            prompt = f"bench floor {round_}"
            pressed = press(client, credentials, names=names[:1], prompt=prompt)
            (task,) = creates_for(sandbox, prompt, 1)
            floors.append(task.created - pressed)
            prompt = f"bench compare {round_}"
            pressed = press(client, credentials, names=names, prompt=prompt)
            tasks = creates_for(sandbox, prompt, len(names))
            time.sleep(0.5)  # anything asked twice would have come by now
            tasks = [t for t in list(sandbox.tasks.values()) if t.prompt == prompt]
            twice += len(tasks) - len({t.mount for t in tasks})
            firsts.append(min(t.created for t in tasks) - pressed)
            lasts.append(max(t.created for t in tasks) - pressed)
            time.sleep(1.5)  # the jobs finish and are stored before the next round

        def ms(values):
            return (
                f"median {statistics.median(values) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms"
            )

        print("## Compare providers: press -> creates at the sandbox")
        print(
            f"{args.rounds} rounds, {args.workers} workers, ORM broker, "
            f"SUBMIT_RATE {settings.SUBMIT_RATE}/s"
        )
        print(f"floor, one provider's press -> its create: {ms(floors)}")
        print(f"compare 5 providers, press -> first create: {ms(firsts)}")
        print(f"compare 5 providers, press -> last create:  {ms(lasts)}")
        print(
            "last create against the floor: "
            f"+{(statistics.median(lasts) - statistics.median(floors)) * 1000:.0f} ms (median)"
        )
        print(f"providers asked twice: {twice}")
    finally:
        cluster.terminate()
        try:
            cluster.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(cluster.pid, 9)
        sandbox.stop()


if __name__ == "__main__":
    main()
