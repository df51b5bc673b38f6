"""An image's review page inside the team: who sees it, likes (and whose), comments with
mentions that notify, guests' comments marked as such, deleting, and bad input."""

import pytest

from flux2web.review.models import Comment, Notification, Reaction
from tests.collections.factories import HX, SECRET_PROMPT, make_collection, make_image
from tests.review.team_helpers import guest_comment, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def shown(owner, media):
    """The owner's image, visible to the team."""
    image = make_image(owner)
    image.team_visible = True
    image.save(update_fields=["team_visible"])
    return image


def page_of(client, image):
    return client.get(f"/images/{image.pk}/review")


def say(client, image, body, **extra):
    return client.post(f"/images/{image.pk}/comments", {"body": body}, **extra)


# ---- Who sees the page. ----------------------------------------------------------------


def test_the_owner_and_a_teammate_see_a_team_image_s_review_page(owner, teammate, shown):
    for user in (owner, teammate):
        response = page_of(signed_in(user), shown)
        assert response.status_code == 200
        assert f'src="/media/{shown.thumbnail.name}"' in response.content.decode()


def test_a_private_image_is_the_same_404_for_teammates_and_admins(owner, teammate, media,
                                                                  django_user_model):  # fmt: skip
    private = make_image(owner)
    admin = django_user_model.objects.create_user("ada", is_team_admin=True)
    for user in (teammate, admin):
        assert page_of(signed_in(user), private).status_code == 404
    assert signed_in(teammate).get("/images/999999/review").status_code == 404
    assert say(signed_in(teammate), private, "nice").status_code == 404
    assert Comment.objects.count() == 0


def test_wrong_methods_are_refused(owner, shown):
    client = signed_in(owner)
    assert client.post(f"/images/{shown.pk}/review").status_code == 405
    assert client.get(f"/images/{shown.pk}/comments").status_code == 405
    assert client.get(f"/images/{shown.pk}/like").status_code == 405


# ---- Likes. ----------------------------------------------------------------------------


def test_likes_say_whose_and_one_s_own_is_you(owner, teammate, shown, django_user_model):
    maria = django_user_model.objects.create_user("maria", first_name="Maria")
    Reaction.objects.create(image=shown, user=maria)
    client = signed_in(teammate)
    response = client.post(f"/images/{shown.pk}/like", {"like": "1"})
    assert response.status_code == 302 and response["Location"] == f"/images/{shown.pk}/review"
    page = page_of(client, shown).content.decode()
    assert "2 likes" in page and "You" in page and "Maria" in page
    assert "Unlike" in page
    client.post(f"/images/{shown.pk}/like", {"like": "0"})
    assert list(Reaction.objects.values_list("user__username", flat=True)) == ["maria"]
    assert client.post(f"/images/{shown.pk}/like", {"like": "maybe"}).status_code == 400


# ---- Comments and who is told. ---------------------------------------------------------


def test_a_teammate_s_comment_tells_the_image_s_owner_without_the_prompt(owner, teammate, shown):
    teammate.first_name = "Tomas"
    teammate.save()
    response = say(signed_in(teammate), shown, "  Warmer light on the left, please  ")
    assert response.status_code == 302
    comment = Comment.objects.get()
    assert (comment.author, comment.body) == (teammate, "Warmer light on the left, please")
    told = Notification.objects.get()
    assert (told.recipient, told.kind) == (owner, "image_comment")
    assert "Tomas" in told.text and "Warmer light" in told.text
    assert SECRET_PROMPT not in told.text and "heron" not in told.text
    assert told.url == f"/images/{shown.pk}/review"
    page = page_of(signed_in(owner), shown).content.decode()
    assert "Warmer light on the left, please" in page and "Tomas" in page


def test_a_mention_tells_that_teammate_whatever_the_case(owner, teammate, shown):
    say(signed_in(owner), shown, "@TOMAS what do you think? @olivia notes for me")
    told = Notification.objects.get()  # none to oneself
    assert (told.recipient, told.kind) == (teammate, "mention")
    assert "olivia" in told.text


