"""Collections and team visibility: the one write path. Views validate with forms, then
call these keyword-only functions; nothing else writes these rows."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from flux2web.accounts.models import collections_changed, gallery_changed
from flux2web.collections.models import Collection, CollectionItem, PendingAdd
from flux2web.jobs.models import Image, Job, seen_by

Visibility = Collection.Visibility


class CollectionRefused(Exception):
    """What the person asked cannot be done; the message says why in plain words."""


# ---- Collections. ----------------------------------------------------------------------


def collection_create(
    *, owner, title: str, description: str = "", visibility: str = Visibility.PRIVATE
) -> Collection:
    collection = Collection.objects.create(
        owner=owner, title=title.strip(), description=description.strip(), visibility=visibility
    )
    _choice_changed(collection)
    return collection


def _choice_changed(collection: Collection, *, was: str = Visibility.PRIVATE) -> None:
    """The gallery's kept page holds the lightbox's "Add to collection" choice: a
    collection the team may add to is in everyone's, the others in their owner's only."""
    team_add = Visibility.TEAM_ADD in (was, collection.visibility)
    collections_changed(None if team_add else collection.owner_id)


def collection_update(
    *, collection: Collection, title: str, description: str, visibility: str, order: str
) -> Collection:
    """Opening a collection to the team shows the owner's images in it to the team (as
    adding them would have); `collection.shown_to_team` says how many were private."""
    collection.shown_to_team = 0
    if visibility != Visibility.PRIVATE:
        collection.shown_to_team = (
            Image.objects.owned_by(collection.owner_id)
            .private()
            .filter(pk__in=CollectionItem.objects.filter(collection=collection).values("image_id"))
            .update(team_visible=True)
        )
        if collection.shown_to_team:
            gallery_changed(collection.owner_id)
            _visibility_changed(
                owner=collection.owner,
                image_ids=CollectionItem.objects.filter(collection=collection).values("image_id"),
            )
    was = collection.visibility
    collection.title = title.strip()
    collection.description = description.strip()
    collection.visibility = visibility
    collection.order = order
    collection.save(update_fields=["title", "description", "visibility", "order", "updated_at"])
    _choice_changed(collection, was=was)
    return collection


def collection_delete(*, collection: Collection) -> None:
    """The collection and its list go; the images stay in their owners' galleries."""
    collection.delete()
    _choice_changed(collection)


def addable_images(*, user, image_ids: Iterable[int]):
    """Of these, the images this person may put into a collection: their own stored ones.
    A teammate's image, even team-visible, is not theirs to pass on (a collection can be
    shared beyond the team by link)."""
    return Image.objects.shown().owned_by(user).filter(pk__in=list(image_ids))


def collection_add_images(*, collection: Collection, user, image_ids: Iterable[int]) -> int:
    """Append the person's own images not yet in the collection; returns how many were new.
    See `collection_add`."""
    return collection_add(collection=collection, user=user, image_ids=image_ids)[0]


def collection_add(*, collection: Collection, user, image_ids: Iterable[int]) -> tuple[int, int]:
    """Append the person's own images not yet in the collection: (how many were new, how
    many became team-visible). Into a collection the team can see, the images become
    team-visible: private beats membership, so that is what showing them there means."""
    if not Collection.objects.addable_by(user).filter(pk=collection.pk).exists():
        raise CollectionRefused("You cannot add images to this collection.")
    ids = list(dict.fromkeys(image_ids))  # in the order given: the gallery's, the job's
    allowed = set(addable_images(user=user, image_ids=ids).values_list("pk", flat=True))
    wanted = [pk for pk in ids if pk in allowed]
    new = []
    with transaction.atomic():
        # Locks the collection row, so two adds at once do not take the same positions.
        locked = Collection.objects.select_for_update().filter(pk=collection.pk).first()
        if locked is None:
            raise CollectionRefused("You cannot add images to this collection.")
        present = set(
            CollectionItem.objects.filter(collection=collection, image_id__in=wanted).values_list(
                "image_id", flat=True
            )
        )
        new = [pk for pk in wanted if pk not in present]
        if new:
            last = CollectionItem.objects.filter(collection=collection).aggregate(m=Max("position"))
            start = (last["m"] if last["m"] is not None else -1) + 1
            CollectionItem.objects.bulk_create(
                [
                    CollectionItem(
                        collection=collection, image_id=pk, added_by=user, position=start + n
                    )
                    for n, pk in enumerate(new)
                ],
                ignore_conflicts=True,
            )
            collection.save(update_fields=["updated_at"])
    # Outside the collection's lock: this touches the other collections holding them.
    shown = 0
    if locked.visibility != Visibility.PRIVATE and wanted:
        shown = (
            Image.objects.owned_by(user).private().filter(pk__in=wanted).update(team_visible=True)
        )
        if shown:
            gallery_changed(user.pk)
            _visibility_changed(owner=user, image_ids=wanted)
    return len(new), shown


def collection_remove_images(*, collection: Collection, user, image_ids: Iterable[int]) -> int:
    """The owner removes any item; someone who added to a team collection, their own."""
    items = CollectionItem.objects.filter(collection=collection, image_id__in=list(image_ids))
    if collection.owner_id != user.pk:
        items = items.filter(added_by=user)
    with transaction.atomic():
        removed, _ = items.delete()
        if removed:
            if (
                collection.cover_id
                and not collection.items.filter(image_id=collection.cover_id).exists()
            ):
                collection.cover = None
            collection.save(update_fields=["cover", "updated_at"])
    return removed


