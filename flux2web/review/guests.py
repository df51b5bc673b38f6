"""Guests of a share link (reviewers): joining under a name, picking favourites, confirming
them, commenting, and the rules that bind each (names no teammate's, counts, locks, the
deadline, throttles and ceilings). Callers pass the link, already found live and open, and
an image it shows (this app stands below `links`)."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from flux2web.core import throttle
from flux2web.review.models import BODY_MAX, NAME_MAX, Comment, Notification, Pick, Reviewer
from flux2web.review.notifications import notify

# Spam through an open link (review.md): per link and client, per link from everyone, and
# a ceiling per link that no patience gets past.
COMMENTS_PER_CLIENT, COMMENTS_CLIENT_WINDOW = 20, 10 * 60
COMMENTS_PER_LINK, COMMENTS_LINK_WINDOW = 200, 60 * 60
COMMENTS_CEILING = 2000
JOINS_PER_CLIENT, JOINS_WINDOW = 10, 60 * 60
REVIEWERS_CEILING = 200
PICKS_PER_CLIENT, PICKS_WINDOW = 600, 10 * 60
SEEN_EVERY = timedelta(minutes=1)
IDLE_AFTER = timedelta(days=1)  # a reviewer with no pick nor comment, unseen since

# Letters of other scripts drawn like Latin ones: a Cyrillic O in "Olivia" is an O. The
# capitals are mapped before case folding (a Greek capital Mu folds to a mu, drawn like no
# Latin letter), the small letters after.
LOOKALIKE_CAPITALS = str.maketrans(
    "АВЕКМНОРСТХЅІЈΑΒΕΖΗΙΚΜΝΟΡΤΥΧᎪᏴᏟᎬᎻᎫᏦᏞᎷᏒᏚᎢᏙᏔᏃᎠՕՍԼ",
    "ABEKMHOPCTXSIJABEZHIKMNOPTYXABCEHJKLMRSTVWZDOUL",
)
LOOKALIKES = str.maketrans(
    "аеорсухіјѕԁɡкмнтвαοριτυνκօսհոզ0135",
    "aeopcyxijsdgkmhtbaopitvvkounhqoles",
)
# Characters that show nothing (or a blank) and are no format character either: Hangul
# fillers, the grapheme joiner, variation selectors, Mongolian and Khmer invisibles, the
# Braille blank. With the format characters (category Cf) they could make a teammate's
# name look like a new one.
INVISIBLE = frozenset(
    "\u115f\u1160\u3164\uffa0\u034f\u17b4\u17b5\u180b\u180c\u180d\u180e\u180f\u2800"
)
# Scripts that share a word in real names (Japanese writes kanji and kana together,
# Korean may write hanja with hangul).
SCRIPTS_TOGETHER = ({"CJK", "HIRAGANA", "KATAKANA"}, {"CJK", "HANGUL"})
# Where a name would read as an address in the owner's e-mail digest: a slash, an @,
# "www." or a dot between letters followed by two letters or more ("evil.example").
ADDRESS_LIKE = re.compile(r"[/@\\]|www\.|[^\W\d_]\s*[.\u3002\uff61]\s*[^\W\d_]{2}", re.IGNORECASE)
WORD_EDGES = re.compile(r"[\s()\[\]{}<>\"“”‘’,;:!?.]+")


class GuestError(ValueError):
    """What a guest may not do now; the message says why, `status` is the HTTP answer."""

    def __init__(self, message: str, *, status: int = 400):
        super().__init__(message)
        self.status = status


def guest_label(name: str) -> str:
    """How a guest is always shown: never bare, so never taken for a teammate."""
    return f"{name} (guest)"


# ---- Names. -----------------------------------------------------------------------------


def _unsmall(c: str) -> str:
    """A Latin small capital (ᴍ) as its letter (m)."""
    name = unicodedata.name(c, "")
    if name.startswith("LATIN LETTER SMALL CAPITAL ") and len(name) == 28:
        return name[-1].lower()
    return c


def skeleton(text: str) -> str:
    """What a name looks like, for telling look-alikes: NFKC, look-alike capitals, case
    folded, small capitals, accents and other scripts' look-alike letters to plain Latin,
    and nothing but letters and digits."""
    text = unicodedata.normalize("NFKC", text).translate(LOOKALIKE_CAPITALS).casefold()
    text = unicodedata.normalize("NFKD", "".join(map(_unsmall, text)))
    text = "".join(c for c in text if not unicodedata.combining(c)).translate(LOOKALIKES)
    return "".join(c for c in text if c.isalnum())


def _script(c: str) -> str:
    """The script of a letter, by its Unicode name's first word (LATIN, CYRILLIC, CJK…)."""
    return unicodedata.name(c, "UNKNOWN").split(" ", 1)[0]


