"""Client proofing on the public side of a share link (/s/…): a guest gives a name, picks,
comments and confirms, with a form token on every form; and every refusal: switches off,
dead or locked links, another link's cookie or images, limits, bad input."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from flux2web.lib import kept
from flux2web.lib.logs import redact
from flux2web.links import services as links
from flux2web.links.models import ShareLink
from flux2web.review import guests
from flux2web.review.models import Comment, Notification, Pick, Reviewer
from tests.collections.factories import SECRET_PROMPT, make_collection, make_image
from tests.review.guest_helpers import Visitor, proof_link

pytestmark = pytest.mark.django_db
EVERY_WRITE = ("reviewer", "confirm", "comment")


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def proof(owner, collection):
    return proof_link(owner, collection=collection)


@pytest.fixture
def visitor(proof):
    return Visitor(proof[1])


@pytest.fixture
def unknown():
    return Client().get("/s/" + links.new_token() + "/")


def rows():
    return (Reviewer.objects.count(), Pick.objects.count(), Comment.objects.count(),
            Notification.objects.count())  # fmt: skip


def pressed(html, image) -> str:
    """aria-pressed of the image's pick button on the page."""
    found = re.search(rf'action="[^"]*p/{image.pk}/pick".*?aria-pressed="(\w+)"', html, re.S)
    return found[1] if found else ""


def assert_gone(response, unknown):
    assert response.status_code == 404
    assert response.content == unknown.content
    assert not response.cookies


# ---- Switches off: no controls, no addresses. ------------------------------------------


def test_with_proofing_off_the_page_has_no_controls_and_every_address_is_gone(
    owner, collection, images, unknown
):
    _link, path = proof_link(owner, collection=collection, allow_picks=False,
                            allow_comments=False)  # fmt: skip
    visitor = Visitor(path)
    page = visitor.open()
    html = page.content.decode()
    assert "proof_token" not in html and "Pick" not in html and "Comment" not in html
    assert not page.cookies
    assert_gone(visitor.client.get(f"{path}p/{images[0].pk}"), unknown)
    for suffix in (*EVERY_WRITE, f"p/{images[0].pk}/pick", f"p/{images[0].pk}/comment",
                   "comments/1/delete"):  # fmt: skip
        assert_gone(visitor.post(suffix, {"name": "Ana", "body": "hi"}), unknown)
    assert rows() == (0, 0, 0, 0)


def test_picks_off_hides_picking_while_comments_work(owner, collection, images, unknown):
    _, path = proof_link(owner, collection=collection, allow_picks=False)
    visitor = Visitor(path)
    html = visitor.open().content.decode()
    assert "/pick" not in html and "confirm" not in html and "Comment" in html
    visitor.join()
    assert_gone(visitor.pick(images[0]), unknown)
    assert_gone(visitor.confirm(), unknown)
    assert visitor.comment("Nice", images[0]).status_code == 302
    assert Pick.objects.count() == 0 and Comment.objects.count() == 1


def test_comments_off_hides_commenting_while_picks_work(owner, collection, images, unknown):
    _, path = proof_link(owner, collection=collection, allow_comments=False)
    visitor = Visitor(path)
    html = visitor.open().content.decode()
    assert "/comment" not in html and "/pick" in html
    visitor.join()
    assert_gone(visitor.comment("Nice", images[0]), unknown)
    assert_gone(visitor.comment("Nice"), unknown)
    assert visitor.pick(images[0]).status_code == 302


# ---- The whole story, without JavaScript. -----------------------------------------------


