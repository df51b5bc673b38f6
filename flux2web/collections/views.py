"""Collections, the team gallery, and each person's and the team's visibility settings."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.db.models import CharField, Count, Max, OuterRef, Q, Subquery, Value
from django.http import Http404, QueryDict
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.html import escape
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from flux2web.accounts.models import TeamPolicy
from flux2web.collections import services
from flux2web.collections.forms import (
    AddToCollectionForm,
    CollectionForm,
    ImageSettingsForm,
    NewCollectionForm,
    TeamGalleryFilters,
    TeamPolicyForm,
)
from flux2web.collections.models import Collection, CollectionItem
from flux2web.collections.tiles import media_prefix, render_tiles, review_url, tile
from flux2web.jobs.models import Image, seen_by
from flux2web.lib.access import admin_required
from flux2web.lib.htmx import no_change, render_page
from flux2web.lib.ids import parse_id, parse_ids
from flux2web.lib.kept import fill, kept, marker
from flux2web.lib.redirects import redirect_back, safe_next
from flux2web.lib.zips import ZIP_AT_MOST, zip_response

TEAM_PER_PAGE = 48
# Tiles per page of a collection; more load as the person scrolls (or follows "More").
PER_PAGE = 60
GRID_PARTIALS = {"collection-grid": "grid", "collection-more": "tiles"}


# ---- Who may see and change what: anyone else gets the same 404 as for no collection. --


def _collection_for_viewer(request, pk) -> Collection:
    return get_object_or_404(
        Collection.objects.for_user(request.user).select_related("owner", "cover__owner"),
        pk=pk,
    )


def _collection_for_owner(request, pk) -> Collection:
    return get_object_or_404(Collection.objects.filter(owner=request.user), pk=pk)


def _back(request, default: str):
    return redirect_back(request, default)


# ---- The list of collections, and making one. ------------------------------------------


def _collections_context(request, form=None):
    viewer = request.user
    first_item = CollectionItem.objects.filter(
        seen_by(viewer, "image__"),
        collection=OuterRef("pk"),
        image__status=Image.Status.MIRRORED,
    ).order_by("position", "id")
    # Counted as the viewer sees them: a private image of someone else is not even a number.
    shown = seen_by(viewer, "items__image__") & Q(
        items__image__status=Image.Status.MIRRORED, items__image__job__deleted_at__isnull=True
    )
    collections = list(
        Collection.objects.for_user(viewer)
        .select_related("owner", "cover__owner")
        .annotate(
            n=Count("items", filter=shown), first_image=Subquery(first_item.values("image_id")[:1])
        )
        .order_by("-updated_at", "-id")
    )
    # A collection without a chosen cover (or one this person does not see) shows its
    # first image: one query for them all.
    for c in collections:
        c.own_cover = c.cover if c.cover_id and c.cover.is_seen_by(viewer) else None
    wanted = [c.first_image for c in collections if c.own_cover is None and c.first_image]
    firsts = Image.objects.in_bulk(wanted) if wanted else {}
    for c in collections:
        c.shown_cover = c.own_cover or firsts.get(c.first_image)
    mine = [c for c in collections if c.owner_id == request.user.pk]
    team = [c for c in collections if c.owner_id != request.user.pk]
    return {
        "mine": mine,
        "team": team,
        "form": form or NewCollectionForm(),
        "closed": _closed_contributions(viewer),
    }


def _closed_contributions(viewer) -> list[dict]:
    """The person's own images in collections since closed to them (made private by their
    owner): they can take them back. Nothing else of those collections is shown, not even
    the title (it may have changed since): only whose it is and the person's own images."""
    items = (
        CollectionItem.objects.filter(added_by=viewer, image__owner=viewer)
        .exclude(collection__in=Collection.objects.for_user(viewer))
        .select_related("image", "collection__owner")
        .order_by("collection_id", "position", "id")[:200]
    )
    closed: dict[int, dict] = {}
    for item in items:
        entry = closed.setdefault(
            item.collection_id,
            {"pk": item.collection_id, "owner": item.collection.owner, "images": []},
        )
        entry["images"].append(item.image)
    return list(closed.values())


@require_GET
def collections(request):
    return render(request, "sharing/collections.html", _collections_context(request))