def _mixes_scripts(word: str) -> bool:
    scripts = {_script(c) for c in word if c.isalpha()} - {"MODIFIER"}
    return len(scripts) > 1 and not any(scripts <= together for together in SCRIPTS_TOGETHER)


def _words(name: str) -> list[str]:
    return [w for w in WORD_EDGES.split(name) if w]


def _team_skeletons() -> tuple[set[str], set[str]]:
    """The team's names as skeletons: whole names, and single names (a username, a first
    or last name, each word of them)."""
    names, words = set(), set()
    users = get_user_model().objects.filter(is_active=True)
    for username, first, last in users.values_list("username", "first_name", "last_name"):
        names.update((username, first, last, f"{first} {last}", f"{first}{last}"))
        words.update((username, first, last, *_words(first), *_words(last)))
    whole = {s for s in map(skeleton, names) if s}
    return whole, {s for s in map(skeleton, words) if len(s) > 1}


def clean_name(raw, *, link=None) -> str:
    """The name a guest gave, ready to keep, or GuestError saying what is wrong with it:
    empty, long, unreadable, with invisible characters, mixing alphabets within a word,
    like an address, a teammate's (or any word of it one of theirs), or, with `link`,
    already used by another reviewer of the link."""
    name = unicodedata.normalize("NFKC", str(raw or "")).strip()
    if not name:
        raise GuestError("Type your name, so the team knows who picked and commented.")
    if len(name) > NAME_MAX:
        raise GuestError(f"Use at most {NAME_MAX} characters for your name.")
    if UNREADABLE in name:
        raise GuestError(
            "Your name could not be read (it was not sent as UTF-8 text); type it again."
        )
    if any(unicodedata.category(c).startswith("C") or c in INVISIBLE or _is_selector(c)
           for c in name):  # fmt: skip
        raise GuestError("Use visible letters, digits, spaces and punctuation only in your name.")
    shape = skeleton(name)
    if not shape:
        raise GuestError("Use at least one letter or digit in your name.")
    if ADDRESS_LIKE.search(name):
        raise GuestError("A name cannot look like a web or e-mail address; type just your name.")
    whole, single = _team_skeletons()
    if shape in whole or any(skeleton(word) in single for word in _words(name)):
        raise GuestError(
            "That name is (or looks like) a team member's. Use your own name; guests are "
            "shown as guests."
        )
    if link is not None and shape in {
        skeleton(taken)
        for taken in Reviewer.objects.filter(link=link).values_list("name", flat=True)
    }:
        raise GuestError("That name is already used on this link; add an initial.", status=409)
    if any(_mixes_scripts(word) for word in name.split()):
        raise GuestError(
            "Write each word of your name in one alphabet (this one mixes letters of "
            "different alphabets, such as Latin and Cyrillic)."
        )
    return name


def _is_selector(c: str) -> bool:
    """A variation selector: it changes how the letter before it is drawn, invisibly."""
    return "\ufe00" <= c <= "\ufe0f" or "\U000e0100" <= c <= "\U000e01ef"