def test_a_guest_names_themselves_picks_comments_and_confirms(visitor, proof, images, owner):
    link, path = proof
    page = visitor.open()
    html = page.content.decode()
    assert 'name="name"' in html and "Give your name" in html
    assert pressed(html, images[0]) == "false" and "disabled" in html  # a name first
    cookie = page.cookies["f2w_proof"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/s/"

    joined = visitor.join("Ana")
    assert joined.status_code == 302
    mine = joined.cookies[f"f2w_r{link.pk}"]
    assert mine["httponly"] and mine["samesite"] == "Lax" and mine["path"] == "/s/"
    assert Reviewer.objects.get().name == "Ana"
    html = visitor.open().content.decode()
    assert "Ana (guest)" in html and 'name="name"' not in html

    picked = visitor.pick(images[1])
    assert picked.status_code == 302 and picked["Location"] == f"{path}#i-{images[1].pk}"
    html = visitor.open().content.decode()
    assert pressed(html, images[1]) == "true" and pressed(html, images[0]) == "false"
    assert "1 picked" in html

    assert visitor.comment("Warmer, please", images[1]).status_code == 302
    assert visitor.comment("Lovely set overall").status_code == 302
    confirmed = visitor.confirm()
    assert confirmed.status_code == 302
    html = visitor.open().content.decode()
    assert "confirmed" in html and "Warmer, please" in html and "Lovely set overall" in html

    note = Notification.objects.get()
    assert note.recipient == owner and note.read_at is None
    assert note.text == (
        "Ana (guest) confirmed 1 pick and left 2 comments on “Spring campaign — round 2”"
    )
    token = path[-44:-1]
    assert token not in note.text and token not in note.url
    assert note.url == reverse("share:review", kwargs={"link_id": link.pk})


def test_over_https_both_cookies_are_secure(proof, settings):
    settings.SECURE_SSL_REDIRECT = False
    client = Client()
    page = client.get(proof[1], secure=True)
    assert page.cookies["f2w_proof"]["secure"]
    token = re.search(r'name="proof_token" value="([^"]+)"', page.content.decode())[1]
    joined = client.post(proof[1] + "reviewer", {"proof_token": token, "name": "Ana"}, secure=True)
    assert joined.cookies[f"f2w_r{proof[0].pk}"]["secure"]


def test_a_second_browser_is_a_second_reviewer(proof, images):
    first, second = Visitor(proof[1]), Visitor(proof[1])
    first.join("Ana"), second.join("Ben")
    first.pick(images[0])
    assert pressed(second.open().content.decode(), images[0]) == "false"
    assert Reviewer.objects.count() == 2


def test_a_team_members_name_is_refused_with_a_clear_message(visitor, owner):
    response = visitor.join("Olivia")
    assert response.status_code == 400
    assert "team member" in response.content.decode()
    assert response["Content-Security-Policy"]
    assert not Reviewer.objects.exists()


def test_picking_or_commenting_needs_a_name_first(visitor, images):
    for response in (visitor.pick(images[0]), visitor.comment("hi"), visitor.confirm()):
        assert response.status_code == 403
        assert "Give your name" in response.content.decode()
    assert rows() == (0, 0, 0, 0)


def test_show_my_picks_shows_only_the_picked_images(visitor, images):
    visitor.join()
    visitor.pick(images[2])
    html = visitor.open(visitor.path + "?mine=1").content.decode()
    assert html.count('class="tile"') == 1 and f"/i/{images[2].pk}/" in html
    assert visitor.open().content.decode().count('class="tile"') == 3


# ---- Rules: maximum, minimum, lock, deadline. ------------------------------------------


def test_the_maximum_refuses_the_next_pick_with_a_message(proof, visitor, images):
    ShareLink.objects.filter(pk=proof[0].pk).update(picks_min=1, picks_max=2)
    visitor.join()
    assert "0 picked · choose 1 to 2" in visitor.open().content.decode()
    visitor.pick(images[0]), visitor.pick(images[1])
    refused = visitor.pick(images[2])
    assert refused.status_code == 409 and "at most 2" in refused.content.decode()
    assert Pick.objects.count() == 2


def test_confirming_below_the_minimum_is_refused(proof, visitor, images):
    ShareLink.objects.filter(pk=proof[0].pk).update(picks_min=2)
    visitor.join()
    visitor.pick(images[0])
    refused = visitor.confirm()
    assert refused.status_code == 409 and "at least 2" in refused.content.decode()
    assert Reviewer.objects.get().confirmed_at is None and not Notification.objects.exists()


def test_a_lock_on_confirmation_says_locked_and_refuses_changes(proof, visitor, images):
    ShareLink.objects.filter(pk=proof[0].pk).update(lock_on_confirm=True)
    visitor.join()
    visitor.pick(images[0])
    visitor.confirm()
    html = visitor.open().content.decode()
    assert "Locked" in html
    refused = visitor.pick(images[0])
    assert refused.status_code == 403 and "locked" in refused.content.decode()
    assert Pick.objects.count() == 1


def test_after_the_deadline_picking_is_closed(proof, visitor, images):
    deadline = timezone.now() - timedelta(hours=1)
    ShareLink.objects.filter(pk=proof[0].pk).update(picks_deadline=deadline)
    visitor.join()
    html = visitor.open().content.decode()
    assert f"Picking closed on {timezone.localtime(deadline):%Y-%m-%d}" in html
    assert visitor.pick(images[0]).status_code == 403
    assert visitor.confirm().status_code == 403
    assert Pick.objects.count() == 0


# ---- The form token (CSRF). -------------------------------------------------------------


def test_a_cross_site_post_without_the_cookie_and_token_changes_nothing(proof, visitor, images):
    visitor.join("Ana")
    reviewer_cookie = visitor.client.cookies[f"f2w_r{proof[0].pk}"].value
    # A page elsewhere posts into the guest's browser: the reviewer cookie may ride along
    # (a top-level POST), the form cookie (SameSite=Lax) does not, and no token is known.
    forger = Client(raise_request_exception=False)
    forger.cookies[f"f2w_r{proof[0].pk}"] = reviewer_cookie
    before = rows()
    for suffix, data in ((f"p/{images[0].pk}/pick", {}), ("comment", {"body": "spam"}),
                         ("confirm", {}), ("reviewer", {"name": "Eve"})):  # fmt: skip
        refused = forger.post(proof[1] + suffix, data)
        assert refused.status_code == 403, suffix
        assert "reload the page" in refused.content.decode()
        assert refused["Content-Security-Policy"] and refused["Referrer-Policy"] == "no-referrer"
    assert rows() == before


def test_a_wrong_token_or_another_links_token_is_refused(owner, collection, proof, images):
    _other, other_path = proof_link(owner, collection=collection)
    visitor = Visitor(proof[1])
    visitor.join()
    elsewhere = Visitor(other_path, client=visitor.client)
    elsewhere.open()
    assert elsewhere.token != visitor.token  # the token names its link
    for token in ("", "x" * 40, elsewhere.token):
        visitor.token = token
        assert visitor.pick(images[0]).status_code == 403
    assert Pick.objects.count() == 0


# ---- Other links: their cookies, their images, their reviews. --------------------------


def test_another_links_reviewer_cookie_does_not_work_here(owner, collection, proof, images):
    other, other_path = proof_link(owner, collection=collection)
    there = Visitor(other_path)
    there.join("Ana")
    here = Visitor(proof[1], client=there.client)
    # The same value under this link's cookie name: signed for the other link only.
    value = there.client.cookies[f"f2w_r{other.pk}"].value
    here.client.cookies[f"f2w_r{proof[0].pk}"] = value
    assert here.pick(images[0]).status_code == 403
    assert "Give your name" in here.open().content.decode()
    assert Pick.objects.count() == 0


def test_a_guest_cannot_pick_or_comment_on_an_image_only_in_another_link(
    owner, proof, visitor, media, unknown
):
    elsewhere = make_image(owner)
    proof_link(owner, image_ids=[elsewhere.pk])
    visitor.join()
    assert_gone(visitor.pick(elsewhere), unknown)
    assert_gone(visitor.comment("hi", elsewhere), unknown)
    assert_gone(visitor.client.get(f"{visitor.path}p/{elsewhere.pk}"), unknown)
    assert Pick.objects.count() == 0 and Comment.objects.count() == 0


def test_a_guest_reads_no_other_links_reviews(owner, collection, proof, images):
    ShareLink.objects.filter(pk=proof[0].pk).update(show_reviewers=True)
    _other, other_path = proof_link(owner, collection=collection, show_reviewers=True)
    there = Visitor(other_path)
    there.join("Bea")
    there.comment("Bea's secret note", images[0])
    here = Visitor(proof[1])
    for html in (here.open().content.decode(),
                 here.open(f"{proof[1]}p/{images[0].pk}").content.decode()):  # fmt: skip
        assert "Bea" not in html


def test_other_reviewers_are_shown_only_when_the_owner_allows(proof, images, owner):
    ana, ben = Visitor(proof[1]), Visitor(proof[1])
    ana.join("Ana")
    ana.comment("Ana thinks warmer", images[0])
    Comment.objects.create(author=owner, image=images[0], body="team-only remark")
    proof_page = f"{proof[1]}p/{images[0].pk}"
    assert "Ana thinks warmer" not in ben.open(proof_page).content.decode()
    ShareLink.objects.filter(pk=proof[0].pk).update(show_reviewers=True)
    html = ben.open(proof_page).content.decode()
    assert "Ana (guest)" in html and "Ana thinks warmer" in html
    assert (
        "team-only remark" not in html
        and "team-only remark" not in ana.open(proof_page).content.decode()
    )


# ---- Dead and locked links write nothing. ----------------------------------------------


@pytest.mark.parametrize("state", ["revoked", "expired", "rotated"])
def test_a_dead_link_takes_no_write(proof, images, unknown, state):
    link, path = proof
    visitor = Visitor(path)
    visitor.join()
    before = rows()
    if state == "revoked":
        links.link_revoke(link=link)
    elif state == "expired":
        ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(1))
    else:
        links.link_rotate(link=link)
    for suffix in (*EVERY_WRITE, f"p/{images[0].pk}/pick", f"p/{images[0].pk}/comment"):
        assert_gone(visitor.post(suffix, {"name": "Ben", "body": "hi"}), unknown)
    assert_gone(visitor.client.get(f"{path}p/{images[0].pk}"), unknown)
    assert rows() == before