@require_POST
def collection_new(request):
    form = NewCollectionForm(request.POST)
    if not form.is_valid():
        context = _collections_context(request, form)
        return render(request, "sharing/collections.html", context, status=400)
    collection = services.collection_create(owner=request.user, **form.cleaned_data)
    messages.success(request, f"Made the collection “{collection.title}”.")
    return redirect("sharing:collection", collection.pk)


# ---- One collection. -------------------------------------------------------------------


# The page's filters: by mark (?mark=approved|changes|rejected|none) and ?comments=1.
MARK_FILTERS = {**dict(CollectionItem.Mark.choices), "none": "Unmarked"}


def _filters(query) -> dict[str, str]:
    """The filters a query asks for, known values only (anything else filters nothing)."""
    chosen = {}
    if query.get("mark") in MARK_FILTERS:
        chosen["mark"] = query["mark"]
    if query.get("comments") == "1":
        chosen["comments"] = "1"
    return chosen


def _filtered(ordered, filters: dict, *, viewer):
    if "mark" in filters:
        ordered = ordered.filter(mark="" if filters["mark"] == "none" else filters["mark"])
    if "comments" in filters:
        ordered = ordered.annotate(said=_readable_comments(viewer)).filter(said__gt=0)
    return ordered


def _readable_comments(viewer):
    """How many comments on the item's image the viewer may read, as review's
    Comment.objects.readable_by says, through the reverse relation (collections stands
    below review): teammates' on images they see (the items shown already are), and guests'
    through links they own or to collections they own."""
    readable = (
        Q(comments__reviewer__isnull=True)
        | Q(comments__reviewer__link__owner=viewer)
        | Q(comments__reviewer__link__collection__owner=viewer)
    )
    counted = Image.objects.filter(pk=OuterRef("image_id")).annotate(
        n=Count("comments", filter=readable)
    )
    return Subquery(counted.values("n")[:1])


def _this_collection_s_picks(collection):
    """How many guests of this collection's links picked the item's image."""
    counted = Image.objects.filter(pk=OuterRef("image_id")).annotate(
        n=Count("picks", filter=Q(picks__reviewer__link__collection=collection))
    )
    return Subquery(counted.values("n")[:1])


def _page_context(request, collection, form=None, query=None):
    """The collection's head and one page of its grid (PER_PAGE tiles from ?start=), as
    filtered by the query (the request's, or the page an action came from)."""
    query = request.GET if query is None else query
    start = min(parse_id(query.get("start")) or 0, 10**6)
    filters = _filters(query)
    ordered = _filtered(
        services.ordered_items(collection, viewer=request.user), filters, viewer=request.user
    )
    count = ordered.count()
    # Filtered, the head says of how many: one more count, only then.
    total = services.ordered_items(collection, viewer=request.user).count() if filters else count
    mine = collection.owner_id == request.user.pk
    can_add = mine or collection.visibility == Collection.Visibility.TEAM_ADD
    context = {
        "collection": collection,
        "start": start,
        "next_start": start + PER_PAGE if count > start + PER_PAGE else None,
        "count": count,
        "total": total,
        "is_owner": mine,
        "can_add": can_add,
        "can_mark": can_add,
        "filters": filters,
        "filter_query": urlencode(filters) + "&" if filters else "",
        "mark_filters": MARK_FILTERS,
        "form": form or CollectionForm(instance=collection, prefix="edit"),
        "move_url": reverse("sharing:collection_move", args=[collection.pk]),
        "cover_url": reverse("sharing:collection_cover", args=[collection.pk]),
        "remove_url": reverse("sharing:collection_remove", args=[collection.pk]),
        "mark_url": reverse("sharing:collection_mark", args=[collection.pk]),
        "marks": CollectionItem.Mark.choices,
    }
    context["tiles_html"] = _tiles(request, ordered, context)
    if collection.cover_id and collection.cover.is_seen_by(request.user):
        context["cover"] = collection.cover
    else:
        first = ordered.select_related("image").first()
        context["cover"] = first.image if first else None
    return context


