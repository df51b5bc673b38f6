"""A share link's guests, as services: names that cannot pass for a teammate's, picks within
the link's rules and locks, comments within their limits, and one notification per guest
for the link's owner."""

from datetime import timedelta

import pytest
from django.utils import timezone

from flux2web.review import guests
from flux2web.review.models import Comment, Notification, Pick, Reviewer
from tests.review.guest_helpers import proof_link

pytestmark = pytest.mark.django_db
URL = "/links/1/review"


@pytest.fixture
def link(owner, collection):
    return proof_link(owner, collection=collection)[0]


def join(link, name="Ana", browser="browser-1"):
    return guests.reviewer_join(link=link, name=name, browser_secret=browser, client="10.0.0.1")


# ---- Names. -----------------------------------------------------------------------------


def test_a_name_is_kept_as_typed_after_nfkc_and_trimming(link):
    reviewer = join(link, "  Ａna María ")
    assert reviewer.name == "Ana María"
    assert guests.guest_label(reviewer.name) == "Ana María (guest)"


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("", "Type your name"),
        ("   ", "Type your name"),
        ("a" * 61, "at most 60"),
        ("Ana\x00", "letters, digits"),
        ("Ana\u202e", "letters, digits"),
        ("Ana\nBob", "letters, digits"),
        ("!!!", "at least one letter"),
    ],
)
def test_a_bad_name_is_refused_with_a_reason_and_nobody_joins(link, name, says):
    with pytest.raises(guests.GuestError, match=says):
        join(link, name)
    assert not Reviewer.objects.exists()


@pytest.mark.parametrize(
    "name", ["olivia", "OLIVIA", "Olívia", "o.l.i.v.i.a", "Оlivia", "0livia", "Olivia Hart",
             "olivia-hart", "Hart", "tomas"],
)  # fmt: skip
def test_a_name_that_is_or_looks_like_a_team_members_is_refused(link, owner, teammate, name):
    owner.first_name, owner.last_name = "Olivia", "Hart"
    owner.save()
    with pytest.raises(guests.GuestError, match="team member"):
        join(link, name)
    assert not Reviewer.objects.exists()


def test_a_former_members_name_is_free(link, django_user_model):
    django_user_model.objects.create_user("ingrid", is_active=False)
    assert join(link, "Ingrid").name == "Ingrid"


def test_a_second_browser_is_a_second_reviewer_and_the_browser_is_kept_hashed(link):
    first, second = join(link, "Ana", "one"), join(link, "Bea", "two")
    assert first.pk != second.pk
    assert "one" not in first.browser and len(first.browser) == 64
    assert guests.reviewer_for(link=link, browser_secret="one") == first
    assert guests.reviewer_for(link=link, browser_secret="three") is None
    assert guests.reviewer_for(link=link, browser_secret="") is None


def test_last_seen_moves_at_most_once_a_minute(link):
    reviewer = join(link)
    long_ago = timezone.now() - timedelta(hours=1)
    Reviewer.objects.filter(pk=reviewer.pk).update(last_seen_at=long_ago)
    guests.reviewer_for(link=link, browser_secret="browser-1")
    seen = Reviewer.objects.get(pk=reviewer.pk).last_seen_at
    assert seen > long_ago
    guests.reviewer_for(link=link, browser_secret="browser-1")
    assert Reviewer.objects.get(pk=reviewer.pk).last_seen_at == seen


def test_a_link_takes_at_most_its_ceiling_of_reviewers(link, monkeypatch):
    monkeypatch.setattr(guests, "REVIEWERS_CEILING", 2)
    join(link, "Ana", "1"), join(link, "Ben", "2")
    with pytest.raises(guests.GuestError) as refused:
        join(link, "Cy", "3")
    assert refused.value.status == 429 and Reviewer.objects.count() == 2


# ---- Picks. -----------------------------------------------------------------------------


def test_a_pick_toggles_and_the_status_says_how_many_of_what(link, images):
    link.picks_min, link.picks_max = 2, 3
    reviewer = join(link)
    assert guests.pick_toggle(link=link, reviewer=reviewer, image=images[0], client="c")
    state = guests.pick_state(link=link, reviewer=reviewer)
    assert state.picked == {images[0].pk}
    assert state.status == "1 picked · choose 2 to 3"
    assert not guests.pick_toggle(link=link, reviewer=reviewer, image=images[0], client="c")
    assert not Pick.objects.exists()


