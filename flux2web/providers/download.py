"""Fetch a provider's result image safely: only public addresses, bounded size, a real image."""

from __future__ import annotations

import hashlib
import io
import ipaddress
import socket
import warnings
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

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


@dataclass(frozen=True)
class AddressPolicy:
    """Private, loopback and link-local addresses are refused unless allowed.

    `allow_all` is for a machine whose providers live on the private network; `allowed`
    names single host:port pairs, such as the local sandbox.
    """

    allow_all: bool = False
    allowed: frozenset[str] = frozenset()

    def check(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise DownloadError(f"Not an http(s) URL: {url[:100]}", permanent=True)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if self.allow_all or f"{parts.hostname}:{port}" in self.allowed:
            return
        try:
            infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise DownloadError(
                f"Cannot resolve {parts.hostname}: {exc}", permanent=False
            ) from None
        for info in infos:
            address = ipaddress.ip_address(info[4][0])
            if not address.is_global:
                # The check and the connection resolve separately; a name that changes its
                # address in between could slip through. Providers' CDNs do not do that.
                raise DownloadError(
                    f"Refusing a non-public address ({address}) for {parts.hostname}; set "
                    "FLUX2WEB_ALLOW_PRIVATE_URLS to allow it.",
                    permanent=True,
                )


def download_image(
    url: str,
    *,
    policy: AddressPolicy,
    max_bytes: int,
    max_pixels: int,
    timeout: float = 30.0,
) -> Downloaded:
    """Download, verify and measure one image, or raise DownloadError."""
    headers = {"User-Agent": USER_AGENT, "Accept": "image/*"}
    with httpx.Client(
        timeout=httpx.Timeout(timeout, connect=10), headers=headers, verify=ssl_context()
    ) as client:
        for _ in range(MAX_REDIRECTS + 1):
            policy.check(url)
            try:
                with client.stream("GET", url) as response:
                    if response.is_redirect and "location" in response.headers:
                        url = urljoin(url, response.headers["location"])
                        continue
                    _check_status(response)
                    content_type = response.headers.get("content-type", "").split(";")[0].strip()
                    if content_type and content_type.lower() not in ALLOWED_TYPES:
                        raise DownloadError(f"Not an image: {content_type}", permanent=True)
                    declared = int(response.headers.get("content-length") or 0)
                    if declared > max_bytes:
                        raise DownloadError(f"Too large: {declared} bytes", permanent=True)
                    data = _read_limited(response, max_bytes)
            except httpx.TransportError as exc:
                raise DownloadError(
                    f"Download failed: {type(exc).__name__}", permanent=False
                ) from None
            return _verify(data, max_pixels)
    raise DownloadError("Too many redirects.", permanent=True)


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