def _tiles(request, ordered, context) -> str:
    """A page of the grid, kept (lib/kept.py) under everything it shows: the collection's
    last change (every service write bumps it), how many images it holds (an image
    deleted from the gallery leaves without a write here), and the viewer's own gallery
    token (their controls and their images' team marks). A hit costs one cache read, not
    60 tiles."""
    collection, viewer, start = context["collection"], request.user, context["start"]
    shows = (collection.pk, collection.updated_at, context["count"], collection.order,
             collection.cover_id, viewer.pk, viewer.gallery_token, start,
             sorted(context["filters"].items()), _said(collection))  # fmt: skip

    def render() -> str:
        items = ordered.select_related("image", "image__job", "marked_by").annotate(
            n_comments=_readable_comments(viewer)
        )
        if context["is_owner"]:
            items = items.annotate(n_picks=_this_collection_s_picks(collection))
        items = list(items[start : start + PER_PAGE])
        _tile_urls(items, viewer=viewer)
        per_request = {"csrf_token": marker("csrf"), "next_path": marker("next")}
        return render_to_string(
            "sharing/collection.html#tile-list",
            {**context, **per_request, "items": items},
            request=request,
        )

    html = kept("collection-tiles", shows, render)
    # A mark goes back to the page it was made on: this one, or after an action, the page
    # that action came from.
    here = request.get_full_path() if request.method == "GET" else safe_next(request)
    here = here or reverse("sharing:collection", args=[collection.pk])
    return fill(html, csrf=get_token(request), next=escape(here))


def _said(collection) -> tuple:
    """What was said about the collection's images, in one query: how many comments and
    guests' picks there are and the newest of each, so a tile's counts are never stale.
    Two aggregates in a UNION, not one over both joins: that one multiplies comments by
    picks (2.5 ms for 500 images, 2,000 comments and 500 picks, against 1.6 ms)."""
    images = Image.objects.filter(collection_items__collection=collection).order_by()

    def said(relation: str):  # grouped by its name, a constant: one row of (name, n, last)
        named = images.annotate(said=Value(relation, output_field=CharField())).values("said")
        return named.annotate(n=Count(relation), last=Max(relation)).values_list(
            "said", "n", "last"
        )

    return tuple(sorted(said("comments").union(said("picks"), all=True)))


def _tile_urls(items, *, viewer) -> None:
    """Each tile's addresses, built from two reversals instead of several per tile: a
    500-image collection would spend most of its time in reverse()."""
    media = reverse("gallery:media", args=["x"])[:-1]
    job = reverse("studio:job", args=[0])[: -len("0/")]
    for item in items:
        item.review_url = review_url(item.image_id)
        image = item.image
        item.thumb_url = media + image.thumbnail.name
        item.full_url = media + image.original.name
        item.own = image.owner_id == viewer.pk
        item.job_url = f"{job}{image.job_id}/" if item.own else ""


@require_GET
def collection(request, pk):
    collection = _collection_for_viewer(request, pk)
    context = _page_context(request, collection)
    return render_page(request, "sharing/collection.html", context, partials=GRID_PARTIALS)


@require_POST
def collection_edit(request, pk):
    collection = _collection_for_owner(request, pk)
    form = CollectionForm(request.POST, instance=collection, prefix="edit")
    if not form.is_valid():
        collection.refresh_from_db()  # the form changed the instance while validating
        context = _page_context(request, collection, form)
        return render(request, "sharing/collection.html", context, status=400)
    services.collection_update(collection=collection, **form.cleaned_data)
    shown = collection.shown_to_team
    if shown:
        messages.success(
            request,
            f"Saved the collection. {shown} of your images in it "
            f"{'are' if shown != 1 else 'is'} now also shown to the team, since it is.",
        )
    else:
        messages.success(request, "Saved the collection.")
    return redirect("sharing:collection", collection.pk)


@require_POST
def collection_delete(request, pk):
    collection = _collection_for_owner(request, pk)
    title = collection.title
    services.collection_delete(collection=collection)
    messages.success(
        request, f"Deleted the collection “{title}”; its images are still in the gallery."
    )
    return redirect("sharing:collections")


