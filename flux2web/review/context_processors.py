"""The bell's unread count, for the top bar of every signed-in page."""

from __future__ import annotations

from functools import partial

from flux2web.review.notifications import unread_count


def notifications_bell(request):
    """`unread_notifications`: a callable the template calls once, where it draws the bell
    (`{% with %}`); a page or fragment that does not draw it pays no query."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": partial(unread_count, user)}