# Characters that turn the text after them around (overrides, embeddings, isolates): a
# comment could show the owner something other than what it says.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Zero-width characters that join nothing: taken out (the zero-width joiner and non-joiner
# stay, emoji sequences and some scripts need them).
ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u2060\ufeff\u180e"))
UNREADABLE = "\ufffd"  # what undecodable input became


def clean_body(raw) -> str:
    body = str(raw or "").replace("\r\n", "\n").replace("\r", "\n").translate(ZERO_WIDTH)
    body = body.strip()
    if UNREADABLE in body:
        raise GuestError(
            "Part of this comment could not be read (it was not sent as UTF-8 text); type it again."
        )
    if any(c in BIDI_CONTROLS for c in body):
        raise GuestError(
            "A comment cannot hold invisible direction controls (they turn the text around); "
            "remove them."
        )
    if not body:
        raise GuestError("Write a comment first.")
    if len(body) > BODY_MAX:
        raise GuestError(f"Keep a comment to {BODY_MAX:,} characters (this one has {len(body):,}).")
    if any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in body):
        raise GuestError("A comment is plain text; it cannot hold control characters.")
    return body


# ---- Reviewers. -------------------------------------------------------------------------


def browser_hash(secret: str) -> str:
    """What is kept of a browser's random value: a stolen database names no cookie."""
    return hashlib.sha256(f"flux2web.review.guest:{secret}".encode()).hexdigest()


def reviewer_for(*, link, browser_secret: str | None) -> Reviewer | None:
    """The reviewer this browser is on this link, seen now (at most once a minute)."""
    if not browser_secret:
        return None
    reviewer = Reviewer.objects.filter(link=link, browser=browser_hash(browser_secret)).first()
    if reviewer is not None:
        now = timezone.now()
        if reviewer.last_seen_at <= now - SEEN_EVERY:
            Reviewer.objects.filter(pk=reviewer.pk).update(last_seen_at=now)
            reviewer.last_seen_at = now
    return reviewer


def reviewer_join(*, link, name, browser_secret: str, client: str) -> Reviewer:
    """A new reviewer of the link under `name`, found again by `browser_secret`."""
    name = clean_name(name, link=link)
    if Reviewer.objects.filter(link=link).count() >= REVIEWERS_CEILING:
        # Names given and nothing done since, a day and more ago, make room: names alone
        # (spam from many addresses) cannot lock the real client out.
        idle = Reviewer.objects.filter(
            link=link,
            last_seen_at__lt=timezone.now() - IDLE_AFTER,
            picks=None,
            comments=None,
            confirmed_at=None,
        )
        Reviewer.objects.filter(pk__in=list(idle.values_list("pk", flat=True))).delete()
        if Reviewer.objects.filter(link=link).count() >= REVIEWERS_CEILING:
            raise GuestError("This link has as many reviewers as it can take.", status=429)
    if throttle.take(
        f"guest:join:{link.pk}:{client}", limit=JOINS_PER_CLIENT, seconds=JOINS_WINDOW
    ):
        raise GuestError("Too many names from here; try again later.", status=429)
    try:
        with transaction.atomic():
            return Reviewer.objects.create(
                link=link, name=name, browser=browser_hash(browser_secret)
            )
    except IntegrityError:  # two joins from one browser at once: the first one stands
        return Reviewer.objects.get(link=link, browser=browser_hash(browser_secret))


# ---- Picks. -----------------------------------------------------------------------------


