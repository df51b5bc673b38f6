"""Benchmark of the job pipeline (not a test): N jobs through the sandbox, real processes.

    .venv/bin/python bench/pipeline.py [--jobs 500] [--in-flight 2000] [--size 512]

Starts, in a throw-away data folder on SQLite with the ORM broker: the sandbox provider
(its own process), a qcluster, and for callbacks a gunicorn web server. Then it measures

1. N jobs with zero generation time, polling only: jobs per second end to end, creates
   and polls per job, completion -> mirrored latency;
2. N jobs with 20 s generation time, with callbacks: polls per job against KIE's schedule,
   completion -> mirrored latency;
3. poll lateness with --in-flight jobs running, followed by one poller;
4. the peak RSS of every worker process;
5. 60 jobs on one KIE-dialect credential with the vendor's documented create limit on
   (20 new tasks per 10 s, enforced by the sandbox): creates the vendor refused (must be
   0) and the time they took against the floor the limit allows;
6. the floor for the whole pipeline: a minimal loop doing the same create -> poll ->
   download -> store against the same sandbox, and run 1's throughput as a share of it.

`--limits-only` runs just 5, 6 and the run 1 that 6 compares with (use a smaller --jobs).

`--scale-out` runs the same on the shape of several machines: PostgreSQL (a throw-away
database on 127.0.0.1:5432, dropped afterwards), Redis (127.0.0.1:6379) as the broker,
media in an S3 bucket served over HTTP by moto's standalone server (its own process),
and two qcluster processes as two machines would run them, plus gunicorn for callbacks.
It adds: run 1 with one cluster and with two in the same run and their ratio, twice:
with each sandbox answer taking --provider-latency seconds (as a real vendor's do, so the
workers set the pace) and with answers at once (so this machine's cores do); the second
person's wait behind a teammate's batch (the fair queue), and each process's peak RSS.
`--clusters-only` runs just the four cluster runs.

Results go to stdout; the README keeps the last figures.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = Path(tempfile.mkdtemp(prefix="flux2web-bench-"))
SANDBOX_PORT = None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def configure():
    global SANDBOX_PORT
    SANDBOX_PORT = free_port()
    os.environ.update(
        {
            "FLUX2WEB_DATA_DIR": str(DATA),
            "FLUX2WEB_QUEUE_NAME": f"bench-{uuid.uuid4().hex[:8]}",
            "FLUX2WEB_ALLOW_PRIVATE_URLS": f"127.0.0.1:{SANDBOX_PORT}",
            "FLUX2WEB_LOG_LEVEL": "warning",
            "DJANGO_SETTINGS_MODULE": "flux2web.settings",
        }
    )
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def manage(*args, env=None, log=None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env={**os.environ, **(env or {})},
        stdout=log or subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


CLUSTERS = 1  # qcluster processes per run: two with --scale-out, as on two machines


def start_clusters(env, n: int | None = None) -> list[subprocess.Popen]:
    return [manage("qcluster", env=env) for _ in range(n or CLUSTERS)]


def stop_all(procs):
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        stop(proc)


def stop(proc: subprocess.Popen):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()


def wait_http(url: str, timeout=30):
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


class RssSampler(threading.Thread):
    """Peak resident memory of each process under a qcluster, sampled every 0.2 s."""

    def __init__(self, root_pid: int):
        super().__init__(daemon=True)
        self.root_pid = root_pid
        self.peaks: dict[int, int] = {}
        self.names: dict[int, str] = {}
        self.depth: dict[int, int] = {}
        self.running = True

    def run(self):
        while self.running:
            for pid in self.tree(self.root_pid):
                try:
                    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                        if line.startswith("VmRSS:"):
                            kb = int(line.split()[1])
                            self.peaks[pid] = max(self.peaks.get(pid, 0), kb)
                    if pid not in self.names:
                        self.names[pid] = process_name(pid)
                except (FileNotFoundError, ProcessLookupError):
                    pass
            time.sleep(0.2)

    def tree(self, pid: int, depth: int = 0) -> list[int]:
        try:
            kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except FileNotFoundError:
            return []
        self.depth.setdefault(pid, depth)
        return [pid, *[p for k in kids for p in self.tree(int(k), depth + 1)]]


def process_name(pid: int) -> str:
    """What a process is, from its command line (django-q2 renames its own with
    setproctitle when that is installed; otherwise every qcluster process reads the same)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except FileNotFoundError:
        return "?"
    words = [a.decode(errors="replace") for a in argv if a]
    for marker in ("qcluster", "gunicorn", "moto.server", "sandbox"):
        if any(marker in w for w in words):
            return marker.replace("moto.server", "moto S3 server")
    return " ".join(Path(w).name for w in words[:3])


