"""Fixtures every test module may use: standing users, a real qcluster, the sandbox provider."""

import io
import os
import signal
import subprocess
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings
from PIL import Image

from flux2web.credentials.services import add_credential
from flux2web.providers import client_for
from flux2web.providers.dialects.kie.capabilities import CREATE_LIMIT as KIE_CREATE_LIMIT
from flux2web.providers.sandbox import DEFAULT_API_KEY, Sandbox, SandboxConfig
from tests.helpers import PASSWORD, ROOT, subprocess_env, wait_for


def pytest_sessionstart(session):
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("postgresql"):
        quick_flush_on_postgresql()
    if db["ENGINE"].endswith("sqlite3"):
        # Django deletes an old SQLite test database before making a new one, but not its
        # WAL and shared-memory files; stale ones beside a new database read as "disk I/O
        # error".
        name = Path(db["TEST"]["NAME"])
        for suffix in ("-wal", "-shm"):
            name.with_name(name.name + suffix).unlink(missing_ok=True)


def quick_flush_on_postgresql():
    """After each transactional test the database is emptied (Django's flush). PostgreSQL's
    TRUNCATE makes new files for every table and index: 0.1-0.4 s a test, a minute of the
    PostgreSQL run. Deleting the few rows a test left is ten times quicker, and every
    foreign key is deferrable (Django makes them so), so the order does not matter."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or allow_cascade:
            return truncate(self, style, tables, reset_sequences=reset_sequences,
                            allow_cascade=allow_cascade)  # fmt: skip
        deletes = [f"DELETE FROM {self.quote_name(table)};" for table in tables]  # noqa: S608 - our tables
        return ["SET CONSTRAINTS ALL DEFERRED;", *deletes] if deletes else []

    DatabaseOperations.sql_flush = sql_flush


def pytest_report_header(config):
    from django.conf import settings

    broker = "Redis " + settings.REDIS_URL if settings.REDIS_URL else "django-q2 ORM broker"
    return f"flux2web: database {settings.DATABASES['default']['ENGINE']}, {broker}"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Production keeps PBKDF2's deliberate slowness; tests would spend most of their time in it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def sign_ins_carry_a_request(monkeypatch):
    """django-axes throttles sign-ins per client, so authenticate() needs the request; the
    test client's login() passes none. Give it one from the test client's address."""
    from django.http import HttpRequest
    from django.test.client import ClientMixin

    login = ClientMixin.login

    def login_with_request(self, **credentials):
        if "request" not in credentials:
            request = HttpRequest()
            request.META["REMOTE_ADDR"] = "127.0.0.1"
            credentials["request"] = request
        return login(self, **credentials)

    monkeypatch.setattr(ClientMixin, "login", login_with_request)


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user("olivia", password=PASSWORD)


@pytest.fixture
def teammate(django_user_model):
    return django_user_model.objects.create_user("tomas", password=PASSWORD)


@pytest.fixture
def outsider(django_user_model):
    return django_user_model.objects.create_user("oscar", password=PASSWORD)


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("stella", password=PASSWORD, is_staff=True)


class QCluster:
    """A `manage.py qcluster` child process on the test database, stopped at teardown."""

    def __init__(self, *, redis_url: str, queue_name: str, log: Path, workers: int = 2, env=None):
        self.queue_name = queue_name
        env = subprocess_env(
            REDIS_URL=redis_url,
            FLUX2WEB_QUEUE_NAME=queue_name,
            FLUX2WEB_WORKERS=str(workers),
            **(env or {}),
        )
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "qcluster"],
            env=env,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self):
        """SIGKILL the cluster and every worker process it forked, as a crash would."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def ready(self, timeout: float = 30) -> "QCluster":
        """Wait for the worker's heartbeat, written once its processes have spawned."""
        from flux2web.core.models import Heartbeat

        def beating():
            beat = Heartbeat.objects.filter(name="worker").first()
            return beat is not None and beat.is_fresh

        wait_for(beating, timeout=timeout, interval=0.2, message=self.output)
        return self


@pytest.fixture
def start_qcluster(transactional_db, monkeypatch, tmp_path):
    """Start real qclusters: start_qcluster(redis_url="") uses the ORM broker.

    Each test gets its own queue name, and this process enqueues under it too: django-q2
    signs task packages with the cluster name, so both sides must agree on it.
    """
    from django_q.conf import Conf

    queue_name = f"test-{uuid.uuid4().hex[:10]}"
    monkeypatch.setattr(Conf, "PREFIX", queue_name)
    monkeypatch.setattr(Conf, "CLUSTER_NAME", queue_name)
    started = []

    def start(*, redis_url: str, workers: int = 2, env=None) -> QCluster:
        cluster = QCluster(
            redis_url=redis_url,
            queue_name=queue_name,
            workers=workers,
            log=tmp_path / f"qcluster-{len(started)}.log",
            env=env,
        )
        started.append(cluster)
        return cluster

    yield start
    # Killed, not stopped: nothing after a test needs a graceful stop, which takes a cluster
    # a second or two to wind down (tests that stop one gracefully do it themselves).
    for cluster in started:
        cluster.kill()