@dataclass
class PickState:
    """Where a reviewer's picks stand, and what the page says of them."""

    picked: set[int] = field(default_factory=set)
    minimum: int | None = None
    maximum: int | None = None
    confirmed_at: datetime | None = None
    closed_on: datetime | None = None  # the deadline, once passed
    closes_on: datetime | None = None  # the deadline, while still ahead
    locked: bool = False  # confirmed, and the link locks at confirmation

    @property
    def count(self) -> int:
        return len(self.picked)

    @property
    def can_pick(self) -> bool:
        return self.closed_on is None and not self.locked

    @property
    def rule(self) -> str:
        low, high = self.minimum, self.maximum
        if low and high:
            return f"choose {low}" if low == high else f"choose {low} to {high}"
        if low:
            return f"choose at least {low}"
        if high:
            return f"choose up to {high}"
        return ""

    @property
    def closing(self) -> str:
        """When picking closes, while it is still open: a client plans by it."""
        if self.closes_on is None or not self.can_pick:
            return ""
        when = self.closes_on
        return f"Picking closes on {when:%Y-%m-%d} at {when:%H:%M} ({when:%Z})."

    @property
    def status(self) -> str:
        if self.closed_on is not None:
            return f"{self.count} picked · Picking closed on {self.closed_on:%Y-%m-%d}"
        if self.locked:
            return f"{self.count} picked · Locked"
        parts = [f"{self.count} picked"]
        if self.confirmed_at:
            parts.append("confirmed")
        elif self.rule:
            parts.append(self.rule)
        return " · ".join(parts)


def pick_state(
    *, link, reviewer: Reviewer | None, shown=None, now: datetime | None = None
) -> PickState:
    """Where the reviewer's picks stand. With `shown` (the ids of the images the link shows
    now), only picks of those count: a pick of an image since taken out of the link is
    neither shown, nor counted against the maximum, nor confirmed."""
    now = now or timezone.now()
    deadline = link.picks_deadline
    state = PickState(
        minimum=link.picks_min or None,
        maximum=link.picks_max or None,
        closed_on=timezone.localtime(deadline) if deadline and deadline <= now else None,
        closes_on=timezone.localtime(deadline) if deadline and deadline > now else None,
    )
    if reviewer is not None:
        state.picked = set(reviewer.picks.values_list("image_id", flat=True))
        if shown is not None:
            state.picked &= set(shown)
        state.confirmed_at = reviewer.confirmed_at
        state.locked = bool(link.lock_on_confirm and reviewer.confirmed_at)
    return state


def _check_open(state: PickState) -> None:
    if state.closed_on is not None:
        raise GuestError(f"Picking closed on {state.closed_on:%Y-%m-%d}.", status=403)
    if state.locked:
        raise GuestError("Your picks are confirmed and locked.", status=403)


def pick_toggle(*, link, reviewer: Reviewer, image, client: str, shown=None) -> bool:
    """Pick the image, or unpick it if picked. True when it is picked now. A change after
    confirming (where the link allows one) asks for a new confirmation. `shown`: as in
    pick_state."""
    if throttle.take(
        f"guest:pick:{link.pk}:{client}", limit=PICKS_PER_CLIENT, seconds=PICKS_WINDOW
    ):
        raise GuestError("Too many picks at once; wait a few minutes.", status=429)
    with transaction.atomic():
        # The reviewer's row, locked: two picks at once cannot both pass the maximum.
        reviewer = Reviewer.objects.select_for_update().get(pk=reviewer.pk)
        state = pick_state(link=link, reviewer=reviewer, shown=shown)
        _check_open(state)
        if image.pk in state.picked:
            Pick.objects.filter(reviewer=reviewer, image=image).delete()
            picked = False
        else:
            if state.maximum and state.count >= state.maximum:
                raise GuestError(
                    f"You can pick at most {state.maximum}; unpick one first.", status=409
                )
            Pick.objects.create(reviewer=reviewer, image=image)
            picked = True
        Reviewer.objects.filter(pk=reviewer.pk).update(confirmed_at=None)
    return picked


def unpick_gone(*, link, reviewer: Reviewer, image_id: int) -> bool:
    """Take back the reviewer's pick of an image the link no longer shows (there is nothing
    to show of it, but the pick is theirs). False when they have no such pick."""
    with transaction.atomic():
        reviewer = Reviewer.objects.select_for_update().get(pk=reviewer.pk)
        mine = Pick.objects.filter(reviewer=reviewer, image_id=image_id)
        if not mine.exists():
            return False
        _check_open(pick_state(link=link, reviewer=reviewer))
        mine.delete()
    return True


