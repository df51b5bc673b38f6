"""Every URL of the app x every method x every role answers as ACCESS says, built from the
URLconf itself: a URL added without an entry in ACCESS fails the suite by name.

Answers: "login" is a redirect to sign in, "302" any other redirect, numbers are statuses.
The outsider (and anyone else who does not own it) gets 404 for the owner's objects, never
a 403 that would confirm they exist; a 500 is never expected anywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from flux2web.accounts import api_tokens
from flux2web.jobs.models import Comparison, Job
from flux2web.links import services as links
from flux2web.links.models import ShareLink
from flux2web.review import digests
from flux2web.review.models import Comment, Notification
from tests.security.helpers import ROLES

pytestmark = pytest.mark.django_db

METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE")
LOGIN = "login"


def answers(get, head, post, put, delete) -> dict[str, str]:
    return dict(zip(METHODS, (str(a) for a in (get, head, post, put, delete)), strict=True))


def get_only(status):
    return answers(status, 405, 405, 405, 405)


def post_only(status):
    return answers(405, 405, status, 405, 405)


def get_post(get, post):
    return answers(get, 405, post, 405, 405)


EVERY_LOGIN = answers(*[LOGIN] * 5)


def expect(*, anonymous=EVERY_LOGIN, members=None, **each) -> dict[str, dict[str, str]]:
    """Per role, per method; `members` is every signed-in role not named in `each`."""
    table = {"anonymous": anonymous}
    for role in ROLES[1:]:
        table[role] = each.get(role, members)
        assert table[role] is not None, f"no answers for {role}"
    return table


def owner_only(answer_for_owner, *, method="post"):
    """The owner's object: the owner acts, everyone else is told it does not exist."""
    shape = post_only if method == "post" else get_only
    return expect(members=shape(404), owner=shape(answer_for_owner))


def admins_only(shape, answer):
    return expect(members=shape(403), team_admin=shape(answer))


@dataclass(frozen=True)
class Route:
    expect: dict[str, dict[str, str]]
    kwargs: Callable = field(default=lambda w: {})
    label: str = ""


job = lambda w: {"job_id": w.job.pk}  # noqa: E731
credential = lambda w: {"credential_id": w.credential.pk}  # noqa: E731


def compared(w):
    """The owner's job as one of a comparison of theirs."""
    comparison = Comparison.objects.create(owner=w.owner)
    Job.objects.filter(pk=w.job.pk).update(comparison=comparison)
    return {"comparison_id": comparison.pk}


def everyone(shape):
    return expect(anonymous=shape, members=shape)


collection = lambda w: {"pk": w.collection.pk}  # noqa: E731
team_collection = lambda w: {"pk": w.team_collection.pk}  # noqa: E731
collection_id = lambda w: {"collection_id": w.collection.pk}  # noqa: E731
share_link = lambda w: {"link_id": w.link.pk}  # noqa: E731
link_key = lambda w: {"key": w.link_key}  # noqa: E731
locked_key = lambda w: {"key": w.locked_key}  # noqa: E731
slug_only = lambda w: {"key": w.link_key[: -links.TOKEN_LENGTH - 1]}  # noqa: E731


def owners_api_token(w):
    token, _ = api_tokens.token_create(owner=w.owner, name="matrix")
    return {"token_id": token.pk}


def revoked_link(w):
    links.link_revoke(link=w.locked_link)
    return {"link_id": w.locked_link.pk}


def wrong_key(w):
    """The link's address with its token's last characters changed."""
    key = w.link_key
    return {"key": key[:-3] + ("AAA" if not key.endswith("AAA") else "BBB")}


def shared_image(size, *, locked=False):
    def kwargs(w):
        key = w.locked_key if locked else w.link_key
        return {"key": key, "image_id": str(w.image.pk), "size": size}

    return kwargs


def set_password_link(w):
    uid = urlsafe_base64_encode(force_bytes(w.owner.pk))
    return {"uidb64": uid, "token": default_token_generator.make_token(w.owner)}


def note_for_owner(w) -> int:
    return Notification.objects.create(
        recipient=w.owner, kind="mention", text="Tomas mentioned you", url="/collections/"
    ).pk