def test_rotating_keeps_the_review_under_the_new_address(proof, images):
    link, path = proof
    visitor = Visitor(path)
    visitor.join()
    visitor.pick(images[0])
    token = links.link_rotate(link=link)
    visitor.path, visitor.token = f"/s/{link.slug}-{token}/", None
    html = visitor.open().content.decode()
    assert "Ana (guest)" in html and pressed(html, images[0]) == "true"


def test_a_password_link_takes_no_write_until_unlocked(owner, collection, images, unknown):
    _, path = proof_link(owner, collection=collection, password="open sesame")
    visitor = Visitor(path)
    assert 'type="password"' in visitor.open().content.decode() and not visitor.token
    visitor.token = "x"
    for suffix in (*EVERY_WRITE, f"p/{images[0].pk}/pick"):
        assert_gone(visitor.post(suffix, {"name": "Ana", "body": "hi"}), unknown)
    assert_gone(visitor.client.get(f"{path}p/{images[0].pk}"), unknown)
    assert rows() == (0, 0, 0, 0)
    visitor.client.post(path + "unlock", {"password": "open sesame"})
    visitor.token = None
    assert visitor.join().status_code == 302
    assert visitor.pick(images[0]).status_code == 302


# ---- Comments: plain text, own to delete, limits. ---------------------------------------


