"""The owner's side of share links: a collection's Sharing panel, sharing a selection from the
gallery, one's own links, editing, revoking and rotating; and the admins' list of every
live link of the team."""

from __future__ import annotations

import csv
import io
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from flux2web.accounts.models import TeamPolicy
from flux2web.collections.models import Collection
from flux2web.lib import crypto
from flux2web.lib.access import admin_required
from flux2web.lib.ids import parse_id, parse_ids
from flux2web.lib.redirects import redirect_back
from flux2web.links import services as links
from flux2web.links.forms import ExtendForm, LinkForm, LinkPolicyForm
from flux2web.links.models import ShareLink
from flux2web.links.public import download_name
from flux2web.review import summary


def _with_stats(queryset):
    return queryset.annotate(visitors=Count("visits")).select_related("owner", "collection")


def _rows(request, queryset, *, addresses: bool):
    """Links with their stats and, for their owner only, the address to copy and a summary
    of what its guests said (grouped queries, not one per link)."""
    now = timezone.now()
    policy = TeamPolicy.current()
    rows = list(_with_stats(queryset))
    reviews = summary.link_summaries(link.pk for link in rows if _reviews(request, link))
    # An admin oversees every live link, but a teammate's private collection keeps its name.
    seen = set(
        Collection.objects.for_user(request.user)
        .filter(pk__in={link.collection_id for link in rows})
        .values_list("pk", flat=True)
    )
    for link in rows:
        link.collection_title = ""
        if link.collection_id:
            seen_here = link.collection_id in seen
            link.collection_title = link.collection.title if seen_here else "a private collection"
        link.dead = links.dead_reason(link, now=now, policy=policy)
        link.live = not link.dead
        link.ends = links.effective_expiry(link, policy)
        link.address = ""
        link.review = reviews.get(link.pk)
        if link.dead == "expired" and link.owner_id == request.user.pk:
            link.extend_form = ExtendForm(link=link, auto_id=f"extend-{link.pk}-%s")
        if addresses and link.owner_id == request.user.pk and link.live:
            try:
                link.address = request.build_absolute_uri(f"/s/{links.address_key(link)}/")
            except crypto.DecryptionError:  # its key was retired: "New address" makes one
                link.address = ""
    return rows


def _collection_for(request, collection_id) -> Collection:
    """The owner's collection; admins may also look at a teammate's team-visible one. A
    private collection is the same 404 to an admin as to anyone else."""
    collection = Collection.objects.for_user(request.user).filter(pk=collection_id).first()
    if collection is None or (collection.owner_id != request.user.pk and not request.user.is_admin):
        raise Http404("No such collection.")
    return collection


def _reviews(request, link: ShareLink) -> bool:
    """Whether this person reads the link's review: whoever shared it, and the owner of its
    collection (an admin gets nothing more)."""
    user_id = request.user.pk
    return link.owner_id == user_id or bool(link.collection and link.collection.owner_id == user_id)


def _reviewed_link(request, link_id) -> ShareLink:
    """A link whose review this person reads, revoked or expired too; else the same 404 as
    every owner-only link page."""
    link = ShareLink.objects.filter(pk=link_id).select_related("owner", "collection").first()
    if link is None or not _reviews(request, link):
        raise Http404("No such link.")
    return link


def _own_link(request, link_id) -> ShareLink:
    link = ShareLink.objects.filter(pk=link_id, owner=request.user).first()
    if link is None:
        raise Http404("No such link.")
    return link


def _back(request, fallback):
    return redirect_back(request, fallback)


def _home_of(link: ShareLink) -> str:
    if link.collection_id:
        return f"/collections/{link.collection_id}/sharing"
    return "/links/"


@require_http_methods(["GET", "POST"])
def collection_sharing(request, collection_id):
    collection = _collection_for(request, collection_id)
    mine = collection.owner_id == request.user.pk
    policy = TeamPolicy.current()
    form = None
    if mine and policy.public_links_allowed:
        form = LinkForm(
            request.POST or None,
            initial={"title": collection.title},
            shows=links.collection_shown_count(collection),
        )
    if request.method == "POST":
        if form is None:
            # An admin looking at another's collection may revoke, never make a link.
            refusal = (
                "Share links are turned off for this team."
                if mine
                else "Only the collection's owner can make links to it."
            )
            messages.error(request, refusal)
            return redirect("share:collection_sharing", collection.pk)
        if form.is_valid():
            try:
                link, _token = links.link_create(
                    owner=request.user, settings=form.settings(), collection=collection
                )
            except links.LinkError as error:
                form.apply_error(error)
            else:
                messages.success(
                    request, f"Made the link “{link.label or link.title}”. Copy its address below."
                )
                return redirect("share:collection_sharing", collection.pk)
    context = {
        "collection": collection,
        "form": form,
        "policy": policy,
        "mine": mine,
        # Links publish only the owner's own images; say how many stay inside the team.
        "teammates_images": links.shareable_images()
        .filter(collection_items__collection=collection)
        .exclude(owner_id=collection.owner_id)
        .count(),
        "links": _rows(request, collection.links.all(), addresses=True),
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "share/panel.html", context, status=status)


