"""The gallery of a person's images, and the access-checked media view behind every image."""

from __future__ import annotations

import functools
import hashlib
from html import escape

from django.contrib import messages
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import connection
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponseNotModified
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from flux2web.collections.models import Collection
from flux2web.collections.tiles import image_tile
from flux2web.gallery.forms import GalleryFilters, provider_choices
from flux2web.jobs import services
from flux2web.jobs.models import Image
from flux2web.lib.headers import stored_file
from flux2web.lib.ids import parse_id, parse_ids
from flux2web.lib.redirects import redirect_back
from flux2web.lib.shells import render_with_shell
from flux2web.lib.zips import ZIP_AT_MOST, zip_response
from flux2web.studio.models import ReferenceUpload

PER_PAGE = 48


def _images_for_user(user):
    return (
        Image.objects.filter(owner=user, status=Image.Status.MIRRORED, job__deleted_at__isnull=True)
        .select_related("job")
        .order_by("-id")
    )


# Rendered pages of tiles are cached under the person's gallery token, which changes
# whenever their gallery does: a hit costs one cache read instead of a query and 48 tiles.
PAGE_CACHE_SECONDS = 3600


@require_GET
def index(request):
    # Built only if used: by the tiles when filtered, by the shell when it is rendered.
    filters = SimpleLazyObject(lambda: GalleryFilters(request.GET))
    before = request.GET.get("before", "")
    digest = hashlib.sha256(request.GET.urlencode().encode()).hexdigest()[:24]
    key = f"gallery:{request.user.pk}:{request.user.gallery_token}:{digest}"
    cached = cache.get(key)
    if cached is None:
        cached = _render_page(request, filters, before)
        cache.set(key, cached, PAGE_CACHE_SECONDS)
    page_html, shown = cached
    empty = not shown and not before
    user = request.user
    context = {
        "filters": filters,
        "empty": empty,
        "lb_add": True,
        # Evaluated only when the shell is rendered, which the collections token keys.
        "lb_add_choice": lambda: _add_choice(user),
    }
    slots = {"page_html": mark_safe(page_html)}  # noqa: S308 - our own rendered template
    return render_with_shell(
        request,
        "gallery/index.html",
        context,
        slots=slots,
        # The filter form lists the providers: a new or renamed one changes the shell.
        key=f"empty={empty}:collections={user.collections_token}:{provider_choices()}",
        partials={"gallery-results": "results", "gallery-more": "more"},
    )


def _add_choice(user) -> str:
    """The lightbox's "Add to collection": a choice of the person's collections, or a new
    one. Kept with the page's shell, under the person's collections token."""
    rows = Collection.objects.addable_by(user).order_by("title", "pk").values_list("pk", "title")
    options = format_html_join("", '<option value="{}">{}</option>', rows)
    if not options:
        return mark_safe(
            '<input type="hidden" name="new_title" value="My collection">'
            '<button type="submit">Add to a new collection</button>'
        )
    return format_html(
        '<label class="visually-hidden" for="lb-collection">Collection</label>'
        '<select name="collection" id="lb-collection">{}</select>'
        '<button type="submit">Add to collection</button>',
        options,
    )


TILE_COLUMNS = (
    "pk", "job_id", "original", "thumbnail", "width", "height", "team_visible",
    "job__prompt", "job__model", "job__favourite",
)  # fmt: skip


def _render_page(request, filters, before) -> tuple[str, int]:
    before_id = parse_id(before)
    if any(request.GET.get(name) for name in GalleryFilters.base_fields):
        images = filters.filter_images(_images_for_user(request.user))
        if before_id is not None:
            images = images.filter(pk__lt=before_id)
        page = list(images.values(*TILE_COLUMNS)[: PER_PAGE + 1])
    else:
        page = _unfiltered_page(request.user.pk, before_id)
    query = request.GET.copy()
    query.pop("before", None)
    media, jobs = _prefixes()
    tiles = "".join(_tile(row, media, jobs) for row in page[:PER_PAGE])
    if len(page) > PER_PAGE:  # the next page loads as the link scrolls into view
        query["before"] = page[PER_PAGE - 1]["pk"]
        tiles += format_html(
            '<a id="gallery-more" class="more" href="?{0}" hx-get="?{0}" hx-trigger="revealed"'
            ' hx-target="this" hx-swap="outerHTML">More images</a>',
            query.urlencode(),
        )
    return tiles, len(page)


# Stand-ins the statement below is compiled with, then swapped for the real values.
_OWNER, _BEFORE = -7_000_001, -7_000_002


@functools.cache
def _unfiltered_statement(with_before: bool, vendor: str) -> tuple[str, tuple]:
    """The unfiltered gallery's query (the view most people open), as the ORM writes it,
    compiled once per process: compiling cost five times running it (bench/pages.py).
    Returns the SQL and its parameters, with stand-ins where the person and the id to
    start before go."""
    images = _images_for_user(_OWNER)
    if with_before:
        images = images.filter(pk__lt=_BEFORE)
    sql, params = images.values_list(*TILE_COLUMNS)[: PER_PAGE + 1].query.sql_with_params()
    assert _OWNER in params and (_BEFORE in params) == with_before, params
    return sql, tuple(params)


