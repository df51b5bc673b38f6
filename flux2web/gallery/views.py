"""The gallery of a person's images, and the access-checked media view behind every image."""

from __future__ import annotations

import functools
import hashlib

from django.contrib import messages
from django.core.files.storage import default_storage
from django.db import connection
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponseNotModified
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from flux2web.collections.models import Collection
from flux2web.collections.tiles import media_prefix, render_tiles, tile
from flux2web.gallery.forms import GalleryFilters, provider_choices
from flux2web.jobs import services
from flux2web.jobs.models import Image
from flux2web.lib.headers import stored_file
from flux2web.lib.ids import parse_id, parse_ids
from flux2web.lib.kept import kept
from flux2web.lib.redirects import redirect_back
from flux2web.lib.shells import render_with_shell
from flux2web.lib.zips import ZIP_AT_MOST, zip_response
from flux2web.studio.models import ReferenceUpload

PER_PAGE = 48


def _images_for_user(user):
    return Image.objects.owned_by(user).shown().select_related("job").order_by("-id")


@require_GET
def index(request):
    # Built only if used: by the tiles when filtered, by the shell when it is rendered.
    filters = SimpleLazyObject(lambda: GalleryFilters(request.GET))
    before = request.GET.get("before", "")
    user = request.user
    # The page of tiles shows the person's gallery, which their gallery token stands for:
    # a hit costs one cache read instead of a query (a search over the whole history takes
    # 6 ms) and 48 tiles.
    shows = (user.pk, user.gallery_token, request.GET.urlencode())
    page_html, shown = kept("gallery-page", shows, lambda: _render_page(request, filters, before))
    empty = not shown and not before
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
    more = ""
    if len(page) > PER_PAGE:  # the next page loads as the link scrolls into view
        query = request.GET.copy()
        query["before"] = page[PER_PAGE - 1]["pk"]
        more = query.urlencode()
    media, jobs = media_prefix(), reverse("studio:job", args=[1])[:-2]
    grid = f"gallery-tile:{media}:{jobs}"
    tiles = render_tiles(grid, page[:PER_PAGE], lambda row: _tile(row, media, jobs))
    context = {"tiles": tiles, "more": more}
    return render_to_string("gallery/index.html#tiles", context), len(page)


# Stand-ins the statement below is compiled with, then swapped for the real values.
_OWNER, _BEFORE = -7_000_001, -7_000_002


@functools.cache
def _unfiltered_statement(with_before: bool, vendor: str) -> tuple[str, tuple]:
    """The unfiltered gallery's query (the view most people open), as the ORM writes it,
    compiled once per process: compiling costs 0.45 ms, four times running it, and
    without it the first view after a change sits at its target, 3x a bare view (README,
    Performance). Returns the SQL and its parameters, with stand-ins where the person and
    the id to start before go."""
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


def _tile(row: dict, media: str, jobs: str) -> dict:
    """One of the person's own images: selectable, with its lightbox tools and marks."""
    image = {**row, "prompt": row["job__prompt"]}
    return tile(image, media, mine=True, pick=True, job=f"{jobs}{row['job_id']}/",
                team=row["team_visible"], favourite=row["job__favourite"],
                model=row["job__model"], says=row["job__prompt"][:300])  # fmt: skip


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
        # A teammate sees what the team sees (Image.is_seen_by); being in a collection
        # shows nothing by itself: private beats collection membership.
        seen = owner_id == request.user.pk or image.is_seen_by(request.user)
    else:
        refs = ReferenceUpload.objects.filter(file=name)
        ref = refs.only("owner_id", "content_type", "source_image_id").first()
        if ref is None:
            raise Http404("No such image.")
        thumb, content_type = False, ref.content_type
        # A file from the person's disk is theirs; a copy of an image ("Use as reference")
        # is whoever's may see that image now, and so never kept for a year by a browser.
        owner_id = ref.owner_id if ref.source_image_id is None else None
        seen = owner_id == request.user.pk or (
            owner_id is None and refs.visible_to(request.user).exists()
        )
    if not seen and not request.user.is_staff:
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
