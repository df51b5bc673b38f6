"""The sandbox's HTTP server and task store; see the package docstring for what it does."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import json
import logging
import math
import random
import secrets
import socket
import threading
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import httpx
from PIL import Image

from flux2web.providers import catalog
from flux2web.providers.sandbox.dialect import Invalid, SandboxDialect
from flux2web.providers.sandbox.faults import (
    AFTER_CREATE,
    ANSWER_FAULTS,
    CREATE_FAULTS,
    DEEP,
    FAILING,
    FAULT_ANSWERS,
    FAULT_TAG,
    TAGGED_BEFORE_CREATE,
    TASK_FAULTS,
    echo_answer,
)
from flux2web.providers.sandbox.profile import Profile, parse_profile
from flux2web.providers.sandbox.render import fit_auto, render_png
from flux2web.providers.transport import ssl_context

log = logging.getLogger(__name__)
DEFAULT_API_KEY = "sandbox-key"
# Config `create_limit`: each mount's own, as its vendor documents it.
DOCUMENTED = "documented"


def mounts() -> dict[str, SandboxDialect]:
    """Every registered dialect's sandbox, by the path it is served at."""
    return {wire.mount: wire for d in catalog.DIALECTS.values() for wire in d.sandbox}


def callback_body(task: Task, sandbox: Sandbox) -> dict:
    """What the sandbox would post to the task's callback address now."""
    return task.wire.callback_body(task, sandbox)


@dataclass
class SandboxConfig:
    api_keys: frozenset[str] = frozenset({DEFAULT_API_KEY})
    duration: float = 6.0
    url_ttl: float = 24 * 3600
    hmac_key: str = ""
    slow_seconds: float = 3.0
    # One delivery and up to 3 retries, as Apixo documents.
    callback_attempts: int = 4
    # Refuse an unknown key by repeating it ("Invalid API key provided: <key>").
    echo_key: bool = False
    # (tasks, seconds) per account on the mounts whose vendor refuses creates past a limit
    # (KIE's); DOCUMENTED: the vendor's own; None: no limit.
    create_limit: tuple[int, float] | str | None = DOCUMENTED
    # Seconds before each API answer (create, status), as a real vendor's round trip
    # takes; bench/pipeline.py --scale-out uses it so workers, not the cores, set the pace.
    latency: float = 0.0
    # Each mount's own speed, price and failure rate (profile.py); None: every mount takes
    # `duration` and fails only when told to. `seed` makes its draws repeat.
    profile: Profile | None = None
    seed: int | None = None


@dataclass
class Task:
    id: str
    mount: str
    number: int
    model: str
    prompt: str
    width: int
    height: int
    seed: int
    refs: list[str]
    body: dict
    created: float
    duration: float
    faults: set[str] = field(default_factory=set)
    callback_url: str = ""
    ref_error: str = ""
    refs_checked: threading.Event = field(default_factory=threading.Event)
    png: bytes | None = None
    drawing: threading.Lock = field(default_factory=threading.Lock)
    param_json: str = ""
    # What the vendor reports it charged, where it reports it (None: its usual).
    price: float | None = None

    @property
    def wire(self) -> SandboxDialect:
        return mounts()[self.mount]

    @property
    def dialect(self) -> str:
        return self.wire.dialect

    def phase(self, now: float) -> tuple[str, float]:
        """("pending" | "running" | "success" | "fail", fraction done)."""
        fraction = (now - self.created) / self.duration if self.duration > 0 else 1.0
        if "never" in self.faults:
            return ("running", min(fraction, 0.99)) if fraction >= 0.3 else ("pending", fraction)
        if fraction < 0.3:
            return "pending", fraction
        if fraction < 1 or not self.refs_checked.is_set():
            return "running", min(fraction, 0.99)
        if self.ref_error or self.faults & FAILING:
            return "fail", 1.0
        return "success", 1.0

    def failure(self) -> tuple[str, str]:
        if self.ref_error:
            return "INPUT_IMAGE_ERROR", self.ref_error
        if "insufficient_credits" in self.faults:
            return "INSUFFICIENT_CREDITS", "Insufficient credits to run this task"
        if self.faults & {"content_violation", "sensitive_content"}:
            return self.wire.content_failure(self.faults)
        return "501", "Generation failed: the upstream model returned no image."