def unsubscribe_owner(w):
    return {"token": digests.unsubscribe_token(user_id=w.owner.pk, kind="mention")}


def proofing(state="live", **extra):
    """A link to the world's collection with picks and comments on (client proofing), as
    `state` says: live, revoked, expired, locked (a password not typed), or off (switches
    off); its key and `extra` (an image or comment id) for the address."""

    def kwargs(w):
        week = timezone.now() + timedelta(days=7)
        password = "open sesame 123" if state == "locked" else None
        settings = links.LinkSettings(title="Proofs", expires_at=week, password=password)
        link, _ = links.link_create(owner=w.owner, collection=w.collection, settings=settings)
        on = state != "off"
        ShareLink.objects.filter(pk=link.pk).update(allow_picks=on, allow_comments=on)
        if state == "revoked":
            links.link_revoke(link=link)
        elif state == "expired":
            ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(1))
        return {"key": links.address_key(link), **{k: v(w) for k, v in extra.items()}}

    return kwargs


def proofing_routes(live, *, dead, **extra):
    """A proofing address's answers on a live link, and `dead` on every other state."""
    states = (("off", "switches off"), ("revoked", "revoked"), ("expired", "expired"),
              ("locked", "locked, not unlocked"))  # fmt: skip
    live_link = proofing("live", **extra)
    return (
        Route(everyone(live), live_link, "proofing on"),
        *(Route(everyone(dead), proofing(state, **extra), label) for state, label in states),
        Route(
            everyone(dead), lambda w: {**live_link(w), "key": wrong_key(w)["key"]}, "wrong token"
        ),
    )


shown_image = {"image_id": lambda w: str(w.image.pk)}
not_shown = lambda w: str(w.team_image.pk)  # noqa: E731 - the owner's, in another collection


def own_comment(w):
    """The owner's own comment on their team-visible image: theirs alone to delete."""
    made = Comment.objects.create(image=w.team_image, author=w.owner, body="warmer, please")
    return {"comment_id": made.pk}