def test_the_maximum_refuses_the_next_pick(link, images):
    link.picks_max = 2
    reviewer = join(link)
    for image in images[:2]:
        guests.pick_toggle(link=link, reviewer=reviewer, image=image, client="c")
    with pytest.raises(guests.GuestError, match="at most 2") as refused:
        guests.pick_toggle(link=link, reviewer=reviewer, image=images[2], client="c")
    assert refused.value.status == 409 and Pick.objects.count() == 2


def test_confirming_checks_the_minimum_and_tells_the_owner(link, images, owner):
    link.picks_min = 2
    reviewer = join(link)
    guests.pick_toggle(link=link, reviewer=reviewer, image=images[0], client="c")
    with pytest.raises(guests.GuestError, match="at least 2"):
        guests.picks_confirm(link=link, reviewer=reviewer, url=URL)
    assert not Notification.objects.exists()
    guests.pick_toggle(link=link, reviewer=reviewer, image=images[1], client="c")
    assert guests.picks_confirm(link=link, reviewer=reviewer, url=URL) == 2
    reviewer.refresh_from_db()
    assert reviewer.confirmed_at is not None
    note = Notification.objects.get()
    assert note.recipient == owner and note.kind == "selection" and note.url == URL
    assert note.text == "Ana (guest) confirmed 2 picks on “Spring campaign — round 2”"


def test_without_a_lock_a_confirmed_reviewer_may_change_picks_and_confirms_again(link, images):
    reviewer = join(link)
    guests.pick_toggle(link=link, reviewer=reviewer, image=images[0], client="c")
    guests.picks_confirm(link=link, reviewer=reviewer, url=URL)
    guests.pick_toggle(link=link, reviewer=reviewer, image=images[1], client="c")
    reviewer.refresh_from_db()
    assert reviewer.confirmed_at is None and reviewer.picks.count() == 2


def test_a_lock_on_confirmation_freezes_the_picks(link, images):
    link.lock_on_confirm = True
    reviewer = join(link)
    guests.pick_toggle(link=link, reviewer=reviewer, image=images[0], client="c")
    guests.picks_confirm(link=link, reviewer=reviewer, url=URL)
    reviewer.refresh_from_db()
    assert guests.pick_state(link=link, reviewer=reviewer).status == "1 picked · Locked"
    for image in images[:2]:
        with pytest.raises(guests.GuestError, match="locked"):
            guests.pick_toggle(link=link, reviewer=reviewer, image=image, client="c")
    with pytest.raises(guests.GuestError, match="locked"):
        guests.picks_confirm(link=link, reviewer=reviewer, url=URL)
    assert list(reviewer.picks.values_list("image_id", flat=True)) == [images[0].pk]


def test_after_the_deadline_nobody_picks_or_confirms(link, images):
    reviewer = join(link)
    guests.pick_toggle(link=link, reviewer=reviewer, image=images[0], client="c")
    link.picks_deadline = timezone.now() - timedelta(minutes=1)
    day = f"{timezone.localtime(link.picks_deadline):%Y-%m-%d}"
    assert guests.pick_state(link=link, reviewer=reviewer).status == (
        f"1 picked · Picking closed on {day}"
    )
    with pytest.raises(guests.GuestError, match=f"Picking closed on {day}"):
        guests.pick_toggle(link=link, reviewer=reviewer, image=images[1], client="c")
    with pytest.raises(guests.GuestError, match="closed"):
        guests.picks_confirm(link=link, reviewer=reviewer, url=URL)
    assert Pick.objects.count() == 1 and not Notification.objects.exists()


# ---- Comments. --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "says"), [("", "Write a comment"), (" \n ", "Write a comment"),
                       ("x" * 2001, "2,000"), ("a\x00b", "control")],
)  # fmt: skip
def test_a_bad_comment_is_refused_and_nothing_is_written(link, images, body, says):
    reviewer = join(link)
    with pytest.raises(guests.GuestError, match=says):
        guests.comment_add(link=link, reviewer=reviewer, image=images[0], body=body,
                           client="c", url=URL)  # fmt: skip
    assert not Comment.objects.exists() and not Notification.objects.exists()


def test_comments_on_an_image_and_on_the_set_fold_into_one_notification(link, images, owner):
    reviewer = join(link)
    for image in images[:2]:
        guests.pick_toggle(link=link, reviewer=reviewer, image=image, client="c")
    guests.comment_add(link=link, reviewer=reviewer, image=images[0], body="Warmer, please",
                       client="c", url=URL)  # fmt: skip
    guests.comment_add(link=link, reviewer=reviewer, image=None, body="Lovely set", client="c",
                       url=URL)  # fmt: skip
    guests.picks_confirm(link=link, reviewer=reviewer, url=URL)
    note = Notification.objects.get()
    assert note.read_at is None and note.key == f"guest:{reviewer.pk}"
    assert note.text == (
        "Ana (guest) confirmed 2 picks and left 2 comments on “Spring campaign — round 2”"
    )


