"""Share links: making, changing, revoking and rotating them, finding one by its token, and
the images a link shows. Views and the public page call these; nothing here renders."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.db.models import Exists, F
from django.utils import timezone
from django.utils.text import slugify

from flux2web.accounts.models import TeamPolicy
from flux2web.collections.models import Collection, CollectionItem
from flux2web.collections.services import addable_images, collection_add, collection_create
from flux2web.jobs.models import Image
from flux2web.lib import crypto
from flux2web.links.models import ShareLink, ShareLinkImage

TOKEN_LENGTH = 43  # secrets.token_urlsafe(32): 256 bits, always 43 characters
TOKEN_CHARS = re.compile(r"[A-Za-z0-9_-]{43}")
DEFAULT_DAYS = 30
MAX_DAYS = TeamPolicy.LINK_MAX_DAYS
MAX_SELECTION = 500
MAX_PICKS = 500  # a selection's minimum and maximum stay within what a link may hold


class LinkError(ValueError):
    """A link the team's policy or the input does not allow; the message says why."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class LinkSettings:
    title: str
    label: str = ""
    readable_address: bool = True
    expires_at: datetime | None = None  # None: never
    password: str | None = None  # None: keep (on update); "": none
    show_prompts: bool = False
    show_parameters: bool = False
    show_creator: bool = False
    show_cost: bool = False
    downloads: str = ShareLink.Downloads.NONE
    allow_preview: bool = True
    # Client proofing, each off by default: picks (optionally between a minimum and a
    # maximum, locked at confirmation or at a deadline), comments, and whether reviewers see
    # each other.
    allow_picks: bool = False
    picks_min: int | None = None
    picks_max: int | None = None
    lock_on_confirm: bool = False
    picks_deadline: datetime | None = None
    allow_comments: bool = False
    show_reviewers: bool = False


# ---- Tokens. ----------------------------------------------------------------------------


def new_token() -> str:
    token = secrets.token_urlsafe(32)
    assert len(token) == TOKEN_LENGTH
    return token


def token_hash(token: str) -> str:
    return crypto.token_digest(token)


def split_key(key: str) -> str:
    """The token of an address's last part (`spring-campaign-<token>` or `<token>`); the slug
    is decoration and is ignored. Whatever comes in, something is returned, so every miss
    costs the same one hash and one lookup."""
    token = key[-TOKEN_LENGTH:]
    well_formed = TOKEN_CHARS.fullmatch(token) and (
        len(key) == TOKEN_LENGTH or key[-TOKEN_LENGTH - 1] == "-"
    )
    return token if well_formed else "!" + key[:200]


def address_key(link: ShareLink) -> str:
    """The part of the address after /s/: readable slug (if any), then the token."""
    token = crypto.decrypt(link.token_encrypted)
    return f"{link.slug}-{token}" if link.slug else token


def _set_token(link: ShareLink) -> None:
    token = new_token()
    link.token_hash = token_hash(token)
    link.token_encrypted = crypto.encrypt(token)


# ---- Policy. ----------------------------------------------------------------------------


def default_expiry(now: datetime | None = None) -> datetime:
    policy = TeamPolicy.current()
    days = DEFAULT_DAYS if not policy.link_max_days else min(DEFAULT_DAYS, policy.link_max_days)
    return (now or timezone.now()) + timedelta(days=days)


def latest_expiry(created_at: datetime, policy: TeamPolicy) -> datetime | None:
    if not policy.link_max_days:
        return None
    # Bounded even if a value past the form's check is in the database (an older version,
    # the admin site): a huge number must not make every link and page fail.
    return created_at + timedelta(days=min(policy.link_max_days, MAX_DAYS))


def _check_policy(
    settings: LinkSettings,
    *,
    created_at: datetime,
    has_password: bool,
    kept_deadline: datetime | None = None,
) -> None:
    policy = TeamPolicy.current()
    if not policy.public_links_allowed:
        raise LinkError("The team's admins have turned share links off.")
    if settings.expires_at is None:
        if not policy.link_never_allowed:
            raise LinkError(
                "The team does not allow links that never expire; pick a date.",
                field="expires_on",
            )
    else:
        if settings.expires_at <= timezone.now():
            raise LinkError("Pick an expiry in the future.", field="expires_on")
        if settings.expires_at > created_at + timedelta(days=MAX_DAYS):
            raise LinkError(
                "Pick an expiry within ten years, or “Never expires” if the team allows it.",
                field="expires_on",
            )
        latest = latest_expiry(created_at, policy)
        if latest and settings.expires_at > latest + timedelta(minutes=1):
            raise LinkError(
                f"The team allows links for at most {policy.link_max_days} days from when they "
                f"were made: until {timezone.localtime(latest):%Y-%m-%d}.",
                field="expires_on",
            )
    if policy.link_password_required and not has_password:
        raise LinkError("The team requires a password on every link.", field="password")
    if settings.downloads not in ShareLink.Downloads.values:
        raise LinkError("Pick what visitors may download.", field="downloads")
    check_proofing(
        low=settings.picks_min,
        high=settings.picks_max,
        deadline=settings.picks_deadline,
        kept_deadline=kept_deadline,
    )