def _unfiltered_page(owner_id: int, before_id: int | None) -> list[dict]:
    sql, params = _unfiltered_statement(before_id is not None, connection.vendor)
    values = [owner_id if p == _OWNER else before_id if p == _BEFORE else p for p in params]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        return [dict(zip(TILE_COLUMNS, row, strict=True)) for row in cursor.fetchall()]


def _prefixes() -> tuple[str, str]:
    """Where stored files and job pages live: /media/ and /jobs/, as the URLconf says."""
    return reverse("gallery:media", args=["x"])[:-1], reverse("studio:job", args=[1])[:-2]


def _tile(row: dict, media: str, jobs: str) -> str:
    """One of the person's own images: selectable, with its lightbox tools and marks."""
    badges = (
        '<span class="badge badge-team" title="Visible to the team">Team</span> '
        if row["team_visible"]
        else ""
    )
    badges += '<span class="star" title="Favourite">★</span> ' if row["job__favourite"] else ""
    caption = (
        f"{badges}{escape(row['job__prompt'][:60])}"
        f'<span class="muted"> · {escape(row["job__model"])}</span>'
    )
    lightbox = (
        f' data-job="{jobs}{int(row["job_id"])}/" data-own="1"'
        f' data-team="{1 if row["team_visible"] else 0}"'
        f' data-fav="{1 if row["job__favourite"] else 0}"'
        f' data-caption="{escape(row["job__prompt"][:300])}"'
    )
    return image_tile(row, media=media, caption=caption, lightbox=lightbox, pick=True)


def _selected(request):
    ids = parse_ids(request.POST.getlist("image"))
    return _images_for_user(request.user).filter(pk__in=ids[:ZIP_AT_MOST])


def _back(request):
    return redirect_back(request, "gallery:index")


@require_POST
def download_zip(request):
    images = list(_selected(request))
    if not images:
        messages.error(request, "Select at least one image to download.")
        return _back(request)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    entries = ((image.download_name, image.original.open) for image in images)
    return zip_response(entries, filename=f"flux2web-{stamp}.zip")


@require_POST
def delete_selected(request):
    ids = parse_ids(request.POST.getlist("image"))
    if not ids:
        messages.error(request, "Select at least one image to delete.")
        return _back(request)
    deleted = services.delete_images(owner=request.user, image_ids=ids)
    messages.success(request, f"Deleted {deleted} image{'s' if deleted != 1 else ''}.")
    return _back(request)


def _seen_by_team(image: Image | None, user) -> bool:
    """A teammate (any signed-in member: one team per site) may see an image its owner
    made team-visible, while the owner is an active member. Being in a collection shows
    nothing by itself: private beats collection membership (adding one's image to a team
    collection makes it team-visible instead; making it private again hides it)."""
    return image is not None and image.team_visible and image.owner.is_active


@require_GET
@stored_file
def media(request, name):
    """Serve a stored file to its owner or staff; anyone else gets the same 404 as for a
    name that does not exist, so names cannot be probed."""
    image = (
        Image.objects.filter(Q(original=name) | Q(thumbnail=name))
        .select_related("job", "owner")
        .only(
            "original",
            "thumbnail",
            "content_type",
            "index",
            "team_visible",
            "owner__is_active",
            "job__owner_id",
            "job__prompt",
        )
        .first()
    )
    if image is not None:
        owner_id = image.job.owner_id
        thumb = image.thumbnail.name == name
        content_type = "image/jpeg" if thumb else (image.content_type or "image/png")
    else:
        ref = ReferenceUpload.objects.filter(file=name).only("owner_id", "content_type").first()
        if ref is None:
            raise Http404("No such image.")
        owner_id, thumb, content_type = ref.owner_id, False, ref.content_type
    if (
        owner_id != request.user.pk
        and not request.user.is_staff
        and not _seen_by_team(image, request.user)
    ):
        raise Http404("No such image.")
    # A name is never reused for other bytes, so it is a strong validator on its own. Its
    # owner may keep it for a year; anyone else asks again each time (a 304 with the ETag),
    # so an image made private again is not still shown from their browser's cache.
    etag = '"' + hashlib.sha256(name.encode()).hexdigest()[:32] + '"'
    if owner_id == request.user.pk:
        cache = "private, max-age=31536000, immutable"
    else:
        cache = "private, no-cache"
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        try:
            handle = default_storage.open(name)
        except FileNotFoundError:
            raise Http404("No such image.") from None
        download = image is not None and not thumb and request.GET.get("download") == "1"
        response = FileResponse(
            handle,
            content_type=content_type,
            as_attachment=download,
            filename=image.download_name if download else None,
        )
    response["ETag"] = etag
    response["Cache-Control"] = cache
    return response