def _after_grid_change(request, collection):
    """The grid again for HTMX (as filtered on the page the action came from), else back to
    that page, or to the collection's."""
    back = safe_next(request)
    if request.htmx:
        collection.refresh_from_db()
        query = QueryDict(urlsplit(back).query) if back else QueryDict()
        context = _page_context(request, collection, query=query)
        return render_page(request, "sharing/collection.html", context, partials=GRID_PARTIALS)
    if back:
        return redirect_back(request, "sharing:collection", collection.pk)
    return redirect("sharing:collection", collection.pk)


@require_POST
def collection_mark(request, pk):
    """The owner, or anyone who may add to it, marks one image approved, needs changes or
    rejected (or clears it). Others get the 404 of the owner's other actions."""
    collection = get_object_or_404(
        Collection.objects.addable_by(request.user).select_related("owner", "cover__owner"),
        pk=pk,
    )
    mark, image_id = request.POST.get("mark"), parse_id(request.POST.get("image"))
    if mark not in ("", *CollectionItem.Mark.values):
        problem = "Choose a mark: approved, needs changes or rejected (or none, to clear it)."
    elif image_id is None or not services.collection_mark(
        collection=collection, user=request.user, image_id=image_id, mark=mark
    ):
        problem = "That image is not in this collection."
    else:
        words = CollectionItem.Mark(mark).label if mark else "unmarked"
        messages.success(request, f"Marked the image: {words}.")
        return _after_grid_change(request, collection)
    messages.error(request, problem)
    if request.htmx:
        return _after_grid_change(request, collection)
    return render(request, "sharing/collection.html", _page_context(request, collection),
                  status=400)  # fmt: skip


@require_POST
def collection_remove(request, pk):
    ids = parse_ids(request.POST.getlist("image"))
    collection = (
        Collection.objects.for_user(request.user)
        .select_related("owner", "cover__owner")
        .filter(pk=pk)
        .first()
    )
    if collection is None:
        return _take_back(request, pk, ids)
    if not ids:
        messages.error(request, "Choose at least one image to remove.")
        return _after_grid_change(request, collection)
    removed = services.collection_remove_images(
        collection=collection, user=request.user, image_ids=ids
    )
    if removed:
        messages.success(request, f"Removed {removed} image{'s' if removed != 1 else ''}.")
    else:
        messages.error(request, "Nothing removed: you can remove only images you added.")
    return _after_grid_change(request, collection)


def _take_back(request, pk, ids):
    """A collection closed to this person (made private after they added to it): they can
    still take back what they added, and only that. Anything else is the same 404 as for
    no collection, and the answer tells nothing of what the collection holds."""
    closed = Collection.objects.filter(pk=pk).first()
    removed = 0
    if closed is not None and ids:
        removed = services.collection_remove_images(
            collection=closed, user=request.user, image_ids=ids
        )
    if not removed:
        raise Http404("No such collection.")
    messages.success(request, f"Took back {removed} image{'s' if removed != 1 else ''}.")
    return redirect("sharing:collections")


@require_POST
def collection_move(request, pk):
    collection = _collection_for_owner(request, pk)
    # The tile's ↑ or ↓ button: its name says which way, its value which image.
    way = next((w for w in ("up", "down") if w in request.POST), None)
    image_id = parse_id(request.POST.get(way)) if way else None
    by = {"up": -1, "down": 1}.get(way)
    if image_id is None or by is None:
        messages.error(request, "Say which image to move, up or down.")
    elif not services.collection_move(collection=collection, image_id=image_id, by=by):
        messages.error(request, "That image cannot move further.")
    return _after_grid_change(request, collection)


@require_POST
def collection_reorder(request, pk):
    """The drag-and-drop order, sent whole by the page's script; or order=newest|manual."""
    collection = _collection_for_owner(request, pk)
    order = request.POST.get("order")
    if order is not None:
        if order not in Collection.Order.values:
            messages.error(request, "Choose “newest first” or your own order.")
        else:
            services.collection_set_order(collection=collection, order=order)
        return _after_grid_change(request, collection)
    ids = parse_ids(request.POST.getlist("image"))
    if not ids:
        messages.error(request, "Send the images in their new order.")
        return _after_grid_change(request, collection)
    services.collection_reorder(collection=collection, image_ids=ids)
    if request.headers.get("X-Requested-With") == "fetch":
        return no_change()
    return _after_grid_change(request, collection)


