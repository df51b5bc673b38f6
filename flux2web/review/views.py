"""Review inside the team: an image's page (likes, comments), and a collection's activity."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from flux2web.collections.models import Collection
from flux2web.jobs.models import Image
from flux2web.lib.htmx import render_page
from flux2web.lib.ids import parse_id
from flux2web.review import activity as events
from flux2web.review import comments as services
from flux2web.review.models import BODY_MAX, Comment, Reaction

PAGE = "review/image.html"
PARTIALS = {"review-comments": "comments", "review-likes": "likes"}


def _image_for_viewer(request, image_id) -> Image:
    """An image the person may see; anything else is the same 404 as no image."""
    return get_object_or_404(
        Image.objects.visible_to(request.user).select_related("owner", "job"), pk=image_id
    )


def _context(request, image, *, body="", error=""):
    viewer = request.user
    likes = sorted(
        Reaction.objects.filter(image=image).select_related("user"),
        key=lambda r: (r.user_id != viewer.pk, r.created_at),
    )
    comments = list(
        Comment.objects.readable_by(viewer)
        .filter(image=image)
        .select_related("author", "reviewer__link")
    )
    removable = set(services.deletable_by(viewer).filter(image=image).values_list("pk", flat=True))
    for comment in comments:
        comment.removable = comment.pk in removable
    return {
        "image": image,
        "own": image.owner_id == viewer.pk,
        "likes": likes,
        "liked": any(r.user_id == viewer.pk for r in likes),
        "comments": comments,
        "body": body,
        "error": error,
        "body_max": BODY_MAX,
    }


def _answer(request, image, *, partial: str, status=200, **form):
    """After an action: the changed part for htmx, else back to the page (or the page
    again with the error, for a plain POST that was refused)."""
    if request.htmx:
        return render(request, f"{PAGE}#{partial}", _context(request, image, **form))
    if status != 200:
        return render(request, PAGE, _context(request, image, **form), status=status)
    return redirect("review:image", image.pk)


@require_GET
def image(request, image_id):
    image = _image_for_viewer(request, image_id)
    return render_page(request, PAGE, _context(request, image), partials=PARTIALS)


@require_POST
def like(request, image_id):
    image = _image_for_viewer(request, image_id)
    wanted = request.POST.get("like")
    if wanted not in ("1", "0"):
        messages.error(request, "Say whether you like the image (like=1) or not (like=0).")
        return _answer(request, image, partial="likes", status=400)
    services.like_set(image=image, user=request.user, like=wanted == "1")
    return _answer(request, image, partial="likes")


@require_POST
def comment(request, image_id):
    image = _image_for_viewer(request, image_id)
    body = request.POST.get("body", "")
    try:
        services.comment_add(image=image, author=request.user, body=body)
    except services.CommentRefused as refused:
        return _answer(request, image, partial="comments", status=400,
                       body=body[:BODY_MAX * 2], error=str(refused))  # fmt: skip
    if not request.htmx:
        messages.success(request, "Comment posted.")
    return _answer(request, image, partial="comments")


@require_POST
def comment_delete(request, comment_id):
    comment = get_object_or_404(
        services.deletable_by(request.user).select_related("image__owner", "image__job"),
        pk=comment_id,
    )
    image = comment.image
    services.comment_delete(comment=comment)
    if image is None or not image.is_seen_by(request.user):
        messages.success(request, "Comment deleted.")
        return redirect("sharing:collections")
    if not request.htmx:
        messages.success(request, "Comment deleted.")
    return _answer(request, image, partial="comments")


@require_GET
def activity(request, pk):
    collection = get_object_or_404(
        Collection.objects.for_user(request.user).select_related("owner"), pk=pk
    )
    page = min(parse_id(request.GET.get("page")) or 1, events.PAGES_AT_MOST) or 1
    shown, older = events.activity(collection=collection, viewer=request.user, page=page)
    # The last page allowed offers no older one: asking for it would show this page again.
    older = older and page < events.PAGES_AT_MOST
    context = {"collection": collection, "events": shown, "page": page,
               "older": page + 1 if older else None,
               "is_owner": collection.owner_id == request.user.pk}  # fmt: skip
    return render(request, "review/activity.html", context)
