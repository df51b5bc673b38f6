"""Keeping secrets that travel in addresses out of the logs. Whoever has one of these
addresses holds its key: a share link opens its images, an invitation sets a member's
password (and signs them in), an e-mail's unsubscribe link stops a person's e-mails, a
reference upload's signed link serves a private file, a callback address carries the
secret that lets a provider report on a job. Django logs the path of every 4xx/5xx answer
(django.request) and, under runserver, every request (django.server); gunicorn's access
and error logs write every path too. All of them go through `redact`, which puts
"<token>" in place of the secret part.

API tokens travel in a header that none of these logs writes (gunicorn's access line
names only a Basic user; Django's error pages hide HTTP_AUTHORIZATION), but one pasted
into an address, or a header some later log line writes, is caught too: whatever follows
"Bearer", and anything shaped like our tokens."""

from __future__ import annotations

import logging
import re

# What comes after each marker up to the next slash or line end is the secret. Spaces,
# quotes and "?" stop nothing: a decoded path may hold them before the token, and an
# access line losing " HTTP" after a bare key is a fair price.
SECRET_IN_PATH = re.compile(
    r"(/s/|/refs/|/callbacks/\d+/|/accounts/set-password/(?!done/)[^/\n]+/"
    r"|/notifications/unsubscribe/|/api/images/)[^/\n]+"
)
MARKERS = ("/s/", "/refs/", "/callbacks/", "/set-password/", "/unsubscribe/", "/api/images/")
# An `Authorization: Bearer` value, ours or anyone's, and our API tokens' shape
# (accounts/api_tokens.py PREFIX) even cut short.
BEARER = re.compile(r"(?i)(\bbearer\s+)[^\s\"',;]+")
API_TOKEN = re.compile(r"\bf2w_[A-Za-z0-9_-]+")


def redact(text: str) -> str:
    if any(marker in text for marker in MARKERS):
        text = SECRET_IN_PATH.sub(r"\1<token>", text)
    if "f2w_" in text:
        text = API_TOKEN.sub("f2w_<token>", text)
    if "earer" in text or "EARER" in text:
        text = BEARER.sub(r"\1<token>", text)
    return text


class RedactSecrets(logging.Filter):
    """A logging filter: the record's message, rendered, and its traceback, with secrets
    replaced."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the handler's to report
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        # A traceback's last line quotes the exception, which may quote a path or a header.
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