def check_proofing(
    *,
    low: int | None,
    high: int | None,
    deadline: datetime | None,
    kept_deadline: datetime | None = None,
) -> None:
    """A selection's bounds are whole numbers with 0 < minimum <= maximum <= MAX_PICKS, and
    a deadline is in the future (a link's own deadline, already passed, may be kept)."""
    for value, field, name in ((low, "picks_min", "minimum"), (high, "picks_max", "maximum")):
        if value is not None and not 0 < value <= MAX_PICKS:
            raise LinkError(
                f"The {name} is a whole number of picks from 1 to {MAX_PICKS}, or empty.",
                field=field,
            )
    if low is not None and high is not None and low > high:
        raise LinkError(
            f"The minimum ({low}) is more than the maximum ({high}).", field="picks_max"
        )
    if deadline is None or (kept_deadline and _minute(deadline) == _minute(kept_deadline)):
        return
    now = timezone.now()
    if deadline <= now:
        raise LinkError("Pick a deadline in the future, or leave it empty.", field="picks_deadline")
    if deadline > now + timedelta(days=MAX_DAYS):
        raise LinkError(
            "Pick a deadline within ten years, or leave it empty.", field="picks_deadline"
        )


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


SHOWN = (
    "show_prompts",
    "show_parameters",
    "show_creator",
    "show_cost",
    "downloads",
    "allow_preview",
)
PROOFING = (
    "allow_picks",
    "picks_min",
    "picks_max",
    "lock_on_confirm",
    "picks_deadline",
    "allow_comments",
    "show_reviewers",
)
SETTINGS_FIELDS = ("title", "label", "slug", "expires_at", "password_hash", *SHOWN, *PROOFING)


def _apply(link: ShareLink, settings: LinkSettings) -> None:
    title = settings.title.strip()
    if not title:
        raise LinkError("Give the link a title; visitors see it.", field="title")
    link.title = title[:120]
    link.label = settings.label.strip()[:80]
    link.slug = slugify(title)[:60].strip("-") if settings.readable_address else ""
    link.expires_at = settings.expires_at
    if settings.password is not None:
        link.password_hash = make_password(settings.password) if settings.password else ""
    for field in (*SHOWN, *PROOFING):
        setattr(link, field, getattr(settings, field))


# ---- Making and changing links. ---------------------------------------------------------


def link_create(
    *,
    owner,
    settings: LinkSettings,
    collection: Collection | None = None,
    image_ids: list[int] | None = None,
) -> tuple[ShareLink, str]:
    """A live link to one of the owner's collections, or a frozen link to a selection of
    their own images. Returns the link and its token (shown to the owner at once)."""
    if (collection is None) == (image_ids is None):
        raise LinkError("A link shares either a collection or a selection of images.")
    if collection is not None and collection.owner_id != owner.pk:
        raise LinkError("Only the collection's owner can share it.")
    now = timezone.now()
    _check_policy(settings, created_at=now, has_password=bool(settings.password))
    images = []
    if image_ids is not None:
        wanted = list(dict.fromkeys(image_ids))[:MAX_SELECTION]
        found = set(
            shareable_images().owned_by(owner).filter(pk__in=wanted).values_list("pk", flat=True)
        )
        images = [pk for pk in wanted if pk in found]
        if not images:
            raise LinkError("Select at least one of your images to share.")
    link = ShareLink(owner=owner, collection=collection, created_at=now)
    _apply(link, settings)
    with transaction.atomic():
        _set_token(link)
        link.save()
        ShareLinkImage.objects.bulk_create(
            ShareLinkImage(link=link, image_id=pk, position=n) for n, pk in enumerate(images)
        )
    token = crypto.decrypt(link.token_encrypted)
    return link, token


def link_update(*, link: ShareLink, settings: LinkSettings) -> ShareLink:
    """Change a link's settings. Its expiry is what the owner sets, never beyond the team's
    longest from the link's creation (editing does not extend it); the version goes up so
    every visitor's remembered unlock is asked again."""
    has_password = (
        bool(settings.password) if settings.password is not None else bool(link.password_hash)
    )
    _check_policy(
        settings,
        created_at=link.created_at,
        has_password=has_password,
        kept_deadline=link.picks_deadline,
    )
    _apply(link, settings)
    # Only the settings, and only while not revoked: a revoke (or a visit's counters) landing
    # between reading the link and saving it is never written over.
    saved = ShareLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(
        **{field: getattr(link, field) for field in SETTINGS_FIELDS},
        version=F("version") + 1,
        updated_at=timezone.now(),
    )
    link.refresh_from_db()
    if not saved:
        raise LinkError("This link is revoked; make a new one instead.")
    return link


