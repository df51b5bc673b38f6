"""The site's one rule for addresses: result downloads and reference URLs both follow it.

The rule itself is `AddressPolicy` (flux2web/providers/download.py); this applies the
allow-list from the settings (FLUX2WEB_ALLOW_PRIVATE_URLS) to it.
"""

from __future__ import annotations

from django.conf import settings

from flux2web.providers.download import AddressPolicy, AddressRefused


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
