"""Requests that wait (an API call for its images, a page's event stream) each hold one of
the web process's threads while they sleep. All but `HELD_SPARE_THREADS` of the process's
`WEB_THREADS` may be held at once, so the site's pages always find a thread; past that, a
request that would wait is turned away at once: the API answers 503 with Retry-After
before anything is made, a stream answers 204 and its page refreshes as it did before.
Counted per process, as gunicorn's threads are."""

from __future__ import annotations

import socket
import threading

from django.conf import settings

_lock = threading.Lock()
_held = 0


def limit() -> int:
    return max(1, settings.WEB_THREADS - settings.HELD_SPARE_THREADS)


def take() -> bool:
    """Hold one of the process's threads for a wait; False when no more may be held."""
    global _held
    with _lock:
        if _held >= limit():
            return False
        _held += 1
        return True


def give_back() -> None:
    global _held
    with _lock:
        _held = max(0, _held - 1)


def client_left(request) -> bool:
    """Whether the client of a waiting request closed its connection: gunicorn hands us its
    socket, and a closed one reads as the end of the stream. Under another server (the
    test server, runserver) it is never known, and the wait runs its course."""
    sock = request.META.get("gunicorn.socket")
    if sock is None:
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:  # nothing to read: still there
        return False
    except ValueError:  # a TLS socket takes no flags: it cannot be known
        return False
    except OSError:  # reset by the client
        return True


def held_now() -> int:
    return _held


class Releasing:
    """A streamed body that gives its thread back when the server closes it, whether or
    not it was ever read (a generator's `finally` runs only once it has started)."""

    def __init__(self, iterable):
        self.iterator = iter(iterable)
        self.closed = False

    def __iter__(self):
        return self.iterator

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            close = getattr(self.iterator, "close", None)
            if close is not None:
                close()
            give_back()
