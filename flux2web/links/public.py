"""The public side of share links (/s/…, no sign-in): the page, the password form, and every
image and download, each authorised by the link for that image and that size."""

from __future__ import annotations

import hashlib
import math
import re
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.files.storage import default_storage
from django.http import (
    FileResponse,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseNotModified,
)
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.csrf import csrf_exempt
from PIL import Image as PILImage

from flux2web.core import throttle
from flux2web.lib.clients import client_address, throttle_key
from flux2web.lib.ids import parse_id
from flux2web.lib.kept import kept
from flux2web.lib.zips import zip_response
from flux2web.links import imaging
from flux2web.links import services as links
from flux2web.links.models import ShareLink

CSP = (
    "default-src 'none'; img-src 'self'; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SIZES = ("thumb", "web", "original")
# What reading or re-encoding a stored file can raise: gone, truncated, not an image.
UNREADABLE = (OSError, ValueError, SyntaxError, PILImage.DecompressionBombError)
PASSWORD_TRIES = 10  # per link and client
LINK_PASSWORD_TRIES = 50  # per link, from every client together
PASSWORD_WINDOW = 15 * 60
SESSION_KEY = "share_unlocked"
# Link previewers and crawlers: served the page (for the preview) but never counted.
BOTS = re.compile(
    r"bot\b|bot/|crawler|spider|slurp|preview|facebookexternalhit|facebot|whatsapp|slack|"
    r"discord|telegram|linkedin|skypeuri|embedly|vkshare|pinterest|redditbot|bingpreview|"
    r"googleother|google-inspectiontool|curl/|wget/|python-requests|httpx|"
    # The fediverse and other previewers: a post with a link makes every instance fetch it.
    r"mastodon|pleroma|akkoma|misskey|iframely|bluesky|bsky|cardyb|applebot|bingbot|tumblr|"
    r"w3c_validator|w3c-checklink|google-pagerenderer|kakaotalk-scrap|"
    # Scripts, not people.
    r"go-http-client|okhttp|node-fetch|axios/|java/|libwww-perl",
    re.IGNORECASE,
)


def share_headers(response: HttpResponse, *, page: bool) -> HttpResponse:
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    response["Content-Security-Policy"] = CSP
    response["Cache-Control"] = "private, no-store" if page else "private, no-cache"
    response["X-Frame-Options"] = "DENY"
    return response


def gone(request) -> HttpResponse:
    """The one answer for an unknown, wrong, expired, revoked or rotated-away token, and for
    anything a live link does not open: same status, body and headers."""
    # Rendered without the request: no context processor may read the session or the
    # user, so the answer does not even vary by who asks.
    return share_headers(HttpResponse(render_to_string("share/gone.html"), status=404), page=True)


def public(*methods):
    """A view of the public side: no sign-in, the share headers on every answer (405s too),
    and the link looked up from the address; a miss is `gone`."""

    def decorate(view):
        @wraps(view)
        def wrapped(request, key, *args, **kwargs):
            if request.method not in methods:
                return share_headers(HttpResponseNotAllowed(methods), page=True)
            link = links.find_live(links.split_key(key))
            if link is None:
                return gone(request)
            if request.method == "POST":
                # A form posted under another address of the link acts, and comes back to
                # the link's own address (see `canonical`).
                key = links.address_key(link)
            response = view(request, link, key, *args, **kwargs)
            if not response.has_header("Content-Security-Policy"):
                share_headers(response, page=response.get("Content-Type", "").startswith("text"))
            return response

        # Exempt from Django's CSRF check: the unlock is exempt on purpose (see there), and
        # proofing's forms carry their own token (links/proofing.py), since these pages'
        # `Referrer-Policy: no-referrer` makes browsers post with `Origin: null`. A refused
        # POST would otherwise be the CSRF failure page (not `gone`, without the share
        # headers) logged with the address.
        return csrf_exempt(login_not_required(wrapped))

    return decorate


# ---- Who is asking. ---------------------------------------------------------------------


def is_bot(request) -> bool:
    return bool(BOTS.search(request.headers.get("User-Agent", "")))


def visitor_hash(request, day) -> str:
    """A salted daily hash of address and browser: counts unique visitors, stores no address
    and cannot be joined across days."""
    salt = hashlib.sha256(f"{settings.SECRET_KEY}:share-visitors:{day.isoformat()}".encode())
    material = f"{client_address(request)}\n{request.headers.get('User-Agent', '')}"
    return hashlib.sha256(salt.digest() + material.encode()).hexdigest()


def counts(request, link: ShareLink) -> bool:
    """Whether this request counts in the link's stats: not a bot, not the owner."""
    if request.method != "GET" or is_bot(request):
        return False
    return getattr(request.user, "pk", None) != link.owner_id


def canonical(request, link: ShareLink, key: str) -> HttpResponse | None:
    """A redirect to the link's own address (links.services.address_key) when a page was
    reached under another: the slug is decoration and any slug finds the link, but the page
    is kept (lib/kept.py) under its address, so a made-up slug, or a 3,000-character one,
    must not make a kept grid and comments of its own. None when `key` is the address."""
    address = links.address_key(link)
    if key == address:
        return None
    rest = request.path_info.split("/", 3)[3] if request.path_info.count("/") >= 3 else ""
    query = request.META.get("QUERY_STRING", "")
    url = f"/s/{address}/{rest}" + (f"?{query}" if query else "")
    return share_headers(redirect(url), page=True)


def is_unlocked(request, link: ShareLink) -> bool:
    if not link.password_hash:
        return True
    return request.session.get(SESSION_KEY, {}).get(str(link.pk)) == link.version


# ---- The page. --------------------------------------------------------------------------


@public("GET", "HEAD")
def page(request, link, key):
    from flux2web.links import proofing  # it builds on this module

    if not is_unlocked(request, link):
        return _password_form(request, link, key)
    if elsewhere := canonical(request, link, key):
        return elsewhere
    tiles = links.link_tiles(link)
    if counts(request, link):
        day = timezone.localdate()
        links.record_view(link, visitor=visitor_hash(request, day), day=day)
    positions = {tile["image_id"]: n for n, tile in enumerate(tiles)}
    # Proofing's per-visitor state (picks, form token) is filled into the kept grid, which
    # stays one rendering for every visitor; "show my picks" keeps the smaller grid it shows.
    proof = proofing.state_for(request, link, key, positions=positions)
    shown = tiles
    if proof and proof.mine and proof.picks:
        shown = [tile for tile in tiles if tile["image_id"] in proof.picks.picked]
    grid = _grid(link, shown, f"/s/{key}/i/")
    grid = proof.fill(grid) if proof else mark_safe(grid)  # noqa: S308 - our own template
    cover_id = getattr(link.collection, "cover_id", None)
    if cover_id not in positions:
        cover_id = tiles[0]["image_id"] if tiles else None
    preview = link.allow_preview and not link.password_hash and cover_id is not None
    context = {
        "link": link,
        "key": key,
        "count": len(tiles),
        "shown": len(shown),
        "grid": grid,
        "proof": proof,
        "preview": preview,
        "cover_url": request.build_absolute_uri(f"/s/{key}/i/{cover_id}/web") if preview else "",
        "page_url": request.build_absolute_uri(f"/s/{key}/"),
        "can_download": link.downloads != ShareLink.Downloads.NONE,
        # Previews off: the tab shows a generic title, so a previewer that reads <title>
        # gets nothing of the link; people still see its title on the page, bots we know
        # do not. (A locked link's page is the password form, which names nothing.)
        "preview_title": link.allow_preview,
        "show_title": link.allow_preview or not is_bot(request),
    }
    response = share_headers(render(request, "share/page.html", context), page=True)
    return proof.finish(response) if proof else response


# What the link's settings change in its grid: whatever it shows besides its rows.
SHOWN = ("show_prompts", "show_parameters", "show_creator", "show_cost", "downloads",
         "allow_picks", "allow_comments")  # fmt: skip


def _grid(link, rows, base) -> str:
    """The grid of the link's images, kept under exactly what it shows (lib/kept.py): the
    rows, the link's settings and its address. 500 figures through a template cost tens of
    milliseconds, so they are rendered once per change, for every visitor."""
    shows = (base, [getattr(link, name) for name in SHOWN], rows)

    def render() -> str:
        from flux2web.links.proofing import MARKS

        tiles = [figure(link, row, n, len(rows), base) for n, row in enumerate(rows)]
        return render_to_string("share/page.html#grid", {"tiles": tiles, "marks": MARKS})

    return kept("share-grid", shows, render)


def figure(link, tile, n, total, base) -> dict:
    """What one figure of the grid (or the one-image page) shows: only what the owner chose,
    and the proofing controls the link allows (hidden, not disabled, when off)."""
    url = f"{base}{tile['image_id']}/"
    facts = []
    if link.show_parameters:
        facts.append(f"FLUX.2 {tile['image__job__model']}")
        if tile["image__job__aspect_ratio"]:
            facts.append(tile["image__job__aspect_ratio"])
        if tile["image__job__seed"] is not None:
            facts.append(f"seed {tile['image__job__seed']}")
    if link.show_creator:
        name = f"{tile['image__owner__first_name']} {tile['image__owner__last_name']}".strip()
        facts.append(name or tile["image__owner__username"])
    if link.show_cost:
        facts.append(f"${tile['image__job__price']:.2f}")
    download = ""
    if link.downloads == ShareLink.Downloads.ORIGINAL:
        download = f"{url}original"
    elif link.downloads == ShareLink.Downloads.WEB:
        download = f"{url}web?dl=1"
    prompt = tile["image__job__prompt"] if link.show_prompts else None
    return {
        "id": tile["image_id"], "n": n + 1, "url": url, "download": download, "prompt": prompt,
        "facts": " · ".join(facts),
        # Relative to the page (/s/<key>/): the address's long key not repeated per tile.
        "proof": f"p/{tile['image_id']}" if link.allow_picks or link.allow_comments else "",
        "pick": f"p/{tile['image_id']}/pick" if link.allow_picks else "",
        "comment": link.allow_comments,
        "caption": prompt is not None or bool(facts) or bool(download),
        "alt": prompt[:200] if prompt is not None else f"Image {n + 1} of {total}",
        "width": int(tile["image__width"] or 1), "height": int(tile["image__height"] or 1),
        "eager": n < 8,
    }  # fmt: skip


def _password_form(request, link, key, *, error="", status=200):
    context = {"link": link, "key": key, "error": error}
    return share_headers(render(request, "share/password.html", context, status=status), page=True)


# No CSRF check here, on purpose: with `Referrer-Policy: no-referrer` browsers send
# `Origin: null` on this form's POST, which Django's check refuses. A forged POST could
# only unlock a link, with a password the forger knows, in the forger's target's own
# session: nothing to gain. Throttling still applies per link and address.
@csrf_exempt
@public("POST")
def unlock(request, link, key):
    if not link.password_hash:
        return redirect(f"/s/{key}/", permanent=False)
    password = request.POST.get("password", "")
    if not password:
        return _password_form(request, link, key, error="Enter the password.", status=400)
    tries = _Throttle(link, request)
    if not tries.take():
        minutes = tries.wait_minutes()
        error = f"Too many tries; wait {minutes} minute{'s' if minutes != 1 else ''}."
        return _password_form(request, link, key, error=error, status=429)
    if not links.check_link_password(link, password[:1000]):
        links.record_failed_password(link)
        return _password_form(request, link, key, error="That password is not right.", status=403)
    tries.give_back()
    unlocked = dict(request.session.get(SESSION_KEY, {}))
    unlocked[str(link.pk)] = link.version
    request.session[SESSION_KEY] = unlocked
    if not request.user.is_authenticated:
        request.session.set_expiry(0)  # a visitor's unlock ends with their browser session
    return redirect(f"/s/{key}/")


class _Throttle:
    """Password tries per link and client (an IPv6 client by its /64; behind the proxy,
    the address the proxy saw), so one client cannot guess on while guests elsewhere are
    not locked out; and per link from everyone, a ceiling for a guesser who keeps changing
    address. A try is counted before the password is checked, so tries sent at once
    cannot slip in together under the limit; a right password gives its try back. The
    counts are in the database, shared by every web process (flux2web.core.throttle)."""

    def __init__(self, link, request):
        who = hashlib.sha256(f"{settings.SECRET_KEY}:{throttle_key(request)}".encode())
        base = f"share:pw:{link.pk}"
        self.windows = [
            (f"{base}:{who.hexdigest()[:24]}", PASSWORD_TRIES),
            (f"{base}:everyone", LINK_PASSWORD_TRIES),
        ]
        self.taken: list[str] = []
        self.wait = 0.0

    def take(self) -> bool:
        """Count this try in every window; False (and the try is not made) when one is full."""
        for key, limit in self.windows:
            self.wait = throttle.take(key, limit=limit, seconds=PASSWORD_WINDOW)
            self.taken.append(key)
            if self.wait:
                return False
        return True

    def give_back(self) -> None:
        for key in self.taken:
            throttle.give_back(key)

    def wait_minutes(self) -> int:
        return max(1, math.ceil(self.wait / 60))


# ---- Images and downloads. --------------------------------------------------------------


def _allowed(link: ShareLink, size: str, download: bool) -> bool:
    if size == "original":
        return link.downloads == ShareLink.Downloads.ORIGINAL
    if download:
        return link.downloads != ShareLink.Downloads.NONE
    return True  # thumb and web are for looking at


def _strip_metadata(link: ShareLink) -> bool:
    return not (link.show_prompts and link.show_parameters)


def download_name(link: ShareLink, n: int | str, extension: str) -> str:
    # Never the prompt: a file name is metadata too.
    return f"{link.slug or 'shared'}-{n}.{extension}"


@public("GET", "HEAD")
def image(request, link, key, image_id, size):
    download = request.GET.get("dl") == "1" or size == "original"
    pk = parse_id(image_id)
    if size not in SIZES or pk is None or not is_unlocked(request, link):
        return gone(request)
    if not _allowed(link, size, download):
        return gone(request)
    found = links.link_image(link, pk)
    if found is None:
        return gone(request)
    try:
        name, content_type = _file_for(link, found, size)
    except UNREADABLE:  # a missing or unreadable stored file
        return gone(request)
    etag = '"' + hashlib.sha256(f"{name}:{download}".encode()).hexdigest()[:32] + '"'
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    elif size == "thumb":
        try:
            with default_storage.open(name, "rb") as handle:
                data = imaging.strip_thumbnail(handle.read())
        except OSError:
            return gone(request)
        response = HttpResponse(data, content_type=content_type)
    else:
        try:
            stored = default_storage.open(name, "rb")
        except UNREADABLE:  # the file went missing since the image was stored
            return gone(request)
        if download and counts(request, link):
            links.record_download(link)
        extension = name.rsplit(".", 1)[-1]
        response = FileResponse(
            stored,
            content_type=content_type,
            as_attachment=download,
            filename=download_name(link, found.pk, extension),
        )
    response["ETag"] = etag
    return share_headers(response, page=False)


def _file_for(link, image, size) -> tuple[str, str]:
    if size == "thumb":
        return image.thumbnail.name, "image/jpeg"
    if size == "web":
        return imaging.web_file(image), "image/jpeg"
    if _strip_metadata(link):
        return imaging.clean_original(image)
    return image.original.name, image.content_type or "image/png"


@public("GET", "HEAD")
def download_all(request, link, key):
    if link.downloads == ShareLink.Downloads.NONE or not is_unlocked(request, link):
        return gone(request)
    images = links.link_images(link)
    if not images:
        return gone(request)
    if counts(request, link):
        links.record_download(link)
    size = "original" if link.downloads == ShareLink.Downloads.ORIGINAL else "web"
    entries = _entries(link, images, size)
    response = zip_response(entries, filename=f"{link.slug or 'shared'}.zip", unreadable=UNREADABLE)
    return share_headers(response, page=False)


def _entries(link, images, size):
    for n, image in enumerate(images, start=1):
        try:
            name, _ = _file_for(link, image, size)
        except UNREADABLE:
            continue  # its file is gone: leave it out rather than break the archive
        extension = name.rsplit(".", 1)[-1]
        yield download_name(link, n, extension), lambda name=name: default_storage.open(name)


def not_found(request, rest=""):
    """Any other address under /s/: the same answer as a dead link."""
    return gone(request)


not_found = csrf_exempt(login_not_required(not_found))