@require_POST
def collection_cover(request, pk):
    collection = _collection_for_owner(request, pk)
    raw = request.POST.get("image", "")
    image_id = parse_id(raw)
    if raw and image_id is None:
        messages.error(request, "That is not an image of this collection.")
        return _after_grid_change(request, collection)
    try:
        services.collection_set_cover(collection=collection, image_id=image_id)
    except services.CollectionRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, "Cover set." if image_id else "The first image is the cover.")
    return _after_grid_change(request, collection)


@require_POST
def collection_zip(request, pk):
    collection = _collection_for_viewer(request, pk)
    items = list(
        services.ordered_items(collection, viewer=request.user).select_related(
            "image", "image__job"
        )[:ZIP_AT_MOST]
    )
    if not items:
        messages.error(request, "This collection has no images to download.")
        return redirect("sharing:collection", collection.pk)
    name = slugify(collection.title)[:48] or "collection"
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    entries = (
        (f"{n:03d}-{item.image.download_name}", item.image.original.open)
        for n, item in enumerate(items, start=1)
    )
    return zip_response(entries, filename=f"{name}-{stamp}.zip")


# ---- Adding images: from the gallery, the lightbox, a job card, the job page. ----------


def _chosen_images(request):
    """The images named by the request (image=…, or all of job=…) that the person owns."""
    source = request.POST if request.method == "POST" else request.GET
    ids = parse_ids(source.getlist("image"))
    job_id = parse_id(source.get("job"))
    if job_id is not None:
        ids += list(
            Image.objects.owned_by(request.user).filter(job_id=job_id).values_list("pk", flat=True)
        )
    found = services.addable_images(user=request.user, image_ids=ids[:ZIP_AT_MOST])
    by_pk = {image.pk: image for image in found.select_related("job")}
    return [by_pk[pk] for pk in dict.fromkeys(ids) if pk in by_pk]  # in the order chosen


@require_http_methods(["GET", "POST"])
def add(request):
    """GET (or a POST from the gallery's bulk bar without a choice yet): choose where.
    POST with a choice: add, then go back."""
    images = _chosen_images(request)
    choosing = request.method == "GET" or not (
        {"collection", "new_title"} & set(request.POST.keys())
    )
    form = AddToCollectionForm(None if choosing else request.POST, user=request.user)
    if not images:
        messages.error(request, "Select at least one of your images to add.")
        if request.htmx:
            return render(request, "sharing/add.html#add-form", {"form": form, "images": images})
        return _back(request, reverse("gallery:index"))
    if choosing or not form.is_valid():
        status = 200 if choosing else 400
        context = {"form": form, "images": images, "next": _next_of(request)}
        template = "sharing/add.html#add-form" if request.htmx else "sharing/add.html"
        return render(request, template, context, status=status)
    collection, made = form.cleaned_data["collection"], False
    if collection is None:
        collection, made = (
            services.collection_create(owner=request.user, title=form.cleaned_data["new_title"]),
            True,
        )
    try:
        added, shown = services.collection_add(
            collection=collection, user=request.user, image_ids=[i.pk for i in images]
        )
    except services.CollectionRefused as refused:  # its owner closed it a moment ago
        messages.error(request, str(refused))
        return _back(request, reverse("gallery:index"))
    already = len(images) - added
    words = f"Added {added} image{'s' if added != 1 else ''} to “{collection.title}”"
    words += f" ({already} already there)." if already else "."
    if shown:
        words += f" Also shown to the team, since “{collection.title}” is."
    messages.success(request, words)
    if request.htmx:
        fresh = AddToCollectionForm(user=request.user, initial={"collection": collection.pk})
        return render(request, "sharing/add.html#add-form", {"form": fresh, "images": images})
    if made:  # a new collection: go and see it
        return redirect("sharing:collection", collection.pk)
    return _back(request, reverse("sharing:collection", args=[collection.pk]))


def _next_of(request) -> str:
    return safe_next(request)


# ---- Team visibility of one's own images. ----------------------------------------------