def test_a_comment_is_plain_text_and_its_links_are_not_clickable(visitor, images):
    visitor.join()
    visitor.comment('<b>bold</b> <a href="http://evil.example">x</a> https://evil.example/x')
    html = visitor.open().content.decode()
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    assert 'href="http://evil.example' not in html and 'href="https://evil.example' not in html


def test_a_guest_deletes_their_own_comment_not_anothers(proof, images, unknown):
    ana, ben = Visitor(proof[1]), Visitor(proof[1])
    ana.join("Ana"), ben.join("Ben")
    ana.comment("Ana's", images[0]), ben.comment("Ben's", images[0])
    ana_comment, ben_comment = Comment.objects.order_by("pk")
    assert_gone(ana.post(f"comments/{ben_comment.pk}/delete"), unknown)
    assert_gone(ana.post("comments/abc/delete"), unknown)
    assert ana.post(f"comments/{ana_comment.pk}/delete").status_code == 302
    assert list(Comment.objects.all()) == [ben_comment]


def test_too_many_comments_are_refused_with_a_clear_message(visitor, monkeypatch):
    monkeypatch.setattr(guests, "COMMENTS_PER_CLIENT", 2)
    visitor.join()
    visitor.comment("one"), visitor.comment("two")
    refused = visitor.comment("three")
    assert refused.status_code == 429 and "Too many comments" in refused.content.decode()
    assert Comment.objects.count() == 2