def test_a_guest_deletes_only_their_own_comment(link, images):
    ana, ben = join(link, "Ana", "1"), join(link, "Ben", "2")
    mine = guests.comment_add(link=link, reviewer=ana, image=None, body="A", client="c", url=URL)
    theirs = guests.comment_add(link=link, reviewer=ben, image=None, body="B", client="c",
                                url=URL)  # fmt: skip
    assert not guests.comment_delete(reviewer=ana, comment_id=theirs.pk)
    assert guests.comment_delete(reviewer=ana, comment_id=mine.pk)
    assert list(Comment.objects.all()) == [theirs]
    assert Notification.objects.count() == 2  # one per reviewer, still there


def test_others_comments_are_shown_only_when_the_owner_allows_and_never_the_teams(
    link, images, owner
):
    ana, ben = join(link, "Ana", "1"), join(link, "Ben", "2")
    guests.comment_add(link=link, reviewer=ana, image=None, body="A", client="c", url=URL)
    guests.comment_add(link=link, reviewer=ben, image=None, body="B", client="c", url=URL)
    Comment.objects.create(author=owner, image=images[0], body="team only")
    assert [c.body for c in guests.comments_shown(link=link, reviewer=ana)] == ["A"]
    assert not guests.comments_shown(link=link, reviewer=None).exists()
    link.show_reviewers = True
    assert [c.body for c in guests.comments_shown(link=link, reviewer=None)] == ["A", "B"]


def test_comments_are_throttled_per_client_and_per_link_and_capped(link, monkeypatch):
    ana, ben = join(link, "Ana", "1"), join(link, "Ben", "2")
    monkeypatch.setattr(guests, "COMMENTS_PER_CLIENT", 2)
    monkeypatch.setattr(guests, "COMMENTS_PER_LINK", 3)
    say = lambda who, client: guests.comment_add(  # noqa: E731
        link=link, reviewer=who, image=None, body="hi", client=client, url=URL
    )
    say(ana, "a"), say(ana, "a")
    with pytest.raises(guests.GuestError, match="Too many comments") as refused:
        say(ana, "a")
    assert refused.value.status == 429 and Comment.objects.count() == 2
    say(ben, "b")
    with pytest.raises(guests.GuestError, match="Too many comments"):
        say(ben, "c")
    assert Comment.objects.count() == 3
    monkeypatch.setattr(guests, "COMMENTS_PER_LINK", 100)
    monkeypatch.setattr(guests, "COMMENTS_CEILING", 3)
    with pytest.raises(guests.GuestError, match="as many comments"):
        say(ben, "d")
    assert Comment.objects.count() == 3


def test_a_comment_after_confirming_keeps_the_confirmation_and_its_email(link, images, owner):
    from django.core import mail

    from flux2web.review import digests

    owner.email = "olivia@example.com"
    owner.save()
    digests.opt_out(user_id=owner.pk, kind=Notification.Kind.LINK_COMMENT)
    reviewer = join(link)
    guests.pick_toggle(link=link, reviewer=reviewer, image=images[0], client="c")
    guests.picks_confirm(link=link, reviewer=reviewer, url=URL)
    reviewer.refresh_from_db()  # as the next request finds it
    guests.comment_add(link=link, reviewer=reviewer, image=None, body="Thanks", client="c",
                       url=URL)  # fmt: skip
    note = Notification.objects.get()
    assert note.kind == Notification.Kind.SELECTION
    assert digests.send_due() == 1
    assert "Ana (guest) confirmed 1 pick and left 1 comment" in mail.outbox[0].body


@pytest.mark.parametrize(
    ("body", "says"),
    [("Nice \u202eevil", "direction"), ("a\u2066b\u2069", "direction"),
     ("a\u202ab", "direction"), ("caf\ufffd", "could not be read"),
     ("\u200b\ufeff\u2060", "Write a comment")],
)  # fmt: skip
def test_a_comment_with_hidden_direction_changes_or_garbled_text_is_refused(
    link, images, body, says
):
    reviewer = join(link)
    with pytest.raises(guests.GuestError, match=says):
        guests.comment_add(link=link, reviewer=reviewer, image=images[0], body=body,
                           client="c", url=URL)  # fmt: skip
    assert not Comment.objects.exists()