def pct(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(q / 100 * (len(values) - 1)))]


def sandbox_stats():
    import httpx

    return httpx.get(f"http://127.0.0.1:{SANDBOX_PORT}/_sandbox/stats").json()


def reset_sandbox(duration: float, latency: float = 0.0):
    import httpx

    base = f"http://127.0.0.1:{SANDBOX_PORT}/_sandbox"
    httpx.post(f"{base}/reset")
    httpx.post(f"{base}/config", json={"duration": duration, "latency": latency})


def make_jobs(owner, credential, n, size, prompt="bench"):
    from flux2web.jobs import services
    from flux2web.providers.types import GenerationRequest, Model

    request = GenerationRequest(model=Model.PRO, prompt=prompt, width=size, height=size)
    jobs = []
    for start in range(0, n, 4):
        spec = services.JobSpec(request=request, provider=credential, count=min(4, n - start))
        jobs += services.create_jobs(owner=owner, spec=spec, idempotency_key=uuid.uuid4().hex)
    return [j.pk for j in jobs]


def wait_done(ids, timeout):
    from flux2web.jobs.models import Job

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = Job.objects.filter(pk__in=ids).exclude(state__in=Job.FINAL).count()
        if not left:
            return True
        time.sleep(0.25)
    return False


def report_run(title, ids, started, ended, *, generation, expected_polls):
    from flux2web.jobs.models import Job

    jobs = list(Job.objects.filter(pk__in=ids))
    states = {}
    for job in jobs:
        states[job.state] = states.get(job.state, 0) + 1
    stats = sandbox_stats()
    creates = sum(v for k, v in stats.items() if k.startswith("create_requests:"))
    polls = sum(v for k, v in stats.items() if k.startswith("status_reads:"))
    latency = [
        (j.mirrored_at - j.provider_finished_at).total_seconds()
        for j in jobs
        if j.mirrored_at and j.provider_finished_at
    ]
    n = len(ids)
    print(f"\n## {title}")
    print(f"jobs: {n}, generation time {generation} s, outcome {states}")
    print(f"end to end: {ended - started:.1f} s, {n / (ended - started):.1f} jobs/s")
    print(f"creates per job: {creates / n:.2f} (target exactly 1)")
    print(f"polls per job: {polls / n:.2f} (vendor schedule allows at most {expected_polls})")
    print(
        f"completion -> mirrored: p50 {pct(latency, 50):.2f} s, p95 {pct(latency, 95):.2f} s, "
        f"max {max(latency, default=float('nan')):.2f} s"
    )
    return {"jobs_per_s": n / (ended - started), "creates": creates / n, "polls": polls / n,
            "p95": pct(latency, 95)}  # fmt: skip