BAD = ["x" * 100_000, "\x00", "a\x00b", "😀" * 5000, "\u202e\ufeff", ""]


def test_bad_input_is_answered_clearly_never_a_500_and_writes_nothing(visitor, proof, images):
    for name in BAD:
        assert visitor.join(name).status_code == 400, repr(name[:10])
    assert visitor.post("reviewer", {}).status_code == 400
    assert rows() == (0, 0, 0, 0)
    visitor.join()
    before = rows()
    for body in ["x" * 100_000, "\x00", "", "  "]:
        assert visitor.comment(body).status_code == 400
        assert visitor.comment(body, images[0]).status_code == 400
    for image_id in ["abc", "99999999999999999999", str(2**63), "-1", "1e3", "%00", "😀"]:
        assert visitor.pick(image_id).status_code == 404
        assert visitor.comment("hi", image_id).status_code == 404
        assert visitor.client.get(f"{visitor.path}p/{image_id}").status_code == 404
    assert visitor.post("comment", {}).status_code == 400  # no body at all
    assert rows() == before


def test_the_one_image_page_shows_what_the_grid_shows_and_no_more(visitor, proof, images):
    path = proof[1]
    visitor.join()
    response = visitor.open(f"{path}p/{images[1].pk}")
    html = response.content.decode()
    assert response.status_code == 200 and response["Content-Security-Policy"]
    assert f"{path}i/{images[1].pk}/web" in html
    assert f'href="{path}p/{images[0].pk}"' in html and f'href="{path}p/{images[2].pk}"' in html
    assert f'href="{path}#i-{images[1].pk}"' in html
    assert 'name="body"' in html and "Image 2 of 3" in html
    assert SECRET_PROMPT not in html and "olivia" not in html.lower() and "$" not in html
    assert "seed" not in html and "FLUX.2" not in html


def test_a_pick_from_the_one_image_page_comes_back_to_it(visitor, proof, images):
    visitor.join()
    back = visitor.pick(images[1], {"back": f"p{images[1].pk}"})
    assert back["Location"] == f"{proof[1]}p/{images[1].pk}"
    assert pressed(visitor.open(back["Location"]).content.decode(), images[1]) == "true"


def test_a_script_gets_the_new_state_as_json(visitor, images):
    visitor.join()
    answer = visitor.pick(images[0], HTTP_ACCEPT="application/json")
    assert answer.status_code == 200
    assert answer.json() == {"picked": True, "status": "1 picked", "message": ""}
    visitor.pick(images[1])
    refused = visitor.client.post(visitor.path + "confirm", {"proof_token": "nope"},
                                  HTTP_ACCEPT="application/json")  # fmt: skip
    assert refused.status_code == 403


def test_the_page_costs_the_same_queries_for_any_number_of_images_and_picks(owner, media):
    few = make_collection(owner, [make_image(owner) for _ in range(2)])
    many_images = [make_image(owner) for _ in range(12)]
    many = make_collection(owner, many_images, title="Many")
    counts = []
    for collection, picks in ((few, few.items.all()[:1]), (many, many_images[:8])):
        _, path = proof_link(owner, collection=collection, show_reviewers=True)
        visitor = Visitor(path)
        visitor.join()
        for item in picks:
            visitor.pick(getattr(item, "image", item))
        visitor.comment("hello")
        visitor.open()
        with CaptureQueriesContext(connection) as queries:
            assert visitor.open().status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_new_addresses_are_redacted_in_logs(proof, images):
    path = proof[1]
    token = path.strip("/").rsplit("/", 1)[-1][-43:]  # the token may hold "-" itself
    for suffix in (f"p/{images[0].pk}", f"p/{images[0].pk}/pick", "confirm", "comment"):
        assert token not in redact(f'"POST {path}{suffix} HTTP/1.1" 302')