def test_no_one_is_told_of_a_mention_of_an_unknown_or_former_member(owner, teammate, shown,
                                                                    django_user_model):  # fmt: skip
    django_user_model.objects.create_user("gone", is_active=False)
    say(signed_in(owner), shown, "@gone and @nobody, see this; mail me at a@b.example")
    assert Comment.objects.count() == 1
    assert Notification.objects.count() == 0


def test_a_mention_of_someone_who_cannot_see_the_image_tells_them_nothing(owner, teammate,
                                                                         media):  # fmt: skip
    private = make_image(owner)
    say(signed_in(owner), private, "@tomas look")
    assert Comment.objects.count() == 1 and Notification.objects.count() == 0


@pytest.mark.parametrize("body", ["", "   \n ", "x" * 2001])
def test_an_empty_or_too_long_comment_is_refused_with_a_message(owner, teammate, shown, body):
    response = say(signed_in(teammate), shown, body)
    assert response.status_code == 400
    assert "1 to 2000 characters" in response.content.decode()
    assert Comment.objects.count() == 0 and Notification.objects.count() == 0


def test_line_breaks_count_as_one_character_as_the_browser_counts_them(owner, teammate, shown):
    body = "\r\n".join(["a line of text"] * 130)  # 1,949 with \n, 2,078 as the browser sends it
    response = say(signed_in(teammate), shown, body)
    assert response.status_code == 302
    assert Comment.objects.get().body == body.replace("\r\n", "\n")
    say(signed_in(teammate), shown, "old\rMac")
    assert Comment.objects.last().body == "old\nMac"


@pytest.mark.parametrize(
    "body", ["red \x1b[31malert", "bell\x07", "gpj.\u202eexe", "isolate \u2066x\u2069", "\u202a"]
)
def test_control_and_direction_characters_are_refused_with_a_message(owner, teammate, shown,
                                                                     body):  # fmt: skip
    response = say(signed_in(teammate), shown, body)
    assert response.status_code == 400
    assert "control characters or text-direction" in response.content.decode()
    assert Comment.objects.count() == 0


def test_zero_width_spaces_are_dropped_and_tabs_and_emoji_joiners_kept(owner, teammate, shown):
    say(signed_in(teammate), shown, "\ufeffsee\u200b this\tone \U0001f469\u200d\U0001f3a8")
    assert Comment.objects.get().body == "see this\tone \U0001f469\u200d\U0001f3a8"
    response = say(signed_in(teammate), shown, "\u200b\u200b")
    assert response.status_code == 400 and Comment.objects.count() == 1


def test_comments_are_plain_text_with_no_clickable_links(owner, teammate, shown):
    say(signed_in(teammate), shown, "<b>bold</b> see https://evil.example/x @olivia")
    page = page_of(signed_in(owner), shown).content.decode()
    assert "&lt;b&gt;bold&lt;/b&gt;" in page and "<b>bold</b>" not in page
    assert 'href="https://evil.example' not in page
    assert '<mark class="mention">@olivia</mark>' in page