def collection_reorder(*, collection: Collection, image_ids: Iterable[int]) -> None:
    """Manual order: the listed images first, in the order given; the rest keep theirs."""
    listed = list(dict.fromkeys(image_ids))
    items = {i.image_id: i for i in CollectionItem.objects.filter(collection=collection)}
    order = [pk for pk in listed if pk in items]
    order += [
        i.image_id
        for i in sorted(items.values(), key=lambda i: (i.position, i.pk))
        if i.image_id not in set(order)
    ]
    changed = []
    for position, image_id in enumerate(order):
        item = items[image_id]
        if item.position != position:
            item.position = position
            changed.append(item)
    with transaction.atomic():
        CollectionItem.objects.bulk_update(changed, ["position"], batch_size=500)
        collection.order = Collection.Order.MANUAL
        collection.save(update_fields=["order", "updated_at"])


def collection_set_order(*, collection: Collection, order: str) -> None:
    """ "newest" shows the newest images first; "manual" goes back to the kept positions."""
    collection.order = order
    collection.save(update_fields=["order", "updated_at"])


def collection_move(*, collection: Collection, image_id: int, by: int) -> bool:
    """Move one image up (by=-1) or down (by=1) in the manual order: the no-JS reorder.
    From "newest first" the move starts from the order the person sees."""
    shown = [i.image_id for i in ordered_items(collection).only("image_id")]
    if image_id not in shown:
        return False
    at = shown.index(image_id)
    to = at + by
    if not 0 <= to < len(shown):
        return False
    shown[at], shown[to] = shown[to], shown[at]
    collection_reorder(collection=collection, image_ids=shown)
    return True


def collection_mark(*, collection: Collection, user, image_id: int, mark: str) -> bool:
    """Mark one of the collection's images that the person sees approved, changes or
    rejected ("" clears it), saying who and when; the collection's last change moves, so its
    kept tiles show it. False when the image is not in the collection (for them)."""
    marked = bool(mark)
    with transaction.atomic():
        changed = (
            ordered_items(collection, viewer=user)
            .filter(image_id=image_id)
            .update(mark=mark, marked_by=user if marked else None,
                    marked_at=timezone.now() if marked else None)
        )  # fmt: skip
        if changed:
            collection.save(update_fields=["updated_at"])
    return bool(changed)


def collection_set_cover(*, collection: Collection, image_id: int | None) -> None:
    """None: the first image is the cover."""
    if image_id is not None and not collection.items.filter(image_id=image_id).exists():
        raise CollectionRefused("The cover must be one of the collection's images.")
    collection.cover_id = image_id
    collection.save(update_fields=["cover", "updated_at"])


def ordered_items(collection: Collection, *, viewer=None):
    """The collection's stored images in the order its page shows them; with a viewer,
    only those that person may see (`seen_by`: private beats membership)."""
    items = CollectionItem.objects.filter(
        collection=collection,
        image__status=Image.Status.MIRRORED,
        image__job__deleted_at__isnull=True,
    )
    if viewer is not None:
        items = items.filter(seen_by(viewer, "image__"))
    if collection.order == Collection.Order.NEWEST:
        return items.order_by("-image_id")
    return items.order_by("position", "id")


# ---- The studio's "into this collection". ----------------------------------------------


def pending_add(*, jobs: Iterable[Job], collection: Collection, user) -> None:
    """Remember to add these jobs' images once they are stored."""
    if not Collection.objects.addable_by(user).filter(pk=collection.pk).exists():
        raise CollectionRefused("You cannot add images to this collection.")
    jobs = list(jobs)
    PendingAdd.objects.bulk_create(
        [PendingAdd(job=job, collection=collection) for job in jobs], ignore_conflicts=True
    )
    # The worker may have stored a fast job's images before this row existed: its
    # announcement found nothing to do, so the add happens here. Both may run; adding
    # is idempotent.
    stored = Job.objects.filter(pk__in=[j.pk for j in jobs], mirrored_at__isnull=False)
    for job_id in stored.values_list("pk", flat=True):
        resolve_pending(job_id=job_id)


def resolve_pending(*, job_id: int) -> int:
    """Add a finished job's images to the collection the studio named; once."""
    # One transaction: whoever sees the images in the collection sees the reminder gone.
    with transaction.atomic():
        pending = (
            PendingAdd.objects.filter(job_id=job_id).select_related("collection", "job").first()
        )
        if pending is None:
            return 0
        try:
            added = collection_add_images(
                collection=pending.collection,
                user=pending.job.owner,
                image_ids=Image.objects.filter(job_id=job_id).values_list("pk", flat=True),
            )
        except CollectionRefused:  # the collection's owner closed it in the meantime
            added = 0
        PendingAdd.objects.filter(pk=pending.pk).delete()
    return added


# ---- Team visibility. ------------------------------------------------------------------


def image_set_team_visible(*, owner, image_ids: Iterable[int], team_visible: bool) -> int:
    """Show some of a person's own images to the team, or make them private again."""
    ids = list(image_ids)
    changed = Image.objects.owned_by(owner).filter(pk__in=ids).update(team_visible=team_visible)
    if changed:
        gallery_changed(owner.pk)
        _visibility_changed(owner=owner, image_ids=ids)
    return changed


def _visibility_changed(*, owner, image_ids) -> None:
    """What members see of the collections holding these images changed: their cached
    pages of tiles are keyed by the collection's last change."""
    Collection.objects.filter(
        pk__in=CollectionItem.objects.filter(
            image__in=Image.objects.owned_by(owner).filter(pk__in=image_ids)
        ).values("collection_id")
    ).update(updated_at=timezone.now())


def set_new_images_visibility(*, user, choice: str) -> None:
    """ "" follows the team's default; "private" or "team" is the person's own choice."""
    get_user_model().objects.filter(pk=user.pk).update(new_images_visibility=choice)
    user.new_images_visibility = choice