# The one table. Keyed by URL name; a tuple holds variants (other objects, other targets).
ACCESS: dict[str, Route | tuple[Route, ...]] = {
    # The studio: everyone signed in has their own; a job is its owner's alone.
    "studio:home": Route(expect(members=get_only(200))),
    "studio:generate": Route(expect(members=post_only(200))),  # empty form: errors shown
    "studio:options": Route(expect(members=post_only(200))),
    "studio:updates": Route(expect(members=get_only(204))),
    # Nothing of theirs in flight was named: nothing to stream.
    "studio:stream": Route(expect(members=get_only(204))),
    "studio:job": Route(owner_only(200, method="get"), job),
    "studio:cancel": Route(owner_only(302), job),
    "studio:retry": Route(owner_only(302), job),
    "studio:rerun": Route(owner_only(302), job),
    "studio:delete": Route(owner_only(302), job),
    "studio:favourite": Route(owner_only(302), job),
    "studio:theme": Route(expect(members=post_only(400))),  # no theme chosen: said so
    # A comparison is its owner's alone; keeping without naming a job is said, not done.
    "studio:comparison": Route(owner_only(200, method="get"), compared),
    "studio:keep": Route(owner_only(302), compared),
    "studio:keep_only": Route(owner_only(302), compared),
    # An image one may see, by id in the body; none named is the same 404 as one not seen.
    "studio:use_as_reference": Route(expect(members=post_only(404))),
    # Providers fetch references by a signed link, signed in or not; a forged one is 404.
    "studio:reference": (
        Route(
            expect(anonymous=get_only(200), members=get_only(200)),
            lambda w: {"token": w.ref_token, "ext": w.ref.extension},
            "signed link",
        ),
        Route(
            expect(anonymous=get_only(404), members=get_only(404)),
            lambda w: {"token": w.ref_token[:-2] + "xx", "ext": w.ref.extension},
            "forged link",
        ),
    ),
    # Accounts: Django's own views.
    "accounts:login": Route(
        expect(anonymous=answers(200, 200, 200, 200, 405), members=answers(*["302"] * 5))
    ),
    "accounts:logout": Route(expect(members=answers(405, 405, LOGIN, LOGIN, LOGIN))),
    "accounts:password_change": Route(expect(members=answers(200, 200, 200, 200, 405))),
    "accounts:password_change_done": Route(expect(members=answers(200, 200, 405, 405, 405))),
    # The one-time link is the key: whoever holds it is sent on to set the password. Signing
    # in spends it (the token covers the last sign-in), so the owner, just signed in, is told
    # it is stale, as everyone is for a forged one, whatever the method.
    "accounts:set_password": (
        Route(
            expect(
                members=answers(*["302"] * 5),
                owner=answers(*[200] * 5),
                anonymous=answers(*["302"] * 5),
            ),
            set_password_link,
            "valid link",
        ),
        Route(
            expect(anonymous=answers(*[200] * 5), members=answers(*[200] * 5)),
            lambda w: {**set_password_link(w), "token": "abc-0123456789abcdef"},
            "stale link (says so)",
        ),
    ),
    "accounts:set_password_done": Route(
        expect(anonymous=answers(200, 200, 405, 405, 405), members=answers(200, 200, 405, 405, 405))
    ),
    "core:healthz": Route(expect(anonymous=get_only(200), members=get_only(200))),
    "core:favicon": Route(everyone(answers(302, 302, 405, 405, 405))),  # a redirect
    # Public, keyed by the job's secret: an empty body is a 400, a wrong secret a 404.
    "jobs:callback": (
        Route(
            expect(anonymous=post_only(400), members=post_only(400)),
            lambda w: {"job_id": w.job.pk, "secret": w.job.callback_secret},
            "right secret, empty body",
        ),
        Route(
            expect(anonymous=post_only(404), members=post_only(404)),
            lambda w: {"job_id": w.job.pk, "secret": "x" * 43},
            "wrong secret",
        ),
    ),
    # The gallery: one's own images; with no selection the bulk actions just say so.
    "gallery:index": Route(expect(members=get_only(200))),
    "gallery:zip": Route(expect(members=post_only(302))),
    "gallery:delete": Route(expect(members=post_only(302))),
    # Compare: with no images chosen, a 400 page that says to choose 2 to 4; the selection
    # bars' POST sends the browser on (or back, with the same message).
    "gallery:compare": Route(expect(members=get_only(400))),
    "gallery:compare_chosen": Route(expect(members=post_only(302))),
    # Media: the owner and staff; the same 404 for everyone else as for a name never used.
    "gallery:media": (
        Route(
            expect(members=get_only(404), owner=get_only(200), staff=get_only(200)),
            lambda w: {"name": w.image.original.name},
            "original",
        ),
        Route(
            expect(members=get_only(404), owner=get_only(200), staff=get_only(200)),
            lambda w: {"name": w.image.thumbnail.name},
            "thumbnail",
        ),
        Route(
            expect(members=get_only(404), owner=get_only(200), staff=get_only(200)),
            lambda w: {"name": w.ref.file.name},
            "reference upload",
        ),
        Route(
            expect(members=get_only(404)),
            lambda w: {"name": w.image.original.name.replace("images/", "images/x")},
            "no such name",
        ),
        # In a collection the team can view: every member sees it, still no one signed out.
        Route(
            expect(members=get_only(200)),
            lambda w: {"name": w.team_image.original.name},
            "original in a team collection",
        ),
        Route(
            expect(members=get_only(200)),
            lambda w: {"name": w.team_image.thumbnail.name},
            "thumbnail in a team collection",
        ),
    ),
    # Running the team: team admins only (staff is Django admin, not a team admin).
    "team:members": Route(admins_only(get_only, 200)),
    "team:invite": Route(admins_only(post_only, 200)),  # empty form: errors shown
    "team:quota": Route(admins_only(post_only, 302)),
    "team:member": Route(
        expect(members=get_post(403, 403), team_admin=get_post(200, 200)),
        lambda w: {"user_id": w.owner.pk},
    ),
    "team:new_link": (
        Route(admins_only(post_only, 200), lambda w: {"user_id": w.owner.pk}, "for a member"),
        Route(admins_only(post_only, 403), lambda w: {"user_id": w.root.pk}, "for a superuser"),
        Route(admins_only(post_only, 403), lambda w: {"user_id": w.staff.pk}, "for staff"),
    ),
    "team:deactivate": (
        Route(admins_only(post_only, 403), lambda w: {"user_id": w.root.pk}, "a superuser"),
        Route(admins_only(post_only, 403), lambda w: {"user_id": w.staff.pk}, "staff"),
    ),
    "team:activate": Route(admins_only(post_only, 403), lambda w: {"user_id": w.root.pk}),
    "team:make_admin": Route(admins_only(post_only, 403), lambda w: {"user_id": w.staff.pk}),
    "team:unmake_admin": Route(admins_only(post_only, 403), lambda w: {"user_id": w.root.pk}),
    "team:dashboard": Route(admins_only(get_only, 200)),
    "team:usage_csv": Route(admins_only(get_only, 200)),
    "team:resolve": Route(admins_only(post_only, 302), job),
    "team:usage": Route(expect(members=get_only(200))),
    "team:scoreboard": Route(expect(members=get_only(200))),
    "team:scoreboard_csv": Route(expect(members=get_only(200))),
    # Providers: team admins only.
    "credentials:index": Route(admins_only(get_only, 200)),
    "credentials:add": Route(expect(members=get_post(403, 403), team_admin=get_post(200, 200))),
    "credentials:edit": Route(
        expect(members=get_post(403, 403), team_admin=get_post(200, 200)), credential
    ),
    "credentials:routing": Route(admins_only(post_only, 400)),  # empty form: errors shown
    "credentials:test": Route(admins_only(post_only, 302), credential),
    "credentials:on": Route(admins_only(post_only, 302), credential),
    "credentials:off": Route(admins_only(post_only, 302), credential),
    # Collections: one's own; a private one is its owner's alone (admins and staff too get
    # a 404), a team one every member sees. With nothing chosen, the actions say so.
    "sharing:collections": Route(expect(members=get_only(200))),
    "sharing:collection_new": Route(expect(members=post_only(400))),  # empty form: errors
    "sharing:add": Route(expect(members=get_post(302, 302))),  # no image of theirs chosen
    "sharing:collection": (
        Route(owner_only(200, method="get"), collection, "private"),
        Route(expect(members=get_only(200)), team_collection, "team can view"),
    ),
    "sharing:collection_edit": (
        Route(owner_only(400), collection, "private"),  # empty form: errors shown
        Route(owner_only(400), team_collection, "team can view"),
    ),
    "sharing:collection_delete": (
        Route(owner_only(302), collection, "private"),
        Route(owner_only(302), team_collection, "team can view"),
    ),
    # Removing: members of a team collection may remove what they added (here: nothing).
    "sharing:collection_remove": (
        Route(owner_only(302), collection, "private"),
        Route(expect(members=post_only(302)), team_collection, "team can view"),
    ),
    "sharing:collection_move": (
        Route(owner_only(302), collection, "private"),
        Route(owner_only(302), team_collection, "team can view"),
    ),
    "sharing:collection_reorder": (
        Route(owner_only(302), collection, "private"),
        Route(owner_only(302), team_collection, "team can view"),
    ),
    "sharing:collection_cover": (
        Route(owner_only(302), collection, "private"),
        Route(owner_only(302), team_collection, "team can view"),
    ),
    "sharing:collection_zip": (
        Route(owner_only(200), collection, "private"),
        Route(expect(members=post_only(200)), team_collection, "team can view"),
    ),
    # Marks: the owner, and in a team-can-add collection anyone who can add; a team-view
    # one is the owner's to mark, like its order. With nothing chosen: 400 and a message.
    "sharing:collection_mark": (
        Route(owner_only(400), collection, "private"),
        Route(owner_only(400), team_collection, "team can view"),
    ),
    # Review inside the team: an image anyone may see who may see it (the private one is its
    # owner's alone, admins included); an empty like or comment is refused with a message.
    "review:image": (
        Route(owner_only(200, method="get"), lambda w: {"image_id": w.image.pk}, "private"),
        Route(expect(members=get_only(200)), lambda w: {"image_id": w.team_image.pk}, "team"),
    ),
    "review:like": (
        Route(owner_only(400), lambda w: {"image_id": w.image.pk}, "private"),
        Route(expect(members=post_only(400)), lambda w: {"image_id": w.team_image.pk}, "team"),
    ),
    "review:comment": (
        Route(owner_only(400), lambda w: {"image_id": w.image.pk}, "private"),
        Route(expect(members=post_only(400)), lambda w: {"image_id": w.team_image.pk}, "team"),
    ),
    # The owner's own comment on their team-visible image: theirs alone to delete.
    "review:comment_delete": Route(owner_only(302), own_comment),
    "review:activity": (
        Route(owner_only(200, method="get"), collection, "private"),
        Route(expect(members=get_only(200)), team_collection, "team can view"),
    ),
    # Notifications: each person's own; someone else's is the same 404 as none. The
    # unsubscribe link of an e-mail needs no sign-in: its signed token is the key.
    "review:notifications": Route(expect(members=get_only(200))),
    "review:notification_open": Route(owner_only(302), lambda w: {"pk": note_for_owner(w)}),
    "review:notifications_read": Route(expect(members=post_only(302))),
    "review:email_settings": Route(expect(members=get_post(200, 302))),  # empty: none e-mailed
    "review:unsubscribe": (
        Route(everyone(answers(200, 405, 200, 405, 405)), unsubscribe_owner, "signed"),
        Route(everyone(answers(400, 405, 400, 405, 405)), lambda w: {"token": "forged"}, "forged"),
    ),
    "sharing:team_gallery": Route(expect(members=get_only(200))),
    "sharing:image_visibility": Route(expect(members=post_only(302))),  # no image chosen
    # Settings: an empty POST is an unbound form, shown again, and saves nothing.
    "sharing:image_settings": Route(expect(members=get_post(200, 200))),
    "sharing:team_policy": Route(expect(members=get_post(403, 403), team_admin=get_post(200, 200))),
    # Share links, the owner's side. A collection's Sharing panel: its owner, and admins
    # (who oversee every link, and may revoke but not make one on another's collection).
    "share:collection_sharing": (
        Route(
            expect(
                members=get_post(404, 404), owner=get_post(200, 400), team_admin=get_post(404, 404)
            ),
            collection_id,
            "private",
        ),
        Route(
            expect(
                members=get_post(404, 404), owner=get_post(200, 400), team_admin=get_post(200, 302)
            ),
            lambda w: {"collection_id": w.team_collection.pk},
            "team can view",
        ),
    ),
    "share:revoke_all": (
        Route(
            expect(members=post_only(404), owner=post_only(302), team_admin=post_only(404)),
            collection_id,
            "private",
        ),
        Route(
            expect(members=post_only(404), owner=post_only(302), team_admin=post_only(302)),
            lambda w: {"collection_id": w.team_collection.pk},
            "team can view",
        ),
    ),
    "share:mine": Route(expect(members=get_only(200))),
    "share:selection": Route(expect(members=post_only(302))),  # no image of theirs chosen
    "share:edit": Route(expect(members=get_post(404, 404), owner=get_post(200, 400)), share_link),
    "share:revoke": Route(
        expect(members=post_only(404), owner=post_only(302), team_admin=post_only(302)),
        share_link,
    ),
    "share:extend": Route(owner_only(302), share_link),
    "share:rotate": Route(owner_only(302), share_link),
    # A link's review (what its guests picked and said): whoever shared it, also once it is
    # revoked; an admin gets nothing more. Collecting with no picks is refused by redirect.
    "share:review": (
        Route(owner_only(200, method="get"), share_link),
        Route(owner_only(200, method="get"), revoked_link, "revoked link"),
    ),
    "share:picks_collect": Route(owner_only(302), share_link),
    "share:picks_list": (
        Route(owner_only(200, method="get"), share_link),
        Route(owner_only(200, method="get"), revoked_link, "revoked link"),
    ),
    "share:picks_csv": Route(owner_only(200, method="get"), share_link),
    "share:team_links": Route(expect(members=get_post(403, 403), team_admin=get_post(200, 400))),
    # The public side: the token in the address is the key, signed in or not. A wrong
    # token is the same 404 as no link at all; any method but the link's is a 405.
    "share:page": (
        Route(everyone(answers(200, 200, 405, 405, 405)), link_key, "right token"),
        Route(everyone(answers(200, 200, 405, 405, 405)), locked_key, "password form"),
        Route(everyone(answers(404, 404, 405, 405, 405)), wrong_key, "wrong token"),
        Route(everyone(answers(404, 404, 405, 405, 405)), slug_only, "slug, no token"),
    ),
    "share:unlock": (
        Route(everyone(answers(405, 405, 302, 405, 405)), link_key, "no password: on to it"),
        Route(everyone(answers(405, 405, 400, 405, 405)), locked_key, "password left empty"),
        Route(everyone(answers(405, 405, 404, 405, 405)), wrong_key, "wrong token"),
    ),
    "share:zip": (
        Route(everyone(answers(200, 200, 405, 405, 405)), link_key, "right token"),
        Route(everyone(answers(404, 404, 405, 405, 405)), locked_key, "locked, no downloads"),
        Route(everyone(answers(404, 404, 405, 405, 405)), wrong_key, "wrong token"),
    ),
    "share:image": (
        *(
            Route(everyone(answers(200, 200, 405, 405, 405)), shared_image(size), size)
            for size in ("thumb", "web", "original")
        ),
        Route(
            everyone(answers(404, 404, 405, 405, 405)),
            shared_image("thumb", locked=True),
            "thumb, still locked",
        ),
        Route(everyone(answers(404, 404, 405, 405, 405)), shared_image("large"), "no such size"),
        Route(
            everyone(answers(404, 404, 405, 405, 405)),
            lambda w: {**shared_image("thumb")(w), "image_id": str(w.ref.pk + 10_000)},
            "an image the link does not hold",
        ),
        Route(
            everyone(answers(404, 404, 405, 405, 405)),
            lambda w: {**shared_image("thumb")(w), "key": wrong_key(w)["key"]},
            "wrong token",
        ),
    ),
    # Client proofing: the one-image page is read by anyone with the link; every write needs
    # the form token of a page this browser opened (403 without), and answers the dead-link
    # 404 on a link that is off, revoked, expired or still locked.
    "share:proof": (
        *proofing_routes(
            answers(200, 200, 405, 405, 405), dead=answers(404, 404, 405, 405, 405), **shown_image
        ),
        Route(
            everyone(answers(404, 404, 405, 405, 405)),
            proofing(image_id=not_shown),
            "an image the link does not hold",
        ),
    ),
    "share:proof_pick": (
        *proofing_routes(post_only(403), dead=post_only(404), **shown_image),
        Route(
            everyone(post_only(404)),
            proofing(image_id=not_shown),
            "an image the link does not hold",
        ),
    ),
    "share:proof_comment": proofing_routes(post_only(403), dead=post_only(404), **shown_image),
    "share:proof_join": proofing_routes(post_only(403), dead=post_only(404)),
    "share:proof_confirm": proofing_routes(post_only(403), dead=post_only(404)),
    "share:proof_comment_set": proofing_routes(post_only(403), dead=post_only(404)),
    "share:proof_uncomment": proofing_routes(
        post_only(403), dead=post_only(404), comment_id=lambda w: "1"
    ),
    "share:not_found": Route(everyone(answers(*[404] * 5)), lambda w: {"rest": "x/../../admin/"}),
    # API tokens: each person's own; admins revoke anyone's (the team's page, a member's).
    "api:tokens": Route(expect(members=get_only(200))),
    "api:create": Route(expect(members=post_only(400))),  # empty form: errors shown
    "api:revoke": Route(
        expect(members=post_only(404), owner=post_only(302), team_admin=post_only(302)),
        owners_api_token,
    ),
    "api:all": Route(admins_only(get_only, 200)),
    # The API itself: a token or nothing; a session (or no one) gets 401 on every method.
    "api:models": Route(everyone(answers(*[401] * 5))),
    "api:not_found": Route(everyone(answers(*[401] * 5)), lambda w: {"rest": "images/x"}),
    "api:generations": Route(everyone(answers(*[401] * 5))),
    "api:edits": Route(everyone(answers(*[401] * 5))),
    # The images the API answers with: a signed, dated address, read by whoever holds it
    # (GET or HEAD); a forged one is 404 for everyone.
    "api:result": (
        Route(
            everyone(answers(200, 200, 405, 405, 405)),
            lambda w: api_result(w.image),
            "signed link",
        ),
        Route(
            everyone(answers(404, 404, 405, 405, 405)),
            lambda w: {**api_result(w.image), "token": "forged"},
            "forged",
        ),
    ),
}