# ---- Forged forms from a sibling origin. ------------------------------------------------


def test_a_tossed_form_cookie_gives_no_token_for_the_victims_name(proof, images):
    _link, path = proof
    victim = Visitor(path)
    victim.join("Ana")
    # The attacker, on another port or a sibling subdomain of this host, sets the form
    # cookie in the victim's browser to a value of theirs, whose token they read themselves.
    attacker = Visitor(path)
    attacker.open()
    tossed = attacker.client.cookies["f2w_proof"].value
    victim.client.cookies["f2w_proof"] = tossed
    victim.token = attacker.token
    refused = victim.pick(images[0])
    assert refused.status_code == 403 and "reload the page" in refused.content.decode()
    assert victim.comment("spam").status_code == 403
    assert Pick.objects.count() == 0 and Comment.objects.count() == 0
    # The victim's own page, with whatever form cookie it holds, still works.
    victim.open()
    assert victim.pick(images[0]).status_code == 302
    assert Pick.objects.count() == 1


@pytest.mark.parametrize("site", ["same-site", "cross-site", "none"])
def test_a_post_a_browser_says_came_from_elsewhere_is_refused(visitor, images, site):
    visitor.join("Ana")
    before = rows()
    for suffix, data in ((f"p/{images[0].pk}/pick", {}), ("comment", {"body": "spam"}),
                         ("confirm", {}), ("reviewer", {"name": "Eve"})):  # fmt: skip
        refused = visitor.post(suffix, data, HTTP_SEC_FETCH_SITE=site)
        assert refused.status_code == 403, suffix
        assert "another site" in refused.content.decode()
        assert refused["Content-Security-Policy"] and refused["Referrer-Policy"] == "no-referrer"
    assert rows() == before


def test_a_same_origin_form_post_works_with_or_without_fetch_metadata(visitor, images):
    visitor.open()
    assert (
        visitor.post("reviewer", {"name": "Ana"}, HTTP_SEC_FETCH_SITE="same-origin").status_code
        == 302
    )
    visitor.open()
    assert visitor.pick(images[0], HTTP_SEC_FETCH_SITE="same-origin").status_code == 302
    assert visitor.pick(images[1]).status_code == 302  # an older browser sends no header
    assert Pick.objects.count() == 2


# ---- One address per link: the page kept only under it. ---------------------------------


class KeptSpy:
    """The cache as lib/kept.py sees it, noting the keys it writes (any backend)."""

    def __init__(self, real):
        self.real, self.written = real, []

    def __getattr__(self, name):
        return getattr(self.real, name)

    def set(self, key, *args, **kwargs):
        self.written.append(key)
        return self.real.set(key, *args, **kwargs)

    def set_many(self, data, *args, **kwargs):
        self.written.extend(data)
        return self.real.set_many(data, *args, **kwargs)


@pytest.fixture
def kept_writes(monkeypatch):
    """The keys of HTML kept from here on."""
    spy = KeptSpy(kept.cache)
    monkeypatch.setattr(kept, "cache", spy)
    return spy.written


def test_a_wrong_or_missing_slug_redirects_to_the_links_address_and_keeps_nothing(
    visitor, proof, images, kept_writes
):
    _link, path = proof
    token = path.strip("/")[-43:]
    visitor.join()
    visitor.comment("Warmer", images[0])
    visitor.open()
    visitor.open(f"{path}p/{images[0].pk}")
    assert any("kept:" in key for key in kept_writes)  # the spy sees what is kept
    kept_writes.clear()
    for bogus in ("x" * 3000 + "-" + token, "other-slug-" + token, token):
        page = visitor.client.get(f"/s/{bogus}/?mine=1")
        assert page.status_code == 302 and page["Location"] == f"{path}?mine=1"
        assert page["Referrer-Policy"] == "no-referrer"
        one = visitor.client.get(f"/s/{bogus}/p/{images[0].pk}")
        assert one.status_code == 302 and one["Location"] == f"{path}p/{images[0].pk}"
    assert kept_writes == []
    # A form posted to such an address acts, and comes back to the link's own address.
    picked = visitor.client.post(f"/s/{'x' * 3000}-{token}/p/{images[1].pk}/pick",
                                 {"proof_token": visitor.token})  # fmt: skip
    assert picked.status_code == 302 and picked["Location"] == f"{path}#i-{images[1].pk}"
    assert kept_writes == []
    assert Pick.objects.get().image == images[1]


