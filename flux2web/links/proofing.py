"""Client proofing on the public side of a share link: a guest gives a name, picks favourites,
confirms them and comments, on the page and on a one-image page. Each switch is the link's
(off by default); the rules are review.guests'; this module answers requests."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.core.exceptions import BadRequest, RequestDataTooBig, TooManyFieldsSent
from django.http import HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.safestring import SafeString

from flux2web.lib import kept
from flux2web.lib.clients import throttle_key
from flux2web.lib.ids import parse_id
from flux2web.links import public
from flux2web.links import services as links
from flux2web.review import guests
from flux2web.review.models import Reviewer

# The form token, and why it is not Django's CSRF check. The public side sends
# `Referrer-Policy: no-referrer`, so browsers post its forms with `Origin: null`, which
# Django's check refuses (see links/public.py), and which tells a same-origin form from a
# forged one no better than a missing header would: Origin cannot be used here. Instead
# each browser gets a random value in a cookie of its own (HttpOnly, SameSite=Lax: a page
# elsewhere cannot read it, and its cross-site POSTs go without it), and every proofing
# form carries an HMAC of the link's pk, that value and, once the browser has a name on
# the link, the random value of its reviewer cookie (signed, HttpOnly). A forger knows
# none of them, a form of one link does not post to another, and a POST without the
# cookie, or with a token that does not match it, writes nothing.
# Cookies are not isolated by port, and a sibling subdomain may set one for this host
# ("cookie tossing"): a forger there can plant a form cookie whose token they know. The
# reviewer's secret in the HMAC makes that worthless against a guest with a name (the
# forger cannot read it), and browsers' `Sec-Fetch-Site` header, sent on every POST
# whatever the referrer policy, is `same-origin` for this site's own forms (with or
# without JavaScript): a POST that has the header with any other value is refused. Older
# browsers send no header and rest on the token alone.
FORM_COOKIE = "f2w_proof"
TOKEN_FIELD = "proof_token"  # noqa: S105 - a field name
FORM_SALT = "flux2web.links.proofing.form"
COOKIE_AGE = 180 * 24 * 3600
COOKIE_VALUE = re.compile(r"[A-Za-z0-9_-]{43}")
FORM_EXPIRED = "This form has expired; reload the page and try again."
ELSEWHERE = (
    "This form was sent from another site, so nothing was changed. Reload the page and try again."
)
UNREADABLE_FORM = (
    "This form could not be read (too large, too many fields, or not UTF-8 text), so "
    "nothing was changed. Reload the page and try again."
)
# What reading a malformed POST raises: Django's own answer would be its bare 400 page,
# without the share headers, logged with a traceback.
MALFORMED = (RequestDataTooBig, TooManyFieldsSent, BadRequest, MultiPartParserError,
             UnicodeDecodeError)  # fmt: skip
NAME_FIRST = "Give your name first (at the top of the page), then pick and comment."
# Markers the kept grid carries for what differs per visitor (lib/kept.py).
MARKS = {"token": kept.marker("proof_token"), "pick": kept.marker("proof_pick")}
PICK_MARK = re.compile(re.escape(MARKS["pick"]) + r":(\d+)")
PAGE_COMMENTS = 50  # the newest on the page; each image's all on its own page
IMAGE_COMMENTS = 200


def is_on(link) -> bool:
    return link.allow_picks or link.allow_comments


def review_url(link) -> str:
    """Where the link's owner reads its review (never the public address)."""
    return reverse("share:review", kwargs={"link_id": link.pk})


# ---- Cookies. ---------------------------------------------------------------------------


def _cookie_name(link) -> str:
    return f"f2w_r{link.pk}"


def _cookie_salt(link) -> str:
    return f"flux2web.review.guest:{link.pk}"


def _reviewer_secret(request, link) -> str | None:
    """The random value of this browser on this link, if its signed cookie is this link's."""
    return request.get_signed_cookie(_cookie_name(link), default=None, salt=_cookie_salt(link))


def _set_cookie(response, name, value, *, secure: bool, salt=None) -> None:
    options = {"max_age": COOKIE_AGE, "path": "/s/", "httponly": True, "samesite": "Lax",
               "secure": secure}  # fmt: skip
    if salt:
        response.set_signed_cookie(name, value, salt=salt, **options)
    else:
        response.set_cookie(name, value, **options)


def form_token(link, secret: str, reviewer_secret: str | None = None) -> str:
    """The forms' token: the link, the browser's form cookie and its reviewer cookie."""
    material = f"{link.pk}:{secret}:{reviewer_secret or ''}"
    return salted_hmac(FORM_SALT, material).hexdigest()[:32]  # 128 bits