def api_result(image) -> dict:
    from flux2web.api import results

    token, ext = results.path_for(image).rsplit("/", 1)[1].rsplit(".", 1)
    return {"token": token, "ext": ext}


def url_patterns(patterns=None, namespaces=(), prefix=""):
    """(name, route) of every URL pattern but Django admin's, walking includes."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            if pattern.app_name == "admin":
                continue  # Django's own; see test_django_admin_* below
            inner = namespaces + ((pattern.namespace,) if pattern.namespace else ())
            yield from url_patterns(pattern.url_patterns, inner, prefix + str(pattern.pattern))
        else:
            name = ":".join((*namespaces, pattern.name)) if pattern.name else None
            yield name or f"<unnamed {prefix}{pattern.pattern}>", prefix + str(pattern.pattern)


def cases():
    for name, route in url_patterns():
        entry = ACCESS.get(name)
        variants = entry if isinstance(entry, tuple) else (entry,)
        for variant in variants:
            case = f"{name}[{variant.label}]" if variant is not None and variant.label else name
            for role in ROLES:
                yield pytest.param(name, route, variant, role, id=f"{case}-{role}")


def answer(response) -> str:
    if response.status_code in (301, 302, 303, 307, 308):
        location = response["Location"]
        if location.startswith(reverse("accounts:login")):
            return LOGIN
        return "admin-login" if location.startswith("/admin/login/") else "302"
    return str(response.status_code)


def client_for(world, role) -> Client:
    client = Client(raise_request_exception=False)
    if role != "anonymous":
        client.force_login(world.user(role))
    return client


@pytest.mark.parametrize(("name", "route", "entry", "role"), list(cases()))
def test_every_url_answers_each_role_and_method_as_the_table_says(world, name, route, entry, role):
    if entry is None:
        pytest.fail(
            f"URL {name!r} ({route}) has no entry in ACCESS in {__name__}: say who may use it "
            "with which methods, so a new URL cannot open a hole silently."
        )
    url = reverse(name, kwargs=entry.kwargs(world))
    client = client_for(world, role)
    got = {}
    for method in METHODS:
        # Each request on its own: an action (delete, deactivate) must not change the next.
        with transaction.atomic():
            got[method] = answer(client.generic(method, url))
            transaction.set_rollback(True)
    assert got == entry.expect[role], f"{role} on {url}"


def test_the_table_has_no_entry_for_a_url_that_is_gone():
    names = {name for name, _ in url_patterns()}
    assert not set(ACCESS) - names


def test_django_admin_sends_anonymous_visitors_to_its_own_sign_in(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_django_admin_is_closed_to_a_team_admin_who_is_not_staff(world):
    client = client_for(world, "team_admin")
    for path in ("/admin/", "/admin/accounts/user/", f"/admin/accounts/user/{world.owner.pk}/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    response = client.post(f"/admin/accounts/user/{world.owner.pk}/password/", {
        "password1": "x-Very-long-1", "password2": "x-Very-long-1",
    })  # fmt: skip
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    world.owner.refresh_from_db()
    assert world.owner.check_password("correct horse battery staple")


def answered_pages():
    """(case, role) for each URL variant some role opens with a 200, the first such role."""
    for name, _ in url_patterns():
        entry = ACCESS.get(name)
        for variant in entry if isinstance(entry, tuple) else (entry,) if entry else ():
            role = next((r for r in ROLES if variant.expect[r]["GET"] == "200"), None)
            if role is not None:
                case = f"{name}[{variant.label}]" if variant.label else name
                yield pytest.param(name, variant, role, id=f"{case}-{role}")


@pytest.mark.parametrize(("name", "entry", "role"), list(answered_pages()))
def test_every_answer_carries_a_content_security_policy_and_nosniff(world, name, entry, role):
    url = reverse(name, kwargs=entry.kwargs(world))  # first, as the matrix does: a sign-in
    response = client_for(world, role).get(url)  # spends a set-password link made before it
    assert response.status_code == 200
    assert response.get("X-Content-Type-Options") == "nosniff"
    assert response.get("Content-Security-Policy"), f"{name}: no Content-Security-Policy"