# The five seeded providers as (name, dialect, where the sandbox serves them).
SEEDED = [
    ("LiangXin", "liangxin", "liangxin"),
    ("KIE.ai", "kie", "kie"),
    ("Apikley", "kie", "apikley"),
    ("Apixo", "apixo", "apixo"),
    ("APIMart", "apimart", "apimart"),
]
FAST = 0.3


@pytest.fixture(scope="session")
def running_sandbox():
    with Sandbox(config=SandboxConfig(duration=FAST, slow_seconds=1.5)) as sandbox:
        yield sandbox


@pytest.fixture
def sandbox(running_sandbox):
    """The shared sandbox with no leftover faults, counters or config changes."""
    running_sandbox.reset()
    running_sandbox.config.duration = FAST
    running_sandbox.config.hmac_key = ""
    running_sandbox.config.echo_key = False
    running_sandbox.config.latency = 0.0
    running_sandbox.config.url_ttl = 3600
    # On, as KIE documents it: tests that send many KIE jobs pass because we pace them.
    running_sandbox.config.create_limit = KIE_CREATE_LIMIT
    running_sandbox.set_profile(None)
    yield running_sandbox
    running_sandbox.reset()


@pytest.fixture
def make_client(sandbox):
    clients = []

    def make(mount: str, *, api_key: str = DEFAULT_API_KEY, name: str = "", **options):
        dialect = "kie" if mount == "apikley" else mount
        client = client_for(
            dialect, base_url=sandbox.base_url(mount), api_key=api_key, name=name, **options
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


class _ImageHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.hits.append(self.path)
        width, height = (640, 480) if "landscape" in self.path else (300, 500)
        out = io.BytesIO()
        picture = Image.new("RGB", (width, height), (30, 120, 200))
        kind, status = "image/png", 200 if not self.path.startswith("/missing") else 404
        if self.path.endswith(".gif"):
            picture.convert("P").save(out, format="GIF")
            kind = "image/gif"
        elif self.path.endswith(".html"):
            out.write(b"<html><body>Not a picture</body></html>")
            kind = "text/html"
        else:
            picture.save(out, format="PNG")
            if "padded" in self.path:  # a real PNG, 11 MB long (readers ignore the rest)
                out.write(bytes(11 * 1024 * 1024))
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(out.getvalue())))
        self.end_headers()
        self.wfile.write(out.getvalue())

    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def image_host():
    """A loopback web server with reference images: /landscape-N.png is 640x480, others
    300x500; *.gif a GIF, *.html a page, /padded-* an 11 MB PNG, /missing* a 404.
    `image_hits` lists the paths asked for."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ImageHandler)
    server.hits = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _image_servers.append(server)
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def image_hits(image_host):
    """The paths the image host was asked for during this test."""
    hits = _image_servers[-1].hits
    hits.clear()
    return hits


_image_servers: list[ThreadingHTTPServer] = []


# ---- A real pipeline: the sandbox, the five seeded providers on it, real qclusters. ----


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def providers(sandbox):
    """The five seeded providers, by name, in priority order (LiangXin first)."""
    return {
        name: add_credential(name=name, dialect=dialect, base_url=sandbox.base_url(mount),
                             api_key="sandbox-key", priority=10 * (n + 1))
        for n, (name, dialect, mount) in enumerate(SEEDED)
    }  # fmt: skip


@pytest.fixture
def worker_env(sandbox, media, settings):
    """What a qcluster needs to follow sandbox jobs quickly and store their images. The
    live server has the same address rule, as a site's processes share their settings: it
    follows and stores a job whose callback it receives."""
    host = sandbox.url.removeprefix("http://")
    settings.ALLOWED_PRIVATE_HOSTS = frozenset({host})
    return {
        "FLUX2WEB_ALLOW_PRIVATE_URLS": host,
        "FLUX2WEB_POLLER_LEASE": "2",
        "FLUX2WEB_SUBMIT_LEASE": "3",
        "FLUX2WEB_MIRROR_CLAIM": "3",
    }


@pytest.fixture
def cluster(start_qcluster, worker_env):
    """Start a qcluster on the configured broker (ORM, or Redis in the scale-out run)."""

    def start(workers=2, **extra):
        return start_qcluster(redis_url=settings.REDIS_URL, workers=workers,
                              env={**worker_env, **extra})  # fmt: skip

    return start
