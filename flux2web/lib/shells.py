"""A page's shell kept rendered (lib/kept.py): the top bar, menus, forms and dialogs that
change only with who is looking, where and in which colours. It is rendered once with
markers where the often-changing parts go (slots, e.g. the gallery's tiles) and where the
request's CSRF token goes, and filled in per request: the first view after a person's
gallery changed then costs its tiles only, not the whole page (bench/pages.py).

The top bar's bell and the admins' banner of switched-off providers change without the
page: they are markers too, drawn on each view. Not kept, so never stale: HTMX partials
and pages with messages to show.
"""

from __future__ import annotations

from django.contrib.messages import get_messages
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers
from django.utils.safestring import mark_safe

from flux2web.lib.htmx import render_page
from flux2web.lib.kept import fill, kept, marker


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
    if request.htmx or len(get_messages(request)):
        return render_page(request, template, {**context, **slots}, partials=partials)
    admin = getattr(user, "is_admin", False)
    who = (user.pk, user.get_username(), user.is_staff, admin)
    where = (request.get_full_path(), request.COOKIES.get("theme", ""), key)

    def render() -> str:
        markers = {name: mark_safe(marker(name)) for name in slots}  # noqa: S308 - ours
        bell, alerts = (mark_safe(marker(name)) for name in ("bell", "alerts"))  # noqa: S308
        filled = {**context, **markers, "csrf_token": marker("csrf"), "bell_slot": bell}
        filled["alerts_slot"] = alerts
        return render_to_string(template, filled, request=request)

    shell = kept("shell", (template, who, where), render)
    # The top bar's bell (its unread count) and an admin's banner of providers switched
    # off change without the page: drawn each time.
    bell = lambda: render_to_string("base.html#bell", request=request)  # noqa: E731
    alerts = render_to_string("base.html#alerts", request=request) if admin else ""
    response = HttpResponse(fill(shell, csrf=get_token(request), bell=bell, alerts=alerts, **slots))
    patch_vary_headers(response, ("HX-Target",))
    return response