def _form_secret(request) -> str:
    value = request.COOKIES.get(FORM_COOKIE, "")
    return value if COOKIE_VALUE.fullmatch(value) else ""


def _form_ok(request, link) -> bool:
    secret = _form_secret(request)
    sent = request.POST.get(TOKEN_FIELD, "")
    expected = form_token(link, secret, _reviewer_secret(request, link))
    return bool(secret) and constant_time_compare(sent, expected)


def _from_elsewhere(request) -> bool:
    """The browser says this POST came from a page of another origin (see the top)."""
    site = request.headers.get("Sec-Fetch-Site")
    return site is not None and site != "same-origin"


def _client(request) -> str:
    who = hashlib.sha256(f"{settings.SECRET_KEY}:{throttle_key(request)}".encode())
    return who.hexdigest()[:24]


# ---- What a page shows of proofing, for this visitor. -----------------------------------


@dataclass
class Proof:
    link: object
    key: str
    reviewer: Reviewer | None
    token: str
    new_secret: str = ""  # a form cookie to set with the answer
    secure: bool = False
    picks: guests.PickState | None = None
    comments: str = ""  # rendered (SafeString) when comments are on
    mine: bool = False

    @property
    def label(self) -> str:
        return guests.guest_label(self.reviewer.name) if self.reviewer else ""

    @property
    def comments_on(self) -> bool:
        return self.link.allow_comments

    @property
    def root(self) -> str:
        return f"/s/{self.key}/"

    def fill(self, grid: str) -> SafeString:
        """The kept grid with this visitor's picks and form token in it: one pass over the
        HTML, however many tiles."""
        picked = self.picks.picked if self.picks else set()
        usable = "" if self.reviewer and self.picks and self.picks.can_pick else " disabled"

        def pressed(found) -> str:
            state = "true" if int(found[1]) in picked else "false"
            return f'aria-pressed="{state}"{usable}'

        return kept.fill(PICK_MARK.sub(pressed, grid), proof_token=self.token)

    def finish(self, response: HttpResponse) -> HttpResponse:
        if self.new_secret:
            _set_cookie(response, FORM_COOKIE, self.new_secret, secure=self.secure)
        return response


def state_for(request, link, key, *, image_id=None, positions=None) -> Proof | None:
    """Proofing as this visitor sees it on the page (or one image's page), or None if off."""
    if not is_on(link):
        return None
    secret, new_secret = _form_secret(request), ""
    if not secret:
        secret = new_secret = secrets.token_urlsafe(32)
    reviewer_secret = _reviewer_secret(request, link)
    reviewer = guests.reviewer_for(link=link, browser_secret=reviewer_secret)
    proof = Proof(link=link, key=key, reviewer=reviewer,
                  token=form_token(link, secret, reviewer_secret),
                  new_secret=new_secret, mine=request.GET.get("mine") == "1",
                  secure=request.is_secure())  # fmt: skip
    if link.allow_picks:
        proof.picks = guests.pick_state(link=link, reviewer=reviewer, shown=positions)
    if link.allow_comments:
        proof.comments = _comments(proof, image_id=image_id, positions=positions or {})
    return proof


def _comments(proof: Proof, *, image_id, positions) -> SafeString:
    """The guests' comments this visitor reads here, each kept rendered (a comment never
    changes; only whether it is the visitor's own does), filled with the form token."""
    shown = guests.comments_shown(link=proof.link, reviewer=proof.reviewer).values(
        "pk", "body", "created_at", "image_id", "reviewer_id", "reviewer__name"
    )
    if image_id is not None:
        # The newest (by id, made in that order), shown oldest first.
        rows = list(shown.filter(image_id=image_id).order_by("-id")[:IMAGE_COMMENTS])[::-1]
    else:
        # Newest by id (made in that order): the primary key walked backwards, not a sort.
        rows = list(shown.order_by("-id")[:PAGE_COMMENTS])[::-1]
        rows = [c for c in rows if c["image_id"] is None or c["image_id"] in positions]
    mine = getattr(proof.reviewer, "pk", None)
    back = f"p{image_id}" if image_id is not None else ""
    items = [
        {
            "id": c["pk"],
            "who": guests.guest_label(c["reviewer__name"]),
            "body": c["body"],
            "when": c["created_at"],
            "mine": c["reviewer_id"] == mine,
            "delete": f"{proof.root}comments/{c['pk']}/delete",
            "image": f"{proof.root}p/{c['image_id']}" if c["image_id"] and not back else "",
            "n": positions[c["image_id"]] + 1 if c["image_id"] and not back else 0,
            "on_set": c["image_id"] is None and not back,
        }
        for c in rows
    ]

    def render(item) -> str:
        context = {"c": item, "marks": MARKS, "back": back}
        return render_to_string("share/page.html#comment", context)

    parts = kept.kept_each(
        "share-comment",
        items,
        lambda item: (proof.root, back, item["id"], item["mine"], item["n"]),
        render,
    )
    return kept.fill("".join(parts), proof_token=proof.token)