def test_zero_width_characters_are_taken_out_of_a_comment_and_emoji_stay_whole(link, images):
    reviewer = join(link)
    comment = guests.comment_add(link=link, reviewer=reviewer, image=None, client="c", url=URL,
                                 body="Lo\u200bve\ufeff it\u2060 👩\u200d💻")  # fmt: skip
    assert comment.body == "Love it 👩\u200d💻"


# ---- Names that pose as a teammate, hide, or point somewhere. ---------------------------


@pytest.fixture
def marc(django_user_model):
    return django_user_model.objects.create_user("marc", first_name="Marc", last_name="Dubois")


@pytest.mark.parametrize(
    "name",
    ["Marc\u3164", "Marc\uffa0", "Marc\u115f", "Marc\u1160", "\u3164", "Marc\u034f",
     "Marc\u180e", "Marc\u17b5", "Marc\u2062", "Marc\U000e0041", "Olivia\u2800",
     "Ma\u200brc", "Ma\u200drc", "Marc\ufe0f"],
)  # fmt: skip
def test_a_name_with_invisible_characters_is_refused(link, marc, name):
    with pytest.raises(guests.GuestError, match="visible"):
        join(link, name)
    assert not Reviewer.objects.exists()


def test_an_unreadable_name_is_refused(link):
    with pytest.raises(guests.GuestError, match="could not be read"):
        join(link, "Ana\ufffd")


@pytest.mark.parametrize(
    "name", ["Μarc", "ᴍarc", "Ꮇarc", "Օlivia", "Mагс", "Marc (team)", "Marc D.", "Dubois",
             "Marc\u0301", "ⓜarc", "Ｍａｒｃ", "marc_", "MarcDubois", "Ana Marc"],
)  # fmt: skip
def test_a_name_that_still_looks_like_a_members_is_refused(link, owner, marc, name):
    owner.first_name, owner.last_name = "Olivia", "Stone"
    owner.save()
    with pytest.raises(guests.GuestError):
        join(link, name)
    assert not Reviewer.objects.exists()


@pytest.mark.parametrize("name", ["Bоb", "Аnnа Smith", "Jοhn"])  # one Cyrillic/Greek letter
def test_a_word_mixing_alphabets_is_refused(link, name):
    with pytest.raises(guests.GuestError, match="one alphabet"):
        join(link, name)


@pytest.mark.parametrize(
    "name", ["Мария Иванова", "Νίκος Παππάς", "山田はなこ", "김민지", "Zoë O'Brien", "José-María",
             "Anne-Marie D.", "Ana 2", "Marco", "Dana Marcus"],
)  # fmt: skip
def test_real_names_in_one_alphabet_each_are_welcome(link, marc, name):
    assert join(link, name, browser=name).name == name


@pytest.mark.parametrize(
    "name", ["evil.example", "Ana www.evil", "ana@evil.example", "http://x", "a/b", "Go.To.Site",
             "Visit evil。com"],
)  # fmt: skip
def test_a_name_like_a_web_or_email_address_is_refused(link, name):
    with pytest.raises(guests.GuestError, match="address"):
        join(link, name)


def test_a_name_already_used_on_the_link_is_refused_and_free_on_another(link, owner, collection):
    join(link, "Ana", "one")
    for name in ("Ana", "ANA", "Аna"):
        with pytest.raises(guests.GuestError, match="already used on this link; add an initial"):
            join(link, name, "two")
    assert join(link, "Ana B.", "two").name == "Ana B."
    other = proof_link(owner, collection=collection)[0]
    assert join(other, "Ana", "three").name == "Ana"


def test_reviewers_who_did_nothing_for_a_day_make_room_under_the_ceiling(link, images, monkeypatch):
    monkeypatch.setattr(guests, "REVIEWERS_CEILING", 3)
    idle, busy, commenter = join(link, "Idle", "1"), join(link, "Busy", "2"), join(link, "Cy", "3")
    guests.pick_toggle(link=link, reviewer=busy, image=images[0], client="c")
    guests.comment_add(link=link, reviewer=commenter, image=None, body="hi", client="c", url=URL)
    Reviewer.objects.update(last_seen_at=timezone.now() - timedelta(days=2))
    assert join(link, "Dee", "4").name == "Dee"  # the idle one made room
    assert not Reviewer.objects.filter(pk=idle.pk).exists()
    with pytest.raises(guests.GuestError, match="as many reviewers"):
        join(link, "Eve", "5")  # the others picked, commented or were here today
    assert Reviewer.objects.count() == 3
