"""Who sent a request: the one rule for a client's address, shared by the sign-in throttle
(django-axes), the share links' password throttle and their unique visitors."""

from __future__ import annotations

import ipaddress

from django.conf import settings


def client_address(request) -> str:
    """The address that sent the request. Behind our TLS-terminating proxy
    (FLUX2WEB_BEHIND_PROXY), the one that proxy appended to X-Forwarded-For (the last
    entry: the only one a client cannot forge); otherwise the socket's, and the header is
    ignored."""
    if settings.BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last[:45]
    return request.META.get("REMOTE_ADDR", "") or ""


def throttle_key(request) -> str:
    """The client as a throttle counts it: an IPv4 address on its own, an IPv6 address by
    its /64 (one home or host gets a whole /64 and can pick any address in it)."""
    address = client_address(request)
    try:
        parsed = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)