# ---- Malformed posts on a live link. ----------------------------------------------------


@pytest.mark.parametrize("case", ["latin-1", "too big", "too many fields"])
def test_a_malformed_post_gets_the_share_pages_message_not_a_bare_400(
    visitor, images, settings, caplog, case
):
    visitor.join()
    before = rows()
    form = "application/x-www-form-urlencoded"
    body = f"proof_token={visitor.token}&body=caf%E9"
    if case == "latin-1":
        form += "; charset=latin-1"
    elif case == "too big":
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
        body += "x" * 2000
    else:
        settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
        body += "".join(f"&f{n}=1" for n in range(20))
    caplog.clear()
    for suffix in ("comment", f"p/{images[0].pk}/pick", "confirm", "reviewer"):
        answer = visitor.client.generic("POST", visitor.path + suffix, body, content_type=form)
        assert answer.status_code == 400, suffix
        assert "could not be read" in answer.content.decode()
        assert answer["Content-Security-Policy"] and answer["Referrer-Policy"] == "no-referrer"
    assert rows() == before
    # Django's usual one line per 4xx answer, and no traceback nor security alarm.
    assert not [r for r in caplog.records if r.exc_info or r.name.startswith("django.security")]


# ---- Picks of images the link no longer shows. ------------------------------------------


def test_picks_of_images_taken_out_of_the_link_neither_count_nor_strand_the_guest(
    owner, collection, images, unknown
):
    from flux2web.collections.models import CollectionItem

    _link, path = proof_link(owner, collection=collection, picks_max=2)
    visitor = Visitor(path)
    visitor.join()
    visitor.pick(images[0])
    visitor.pick(images[1])
    CollectionItem.objects.filter(collection=collection, image=images[0]).delete()

    html = visitor.open().content.decode()
    assert "1 picked" in html and f"p/{images[0].pk}" not in html
    assert (
        visitor.pick(images[2], HTTP_ACCEPT="application/json")
        .json()["status"]
        .startswith("2 picked")
    )
    assert visitor.confirm().status_code == 302
    assert "2 picked · confirmed" in visitor.open().content.decode()
    # The guest may still take back their pick of the image that left the link...
    taken = visitor.pick(images[0], HTTP_ACCEPT="application/json")
    assert taken.status_code == 200 and taken.json()["picked"] is False
    assert not Pick.objects.filter(image=images[0]).exists()
    # ...but picks nothing outside the link, and nobody learns anything of it.
    assert_gone(visitor.pick(images[0]), unknown)
    other = Visitor(path)
    other.join("Bea")
    assert_gone(other.pick(images[0]), unknown)
    assert Pick.objects.count() == 2


# ---- Small things. ----------------------------------------------------------------------


def test_confirming_from_a_script_answers_the_confirmed_status(visitor, images):
    visitor.join()
    visitor.pick(images[0])
    answer = visitor.post("confirm", HTTP_ACCEPT="application/json")
    assert answer.status_code == 200 and answer.json()["status"] == "1 picked · confirmed"


def test_an_images_page_shows_its_newest_comments_in_time_order(
    visitor, proof, images, monkeypatch
):
    from flux2web.links import proofing

    monkeypatch.setattr(proofing, "IMAGE_COMMENTS", 3)
    visitor.join()
    for n in range(5):
        visitor.comment(f"note number {n}", images[0])
    html = visitor.open(f"{proof[1]}p/{images[0].pk}").content.decode()
    shown = re.findall(r"note number (\d)", html)
    assert shown == ["2", "3", "4"]