@require_POST
def selection(request):
    """From the gallery's selected images: first the settings form, then a frozen link."""
    ids = parse_ids(request.POST.getlist("image"))[: links.MAX_SELECTION]
    images = list(
        links.shareable_images().owned_by(request.user).filter(pk__in=ids).select_related("job")
    )
    images.sort(key=lambda image: ids.index(image.pk))  # in the order they were picked
    if not images:
        messages.error(request, "Select at least one image to share.")
        return _back(request, "gallery:index")
    if not TeamPolicy.current().public_links_allowed:
        messages.error(request, "Share links are turned off for this team.")
        return _back(request, "gallery:index")
    filled = "title" in request.POST
    form = LinkForm(
        request.POST if filled else None, initial={"title": "Shared images"}, shows=len(images)
    )
    if filled and form.is_valid():
        try:
            link, _token = links.link_create(
                owner=request.user, settings=form.settings(), image_ids=[i.pk for i in images]
            )
        except links.LinkError as error:
            form.apply_error(error)
        else:
            messages.success(
                request,
                f"Made the link “{link.label or link.title}” to "
                f"{len(images)} image{'s' if len(images) != 1 else ''}. "
                "Copy its address below.",
            )
            return redirect("share:mine")
    context = {"form": form, "images": images}
    return render(request, "share/selection.html", context, status=400 if filled else 200)


@require_GET
def mine(request):
    rows = _rows(request, ShareLink.objects.filter(owner=request.user), addresses=True)
    return render(request, "share/mine.html", {"links": rows})


@require_http_methods(["GET", "POST"])
def edit(request, link_id):
    link = _own_link(request, link_id)
    if link.revoked_at:
        messages.error(request, "This link is revoked; make a new one instead.")
        return redirect(_home_of(link))
    form = LinkForm(request.POST or None, link=link, shows=links.link_image_count(link))
    if request.method == "POST" and form.is_valid():
        try:
            links.link_update(link=link, settings=form.settings())
        except links.LinkError as error:
            form.apply_error(error)
        else:
            messages.success(request, "Saved. Visitors who unlocked it type the password again.")
            return redirect(_home_of(link))
    status = 400 if request.method == "POST" else 200
    return render(request, "share/edit.html", {"form": form, "link": link}, status=status)


@require_POST
def extend(request, link_id):
    """A new expiry for an expired link, from the Actions column; the address stays."""
    link = _own_link(request, link_id)
    form = ExtendForm(request.POST, link=link)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, errors[0])
        return _back(request, _home_of(link))
    try:
        link = links.link_extend(link=link, expires_at=form.expires_at())
    except links.LinkError as error:
        messages.error(request, str(error))
    else:
        until = f"until {timezone.localtime(link.expires_at):%Y-%m-%d}" if link.expires_at else ""
        messages.success(
            request,
            f"“{link.label or link.title}” works again {until or 'with no expiry'}, "
            "at the same address.",
        )
    return _back(request, _home_of(link))


@require_POST
def revoke(request, link_id):
    link = ShareLink.objects.filter(pk=link_id).first()
    if link is None or (link.owner_id != request.user.pk and not request.user.is_admin):
        raise Http404("No such link.")
    if links.link_revoke(link=link):
        messages.success(request, f"Revoked “{link.label or link.title}”; its address is dead.")
    return _back(request, _home_of(link))


@require_POST
def rotate(request, link_id):
    link = _own_link(request, link_id)
    if link.revoked_at:
        messages.error(request, "This link is revoked; make a new one instead.")
    else:
        links.link_rotate(link=link)
        messages.success(
            request, f"“{link.label or link.title}” has a new address; the old one no longer works."
        )
    return _back(request, _home_of(link))


@require_POST
def revoke_all(request, collection_id):
    collection = _collection_for(request, collection_id)
    count = links.collection_revoke_all(collection=collection)
    messages.success(request, f"Revoked {count} link{'s' if count != 1 else ''}.")
    return redirect("share:collection_sharing", collection.pk)


@require_http_methods(["GET", "POST"])
@admin_required
def team_links(request):
    policy = TeamPolicy.current()
    form = LinkPolicyForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Saved the team's rules for share links.")
        return redirect("share:team_links")
    live = ShareLink.objects.filter(revoked_at__isnull=True, owner__is_active=True)
    rows = [link for link in _rows(request, live, addresses=False) if link.live]
    status = 400 if request.method == "POST" else 200
    return render(request, "share/team_links.html", {"links": rows, "form": form}, status=status)


# ---- A link's review: what its guests picked and said, for whoever shared it. ----------

REVIEW_PAGE = 60


def _review_of(request, link: ShareLink) -> summary.LinkReview:
    return summary.link_review(link, images=links.link_files(link), viewer=request.user)