# ---- Answers. ---------------------------------------------------------------------------


def _wants_json(request) -> bool:
    return request.headers.get("Accept", "").startswith("application/json")


def _done(request, url: str, data: dict | None = None) -> HttpResponse:
    if _wants_json(request):
        response = JsonResponse({"message": "", **(data or {})})
    else:
        response = redirect(url)
    patch_vary_headers(response, ("Accept",))
    return response


def _refused(request, link, key, message: str, status: int, *, back: str = "") -> HttpResponse:
    """A refusal with its reason, and the way back; nothing was written."""
    if _wants_json(request):
        response = JsonResponse({"message": message}, status=status)
    else:
        context = {"link": link, "key": key, "message": message, "back": back or f"/s/{key}/",
                   "preview_title": link.allow_preview}  # fmt: skip
        response = render(request, "share/notice.html", context, status=status)
    patch_vary_headers(response, ("Accept",))
    return response


def _back(request, key: str, default: str) -> str:
    """Where a form goes back to: the one-image page ("p<id>"), the grid at an image
    ("i<id>"), or the view's own default. Only ever an address of this link."""
    back = request.POST.get("back", "")
    pk = parse_id(back[1:])
    if back[:1] == "p" and pk:
        return f"/s/{key}/p/{pk}"
    if back[:1] == "i" and pk:
        return f"/s/{key}/#i-{pk}"
    return default


def _guard(request, link, key, switch: bool) -> HttpResponse | None:
    """Every proofing write: the switch on, the link unlocked in this session (else the
    dead-link answer), sent from this site's own page, and the form token right."""
    if not switch or not public.is_unlocked(request, link):
        return public.gone(request)
    if _from_elsewhere(request):
        return _refused(request, link, key, ELSEWHERE, 403)
    if not _form_ok(request, link):
        return _refused(request, link, key, FORM_EXPIRED, 403)
    return None


def _image(link, image_id):
    pk = parse_id(image_id)
    return links.link_image(link, pk) if pk else None


# ---- Views. -----------------------------------------------------------------------------


def _form(view):
    """A proofing POST on the public side: its body read first, so that a malformed one
    (too large, too many fields, not UTF-8) on a live, open link with proofing on gets the
    share page's message, not Django's bare 400 logged with a traceback."""

    @public.public("POST")
    @wraps(view)
    def wrapped(request, link, key, *args, **kwargs):
        if is_on(link) and public.is_unlocked(request, link):
            try:
                request.POST  # noqa: B018 - read here, where a malformed body is answered
            except MALFORMED:
                return _refused(request, link, key, UNREADABLE_FORM, 400)
        return view(request, link, key, *args, **kwargs)

    return wrapped


@_form
def join(request, link, key):
    if refused := _guard(request, link, key, is_on(link)):
        return refused
    back = _back(request, key, f"/s/{key}/#proof")
    if guests.reviewer_for(link=link, browser_secret=_reviewer_secret(request, link)):
        return _done(request, back)
    secret = secrets.token_urlsafe(32)
    try:
        guests.reviewer_join(link=link, name=request.POST.get("name", ""), browser_secret=secret,
                             client=_client(request))  # fmt: skip
    except guests.GuestError as error:
        return _refused(request, link, key, str(error), error.status, back=back)
    response = _done(request, back)
    _set_cookie(
        response, _cookie_name(link), secret, salt=_cookie_salt(link), secure=request.is_secure()
    )
    return response


def _as_reviewer(request, link, key, switch, back):
    """(reviewer, None) for a write by a named guest, or (None, the refusal)."""
    if refused := _guard(request, link, key, switch):
        return None, refused
    reviewer = guests.reviewer_for(link=link, browser_secret=_reviewer_secret(request, link))
    if reviewer is None:
        return None, _refused(request, link, key, NAME_FIRST, 403, back=back)
    return reviewer, None


