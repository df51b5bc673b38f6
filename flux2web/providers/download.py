"""Fetch a provider's result image safely: only public addresses, bounded size, a real image."""

from __future__ import annotations

import hashlib
import io
import ipaddress
import socket
import warnings
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
from PIL import Image, UnidentifiedImageError

from flux2web.providers.transport import USER_AGENT, ssl_context

ALLOWED_TYPES = {"image/png", "image/jpeg", "image/webp", "image/gif", "application/octet-stream"}
PIL_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}
MAX_REDIRECTS = 3


class DownloadError(Exception):
    """`permanent` means trying again cannot help (expired, refused, not an image)."""

    def __init__(self, message: str, *, permanent: bool):
        super().__init__(message)
        self.message = message
        self.permanent = permanent


@dataclass(frozen=True)
class Downloaded:
    data: bytes
    content_type: str
    width: int
    height: int
    sha256: str


class AddressRefused(DownloadError):
    """The URL may not be fetched from here. `kind` says why: "scheme", "numeric",
    "unresolvable" or "private"; `address` is the refused address, where there is one."""

    def __init__(self, message: str, *, kind: str, host: str = "", address: str = ""):
        super().__init__(message, permanent=kind != "unresolvable")
        self.kind = kind
        self.host = host
        self.address = address


