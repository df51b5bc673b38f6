"""Keeping share tokens out of the logs. A share link's address is its secret: whoever has
it opens the link. Django logs the path of every 4xx/5xx answer (django.request) and, under
runserver, every request (django.server); gunicorn's access log writes every path too. All
of them go through `redact`, which puts "<token>" in place of what follows /s/."""

from __future__ import annotations

import logging
import re

# The whole part after /s/ (readable slug and token) up to the next slash or line end.
# Spaces, quotes and "?" stop nothing: a decoded path may hold them before the token, and
# an access line losing " HTTP" after a bare key is a fair price.
SHARE_KEY = re.compile(r"(/s/)[^/\n]+")


def redact(text: str) -> str:
    if "/s/" not in text:
        return text
    return SHARE_KEY.sub(r"\1<token>", text)


class RedactShareTokens(logging.Filter):
    """A logging filter: the record's message, rendered, with share tokens replaced."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the handler's to report
            return True
        if "/s/" in message:
            record.msg, record.args = redact(message), ()
        return True