class Sandbox:
    """Start with `Sandbox(port=0).start()`; `.url` is where it listens; `.stop()` ends it."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, config: SandboxConfig | None = None):
        self.config = config or SandboxConfig()
        self.lock = threading.Lock()
        self.tasks: dict[str, Task] = {}
        self.faults: list[dict] = []
        self.stats: Counter = Counter()
        # Accepted creates per (mount, key), for the create limit's sliding window.
        self.recent_creates: dict[tuple[str, str], deque] = defaultdict(deque)
        self.url_secret = secrets.token_bytes(32)
        self._counter = 0
        self._timers: list[threading.Timer] = []
        # One random sequence per mount, so a seeded profile draws the same for each
        # provider whatever the others do.
        self._draws: dict[str, random.Random] = {}
        self.server = _Server((host, port), _Handler)
        self.server.sandbox = self
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def base_url(self, dialect: str) -> str:
        return f"{self.url}/{dialect}"

    def start(self) -> Sandbox:
        self._thread = threading.Thread(
            target=self.server.serve_forever, name="sandbox", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self):
        self.server.serve_forever()

    def stop(self):
        for timer in self._timers:
            timer.cancel()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # Control, in process (tests) or through /_sandbox/ (other processes).
    def inject(
        self,
        fault: str,
        *,
        dialect: str = "*",
        on: str = "create",
        times: int = 1,
        retry_after: float | None = None,
    ):
        if fault not in CREATE_FAULTS:
            raise ValueError(f"unknown fault {fault!r}; one of {sorted(CREATE_FAULTS)}")
        if on not in ("create", "status", "file", "any"):
            raise ValueError("on must be create, status, file or any")
        with self.lock:
            self.faults.append(
                {
                    "fault": fault,
                    "dialect": dialect,
                    "on": on,
                    "times": int(times),
                    "retry_after": retry_after,
                }
            )

    def reset(self):
        with self.lock:
            self.tasks.clear()
            self.faults.clear()
            self.stats.clear()
            self.recent_creates.clear()
            self._draws.clear()

    def set_profile(self, text: str | None, seed: int | None = None):
        """Change every mount's behaviour (profile.py's format; ProfileError if bad)."""
        profile = parse_profile(text)
        with self.lock:
            self.config.profile, self.config.seed = profile, seed
            self._draws.clear()

    def draw(self, mount: str) -> tuple[str | None, float | None, float | None]:
        """(the failure the next task meets, its seconds to done, its price) as the
        profile says for this mount; (None, None, None) without a profile."""
        profile = self.config.profile
        if profile is None:
            return None, None, None
        behaviour = profile.for_mount(mount)
        with self.lock:
            rng = self._draws.get(mount)
            if rng is None:
                seed = self.config.seed
                # Not for secrets: a stand-in vendor's luck, repeatable under a seed.
                rng = random.Random(f"{seed}:{mount}" if seed is not None else None)  # noqa: S311
                self._draws[mount] = rng
            roll, offset = rng.random(), rng.uniform(-1, 1)
        fault = behaviour.fault_for(roll)
        if fault:
            self.count(f"profile_faults:{mount}")
        return fault, behaviour.duration_for(offset), behaviour.price

    def snapshot(self) -> dict:
        with self.lock:
            return {"tasks": len(self.tasks), **dict(self.stats)}

    def _take_fault(self, mount: str, kind: str) -> dict | None:
        with self.lock:
            for fault in self.faults:
                if fault["dialect"] in ("*", mount) and fault["on"] in (kind, "any"):
                    fault["times"] -= 1
                    if fault["times"] <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def admit_create(self, mount: str, key: str) -> bool:
        """Count a create against its account's window; False when over the limit (the
        vendor refuses it, and does not queue it)."""
        documented = mounts()[mount].create_limit
        limit = documented if self.config.create_limit == DOCUMENTED else self.config.create_limit
        if not limit or not documented:
            return True
        count, seconds = limit
        now = time.monotonic()
        with self.lock:
            recent = self.recent_creates[(mount, key)]
            while recent and recent[0] <= now - seconds:
                recent.popleft()
            if len(recent) >= count:
                self.stats[f"rate_refused:{mount}"] += 1
                return False
            recent.append(now)
        return True

    def count(self, key: str):
        with self.lock:
            self.stats[key] += 1

    # Tasks.
    def new_task(
        self,
        mount: str,
        *,
        model,
        prompt,
        size,
        seed,
        refs,
        body,
        callback_url,
        fault: str | None = None,
        duration: float | None = None,
        price: float | None = None,
    ):
        """A task as the prompt's tags say; `fault`, `duration` and `price` are what the
        profile drew for it (a tag's duration still wins)."""
        faults = {m.group(1).lower() for m in FAULT_TAG.finditer(prompt)} & (
            set(CREATE_FAULTS) | TASK_FAULTS | ANSWER_FAULTS
        )
        if fault:
            faults.add(fault)
        duration = self.config.duration if duration is None else duration
        for match in FAULT_TAG.finditer(prompt):
            if match.group(1).lower() == "duration" and match.group(2):
                duration = float(match.group(2))
        with self.lock:
            self._counter += 1
            number = self._counter
            task_id = f"task_{mount}_{int(time.time() * 1000)}_{number}"
            task = Task(
                id=task_id,
                mount=mount,
                number=number,
                model=model,
                prompt=prompt,
                width=size[0],
                height=size[1],
                seed=seed if seed is not None else random.SystemRandom().randrange(2**31),
                refs=refs,
                body=body,
                created=time.time(),
                duration=duration,
                faults=faults,
                callback_url=callback_url or "",
                price=price,
            )
            self.tasks[task_id] = task
            self.stats[f"tasks_created:{mount}"] += 1
        threading.Thread(target=self._run, args=(task,), daemon=True).start()
        if task.callback_url and "never" not in faults and "no_callback" not in faults:
            timer = threading.Timer(duration, self._deliver_callback, args=(task,))
            timer.daemon = True
            self._timers.append(timer)
            timer.start()
        return task

    def _run(self, task: Task):
        """What the provider does while the task runs: check its references, then make its
        picture, so that (as at a real vendor) the file is there when the task is done and
        its download costs the transfer, not the drawing (about 50 ms for 1K)."""
        self._check_refs(task)
        if not task.ref_error and not task.faults:
            self.png_for(task)

    def _check_refs(self, task: Task):
        """Like a real provider, fetch the reference images; an unreachable one fails the task."""
        try:
            for number, url in enumerate(task.refs, start=1):
                try:
                    response = httpx.get(
                        url, timeout=5, follow_redirects=True, verify=ssl_context()
                    )
                    response.raise_for_status()
                    with Image.open(io.BytesIO(response.content)) as image:
                        size, kind = image.size, image.format
                except (httpx.HTTPError, OSError) as exc:
                    task.ref_error = f"Could not download input image {number}: {exc}"
                    return
                if refused := task.wire.refuses_reference(response.content, kind):
                    task.ref_error = f"Input image {number} {refused}"
                    return
                if number == 1 and task.body.get("_auto_ratio"):
                    task.width, task.height = fit_auto(size)
        finally:
            task.refs_checked.set()

    def get_task(self, task_id: str) -> Task | None:
        with self.lock:
            return self.tasks.get(task_id)

    def _deliver_callback(self, task: Task):
        task.refs_checked.wait(10)
        delay = max(0.0, task.created + task.duration - time.time())
        if delay:
            time.sleep(delay)
        body = callback_body(task, self)
        headers = {"Content-Type": "application/json"}
        headers.update(task.wire.callback_headers(task, self.config.hmac_key))
        for attempt in range(self.config.callback_attempts):
            try:
                response = httpx.post(
                    task.callback_url,
                    content=json.dumps(body),
                    headers=headers,
                    timeout=5,
                    verify=ssl_context(),
                )
                self.count("callbacks_sent")
                if response.status_code < 300:
                    return
            except httpx.HTTPError as exc:
                log.info("sandbox callback to %s failed: %s", task.callback_url, exc)
            time.sleep(0.5 * 2**attempt)

    # Files.
    def file_url(self, host: str, task: Task) -> tuple[str, int]:
        """A signed link to the task's image, dying url_ttl after the task completed (as
        APIMart's expires_at = completed + 86400, and KIE's 24 h): reading the status
        again hands out the same link, not a fresh one."""
        expires = math.ceil(task.created + task.duration) + math.ceil(self.config.url_ttl)
        path = f"/files/{task.id}/1.png"
        sig = self._file_sig(path, expires)
        return f"http://{host}{path}?expires={expires}&sig={sig}", expires

    def _file_sig(self, path: str, expires: int) -> str:
        return hmac.new(self.url_secret, f"{path}:{expires}".encode(), hashlib.sha256).hexdigest()

    def check_file_url(self, path: str, query: dict) -> str:
        """'' when the URL is good; else why not."""
        try:
            expires = int(query.get("expires", ["0"])[0])
        except ValueError:
            return "bad expiry"
        sig = query.get("sig", [""])[0]
        if not hmac.compare_digest(self._file_sig(path, expires), sig):
            return "bad signature"
        if time.time() > expires:
            return "Request has expired"
        return ""

    def png_for(self, task: Task) -> bytes:
        with task.drawing:  # drawn once, whether the task's run or a download asks first
            if task.png is None:
                task.png = render_png(task)
        return task.png


class _FileHost(SandboxDialect):
    """Where result files are served. Faults injected for files answer in KIE's envelope
    (HTTP 200, the status in the body), as they always have, with no Retry-After."""

    sends_retry_after = False

    def error_answer(self, status: int, message: str) -> tuple[int, dict]:
        return 200, {"code": status, "msg": message, "data": None}


FILE_HOST = _FileHost("files")


# ---- HTTP plumbing. --------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sandbox: Sandbox


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "Flux2WebSandbox/1"
    # Headers and body leave in two writes; with Nagle's algorithm the second waits for
    # the client's delayed ACK, about 40 ms per answer on a kept-alive connection.
    disable_nagle_algorithm = True

    def log_message(self, format, *args):
        if log.isEnabledFor(logging.DEBUG):  # formatting every line cost real time under load
            log.debug("sandbox %s %s", self.address_string(), format % args)

    @property
    def sandbox(self) -> Sandbox:
        return self.server.sandbox

    def do_GET(self):
        self._route("GET")

    def do_POST(self):
        self._route("POST")

    def _route(self, method: str):
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        body = self._read_body() if method == "POST" else b""
        try:
            if path.startswith("/_sandbox/"):
                return self._control(method, path, body)
            if path.startswith("/files/") and method == "GET":
                return self._file(path, query)
            served = mounts()
            if path in ("/", ""):
                return self._json(200, {"sandbox": "Flux2Web", "dialects": list(served)})
            mount, _, rest = path.lstrip("/").partition("/")
            wire = served.get(mount)
            if wire is None:
                return self._json(404, {"error": "no such dialect"})
            if self.sandbox.config.latency:
                time.sleep(self.sandbox.config.latency)
            rest = "/" + rest
            if not self._authorized():
                self.sandbox.count(f"auth_refused:{mount}")
                if self.sandbox.config.echo_key:
                    return self._json(*echo_answer(self._bearer()))
                return self._json(*wire.error_answer(401, "Invalid API key"))
            if method == "POST" and rest == wire.create_path:
                return self._create(wire, body)
            task_id = wire.status_task_id(rest, query) if method == "GET" else None
            if task_id is not None:
                return self._status(wire, task_id)
            return self._json(*wire.error_answer(404, f"No route {method} {rest}"))
        except _Dropped:
            return None

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _bearer(self) -> str:
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        return token.strip() if scheme.lower() == "bearer" else ""

    def _authorized(self) -> bool:
        return self._bearer() in self.sandbox.config.api_keys

    def _apply_fault(self, wire: SandboxDialect, fault: str | None, retry_after=None):
        """Answer as the fault says; returns True when it answered (or dropped) already."""
        if fault is None:
            return False
        if fault == "slow":
            time.sleep(self.sandbox.config.slow_seconds)
            return False
        if fault == "drop":
            self._drop()
        if fault == "401_echo":
            self._json(*echo_answer(self._bearer()))
            return True
        if fault in FAULT_ANSWERS:
            status, message = FAULT_ANSWERS[fault]
            headers = None
            # Those that document a Retry-After say when (1 s unless told).
            if fault == "429" and (retry_after is not None or wire.sends_retry_after):
                headers = {"Retry-After": str(retry_after if retry_after is not None else 1)}
            self._json(*wire.error_answer(status, message), headers=headers)
            return True
        return False

    def _create(self, wire: SandboxDialect, raw: bytes):
        mount = wire.mount
        self.sandbox.count(f"create_requests:{mount}")
        injected = self.sandbox._take_fault(mount, "create")
        if injected and self._apply_fault(wire, injected["fault"], injected["retry_after"]):
            return
        after = {injected["fault"]} & set(AFTER_CREATE) if injected else set()
        try:
            body = json.loads(raw or b"null")
        except json.JSONDecodeError:
            return self._json(*wire.error_answer(400, "body is not JSON"))
        if not isinstance(body, dict):
            return self._json(*wire.error_answer(400, "body must be a JSON object"))
        try:
            checked = wire.validate(body)
        except Invalid as exc:
            self.sandbox.count(f"invalid:{mount}")
            return self._json(*wire.error_answer(exc.status, exc.message))
        tagged = {m.group(1).lower() for m in FAULT_TAG.finditer(checked["prompt"])} | after
        drawn, duration, price = self.sandbox.draw(mount)
        if drawn:
            tagged.add(drawn)
        for fault in TAGGED_BEFORE_CREATE:
            if fault in tagged and self._apply_fault(wire, fault):
                return
        if not self.sandbox.admit_create(mount, self._bearer()):
            return self._json(*wire.over_limit_answer())
        if checked["auto"]:
            body["_auto_ratio"] = True
        task = self.sandbox.new_task(
            mount,
            model=checked["model"],
            prompt=checked["prompt"],
            size=checked["size"],
            seed=checked["seed"],
            refs=checked["refs"],
            body=body,
            callback_url=checked["callback"],
            fault=drawn,
            duration=duration,
            price=price,
        )
        if "lost" in tagged:
            # The task exists and would be charged, but its answer never arrives.
            self._drop()
        if "late" in tagged:
            # The task exists (its callback may come first), and the answer comes late:
            # past a client's read timeout, as good as lost.
            time.sleep(self.sandbox.config.slow_seconds)
        self._json(200, wire.create_answer(task))

    def _status(self, wire: SandboxDialect, task_id: str):
        mount = wire.mount
        self.sandbox.count(f"status_reads:{mount}")
        injected = self.sandbox._take_fault(mount, "status")
        if injected and self._apply_fault(wire, injected["fault"], injected["retry_after"]):
            return
        task = self.sandbox.get_task(task_id)
        if task is None or task.mount != mount:
            return self._json(*wire.unknown_task(task_id))
        if "deep_body" in task.faults:
            deep = b'{"code": 200, "data": ' + b"[" * DEEP + b"]" * DEEP + b"}"
            return self._send(200, deep, "application/json")
        if "not_json" in task.faults:
            return self._send(200, b"<html><body>Bad gateway</body></html>", "text/html")
        host = self.headers.get("Host") or f"{self.server.server_address[0]}"
        self._json(200, wire.status_answer(task, self.sandbox, host))

    def _file(self, path: str, query: dict):
        injected = self.sandbox._take_fault("*", "file")
        if injected and self._apply_fault(FILE_HOST, injected["fault"], injected["retry_after"]):
            return
        problem = self.sandbox.check_file_url(path, query)
        if problem:
            return self._send(403, problem.encode(), "text/plain")
        task_id = path.split("/")[2]
        task = self.sandbox.get_task(task_id)
        if task is None:
            return self._send(404, b"Not found", "text/plain")
        self.sandbox.count("file_downloads")
        self._send(200, self.sandbox.png_for(task), "image/png")

    def _control(self, method: str, path: str, raw: bytes):
        action = path.removeprefix("/_sandbox/").strip("/")
        if method == "GET" and action == "stats":
            return self._json(200, self.sandbox.snapshot())
        if method != "POST":
            return self._json(405, {"error": "POST only"})
        try:
            body = json.loads(raw or b"{}")
            if action == "faults":
                self.sandbox.inject(
                    str(body["fault"]),
                    dialect=body.get("dialect", "*"),
                    on=body.get("on", "create"),
                    times=int(body.get("times", 1)),
                    retry_after=body.get("retry_after"),
                )
            elif action == "reset":
                self.sandbox.reset()
            elif action == "config":
                for name in ("duration", "url_ttl", "slow_seconds", "latency"):
                    if name in body:
                        setattr(self.sandbox.config, name, float(body[name]))
                if "hmac_key" in body:
                    self.sandbox.config.hmac_key = str(body["hmac_key"])
                if "echo_key" in body:
                    self.sandbox.config.echo_key = bool(body["echo_key"])
                if "create_limit" in body:  # [tasks, seconds], or null for none
                    limit = body["create_limit"]
                    self.sandbox.config.create_limit = (
                        (int(limit[0]), float(limit[1])) if limit else None
                    )
                if "profile" in body:  # profile.py's format, or null for none
                    seed = body.get("seed")
                    self.sandbox.set_profile(body["profile"], None if seed is None else int(seed))
            else:
                return self._json(404, {"error": f"unknown control {action!r}"})
        except (KeyError, ValueError, TypeError, json.JSONDecodeError) as exc:
            return self._json(400, {"error": str(exc)})
        return self._json(200, {"ok": True})

    def _drop(self):
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
        raise _Dropped

    def _json(self, status: int, body: dict, headers: dict | None = None):
        self._send(status, json.dumps(body).encode(), "application/json", headers)

    def _send(self, status: int, payload: bytes, content_type: str, headers=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


class _Dropped(Exception):
    """The handler closed the connection on purpose; nothing more is written."""
