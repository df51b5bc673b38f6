"""Taking secrets out of what providers say, before it is stored, logged or shown.

Some gateways repeat the key they were sent ("Invalid API key provided: sk-..."). The
client knows its own key and removes it (and any long prefix of it) by value; anything
else shaped like a credential (a bearer token, an `sk-...` key, a long token right after
the word "key", "token" or "secret") goes too, whoever's it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

REDACTED = "[redacted]"
# Shorter secrets would match ordinary words; a known key is at least this long.
MIN_SECRET = 6
# A provider may echo only the start of a key ("sk-abc1234...").
PREFIX = 8
CREDENTIAL_ALPHABET = r"[A-Za-z0-9._~+/=*-]"

_BEARER = re.compile(rf"(?i)\b(bearer)(\s+){CREDENTIAL_ALPHABET}{{6,}}")
_SK = re.compile(rf"\b(sk|pk|rk)-{CREDENTIAL_ALPHABET}{{8,}}")
_AFTER_WORD = re.compile(
    r"(?i)\b((?:api|access|secret|auth)?[ _-]?(?:key|token|secret|password|authorization))"
    r"((?:[^A-Za-z0-9\n]{1,4}(?:provided|given|used|sent|is|was|of|for|=|:)?){1,3}"
    r"[^A-Za-z0-9\n]{0,4})"
    rf"({CREDENTIAL_ALPHABET}{{12,}})"
)


def _looks_secret(value: str) -> bool:
    """A token, not a word: long, with digits, or very long."""
    return len(value) >= 24 or (len(value) >= 12 and any(ch.isdigit() for ch in value))


def _after_word(match: re.Match) -> str:
    if not _looks_secret(match.group(3)):
        return match.group(0)
    return f"{match.group(1)}{match.group(2)}{REDACTED}"


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` without the given secrets or anything that looks like one."""
    if not text:
        return text
    # Not a secret, but what is scrubbed is then stored: PostgreSQL refuses NUL in text, and
    # a provider (or a callback anyone may send) can put one in its words.
    text = str(text).replace("\x00", "")
    for secret in secrets:
        if secret and len(secret) >= MIN_SECRET:
            text = text.replace(secret, REDACTED)
            if len(secret) > PREFIX:
                head = re.escape(secret[:PREFIX])
                text = re.sub(rf"{head}{CREDENTIAL_ALPHABET}*", REDACTED, text)
    text = _BEARER.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = _SK.sub(REDACTED, text)
    return _AFTER_WORD.sub(_after_word, text)


def scrub_value(value: Any, secrets: Iterable[str] = (), *, depth: int = 20) -> Any:
    """The same for a parsed body: every string in it, keys and values."""
    secrets = tuple(secrets)
    if isinstance(value, str):
        return scrub(value, secrets)
    if depth <= 0:
        return None
    if isinstance(value, dict):
        return {
            scrub(str(k), secrets): scrub_value(v, secrets, depth=depth - 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub_value(v, secrets, depth=depth - 1) for v in value]
    return value