# Prefixes of IPv6 addresses that carry an IPv4 address in their last 32 bits (NAT64 and
# the deprecated IPv4-compatible form): the IPv4 address inside is what gets reached.
_EMBEDDING_V4 = (
    ipaddress.ip_network("64:ff9b::/96"),
    ipaddress.ip_network("64:ff9b:1::/48"),
    ipaddress.ip_network("::/96"),
)


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A global unicast address, looking through the IPv6 forms that wrap an IPv4 one."""
    if address.version == 6:
        inner = address.ipv4_mapped or address.sixtofour
        if inner is None and any(address in net for net in _EMBEDDING_V4):
            inner = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if inner is not None:
            return is_public(inner)
    return address.is_global and not address.is_multicast


@dataclass(frozen=True)
class Target:
    """Where a checked URL may be fetched: `addresses` are the ones that were checked (the
    connection must go to one of them), empty when the host is allowed as it is."""

    host: str
    port: int
    addresses: tuple[str, ...] = ()


@dataclass(frozen=True)
class AddressPolicy:
    """Private, loopback, link-local and other non-public addresses are refused unless allowed.

    The one rule for every URL we fetch or hand to a provider. `allow_all` is for a machine
    whose providers live on the private network; `allowed` names single host:port pairs,
    such as the local sandbox.
    """

    allow_all: bool = False
    allowed: frozenset[str] = frozenset()

    def check(self, url: str) -> Target:
        """The checked target, or AddressRefused."""
        parts = urlsplit(url)
        try:
            host, port = parts.hostname, parts.port
        except ValueError:  # a port that is not a number, or out of range
            host, port = None, None
        if parts.scheme not in ("http", "https") or not host:
            raise AddressRefused(f"Not an http(s) URL: {url[:100]}", kind="scheme")
        port = port or (443 if parts.scheme == "https" else 80)
        if self.allow_all or f"{host}:{port}" in self.allowed:
            return Target(host, port)
        addresses = _resolve(host, port)
        for address in addresses:
            if not is_public(address):
                raise AddressRefused(
                    f"Refusing a non-public address ({address}) for {host}; set "
                    "FLUX2WEB_ALLOW_PRIVATE_URLS to allow it.",
                    kind="private",
                    host=host,
                    address=str(address),
                )
        return Target(host, port, tuple(dict.fromkeys(str(a) for a in addresses)))


def _resolve(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]  # written as an address: nothing to look up
    except ValueError:
        pass
    if _looks_numeric(host):
        # 2130706433, 0177.0.0.1, 0x7f.1, 010.0.0.1: resolvers disagree on what these mean
        # (010 is 8 here and 10 elsewhere), so what we check may not be what a provider
        # reaches. Only the usual dotted form is taken.
        raise AddressRefused(
            f"Refusing {host}: write an IP address in the usual dotted form.",
            kind="numeric",
            host=host,
        )
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise AddressRefused(
            f"Cannot resolve {host}: {exc}", kind="unresolvable", host=host
        ) from None
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


def _looks_numeric(host: str) -> bool:
    try:
        socket.inet_aton(host)
    except (OSError, UnicodeError, ValueError):
        return host.rstrip(".").replace(".", "").isdigit()
    return True


def download_image(
    url: str,
    *,
    policy: AddressPolicy,
    max_bytes: int,
    max_pixels: int,
    timeout: float = 30.0,
) -> Downloaded:
    """Download, verify and measure one image, or raise DownloadError."""
    for _ in range(MAX_REDIRECTS + 1):
        target = policy.check(url)
        location, data = _fetch(url, target, max_bytes=max_bytes, timeout=timeout)
        if location is not None:
            url = urljoin(url, location)
            continue
        return _verify(data, max_pixels)
    raise DownloadError("Too many redirects.", permanent=True)


def _fetch(url: str, target: Target, *, max_bytes: int, timeout: float):
    """(redirect location, None) or (None, body). The connection goes to an address that was
    checked, never to a second lookup of the name (which could answer differently)."""
    headers = {"User-Agent": USER_AGENT, "Accept": "image/*"}
    tries = [(url, {})]
    if target.addresses:
        parts = urlsplit(url)
        default_port = 443 if parts.scheme == "https" else 80
        netloc = target.host if target.port == default_port else f"{target.host}:{target.port}"
        if ":" in target.host:
            netloc = f"[{target.host}]" + ("" if target.port == default_port else f":{target.port}")
        headers["Host"] = netloc
        tries = [
            (_with_address(parts, address, target.port), {"sni_hostname": target.host})
            for address in target.addresses
        ]
    for number, (address_url, extensions) in enumerate(tries, start=1):
        # A client per hop: a pooled connection to the same address must not carry
        # another host's TLS name.
        with httpx.Client(
            timeout=httpx.Timeout(timeout, connect=10), headers=headers, verify=ssl_context()
        ) as client:
            try:
                with client.stream("GET", address_url, extensions=extensions) as response:
                    if response.is_redirect and "location" in response.headers:
                        return response.headers["location"], None
                    _check_status(response)
                    content_type = response.headers.get("content-type", "").split(";")[0].strip()
                    if content_type and content_type.lower() not in ALLOWED_TYPES:
                        raise DownloadError(f"Not an image: {content_type}", permanent=True)
                    declared = int(response.headers.get("content-length") or 0)
                    if declared > max_bytes:
                        raise DownloadError(f"Too large: {declared} bytes", permanent=True)
                    return None, _read_limited(response, max_bytes)
            except httpx.ConnectError:
                if number < len(tries):
                    continue  # the name has other checked addresses; try the next
                raise DownloadError("Download failed: ConnectError", permanent=False) from None
            except httpx.TransportError as exc:
                raise DownloadError(
                    f"Download failed: {type(exc).__name__}", permanent=False
                ) from None
    raise DownloadError("Download failed: no address to connect to.", permanent=False)


def _with_address(parts, address: str, port: int) -> str:
    host = f"[{address}]" if ":" in address else address
    return urlunsplit((parts.scheme, f"{host}:{port}", parts.path or "/", parts.query, ""))


def _check_status(response: httpx.Response) -> None:
    status = response.status_code
    if status == 200:
        return
    # Signed URLs answer 403 once expired; 404 and 410 mean gone. 408, 429 and 5xx pass.
    permanent = 400 <= status < 500 and status not in (408, 425, 429)
    raise DownloadError(f"The result URL answered HTTP {status}.", permanent=permanent)


def _read_limited(response: httpx.Response, max_bytes: int) -> bytes:
    buffer = io.BytesIO()
    for chunk in response.iter_bytes():
        buffer.write(chunk)
        if buffer.tell() > max_bytes:
            raise DownloadError(f"Too large: more than {max_bytes} bytes", permanent=True)
    return buffer.getvalue()


def _verify(data: bytes, max_pixels: int) -> Downloaded:
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb warning: the explicit check below decides, with a reason.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
        with image:
            width, height = image.size
            kind = image.format
            # Checked before decoding anything: a small file can claim a huge canvas.
            if width * height > max_pixels:
                raise DownloadError(
                    f"Refusing a {width}x{height} image (over {max_pixels} pixels).", permanent=True
                )
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise DownloadError(f"Not a readable image: {exc}", permanent=True) from None
    content_type = PIL_FORMATS.get(kind or "")
    if content_type is None:
        raise DownloadError(f"Unsupported image format {kind}.", permanent=True)
    return Downloaded(data, content_type, width, height, hashlib.sha256(data).hexdigest())
