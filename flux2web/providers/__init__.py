"""Provider layer: plain Python clients for the four wire dialects, a capability catalog,
normalized request/status/error types, and the sandbox provider. No Django models here."""

from __future__ import annotations

from collections.abc import Callable

from flux2web.providers.apimart import ApimartClient
from flux2web.providers.apixo import ApixoClient
from flux2web.providers.base import DialectClient
from flux2web.providers.kie import KieClient
from flux2web.providers.liangxin import LiangXinClient
from flux2web.providers.transport import DEFAULT_TIMEOUTS, CallRecord, Timeouts, Transport

CLIENTS: dict[str, type[DialectClient]] = {
    "kie": KieClient,
    "liangxin": LiangXinClient,
    "apixo": ApixoClient,
    "apimart": ApimartClient,
}


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