def picks_confirm(*, link, reviewer: Reviewer, url: str, shown=None) -> int:
    """Confirm the reviewer's picks (of the images `shown`, as in pick_state); tells the
    link's owner. Returns how many."""
    with transaction.atomic():
        reviewer = Reviewer.objects.select_for_update().get(pk=reviewer.pk)
        state = pick_state(link=link, reviewer=reviewer, shown=shown)
        _check_open(state)
        if not state.count:
            raise GuestError("Pick at least one image first.", status=409)
        if state.minimum and state.count < state.minimum:
            raise GuestError(
                f"Pick at least {state.minimum} before confirming (you have {state.count}).",
                status=409,
            )
        if state.maximum and state.count > state.maximum:
            raise GuestError(
                f"Pick at most {state.maximum} before confirming (you have {state.count}).",
                status=409,
            )
        reviewer.confirmed_at = timezone.now()
        reviewer.save(update_fields=["confirmed_at"])
    _tell_owner(link=link, reviewer=reviewer, kind=Notification.Kind.SELECTION, url=url)
    return state.count


# ---- Comments. --------------------------------------------------------------------------


def comment_add(*, link, reviewer: Reviewer, image, body, client: str, url: str) -> Comment:
    """A guest's comment on an image of the link, or on its whole set (image None)."""
    body = clean_body(body)
    if Comment.objects.filter(reviewer__link=link).count() >= COMMENTS_CEILING:
        raise GuestError("This link has as many comments as it can take.", status=429)
    windows = [
        (f"guest:comment:{link.pk}:{client}", COMMENTS_PER_CLIENT, COMMENTS_CLIENT_WINDOW),
        (f"guest:comment:{link.pk}:everyone", COMMENTS_PER_LINK, COMMENTS_LINK_WINDOW),
    ]
    for key, limit, seconds in windows:
        if throttle.take(key, limit=limit, seconds=seconds):
            raise GuestError("Too many comments just now; wait a few minutes.", status=429)
    comment = Comment.objects.create(reviewer=reviewer, image=image, body=body)
    _tell_owner(link=link, reviewer=reviewer, kind=Notification.Kind.LINK_COMMENT, url=url)
    return comment


def comment_delete(*, reviewer: Reviewer, comment_id: int) -> bool:
    """A guest takes back one of their own comments."""
    return bool(Comment.objects.filter(pk=comment_id, reviewer=reviewer).delete()[0])


def comments_shown(*, link, reviewer: Reviewer | None):
    """Guests' comments a visitor reads here: their own, and other reviewers' of this link
    only if the owner allows it. Never the team's."""
    comments = Comment.objects.filter(reviewer__link=link).select_related("reviewer")
    if link.show_reviewers:
        return comments
    if reviewer is None:
        return comments.none()
    return comments.filter(reviewer=reviewer)


# ---- The owner's one notification per reviewer. -----------------------------------------


def summary(*, link, reviewer: Reviewer) -> str:
    """“Ana (guest) confirmed 4 picks and left 1 comment on “Spring campaign””."""
    done = []
    if reviewer.confirmed_at:
        picks = reviewer.picks.count()
        done.append(f"confirmed {picks} pick{'s' if picks != 1 else ''}")
    comments = reviewer.comments.count()
    if comments:
        done.append(f"left {comments} comment{'s' if comments != 1 else ''}")
    said = " and ".join(done) or "reviewed"
    return f"{guest_label(reviewer.name)} {said} on “{link.title}”"


def _tell_owner(*, link, reviewer: Reviewer, kind: str, url: str) -> None:
    # No image or comment named: the one folded notification outlives a deleted comment.
    notify(
        recipients=[link.owner],
        kind=kind,
        text=summary(link=link, reviewer=reviewer),
        url=url,
        key=f"guest:{reviewer.pk}",
    )