@_form
def pick(request, link, key, image_id):
    pk = parse_id(image_id)
    if not link.allow_picks or pk is None:
        return public.gone(request)
    if (image := links.link_image(link, pk)) is None:
        return _unpick_gone(request, link, key, pk)
    back = _back(request, key, f"/s/{key}/#i-{image.pk}")
    reviewer, refused = _as_reviewer(request, link, key, link.allow_picks, back)
    if refused:
        return refused
    shown = _shown(link)
    try:
        picked = guests.pick_toggle(link=link, reviewer=reviewer, image=image,
                                    client=_client(request), shown=shown)  # fmt: skip
    except guests.GuestError as error:
        return _refused(request, link, key, str(error), error.status, back=back)
    status = guests.pick_state(link=link, reviewer=reviewer, shown=shown).status
    return _done(request, back, {"picked": picked, "status": status})


def _shown(link) -> set[int]:
    """The ids of the images the link shows now: the only picks that count."""
    return {tile["image_id"] for tile in links.link_tiles(link)}


def _unpick_gone(request, link, key, pk):
    """A guest takes back their pick of an image since taken out of the link. Anything else
    about an image the link does not show is the dead-link answer, token or not."""
    back = _back(request, key, f"/s/{key}/#proof")
    reviewer, refused = _as_reviewer(request, link, key, link.allow_picks, back)
    if refused:
        return public.gone(request)
    try:
        if not guests.unpick_gone(link=link, reviewer=reviewer, image_id=pk):
            return public.gone(request)
    except guests.GuestError as error:
        return _refused(request, link, key, str(error), error.status, back=back)
    status = guests.pick_state(link=link, reviewer=reviewer, shown=_shown(link)).status
    return _done(request, back, {"picked": False, "status": status})


@_form
def confirm(request, link, key):
    back = _back(request, key, f"/s/{key}/#proof")
    reviewer, refused = _as_reviewer(request, link, key, link.allow_picks, back)
    if refused:
        return refused
    shown = _shown(link)
    try:
        guests.picks_confirm(link=link, reviewer=reviewer, url=review_url(link), shown=shown)
    except guests.GuestError as error:
        return _refused(request, link, key, str(error), error.status, back=back)
    reviewer.refresh_from_db(fields=["confirmed_at"])  # confirmed just now
    status = guests.pick_state(link=link, reviewer=reviewer, shown=shown).status
    return _done(request, back, {"status": status})


def _comment(request, link, key, image):
    default = f"/s/{key}/p/{image.pk}#comments" if image else f"/s/{key}/#comments"
    back = _back(request, key, default)
    reviewer, refused = _as_reviewer(request, link, key, link.allow_comments, back)
    if refused:
        return refused
    try:
        guests.comment_add(link=link, reviewer=reviewer, image=image,
                           body=request.POST.get("body", ""), client=_client(request),
                           url=review_url(link))  # fmt: skip
    except guests.GuestError as error:
        return _refused(request, link, key, str(error), error.status, back=back)
    return _done(request, back)


@_form
def comment_image(request, link, key, image_id):
    if not link.allow_comments or (image := _image(link, image_id)) is None:
        return public.gone(request)
    return _comment(request, link, key, image)


@_form
def comment_set(request, link, key):
    return _comment(request, link, key, None)


@_form
def uncomment(request, link, key, comment_id):
    pk = parse_id(comment_id)
    reviewer, refused = _as_reviewer(request, link, key, link.allow_comments, f"/s/{key}/")
    if refused:
        return refused if pk else public.gone(request)
    if not pk or not guests.comment_delete(reviewer=reviewer, comment_id=pk):
        return public.gone(request)
    return _done(request, _back(request, key, f"/s/{key}/#comments"))


@public.public("GET", "HEAD")
def proof(request, link, key, image_id):
    """One image with its pick, comments and comment form; previous and next; the way back
    to the grid at this image. Shows of the image only what the grid does."""
    pk = parse_id(image_id)
    if not is_on(link) or not public.is_unlocked(request, link) or pk is None:
        return public.gone(request)
    if elsewhere := public.canonical(request, link, key):
        return elsewhere
    tiles = links.link_tiles(link)
    positions = {tile["image_id"]: n for n, tile in enumerate(tiles)}
    if pk not in positions:
        return public.gone(request)
    n, total = positions[pk], len(tiles)
    state = state_for(request, link, key, image_id=pk, positions=positions)
    context = {
        "link": link, "key": key, "proof": state, "image_id": pk, "n": n + 1, "total": total,
        "tile": public.figure(link, tiles[n], n, total, f"/s/{key}/i/"),
        "previous": tiles[n - 1]["image_id"] if n > 0 else None,
        "next": tiles[n + 1]["image_id"] if n + 1 < total else None,
        "picked": bool(state.picks and pk in state.picks.picked),
        "back": f"p{pk}",  # the forms here come back here
        "preview_title": link.allow_preview,
    }  # fmt: skip
    return state.finish(render(request, "share/proof.html", context))
