"""The one way provider code talks HTTP: timeouts, a User-Agent, a record of every call.

Creates are sent exactly once: a create that may have reached the provider is never
repeated here, because a second paid task is worse than an honest "we don't know".
Status reads are retried a few times with backoff, honouring Retry-After.
"""

from __future__ import annotations

import email.utils
import functools
import json
import logging
import random
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import certifi
import httpx

from flux2web import __version__
from flux2web.providers.redact import scrub, scrub_value
from flux2web.providers.types import (
    Ambiguous,
    ProviderError,
    ProviderFailure,
    RateLimited,
    Unreachable,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

USER_AGENT = f"Flux2Web/{__version__} (+https://github.com/flux2web; httpx)"
# Longest Retry-After a status read waits for in place; longer, and the caller reschedules.
MAX_INLINE_RETRY_WAIT = 5.0


@dataclass(frozen=True)
class Timeouts:
    connect: float = 5.0
    create: float = 30.0
    read: float = 15.0


DEFAULT_TIMEOUTS = Timeouts()


@dataclass(frozen=True)
class CallRecord:
    """One HTTP exchange, for the job's event log. Never holds a header or a key."""

    method: str
    path: str
    status: int | None
    duration_ms: int
    outcome: str


@dataclass(frozen=True)
class Response:
    status: int
    body: Any
    text: str
    headers: httpx.Headers
    duration_ms: int

    @property
    def retry_after(self) -> float | None:
        return parse_retry_after(self.headers.get("retry-after"))


@functools.cache
def ssl_context() -> ssl.SSLContext:
    """One verified TLS context per process. httpx would build (and load the CA bundle
    into) a new one for every client, which cost more CPU than everything else a submit
    or a download does."""
    return ssl.create_default_context(cafile=certifi.where())


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header, which may be a number or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class Transport:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        observer: Callable[[CallRecord], None] | None = None,
        read_attempts: int = 3,
        backoff: float = 0.5,
        http_transport: httpx.BaseTransport | None = None,
    ):
        self.timeouts = timeouts
        self.observer = observer
        # What must never leave in an error's words: the key, and any other secret the
        # client adds (see `hide`).
        self._secrets: tuple[str, ...] = (api_key,)
        self.read_attempts = read_attempts
        self.backoff = backoff
        self._client = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            headers={
                "Authorization": f"Bearer {api_key}",
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
            },
            timeout=httpx.Timeout(timeouts.read, connect=timeouts.connect),
            transport=http_transport,
            follow_redirects=False,
            verify=ssl_context(),
        )

    def __repr__(self):
        # The client holds the key in its headers: never let it reach a log through repr.
        return f"<Transport {self._client.base_url}>"

    def hide(self, secret: str) -> None:
        if secret:
            self._secrets += (secret,)

    def clean(self, exc: ProviderError) -> ProviderError:
        """The one choke point for what providers say: their words may repeat our key
        ("Invalid API key provided: ..."), so it and anything like a secret go, in place,
        before any caller can store, log or show them."""
        if not getattr(exc, "cleaned", False):
            exc.message = scrub(exc.message, self._secrets)
            exc.args = (exc.message,)
            exc.raw = scrub_value(exc.raw, self._secrets) if exc.raw is not None else None
            exc.cleaned = True
        return exc

    def scrub(self, text: str) -> str:
        return scrub(text, self._secrets)

    def close(self):
        self._client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def create(self, path: str, payload: dict) -> Response:
        """POST once. Errors: Unreachable (nothing sent), Ambiguous (sent, answer lost)."""
        try:
            return self._send("POST", path, json=payload, read_timeout=self.timeouts.create)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise self.clean(
                Unreachable(f"Could not connect to the provider: {_describe(exc)}")
            ) from None
        except httpx.TransportError as exc:
            raise self.clean(
                Ambiguous(
                    f"The request was sent but no answer came back ({_describe(exc)}); the "
                    "provider may have accepted and charged it.",
                )
            ) from None

    def read(self, path: str, parse: Callable[[Response], T], *, params=None) -> T:
        """GET with bounded retries; `parse` turns a response into a value or a ProviderError."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return parse(self._get(path, params))
            except ProviderError as exc:
                self.clean(exc)
                retried = isinstance(exc, RateLimited | ProviderFailure | Unreachable)
                delay = self._retry_delay(exc, attempt) if retried else None
                if delay is None:
                    raise
                log.info("retrying %s in %.1fs after: %s", path, delay, exc.message)
                time.sleep(delay)

    def _get(self, path: str, params) -> Response:
        try:
            return self._send("GET", path, params=params)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise Unreachable(f"Could not connect to the provider: {_describe(exc)}") from None
        except httpx.TransportError as exc:
            raise ProviderFailure(f"No answer from the provider: {_describe(exc)}") from None

    def _retry_delay(self, exc: ProviderError, attempt: int) -> float | None:
        if attempt >= self.read_attempts:
            return None
        if exc.retry_after is not None:
            return exc.retry_after if exc.retry_after <= MAX_INLINE_RETRY_WAIT else None
        return self.backoff * 2 ** (attempt - 1) * random.uniform(0.8, 1.2)  # noqa: S311

    def _send(self, method: str, path: str, *, read_timeout: float | None = None, **kwargs):
        timeout = httpx.Timeout(read_timeout or self.timeouts.read, connect=self.timeouts.connect)
        started = time.monotonic()
        try:
            raw = self._client.request(method, path.lstrip("/"), timeout=timeout, **kwargs)
        except httpx.TransportError as exc:
            self._record(method, path, None, started, _describe(exc))
            raise
        duration_ms = round((time.monotonic() - started) * 1000)
        try:
            # Infinity and NaN are not JSON: read as null, so a field holding one is
            # ignored like any other missing value. Too deep a body is no body at all.
            body = json.loads(raw.content, parse_constant=lambda _name: None)
        except (ValueError, RecursionError):
            body = None
        self._record(method, path, raw.status_code, started, f"HTTP {raw.status_code}")
        return Response(raw.status_code, body, raw.text[:2000], raw.headers, duration_ms)

    def _record(self, method, path, status, started, outcome):
        if self.observer is None:
            return
        duration_ms = round((time.monotonic() - started) * 1000)
        self.observer(CallRecord(method, "/" + path.lstrip("/"), status, duration_ms, outcome))


def _describe(exc: httpx.TransportError) -> str:
    name = type(exc).__name__
    detail = str(exc)
    return f"{name}: {detail}" if detail else name
