"""Rendered HTML kept in the cache: the one way this site keeps HTML.

A fragment is kept under a key made of the code's version and exactly what the fragment
shows (the ids and change stamps of its rows, whose it is where that differs), so it is
never stale: a change to its rows is a new key, and so is a deploy that changes any
template or any of our Python (filters, presenters and views decide markup too), though
Redis still holds the old renderings. Keep only what costs more than a couple of
milliseconds to render (bench/pages.py).

What differs per request (the CSRF token, the page to come back to, a fresh idempotency
key per button) is rendered as a marker and filled in on each view (`fill`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from functools import cache as once
from pathlib import Path

import django
from django.conf import settings
from django.core.cache import cache
from django.utils.crypto import salted_hmac
from django.utils.safestring import SafeString, mark_safe

HOUR = 3600


@once
def code_version() -> str:
    """A digest of every template and every module of ours, and Django's version (its widget
    templates), computed once per process: any deploy that can change markup changes it,
    with nobody to remember a version to bump."""
    digest = hashlib.sha256(django.get_version().encode())
    folders = [*settings.TEMPLATES[0]["DIRS"], Path(__file__).resolve().parent.parent]
    for folder in folders:
        for path in sorted(Path(folder).rglob("*")):
            if path.suffix in (".html", ".py"):
                digest.update(str(path.relative_to(folder)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def key(name: str, shows) -> str:
    """The cache key of the fragment `name` showing `shows` (any value with a stable repr:
    tuples of ids, strings, numbers, dates), in this version of the code."""
    digest = hashlib.sha256(repr((code_version(), shows)).encode()).hexdigest()[:32]
    return f"kept:{name}:{digest}"


def kept(name: str, shows, render: Callable[[], str], seconds: int = HOUR) -> str:
    """`render()`'s HTML, from the cache when a fragment showing the same was rendered by
    this version of the code in the last `seconds`."""
    where = key(name, shows)
    html = cache.get(where)
    if html is None:
        html = render()
        cache.set(where, html, seconds)
    return html


def kept_each(
    name: str,
    items: Iterable,
    shows: Callable,
    render: Callable | None = None,
    seconds: int = HOUR,
    *,
    render_all: Callable[[list], list[str]] | None = None,
) -> list[str]:
    """One kept fragment per item (a grid's tiles), read in one cache round trip: a page
    after one new image renders one tile, not the page. `render_all`, instead of `render`,
    draws the missing items together (one query for their rows) and returns their HTML in
    the same order."""
    items = list(items)
    keys = [key(name, shows(item)) for item in items]
    found = cache.get_many(keys)
    missing = {k: item for k, item in zip(keys, items, strict=True) if k not in found}
    if missing:
        if render_all is not None:
            drawn = render_all(list(missing.values()))
        else:
            drawn = [render(item) for item in missing.values()]
        fresh = dict(zip(missing, drawn, strict=True))
        cache.set_many(fresh, seconds)
        found.update(fresh)
    return [found[k] for k in keys]


@once
def marker(name: str) -> str:
    """Where a per-request value goes in kept HTML. Keyed by the secret key, so no text a
    person types (a prompt, a collection's title) can pose as one. Tests look for the
    prefix to find one left unfilled."""
    return "shell-" + salted_hmac("flux2web.lib.kept", name).hexdigest()[:20]


def fill(html: str, **values: str | Callable[[], str]) -> SafeString:
    """Kept HTML with each marker replaced by its value; a callable gives each place its
    own (an idempotency key per button)."""
    for name, value in values.items():
        if callable(value):
            html = re.sub(marker(name), lambda _, value=value: value(), html)
        else:
            html = html.replace(marker(name), value)
    return mark_safe(html)  # noqa: S308 - our own rendered templates