def limit_floor(jobs: int, count: int, seconds: float) -> float:
    """The least time `jobs` creates can take at `count` per `seconds`: the first `count`
    go at once, each further `count` one window later."""
    return max(0, -(-jobs // count) - 1) * seconds


def kie_limit_run(owner, sandbox_url, workers_env, *, jobs=60):
    """`jobs` jobs on one KIE-dialect key with the documented limit on: refused creates
    (must be 0), and how long the creates took against what the limit makes necessary."""
    import httpx

    from flux2web.credentials.services import add_credential
    from flux2web.jobs import services
    from flux2web.jobs.models import Job
    from flux2web.providers.catalog import DIALECTS
    from flux2web.providers.types import GenerationRequest, Model

    count, seconds = DIALECTS["kie"].create_limit
    reset_sandbox(duration=0)
    httpx.post(f"{sandbox_url}/_sandbox/config", json={"create_limit": [count, seconds]})
    credential = add_credential(name="Bench KIE", dialect="kie", api_key="sandbox-key",
                                base_url=f"{sandbox_url}/kie")  # fmt: skip
    request = GenerationRequest(model=Model.PRO, prompt="limited", aspect_ratio="1:1",
                                resolution="1K")  # fmt: skip
    ids = []
    for start in range(0, jobs, 4):
        spec = services.JobSpec(request=request, provider=credential, count=min(4, jobs - start))
        ids += [j.pk for j in services.create_jobs(owner=owner, spec=spec,
                                                   idempotency_key=uuid.uuid4().hex)]  # fmt: skip
    clusters = start_clusters(workers_env)
    started = time.monotonic()
    done = wait_done(ids, timeout=300)
    ended = time.monotonic()
    stop_all(clusters)
    finished = list(Job.objects.filter(pk__in=ids))
    states = {}
    for job in finished:
        states[job.state] = states.get(job.state, 0) + 1
    sent = sorted(j.submitted_at for j in finished if j.submitted_at)
    span = (sent[-1] - sent[0]).total_seconds() if sent else float("nan")
    floor = limit_floor(jobs, count, seconds)
    stats = sandbox_stats()
    print(f"\n## {jobs} jobs on one KIE key, its limit on ({count} new tasks per {seconds:g} s)")
    print(f"jobs: {jobs}, outcome {states}{'' if done else ' (did not finish in 5 minutes)'}")
    print(f"creates refused by the vendor: {stats.get('rate_refused:kie', 0)} (must be 0); "
          f"creates sent: {stats.get('create_requests:kie', 0)}")  # fmt: skip
    print(f"first to last create: {span:.1f} s; floor at {count} per {seconds:g} s: "
          f"{floor:.1f} s; ratio {span / floor if floor else float('nan'):.2f}")  # fmt: skip
    print(f"end to end (workers started to last image stored): {ended - started:.1f} s")
    return {"refused": stats.get("rate_refused:kie", 0), "span": span, "floor": floor}


def minimal_loop(sandbox_url, *, jobs, size, threads):
    """The floor for the whole pipeline: the same create -> poll -> download -> store
    against the same sandbox, with nothing else (no database, no queue, no pacing), in
    `threads` threads like the workers."""
    import hashlib
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    from flux2web.providers import client_for
    from flux2web.providers.types import GenerationRequest, Model

    reset_sandbox(duration=0)
    folder = DATA / "minimal-loop"
    folder.mkdir(exist_ok=True)
    request = GenerationRequest(model=Model.PRO, prompt="floor", width=size, height=size)

    def one(n: int):
        with client_for("liangxin", base_url=f"{sandbox_url}/liangxin",
                        api_key="sandbox-key") as client:  # fmt: skip
            task_id = client.create(request).task_id
            while not (status := client.status(task_id)).state.is_final:
                time.sleep(0.01)
        data = httpx.get(status.results[0].url, timeout=30).content
        (folder / f"{n}-{hashlib.sha256(data).hexdigest()[:16]}.png").write_bytes(data)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(one, range(jobs)))
    elapsed = time.monotonic() - started
    print(f"\n## Floor: a minimal create -> poll -> download -> store loop, {threads} threads")
    print(f"jobs: {jobs}, {elapsed:.1f} s, {jobs / elapsed:.1f} jobs/s")
    return jobs / elapsed


def kie_polls_until(seconds: float) -> int:
    """How many status reads KIE's schedule makes for a task that takes `seconds`."""
    from flux2web.providers.dialects.kie.capabilities import SCHEDULE as KIE_SCHEDULE

    t, count = KIE_SCHEDULE.first_after, 1
    while t < seconds:
        t += KIE_SCHEDULE.next_poll_in(t)
        count += 1
    return count


def lateness_run(owner, credential, in_flight, size, workers_env):
    """`in_flight` running jobs, one poller: how late is each poll against its schedule?"""
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from flux2web.core.models import Heartbeat
    from flux2web.jobs import following
    from flux2web.jobs import poller as job_poller
    from flux2web.jobs.models import Job

    reset_sandbox(duration=3600)
    ids = make_jobs(owner, credential, in_flight, size, prompt="in flight [sandbox:never]")
    print(f"\n## {in_flight} jobs in flight, followed by one poller")
    started = time.monotonic()
    # Setting the stage, not measured: no pacing.
    submitters = start_clusters({**workers_env, "FLUX2WEB_SUBMIT_RATE": "0"})
    while Job.objects.filter(pk__in=ids, state="running").count() < in_flight:
        if time.monotonic() - started > 900:
            raise SystemExit("submitting the in-flight jobs took too long")
        time.sleep(0.5)
    stop_all(submitters)
    print(f"submitted in {time.monotonic() - started:.1f} s by {CLUSTERS} qcluster(s)")
    # The stopped cluster's poller lease would make ours wait for it to go stale.
    Heartbeat.objects.filter(name=job_poller.POLLER).update(detail="")
    # Steady state: past the first two minutes (KIE polls every 20 s), due times spread.
    now = timezone.now()
    Job.objects.filter(pk__in=ids).update(submitted_at=now - timedelta(minutes=3))
    # Spread evenly, ten jobs per 0.1 s: the poller's steady state, not a stampede.
    with transaction.atomic():
        for n in range(0, len(ids), 10):
            Job.objects.filter(pk__in=ids[n : n + 10]).update(
                next_poll_at=now + timedelta(seconds=20 * n / len(ids))
            )
    lateness: list[float] = []
    original = following.claim_due

    def claim_and_measure(now, **kwargs):
        rows = original(now, **kwargs)
        lateness.extend((now - due).total_seconds() for _, due in rows if due is not None)
        return rows

    following.claim_due = claim_and_measure
    stop_event = threading.Event()
    poller = threading.Thread(target=job_poller.poller_loop, kwargs={"stop": stop_event})
    measure_for = 60
    poller.start()
    time.sleep(measure_for)
    stop_event.set()
    poller.join()
    following.claim_due = original
    print(f"polls in {measure_for} s: {len(lateness)} ({len(lateness) / measure_for:.0f}/s; "
          f"KIE's schedule asks for {in_flight / 20:.0f}/s, one every 20 s per job)")  # fmt: skip
    print(f"poll lateness: p50 {pct(lateness, 50):.2f} s, p95 {pct(lateness, 95):.2f} s, "
          f"max {max(lateness, default=float('nan')):.2f} s")  # fmt: skip
    return pct(lateness, 95)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--in-flight", type=int, default=2000)
    parser.add_argument("--size", type=int, default=512, help="Result image side, pixels.")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--lateness-only", action="store_true", help="Only the in-flight run.")
    parser.add_argument("--no-lateness", action="store_true", help="Skip the in-flight run.")
    parser.add_argument("--steady-jobs", type=int, default=150)
    parser.add_argument("--steady-rate", type=float, default=5, help="New jobs per second.")
    parser.add_argument(
        "--limits-only",
        action="store_true",
        help="Only the KIE create-limit run, run 1 and its minimal-loop floor.",
    )
    parser.add_argument("--limit-jobs", type=int, default=60)
    parser.add_argument(
        "--scale-out",
        action="store_true",
        help="PostgreSQL + Redis + S3 over HTTP, two qclusters (--in-flight defaults to 4000).",
    )
    parser.add_argument("--fair-batch", type=int, default=200, help="--scale-out's batch.")
    parser.add_argument(
        "--provider-latency", type=float, default=0.3,
        help="--scale-out: seconds each sandbox answer takes in the clusters comparison.",
    )  # fmt: skip
    parser.add_argument(
        "--clusters-only", action="store_true",
        help="--scale-out: only one cluster against two.",
    )  # fmt: skip
    args = parser.parse_args()
    if args.scale_out:
        if "--in-flight" not in " ".join(sys.argv):
            args.in_flight = 4000
        scale_out(args)
        return
    configure()

    from django.contrib.auth import get_user_model

    from flux2web.credentials.services import add_credential

    owner = get_user_model().objects.create_user("bench", password=uuid.uuid4().hex)
    sandbox = manage("sandbox", "--port", str(SANDBOX_PORT), "--duration", "0")
    web_port = free_port()
    web_env = {}
    web = manage("up", "--port", str(web_port), "--sandbox-port", "0", "--web-workers", "2",
                 env=web_env)  # fmt: skip
    wait_http(f"http://127.0.0.1:{SANDBOX_PORT}/")
    wait_http(f"http://127.0.0.1:{web_port}/healthz")
    stop(web)  # `up` also started a worker; the runs below start their own
    credential = add_credential(name="Bench LiangXin", dialect="liangxin",
                                base_url=f"http://127.0.0.1:{SANDBOX_PORT}/liangxin",
                                api_key="sandbox-key")  # fmt: skip
    print(f"# Flux2Web pipeline benchmark ({os.cpu_count()} cores, SQLite + ORM broker, "
          f"{args.workers} workers, {args.size}x{args.size} images, data in {DATA})")  # fmt: skip
    workers_env = {"FLUX2WEB_WORKERS": str(args.workers)}
    results = {}
    peaks: dict[int, int] = {}
    try:
        if args.lateness_only:
            lateness_run(owner, credential, args.in_flight, args.size, workers_env)
            return
        # 1. Zero generation time, polling only.
        reset_sandbox(duration=0)
        ids = make_jobs(owner, credential, args.jobs, args.size)
        cluster = manage("qcluster", env=workers_env)
        sampler = RssSampler(cluster.pid)
        sampler.start()
        started = time.monotonic()
        done = wait_done(ids, timeout=900)
        ended = time.monotonic()
        stop(cluster)
        sampler.running = False
        peaks.update(sampler.peaks)
        if not done:
            print("(run 1 did not finish in 15 minutes)")
        results["zero"] = report_run("Zero generation time, polling only", ids, started, ended,
                                     generation=0, expected_polls=kie_polls_until(0))  # fmt: skip

        # 6. Its floor: the same work in a minimal loop, against the same sandbox.
        sandbox_url = f"http://127.0.0.1:{SANDBOX_PORT}"
        floor = minimal_loop(sandbox_url, jobs=args.jobs, size=args.size, threads=args.workers)
        print(f"pipeline (run 1) as a share of the floor: "
              f"{results['zero']['jobs_per_s'] / floor:.0%}")  # fmt: skip

        # 5. One KIE key with its documented create limit on.
        results["kie_limit"] = kie_limit_run(owner, sandbox_url, workers_env,
                                             jobs=args.limit_jobs)  # fmt: skip
        if args.limits_only:
            return

        # 2. 20 s generation time, with callbacks through a web server.
        reset_sandbox(duration=20)
        web = manage("up", "--port", str(web_port), "--sandbox-port", "0", env={
            **workers_env, "FLUX2WEB_PUBLIC_URL": f"http://127.0.0.1:{web_port}"})  # fmt: skip
        wait_http(f"http://127.0.0.1:{web_port}/healthz")
        sampler = RssSampler(web.pid)
        sampler.start()
        ids = make_jobs(owner, credential, args.jobs, args.size, prompt="with callbacks")
        started = time.monotonic()
        done = wait_done(ids, timeout=900)
        ended = time.monotonic()
        stop(web)
        sampler.running = False
        peaks.update({pid: kb for pid, kb in sampler.peaks.items()})
        results["callbacks"] = report_run(
            "20 s generation time, with callbacks, all at once", ids, started, ended,
            generation=20, expected_polls=kie_polls_until(20),
        )  # fmt: skip

        # 2b. The same, arriving at a steady rate the machine can keep up with.
        reset_sandbox(duration=20)
        web = manage("up", "--port", str(web_port), "--sandbox-port", "0", env={
            **workers_env, "FLUX2WEB_PUBLIC_URL": f"http://127.0.0.1:{web_port}"})  # fmt: skip
        wait_http(f"http://127.0.0.1:{web_port}/healthz")
        ids, started = [], time.monotonic()
        for n in range(args.steady_jobs):
            ids += make_jobs(owner, credential, 1, args.size, prompt=f"steady {n}")
            time.sleep(max(0.0, started + (n + 1) / args.steady_rate - time.monotonic()))
        done = wait_done(ids, timeout=600)
        ended = time.monotonic()
        stop(web)
        results["steady"] = report_run(
            f"20 s generation time, with callbacks, {args.steady_rate:g} new jobs/s",
            ids, started, ended, generation=20, expected_polls=kie_polls_until(20),
        )  # fmt: skip

        # 3. Poll lateness with many jobs in flight.
        if args.no_lateness:
            return
        results["lateness_p95"] = lateness_run(owner, credential, args.in_flight, args.size,
                                               workers_env)  # fmt: skip
    finally:
        stop(sandbox)
    print(f"\n## Memory\nworker peak RSS: {max(peaks.values(), default=0) / 1024:.0f} MB "
          f"(largest of {len(peaks)} processes sampled)")  # fmt: skip


# ---- --scale-out: PostgreSQL, Redis, S3 over HTTP, two clusters. -------------------------

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/13"
S3_BUCKET = "flux2web-bench"


def configure_scale_out() -> tuple[str, subprocess.Popen]:
    """A throw-away PostgreSQL database, Redis, and moto's S3 server in a process of its
    own; returns the database's name (dropped by drop_database) and the S3 server."""
    global SANDBOX_PORT, CLUSTERS
    import psycopg
    import redis

    CLUSTERS = 2
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except Exception as exc:  # any failure means "not here"
        raise SystemExit(f"--scale-out needs PostgreSQL and Redis on 127.0.0.1: {exc}") from None
    name = f"flux2web_bench_{uuid.uuid4().hex[:8]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    s3_port = free_port()
    s3 = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(s3_port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    SANDBOX_PORT = free_port()
    endpoint = f"http://127.0.0.1:{s3_port}"
    os.environ.update(
        {
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{name}",
            "REDIS_URL": REDIS_URL,
            "FLUX2WEB_S3_BUCKET": S3_BUCKET,
            "FLUX2WEB_S3_ENDPOINT_URL": endpoint,
            "FLUX2WEB_S3_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "FLUX2WEB_DATA_DIR": str(DATA),
            "FLUX2WEB_QUEUE_NAME": f"bench-{uuid.uuid4().hex[:8]}",
            "FLUX2WEB_ALLOW_PRIVATE_URLS": f"127.0.0.1:{SANDBOX_PORT}",
            "FLUX2WEB_LOG_LEVEL": "warning",
            "DJANGO_SETTINGS_MODULE": "flux2web.settings",
        }
    )
    wait_http(endpoint)
    import boto3

    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(
        Bucket=S3_BUCKET
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return name, s3


def drop_database(name: str):
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def wait_ready(procs, workers: int, timeout=120):
    """Until every cluster has forked its workers (plus sentinel, monitor and pusher) and
    a poller holds the lease: startup is not what the clusters' throughput measures."""
    from django.utils import timezone

    from flux2web.core.models import Heartbeat

    deadline = time.monotonic() + timeout
    probe = RssSampler(0)
    while time.monotonic() < deadline:
        forked = all(len(probe.tree(p.pid)) >= workers + 4 for p in procs)
        beat = Heartbeat.objects.filter(name="poller").exclude(detail="").first()
        if forked and beat and (timezone.now() - beat.seen_at).total_seconds() < 2:
            return
        time.sleep(0.2)
    raise SystemExit("the qclusters did not start")


def zero_generation_run(
    owner, credential, args, workers_env, samplers, *, clusters: int, latency: float = 0.0
):
    """Run 1 on `clusters` clusters, started and ready before the jobs arrive (the jobs
    are created in batches of 4, as the studio does, while the clusters work); each
    provider answer takes `latency` seconds."""
    reset_sandbox(duration=0, latency=latency)
    procs = start_clusters(workers_env, clusters)
    samplers += [RssSampler(p.pid) for p in procs]
    for sampler in samplers[-clusters:]:
        sampler.start()
    wait_ready(procs, args.workers)
    started = time.monotonic()
    ids = make_jobs(owner, credential, args.jobs, args.size)
    done = wait_done(ids, timeout=900)
    ended = time.monotonic()
    stop_all(procs)
    if not done:
        print("(did not finish in 15 minutes)")
    title = f"Zero generation time, polling only, {clusters} cluster{'s' * (clusters > 1)}"
    if latency:
        title += f", each provider answer taking {latency:g} s"
    return report_run(title, ids, started, ended, generation=0,
                      expected_polls=kie_polls_until(0))  # fmt: skip


def fair_queue_run(owner, credential, args, workers_env):
    """A teammate asks for one image a second after a person queued a batch: how long
    does the teammate wait, against how long the batch takes to go out?"""
    from django.contrib.auth import get_user_model

    from flux2web.jobs.models import Job

    teammate = get_user_model().objects.create_user("bench-teammate", password=uuid.uuid4().hex)
    reset_sandbox(duration=0)
    procs = start_clusters(workers_env)
    time.sleep(5)  # both clusters up, as in a running site
    batch = make_jobs(owner, credential, args.fair_batch, args.size, prompt="a batch")
    time.sleep(1)
    (single,) = make_jobs(teammate, credential, 1, args.size, prompt="just one")
    done = wait_done([*batch, single], timeout=600)
    stop_all(procs)
    one = Job.objects.get(pk=single)
    sent = sorted(Job.objects.filter(pk__in=batch).values_list("submitted_at", flat=True))
    first = Job.objects.filter(pk__in=batch).order_by("created_at").first().created_at
    wait = (one.submitted_at - one.created_at).total_seconds() if one.submitted_at else None
    print(f"\n## Fair queue: {args.fair_batch} jobs from one person, then 1 from a teammate")
    print(f"outcome: {'all finished' if done else 'did not finish in 10 minutes'}")
    print(f"the teammate's wait (created -> sent): {wait or float('nan'):.2f} s; the batch took "
          f"{(sent[-1] - first).total_seconds():.1f} s to send")  # fmt: skip
    return wait


def print_memory(samplers):
    print("\n## Memory: peak RSS of each process")
    for sampler in samplers:
        sampler.running = False
    for sampler in samplers:
        if not sampler.peaks:
            continue
        root = sampler.names.get(sampler.root_pid, "?")
        peaks = sampler.peaks
        if root == "qcluster":  # main -> sentinel -> workers, monitor and pusher
            by_depth = {d: sorted(kb // 1024 for pid, kb in peaks.items()
                                  if sampler.depth.get(pid) == d) for d in (0, 1, 2)}  # fmt: skip
            print(f"qcluster (pid {sampler.root_pid}), MB: main {by_depth[0]}, sentinel "
                  f"{by_depth[1]}, workers + monitor + pusher {by_depth[2]}")  # fmt: skip
        else:
            listed = ", ".join(f"{kb / 1024:.0f}" for kb in peaks.values())
            print(f"{root} (pid {sampler.root_pid}) and its children, MB: {listed}")


def scale_out(args):
    database, s3 = configure_scale_out()
    samplers = [RssSampler(s3.pid)]
    samplers[0].start()
    sandbox = None
    try:
        from django.contrib.auth import get_user_model

        from flux2web.credentials.services import add_credential

        owner = get_user_model().objects.create_user("bench", password=uuid.uuid4().hex)
        sandbox = manage("sandbox", "--port", str(SANDBOX_PORT), "--duration", "0")
        samplers.append(RssSampler(sandbox.pid))
        samplers[-1].start()
        wait_http(f"http://127.0.0.1:{SANDBOX_PORT}/")
        sandbox_url = f"http://127.0.0.1:{SANDBOX_PORT}"
        credential = add_credential(name="Bench LiangXin", dialect="liangxin",
                                    base_url=f"{sandbox_url}/liangxin",
                                    api_key="sandbox-key")  # fmt: skip
        print(f"# Flux2Web pipeline benchmark, scale-out ({os.cpu_count()} cores, PostgreSQL + "
              f"Redis + S3 over HTTP (moto), {CLUSTERS} qclusters of {args.workers} workers, "
              f"{args.size}x{args.size} images)")  # fmt: skip
        workers_env = {"FLUX2WEB_WORKERS": str(args.workers)}

        # As a vendor answers (a round trip of a few hundred ms): the workers set the pace,
        # and a second machine's workers add to it, as long as the cores keep up.
        slow = {"clusters": 1, "latency": args.provider_latency}
        one_slow = zero_generation_run(owner, credential, args, workers_env, samplers, **slow)
        slow["clusters"] = 2
        two_slow = zero_generation_run(owner, credential, args, workers_env, samplers, **slow)
        # Answers at once: here every process shares two cores, which then set the pace.
        one = zero_generation_run(owner, credential, args, workers_env, samplers, clusters=1)
        two = zero_generation_run(owner, credential, args, workers_env, samplers, clusters=2)
        for label, a, b in (
            (f"provider answers in {args.provider_latency:g} s", one_slow, two_slow),
            ("provider answers at once (the cores are the limit)", one, two),
        ):
            print(f"\ntwo clusters against one, {label}: "
                  f"{b['jobs_per_s'] / a['jobs_per_s']:.2f}x "
                  f"({b['jobs_per_s']:.1f} / {a['jobs_per_s']:.1f} jobs/s)")  # fmt: skip
        if args.clusters_only:
            return

        floor = minimal_loop(sandbox_url, jobs=args.jobs, size=args.size,
                             threads=args.workers * CLUSTERS)  # fmt: skip
        print(f"pipeline (two clusters) as a share of the floor: {two['jobs_per_s'] / floor:.0%}")

        kie_limit_run(owner, sandbox_url, workers_env, jobs=args.limit_jobs)

        # 20 s generation, with callbacks through gunicorn, both clusters.
        web_port = free_port()
        web = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "flux2web.wsgi:application", "--bind",
             f"127.0.0.1:{web_port}", "--workers", "2",
             "--config", "python:flux2web.lib.gunicorn_conf"],
            env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        samplers.append(RssSampler(web.pid))
        samplers[-1].start()
        wait_http(f"http://127.0.0.1:{web_port}/healthz")
        callback_env = {**workers_env, "FLUX2WEB_PUBLIC_URL": f"http://127.0.0.1:{web_port}"}
        reset_sandbox(duration=20)
        procs = start_clusters(callback_env)
        ids = make_jobs(owner, credential, args.jobs, args.size, prompt="with callbacks")
        started = time.monotonic()
        wait_done(ids, timeout=900)
        ended = time.monotonic()
        stop_all(procs)
        report_run("20 s generation time, with callbacks, all at once, two clusters", ids,
                   started, ended, generation=20, expected_polls=kie_polls_until(20))  # fmt: skip
        stop(web)

        fair_queue_run(owner, credential, args, workers_env)
        if not args.no_lateness:
            lateness_run(owner, credential, args.in_flight, args.size, workers_env)
    finally:
        if sandbox is not None:
            stop(sandbox)
        print_memory(samplers)
        stop(s3)
        drop_database(database)


if __name__ == "__main__":
    main()
