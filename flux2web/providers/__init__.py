"""Provider layer: plain Python clients for the wire dialects (one folder each under
dialects/), a capability catalog, normalized request/status/error types, and the sandbox
provider. No Django models here."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from flux2web.providers import catalog, dialects  # noqa: F401 - dialects registers the built-in ones
from flux2web.providers.base import DialectClient
from flux2web.providers.transport import DEFAULT_TIMEOUTS, CallRecord, Timeouts, Transport


class _Clients(Mapping):
    """Each registered dialect's client class, by dialect name."""

    def __getitem__(self, dialect: str) -> type[DialectClient]:
        return catalog.DIALECTS[dialect].client

    def __iter__(self) -> Iterator[str]:
        return iter(catalog.DIALECTS)

    def __len__(self) -> int:
        return len(catalog.DIALECTS)


CLIENTS: Mapping[str, type[DialectClient]] = _Clients()


def client_for(
    dialect: str,
    *,
    base_url: str,
    api_key: str,
    name: str = "",
    hmac_key: str = "",
    observer: Callable[[CallRecord], None] | None = None,
    timeouts: Timeouts = DEFAULT_TIMEOUTS,
    **transport_options,
) -> DialectClient:
    """A client for one credential; close it (or use `with`) when done."""
    transport = Transport(
        base_url, api_key, observer=observer, timeouts=timeouts, **transport_options
    )
    return CLIENTS[dialect](transport, name=name, hmac_key=hmac_key)