@require_POST
def image_visibility(request):
    ids = parse_ids(request.POST.getlist("image"))
    team = request.POST.get("team")
    if not ids or team not in ("1", "0"):
        messages.error(request, "Say which of your images, and whether the team may see them.")
        return _back(request, reverse("gallery:index"))
    changed = services.image_set_team_visible(
        owner=request.user, image_ids=ids, team_visible=team == "1"
    )
    if not changed:
        raise Http404("No such image.")
    words = f"{changed} image{'s are' if changed != 1 else ' is'} now "
    if team == "1":
        words += "visible to the team."
    else:  # and true everywhere: private beats collection membership
        words += f"private: teammates no longer see {'them' if changed != 1 else 'it'}, "
        words += "in collections either."
    messages.success(request, words)
    if request.htmx and len(ids) == 1:
        image = Image.objects.get(pk=ids[0])
        return render(request, "sharing/parts.html#visibility", {"image": image})
    return _back(request, reverse("gallery:index"))


@require_http_methods(["GET", "POST"])
def image_settings(request):
    current = {"new_images_visibility": request.user.new_images_visibility}
    form = ImageSettingsForm(request.POST or None, initial=current)
    if request.method == "POST" and form.is_valid():
        choice = form.cleaned_data["new_images_visibility"]
        services.set_new_images_visibility(user=request.user, choice=choice)
        where = "visible to the team" if request.user.new_images_team_visible else "private"
        messages.success(request, f"Saved: your new images will be {where}.")
        return redirect("sharing:image_settings")
    context = {"form": form, "policy": TeamPolicy.current()}
    return render(
        request, "sharing/image_settings.html", context, status=400 if form.errors else 200
    )


@require_http_methods(["GET", "POST"])
@admin_required
def team_policy(request):
    form = TeamPolicyForm(request.POST or None, instance=TeamPolicy.current())
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Saved the team's policy.")
        return redirect("sharing:team_policy")
    status = 400 if form.errors else 200
    return render(request, "sharing/team_policy.html", {"form": form}, status=status)


# ---- The team gallery. -----------------------------------------------------------------


@require_GET
def team_gallery(request):
    filters = TeamGalleryFilters(request.GET)
    images = filters.filter_images(
        Image.objects.shown()
        .shared_with_team()
        .select_related("job", "job__provider", "owner")
        .order_by("-id")
    )
    if (before := parse_id(request.GET.get("before"))) is not None:
        images = images.filter(pk__lt=before)
    page = list(images[: TEAM_PER_PAGE + 1])
    query = request.GET.copy()
    query.pop("before", None)
    context = {
        "filters": filters,
        "images": page[:TEAM_PER_PAGE],
        "tiles_html": _team_tiles(page[:TEAM_PER_PAGE], request.user),
        "next_before": page[TEAM_PER_PAGE - 1].pk if len(page) > TEAM_PER_PAGE else None,
        "query": query.urlencode(),
        "first_page": before is None,
    }
    return render_page(
        request,
        "sharing/team_gallery.html",
        context,
        partials={"team-results": "results", "team-more": "page"},
    )


def _team_tiles(images, viewer) -> str:
    """The tiles of Mine (collections/tiles.py), with whose image it is under each; one's
    own images keep their lightbox tools, and each tile its Use prompt and Remix links."""
    media, jobs = media_prefix(), reverse("studio:job", args=[1])[:-2]
    studio = reverse("studio:home")
    rows = []
    for image in images:
        job = image.job
        made = dateformat.format(timezone.localtime(job.created_at), "j M, H:i")
        facts = f"{made} · FLUX.2 [{job.model}] · {job.provider.name if job.provider else '–'}"
        if job.price is not None:
            facts += f" · ${job.price:,.2f}"
        rows.append({
            "pk": image.pk, "original": image.original.name, "thumbnail": image.thumbnail.name,
            "width": image.width, "height": image.height, "prompt": job.prompt,
            "who": str(image.owner), "facts": facts,
            "job": f"{jobs}{job.pk}/" if image.owner_id == viewer.pk else "",
        })  # fmt: skip

    def to_tile(row: dict) -> dict:
        says = f"{row['prompt'][:300]} — {row['who']} · {row['facts']}"
        return tile(row, media, who=row["who"], job=row["job"], team=True, says=says,
                    actions=studio, pick=True)  # fmt: skip

    return render_tiles(f"team-tile:{media}:{studio}", rows, to_tile)