def test_with_htmx_the_comments_part_comes_back(owner, teammate, shown):
    response = say(signed_in(teammate), shown, "lovely", headers=HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="review-comments"' in html and "lovely" in html and "<html" not in html
    bad = say(signed_in(teammate), shown, "", headers=HX)
    assert "1 to 2000 characters" in bad.content.decode() and Comment.objects.count() == 1


# ---- Guests' comments. -----------------------------------------------------------------


def test_a_guest_s_comment_is_marked_guest_for_the_owner_and_hidden_from_others(
    owner, teammate, shown
):
    collection = make_collection(owner, [shown])
    guest_comment(owner, collection, shown, name="olivia", label="Client A")
    page = page_of(signed_in(owner), shown).content.decode()
    assert "olivia · guest · Client A" in page
    assert "the third one, warmer" not in page_of(signed_in(teammate), shown).content.decode()


# ---- Deleting. -------------------------------------------------------------------------


def delete(client, comment):
    return client.post(f"/comments/{comment.pk}/delete")


def test_an_author_deletes_their_own_comment_and_no_one_else_s(owner, teammate, outsider, shown,
                                                              django_user_model):  # fmt: skip
    vera = django_user_model.objects.create_user("vera")
    say(signed_in(teammate), shown, "mine")
    comment = Comment.objects.get()
    assert delete(signed_in(outsider), comment).status_code == 404
    assert delete(signed_in(vera), comment).status_code == 404
    assert Comment.objects.count() == 1
    response = delete(signed_in(teammate), comment)
    assert response.status_code == 302 and not Comment.objects.exists()
    assert not Notification.objects.exists()  # what it told went with it


def test_the_image_s_owner_deletes_a_teammate_s_comment_on_their_image(owner, teammate, shown):
    say(signed_in(teammate), shown, "not on my image you don't")
    comment = Comment.objects.get()
    assert (
        'aria-label="Delete the comment by tomas"'
        in page_of(signed_in(owner), shown).content.decode()
    )
    assert delete(signed_in(owner), comment).status_code == 302
    assert not Comment.objects.exists()


def test_an_author_deletes_their_comment_after_the_image_went_private(owner, teammate, shown):
    say(signed_in(teammate), shown, "I said too much")
    shown.team_visible = False
    shown.save(update_fields=["team_visible"])
    response = delete(signed_in(teammate), Comment.objects.get())
    assert response.status_code == 302 and not Comment.objects.exists()


def test_the_delete_button_shows_exactly_when_deleting_would_succeed(
    owner, teammate, outsider, shown, django_user_model
):
    from django.db import transaction

    vera = django_user_model.objects.create_user("vera")
    collection = make_collection(outsider, [shown])
    say(signed_in(teammate), shown, "by tomas")
    say(signed_in(owner), shown, "by olivia")
    say(signed_in(outsider), shown, "by oscar")
    guest = guest_comment(outsider, collection, shown, name="Ana", body="by a guest")
    by = {c.body: c for c in Comment.objects.all()}
    may = {
        "by tomas": {"tomas", "olivia", "oscar"},  # author, image's owner, collection's owner
        "by olivia": {"olivia", "oscar"},
        "by oscar": {"oscar", "olivia"},
        "by a guest": {"oscar"},  # the link's (and collection's) owner
    }
    assert guest.pk == by["by a guest"].pk
    for user in (owner, teammate, outsider, vera):
        page = page_of(signed_in(user), shown).content.decode()
        for body, comment in by.items():
            shown_button = f'action="/comments/{comment.pk}/delete"' in page
            with transaction.atomic():
                status = delete(signed_in(user), comment).status_code
                transaction.set_rollback(True)
            allowed = user.username in may[body]
            assert shown_button == allowed, (user.username, body)
            assert status == (302 if allowed else 404), (user.username, body)


def test_a_collection_s_owner_removes_any_comment_on_its_images(owner, teammate, outsider,
                                                               media):  # fmt: skip
    image = make_image(teammate)
    image.team_visible = True
    image.save(update_fields=["team_visible"])
    make_collection(outsider, [image])
    say(signed_in(teammate), image, "by the image's owner")
    comment = Comment.objects.get()
    assert delete(signed_in(owner), comment).status_code == 404
    assert delete(signed_in(outsider), comment).status_code == 302
    assert not Comment.objects.exists()


def test_a_link_s_owner_removes_a_guest_s_comment(owner, teammate, shown):
    comment = guest_comment(owner, make_collection(owner, [shown]), shown)
    assert delete(signed_in(teammate), comment).status_code == 404
    response = delete(
        signed_in(owner),
        comment,
    )
    assert response.status_code == 302 and not Comment.objects.exists()


def test_deleting_with_htmx_returns_the_comments_part(owner, shown):
    say(signed_in(owner), shown, "gone soon")
    response = signed_in(owner).post(f"/comments/{Comment.objects.get().pk}/delete", headers=HX)
    assert response.status_code == 200 and 'id="review-comments"' in response.content.decode()
    assert "gone soon" not in response.content.decode()


# ---- Entry points. ---------------------------------------------------------------------


def test_the_galleries_and_the_job_page_link_to_an_image_s_review(owner, teammate, shown):
    link = f'href="/images/{shown.pk}/review"'
    assert link in signed_in(owner).get("/gallery/").content.decode()
    assert link in signed_in(teammate).get("/gallery/team/").content.decode()
    assert link in signed_in(owner).get(f"/jobs/{shown.job_id}/").content.decode()