def link_extend(*, link: ShareLink, expires_at: datetime | None) -> ShareLink:
    """A new expiry for a link that ran out; its address stays, so whoever has it can open it
    again. Through link_update, so the team's rules bind it as any edit: counted from when
    the link was made, an extension is no way round them. A revoked link stays dead."""
    settings = LinkSettings(
        title=link.title,
        label=link.label,
        readable_address=bool(link.slug),
        expires_at=expires_at,
        password=None,  # kept
        **{field: getattr(link, field) for field in (*SHOWN, *PROOFING)},
    )
    return link_update(link=link, settings=settings)


def link_revoke(*, link: ShareLink) -> bool:
    return bool(
        ShareLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), version=F("version") + 1
        )
    )


def link_rotate(*, link: ShareLink) -> str:
    """A new address; the old one is dead at once. Returns the new token."""
    _set_token(link)
    ShareLink.objects.filter(pk=link.pk).update(
        token_hash=link.token_hash,
        token_encrypted=link.token_encrypted,
        version=F("version") + 1,
        updated_at=timezone.now(),
        rotated_at=timezone.now(),
    )
    link.refresh_from_db()
    return crypto.decrypt(link.token_encrypted)


def collection_revoke_all(*, collection: Collection) -> int:
    return ShareLink.objects.filter(collection=collection, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), version=F("version") + 1
    )


def revoke_user_links(*, user_id: int) -> int:
    """Every live link a person made (called when a member is deactivated)."""
    return ShareLink.objects.filter(owner_id=user_id, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), version=F("version") + 1
    )


# ---- What a link opens. -----------------------------------------------------------------


def shareable_images():
    """Images a link may ever show: stored, and their job not deleted."""
    return Image.objects.shown()


def find_live(token: str) -> ShareLink | None:
    """The link a token opens, if it is live: not revoked, not expired, its owner active, and
    links allowed. Whatever the token, the same work: the policy, one hash, one lookup; so
    an unknown token cannot be told from a dead one by its timing either."""
    policy = TeamPolicy.current()
    link = (
        ShareLink.objects.filter(token_hash=token_hash(token))
        .select_related("owner", "collection")
        .first()
    )
    if link is None or not is_live(link, policy=policy):
        return None
    return link


def is_live(link: ShareLink, *, now: datetime | None = None, policy=None) -> bool:
    return dead_reason(link, now=now, policy=policy) == ""


def dead_reason(link: ShareLink, *, now: datetime | None = None, policy=None) -> str:
    """Why a link opens nothing now, in the owner's words; "" when it is live."""
    now = now or timezone.now()
    if link.revoked_at is not None:
        return "revoked"
    if not link.owner.is_active:
        return "its owner is no longer a member"
    policy = policy or TeamPolicy.current()
    if not policy.public_links_allowed:
        return "the team's admins turned share links off"
    # A policy tightened after the link was made binds it too. Checked first: past the team's
    # longest, no new expiry can bring the link back ("expired" alone offers one).
    latest = latest_expiry(link.created_at, policy)
    if latest and latest <= now:
        return "expired at the team's longest expiry; make a new link to share again"
    if link.expires_at is not None and link.expires_at <= now:
        return "expired"
    if link.expires_at is None and not policy.link_never_allowed:
        return "the team now requires an expiry date: edit the link to set one"
    if policy.link_password_required and not link.password_hash:
        return "the team now requires a password: edit the link to set one"
    return ""


def effective_expiry(link: ShareLink, policy: TeamPolicy) -> datetime | None:
    latest = latest_expiry(link.created_at, policy)
    if link.expires_at is None:
        return latest
    return min(link.expires_at, latest) if latest else link.expires_at


def link_images(link: ShareLink) -> list[Image]:
    """The images a link shows now, in order: a live link's collection as it is today (its
    owner's images in it); a frozen link's own list, minus anything deleted since. One
    query, however many."""
    return [item.image for item in _items(link).select_related("image__job", "image__owner")]


def _items(link: ShareLink):
    alive = {"image__status": Image.Status.MIRRORED, "image__job__deleted_at__isnull": True}
    if link.collection_id:
        # A link publishes only its owner's own images: what teammates added to the
        # collection stays inside the team (they never chose to publish it).
        items = CollectionItem.objects.filter(
            collection_id=link.collection_id, image__owner_id=link.owner_id, **alive
        )
        if link.collection.order == Collection.Order.NEWEST:
            return items.order_by("-image_id")
        return items.order_by("position", "id")
    return ShareLinkImage.objects.filter(link=link, **alive).order_by("position", "id")


