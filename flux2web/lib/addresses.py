"""The site's one rule for addresses: result downloads and reference URLs both follow it.

The rule itself is `AddressPolicy` (flux2web/providers/download.py); this applies the
allow-list from the settings (FLUX2WEB_ALLOW_PRIVATE_URLS) to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from flux2web.providers.catalog import TYPE_NAMES
from flux2web.providers.download import (
    AddressPolicy,
    AddressRefused,
    DownloadError,
    download_image,
)

# A pasted reference is fetched while the person waits for the form's answer.
FETCH_TIMEOUT = 10.0

MAX_URL_LENGTH = 2000
MAX_HOST_LENGTH = 253
HOST_PUNCTUATION = frozenset("-._:%")  # names, IPv6 (within its brackets) and its zone


def url_syntax_problem(url: str) -> str | None:
    """Why a URL cannot be read as one (too long, brackets left open, a host with a space);
    None if it reads. Checked before any other rule, which could not even parse it."""
    if len(url) > MAX_URL_LENGTH:
        return f"is longer than {MAX_URL_LENGTH:,} characters"
    try:
        parts = urlsplit(url)
        host, _port = parts.hostname, parts.port
    except ValueError:  # "http://[::1", "http://[zz::1]/", a port past 65535
        return "is not a well-formed URL"
    if host and (
        len(host) > MAX_HOST_LENGTH
        or not all(ch.isalnum() or ch in HOST_PUNCTUATION for ch in host)
    ):
        return "has a host name that cannot be one"
    return None


def address_policy() -> AddressPolicy:
    return AddressPolicy(
        allow_all=settings.ALLOW_PRIVATE_URLS, allowed=frozenset(settings.ALLOWED_PRIVATE_HOSTS)
    )


def reference_problem(url: str, *, number: int) -> str | None:
    """Why a reference URL someone gave may not be handed to a provider; None if it may.

    Providers fetch references from their own network: a private address would point
    them at their internal services (or at ours, where they share a network).
    """
    try:
        address_policy().check(url)
    except AddressRefused as refused:
        if refused.kind == "scheme":
            return None  # the catalog already says "not a public http(s) URL"
        if refused.kind == "unresolvable":
            return f"Reference image {number}: cannot find the host {refused.host}."
        if refused.kind == "numeric":
            return (
                f"Reference image {number}: write the address {refused.host} in the usual "
                "dotted form, or use the image's name."
            )
        return (
            f"Reference image {number} is on a private or local address ({refused.address}), "
            "which providers must not be sent to. Use a public image URL, or upload the image."
        )
    return None


@dataclass(frozen=True)
class ReferenceRule:
    """What the providers a request may go to fetch as reference images: these types
    (empty: any image we can read), up to `max_bytes` each; `who` names them."""

    formats: tuple[str, ...]
    max_bytes: int
    who: str


def fetch_problem(url: str, *, number: int, rule: ReferenceRule) -> str | None:
    """Fetch a pasted reference once, through the guarded downloader (public addresses
    only, size and pixel limits, a real image), as the provider will: why it would fail
    there, or None. Before anything is queued, so no money is spent on a broken link."""
    try:
        got = download_image(
            url,
            policy=address_policy(),
            max_bytes=rule.max_bytes,
            max_pixels=settings.MAX_IMAGE_PIXELS,
            timeout=FETCH_TIMEOUT,
        )
    except AddressRefused:
        # A redirect to somewhere the rule refuses: said as for a pasted address.
        said = reference_problem(url, number=number)
        return said or f"Reference image {number} redirects to an address we may not fetch."
    except DownloadError as exc:
        if exc.message.startswith("Too large"):
            return (
                f"Reference image {number} is larger than {_megabytes(rule.max_bytes)}, the "
                f"most {rule.who} take{'s' if ' and ' not in rule.who else ''}."
            )
        said = exc.message.replace("The result URL answered", "it answered")
        return (
            f"Reference image {number} could not be fetched ({said.rstrip('.')}); use a "
            "public image URL, or upload the image."
        )
    if rule.formats and got.content_type not in rule.formats:
        kind = TYPE_NAMES.get(got.content_type, got.content_type)
        allowed = ", ".join(TYPE_NAMES.get(f, f) for f in rule.formats)
        return (
            f"Reference image {number} is a {kind} image; {rule.who} "
            f"take{'s' if ' and ' not in rule.who else ''} only {allowed}. "
            "Upload the file instead: it is converted."
        )
    return None


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"