@require_GET
def review(request, link_id):
    """Per reviewer and per image: picks, comments, confirmation, last seen; narrowed to the
    picked images (?picked=1) or to one reviewer (?reviewer=<id>). Readable after the link
    is revoked or has expired, and after its address changed."""
    link = _reviewed_link(request, link_id)
    found = _review_of(request, link)
    picked_only = request.GET.get("picked") == "1"
    reviewer, problem = None, ""
    if request.GET.get("reviewer"):  # empty: "Everyone" in the filter's choice
        wanted = parse_id(request.GET["reviewer"])
        reviewer = next((r for r in found.reviewers if r.pk == wanted), None)
        if reviewer is None:
            problem = "No such reviewer on this link; showing everyone."
    rows = found.narrowed(picked_only=picked_only, reviewer=reviewer)
    kept = {"picked": "1" if picked_only else None, "reviewer": reviewer.pk if reviewer else None}
    context = {
        "link": link,
        "review": found,
        **_page(rows, request.GET.get("start"), kept),
        "picked_only": picked_only,
        "reviewer": reviewer,
        "problem": problem,
        "dead": links.dead_reason(link),
        "names": "\n".join(_client_name(link, row.image) for row in found.picked),
        "home": _home_of(link),
    }
    return render(request, "share/review.html", context, status=400 if problem else 200)


def _page(rows: list, start: str | None, kept: dict) -> dict:
    """A page of rows at a time, as the collection page does (500 images with their
    comments cost a tenth of a second to render at once), with addresses of the pages
    before and after that keep the filters."""
    first = min(parse_id(start) or 0, len(rows))
    later = first + REVIEW_PAGE if first + REVIEW_PAGE < len(rows) else None
    earlier = max(first - REVIEW_PAGE, 0) if first else None
    return {
        "rows": rows[first : first + REVIEW_PAGE],
        "first": first + 1,
        "last": min(first + REVIEW_PAGE, len(rows)),
        "total": len(rows),
        "later": _query(kept, later),
        "earlier": _query(kept, earlier),
    }


def _query(params: dict, start: int | None) -> str:
    if start is None:
        return ""
    return "?" + urlencode({k: v for k, v in {**params, "start": start}.items() if v is not None})


@require_POST
def picks_collect(request, link_id):
    """A new collection of the owner's, holding the picked images they may add (their own),
    in the link's order; its title can be changed later like any other."""
    link = _reviewed_link(request, link_id)
    picked = [row.image.pk for row in _review_of(request, link).picked]
    done = links.picks_collect(link=link, owner=request.user, image_ids=picked)
    if done is None:
        messages.error(request, "Nothing to add: no guest has picked an image of yours yet.")
        return redirect("share:review", link.pk)
    title = done.collection.title
    if not done.made:
        messages.info(request, f"You already made “{title}” with these picks; here it is.")
        return redirect("sharing:collection", done.collection.pk)
    left = len(picked) - done.added
    messages.success(
        request,
        f"Made “{title}” with {done.added} picked image{'s' if done.added != 1 else ''}"
        + (f" ({left} not yours, left out)" if left else "")
        + ". Rename it under Edit.",
    )
    return redirect("sharing:collection", done.collection.pk)


def _client_name(link: ShareLink, image: summary.Shown) -> str:
    """The name the client's download of this image has (links.public.download_name), so a
    list they send back and one the owner sends match. Web-size downloads are JPEGs."""
    extension = image.original.rsplit(".", 1)[-1].lower() if "." in image.original else "png"
    if link.downloads == ShareLink.Downloads.WEB:
        extension = "jpg"
    return download_name(link, image.pk, "jpg" if extension == "jpeg" else extension)


def _attachment(response, link: ShareLink, extension: str):
    name = f"{link.slug or 'link-' + str(link.pk)}-picks.{extension}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
def picks_list(request, link_id):
    """The picked images' file names, one a line, as the client's downloads name them: what
    a person pastes into an e-mail. The CSV adds each one's stored file name (the team's
    original, for a retoucher), how many picked it and who."""
    link = _reviewed_link(request, link_id)
    names = [_client_name(link, row.image) for row in _review_of(request, link).picked]
    text = "".join(name + "\n" for name in names)
    return _attachment(HttpResponse(text, content_type="text/plain; charset=utf-8"), link, "txt")


@require_GET
def picks_csv(request, link_id):
    link = _reviewed_link(request, link_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["file name", "stored file", "image id", "picks", "picked by", "comments"])
    for row in _review_of(request, link).picked:
        # Only what people wrote (guests' names) is quoted; the file names are ours (a
        # slug, a stored random name that may start with "-") and stay exact to find files by.
        writer.writerow(
            [
                _client_name(link, row.image),
                row.image.file_name,
                row.image.pk,
                row.picks,
                _cell("; ".join(f"{r.name} (guest)" for r in row.picked_by)),
                len(row.comments),
            ]
        )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    return _attachment(response, link, "csv")


def _cell(text: str) -> str:
    """A spreadsheet never runs a person's text as a formula: text that starts like one is
    quoted."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