def link_image_count(link: ShareLink) -> int:
    """How many images the link shows now."""
    return _items(link).count()


def collection_shown_count(collection: Collection) -> int:
    """How many images a new link to the collection would show: its owner's own, stored."""
    return CollectionItem.objects.filter(
        collection=collection,
        image__owner_id=collection.owner_id,
        image__status=Image.Status.MIRRORED,
        image__job__deleted_at__isnull=True,
    ).count()


TILE_FIELDS = ["image_id", "image__width", "image__height"]


def link_tiles(link: ShareLink) -> list[dict]:
    """What the public page needs of each image, and only what the owner chose to show (a
    hidden prompt is not even read): plain rows, one query, no model instances, so a page
    of 500 images costs little more than one of 50."""
    fields = list(TILE_FIELDS)
    if link.show_prompts:
        fields.append("image__job__prompt")
    if link.show_parameters:
        fields += ["image__job__model", "image__job__aspect_ratio", "image__job__seed"]
    if link.show_creator:
        fields += ["image__owner__username", "image__owner__first_name", "image__owner__last_name"]
    if link.show_cost:
        fields.append("image__job__price")
    return list(_items(link).values(*fields))


FILE_FIELDS = ["image_id", "image__thumbnail", "image__original", "image__width", "image__height"]


def link_files(link: ShareLink) -> list[tuple]:
    """The link's images now, in order, as (id, thumbnail, original, width, height): what
    the owner's review lists, without a model instance per image (one query)."""
    return list(_items(link).values_list(*FILE_FIELDS))


def link_image(link: ShareLink, image_id: int) -> Image | None:
    """One image, only if the link shows it right now (one query)."""
    images = shareable_images().filter(pk=image_id).select_related("job")
    if link.collection_id:
        images = images.owned_by(link.owner_id)  # as _items: the owner's own only
        held = CollectionItem.objects.filter(collection_id=link.collection_id, image_id=image_id)
    else:
        held = ShareLinkImage.objects.filter(link_id=link.pk, image_id=image_id)
    return images.filter(Exists(held)).first()


def check_link_password(link: ShareLink, password: str) -> bool:
    return bool(link.password_hash) and check_password(password, link.password_hash)


def record_view(link: ShareLink, *, visitor: str, day) -> None:
    from flux2web.links.models import ShareVisit

    ShareLink.objects.filter(pk=link.pk).update(views=F("views") + 1, last_viewed_at=timezone.now())
    ShareVisit.objects.bulk_create(
        [ShareVisit(link=link, day=day, visitor=visitor)], ignore_conflicts=True
    )


def record_download(link: ShareLink) -> None:
    ShareLink.objects.filter(pk=link.pk).update(downloads_count=F("downloads_count") + 1)


def record_failed_password(link: ShareLink) -> None:
    ShareLink.objects.filter(pk=link.pk).update(failed_passwords=F("failed_passwords") + 1)


# ---- The owner's picks into a collection. ----------------------------------------------

# A second "Add picks to a new collection" this soon after the first, with the same
# picks, is a double submit: it opens the collection already made.
PICKS_AGAIN_SECONDS = 10 * 60


@dataclass(frozen=True)
class PicksCollected:
    collection: Collection
    added: int  # images put in it now (0 when it was made before)
    made: bool  # False: the same picks were made into it a moment ago


def picks_collect(*, link: ShareLink, owner, image_ids: list[int]) -> PicksCollected | None:
    """A new collection of `owner`'s holding the picked images they may add, in order;
    None when there is none. The same picks collected again within PICKS_AGAIN_SECONDS
    return the collection made the first time (two clicks, one collection); the link's
    row is locked meanwhile so two requests at once make one too."""
    addable = set(addable_images(user=owner, image_ids=image_ids).values_list("pk", flat=True))
    if not addable:
        return None
    title = f"{link.title[:110]} — picks"
    since = timezone.now() - timedelta(seconds=PICKS_AGAIN_SECONDS)
    with transaction.atomic():
        ShareLink.objects.select_for_update().filter(pk=link.pk).exists()
        recent = Collection.objects.filter(owner=owner, title=title, created_at__gte=since)
        for made in recent.order_by("-created_at", "-id").prefetch_related("items"):
            if {item.image_id for item in made.items.all()} == addable:
                return PicksCollected(collection=made, added=0, made=False)
        collection = collection_create(owner=owner, title=title)
        added, _shown = collection_add(collection=collection, user=owner, image_ids=image_ids)
    return PicksCollected(collection=collection, added=added, made=True)
