"""A page's shell kept rendered: the top bar, menus, forms and dialogs that change only
with who is looking, where and in which colours. It is rendered once with markers where
the often-changing parts go (slots, e.g. the gallery's tiles) and where the request's
CSRF token goes, and filled in per request: the first view after a person's gallery
changed then costs its tiles only, not the whole page (bench/pages.py).

Not kept, so never stale: HTMX partials, pages with messages to show, and admins' pages,
which carry the banner of switched-off providers.
"""

from __future__ import annotations

import hashlib
from functools import cache as once
from pathlib import Path

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers
from django.utils.crypto import salted_hmac
from django.utils.safestring import mark_safe

from flux2web.lib.htmx import render_page

SHELL_SECONDS = 3600


@once
def marker(name: str) -> str:
    # Keyed by the secret key, so no text a person types can pose as a marker.
    return "shell-" + salted_hmac("flux2web.lib.shells", name).hexdigest()[:20]


@once
def code_digest() -> str:
    """Changes when any template or any of our Python does (markup is built in both), so a
    deploy never serves an old shell kept in Redis."""
    digest = hashlib.sha256()
    folders = [*settings.TEMPLATES[0]["DIRS"], Path(__file__).resolve().parent.parent]
    for folder in folders:
        for path in sorted(Path(folder).rglob("*")):
            if path.suffix in (".html", ".py"):
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def render_with_shell(
    request: HttpRequest,
    template: str,
    context: dict,
    *,
    slots: dict[str, str],
    partials: dict[str, str],
    key: str = "",
) -> HttpResponse:
    """Render `template` with `context` and `slots` (names -> ready HTML), keeping the
    shell for the next request like this one. `key` names whatever else in `context`
    changes the shell; the person, the full path and the colour theme always do.
    HTMX requests get their partial as `render_page` makes it."""
    user = request.user
    if request.htmx or getattr(user, "is_admin", False) or len(get_messages(request)):
        return render_page(request, template, {**context, **slots}, partials=partials)
    who = f"{user.pk}:{user.get_username()}:{user.is_staff}"
    where = f"{request.get_full_path()}:{request.COOKIES.get('theme', '')}:{key}"
    name = f"{code_digest()}:{template}:{who}:{where}"
    cache_key = "shell:" + hashlib.sha256(name.encode()).hexdigest()
    shell = cache.get(cache_key)
    if shell is None:
        markers = {name: mark_safe(marker(name)) for name in slots}  # noqa: S308 - ours
        shell = render_to_string(
            template, {**context, **markers, "csrf_token": marker("csrf")}, request=request
        )
        cache.set(cache_key, shell, SHELL_SECONDS)
    html = shell.replace(marker("csrf"), get_token(request))
    for name, value in slots.items():
        html = html.replace(marker(name), value)
    response = HttpResponse(html)
    patch_vary_headers(response, ("HX-Target",))
    return response
