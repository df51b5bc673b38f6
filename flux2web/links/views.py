"""The owner's side of share links: a collection's Sharing panel, sharing a selection from the
gallery, one's own links, editing, revoking and rotating; and the admins' list of every
live link of the team."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from flux2web.accounts.models import TeamPolicy
from flux2web.collections.models import Collection
from flux2web.lib import crypto
from flux2web.lib.access import admin_required
from flux2web.lib.ids import parse_ids
from flux2web.lib.redirects import redirect_back
from flux2web.links import services as links
from flux2web.links.forms import ExtendForm, LinkForm, LinkPolicyForm
from flux2web.links.models import ShareLink


def _with_stats(queryset):
    return queryset.annotate(visitors=Count("visits")).select_related("owner", "collection")


def _rows(request, queryset, *, addresses: bool):
    """Links with their stats and, for their owner only, the address to copy."""
    now = timezone.now()
    policy = TeamPolicy.current()
    rows = list(_with_stats(queryset))
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
        form = LinkForm(request.POST or None, initial={"title": collection.title})
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
    form = LinkForm(request.POST if filled else None, initial={"title": "Shared images"})
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
    form = LinkForm(request.POST or None, link=link)
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
