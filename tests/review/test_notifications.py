"""Notifications in the app: who is told, the bell's count in the top bar, the list, opening
one, marking all read, and choosing which kinds come by e-mail."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from flux2web.review.models import EmailOptOut, Notification
from flux2web.review.notifications import notify
from tests.review.notify_helpers import signed_in, tell

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


# ---- notify: who is told, and folding. --------------------------------------------------


def test_events_with_one_key_fold_into_one_unread_notification_brought_up_to_date(owner):
    tell(owner, "Ana (guest) picked 1 image on “Spring”", kind="selection", key="guest:7")
    tell(owner, "Ana (guest) confirmed 4 picks on “Spring”", kind="selection", key="guest:7")

    notes = list(Notification.objects.filter(recipient=owner))
    assert [n.text for n in notes] == ["Ana (guest) confirmed 4 picks on “Spring”"]
    assert notes[0].read_at is None


def test_a_read_notification_is_not_reopened_by_a_later_event_of_its_key(owner):
    first = tell(owner, "Ana (guest) left 1 comment", kind="link_comment", key="guest:7")
    signed_in(owner).post(reverse("review:notification_open", args=[first.pk]))
    tell(owner, "Ana (guest) left 2 comments", kind="link_comment", key="guest:7")

    notes = list(Notification.objects.filter(recipient=owner))
    assert [(n.text, n.read_at is None) for n in notes] == [
        ("Ana (guest) left 2 comments", True),
        ("Ana (guest) left 1 comment", False),
    ]


def test_the_person_who_caused_it_is_not_told(owner, teammate):
    told = notify(recipients=[owner, teammate], kind="mention", text="Olivia mentioned you",
                  url="/jobs/1/", actor=owner)  # fmt: skip

    assert told == 1
    assert list(Notification.objects.values_list("recipient__username", flat=True)) == ["tomas"]


def test_a_deactivated_person_is_not_told(owner, teammate):
    teammate.is_active = False
    teammate.save()

    notify(recipients=[teammate, owner, owner], kind="mention", text="x", url="/")

    assert list(Notification.objects.values_list("recipient__username", flat=True)) == ["olivia"]


# ---- The bell. ------------------------------------------------------------------------------


def bell(response):
    html = response.content.decode()
    match = re.search(r'<a class="bell"[^>]*>(.*?)</a>', html, re.S)
    assert match, "no bell in the top bar"
    return match[1]


def test_the_bell_shows_the_unread_count_with_a_spoken_label(owner, teammate):
    for n in range(3):
        tell(owner, f"Comment {n}")
    tell(teammate, "Not Olivia's")
    read = tell(owner, "Seen already")
    Notification.objects.filter(pk=read.pk).update(read_at=read.created_at)

    shown = bell(signed_in(owner).get(reverse("gallery:index")))

    assert re.search(r'class="bell-count"[^>]*>3</span>', shown)
    assert "3 unread notifications" in shown


def test_a_page_whose_shell_is_kept_still_shows_the_count_of_now(owner):
    client = signed_in(owner)
    client.get(reverse("gallery:index"))  # the gallery keeps its shell, top bar included
    tell(owner, "A new comment")

    shown = bell(client.get(reverse("gallery:index")))

    assert "1 unread notification<" in shown


def test_with_nothing_unread_the_bell_has_no_badge(owner):
    shown = bell(signed_in(owner).get(reverse("gallery:index")))

    assert "Notifications" in shown
    assert "bell-count" not in shown and "unread" not in shown


def test_many_unread_show_as_99_plus(owner):
    Notification.objects.bulk_create(
        Notification(recipient=owner, kind="mention", text="x", url="/") for _ in range(120)
    )

    shown = bell(signed_in(owner).get(reverse("gallery:index")))

    assert ">99+</span>" in shown and "more than 99 unread notifications" in shown


def test_a_signed_out_page_has_no_bell(client):
    response = client.get(reverse("accounts:login"))

    assert 'class="bell"' not in response.content.decode()


def queries_of(client, url, **extra):
    with CaptureQueriesContext(connection) as seen:
        response = client.get(url, **extra)
    assert response.status_code in (200, 204)
    return [q["sql"] for q in seen.captured_queries]


def test_the_bell_costs_a_page_one_query_and_a_fragment_none(owner, settings):
    for n in range(5):
        tell(owner, f"Comment {n}")
    client = signed_in(owner)
    page = reverse("gallery:index")
    queries_of(client, page)  # what the gallery keeps is kept: both below read it
    with_bell = queries_of(client, page)
    fragment = queries_of(client, reverse("studio:updates"), **HX)
    processors = settings.TEMPLATES[0]["OPTIONS"]["context_processors"]
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "OPTIONS": {
        **settings.TEMPLATES[0]["OPTIONS"],
        "context_processors": [p for p in processors if "notifications_bell" not in p],
    }}]  # fmt: skip
    without_bell = queries_of(client, page)

    assert len(with_bell) <= len(without_bell) + 1
    counting = [q for q in with_bell if "review_notification" in q]

    # One capped read of the unread ones on the (recipient, read_at) index; none of these
    # is about an image, so no second query on the images.
    assert len(counting) == 1 and "LIMIT 100" in counting[0].upper()
    assert not [q for q in fragment if "review_notification" in q]


# ---- The list. ------------------------------------------------------------------------------


def test_the_list_shows_mine_newest_first_with_unread_marked(owner, teammate):
    tell(owner, "First comment")
    second = tell(owner, "Second comment")
    tell(teammate, "Tomas's own")
    Notification.objects.filter(pk=second.pk).update(read_at=second.created_at)
    tell(owner, "Third comment")

    html = signed_in(owner).get(reverse("review:notifications")).content.decode()

    texts = re.findall(r'notification-text">([^<]*)<', html)
    assert texts == ["Third comment", "Second comment", "First comment"]
    assert html.count("Unread: ") == 2
    assert "Tomas&#x27;s own" not in html and "Tomas's own" not in html
    assert reverse("review:email_settings") in html


def test_the_list_has_fifty_a_page_and_the_rest_on_the_next(owner):
    for n in range(51):
        tell(owner, f"Note {n}")
    client = signed_in(owner)

    first = client.get(reverse("review:notifications")).content.decode()
    second = client.get(reverse("review:notifications"), {"page": "2"}).content.decode()
    odd = client.get(reverse("review:notifications"), {"page": "x\x00"})

    assert first.count("notification-text") == 50 and "Note 50" in first
    assert second.count("notification-text") == 1 and "Note 0<" in second
    assert odd.status_code == 200


def test_text_is_shown_as_text(owner):
    tell(owner, "<b>Ana</b> (guest) said <script>alert(1)</script>")

    html = signed_in(owner).get(reverse("review:notifications")).content.decode()

    assert "<script>alert(1)" not in html and "&lt;b&gt;Ana&lt;/b&gt;" in html


def test_an_htmx_request_for_the_list_gets_only_the_list(owner):
    tell(owner, "A comment")

    response = signed_in(owner).get(
        reverse("review:notifications"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="notifications"
    )

    html = response.content.decode()
    assert "A comment" in html and "<html" not in html


# ---- Opening one, marking all read. --------------------------------------------------------


def test_opening_marks_it_read_and_goes_to_its_address(owner):
    note = tell(owner, url="/collections/3/?image=4")

    response = signed_in(owner).post(reverse("review:notification_open", args=[note.pk]))

    assert response.status_code == 302 and response["Location"] == "/collections/3/?image=4"
    note.refresh_from_db()
    assert note.read_at is not None


@pytest.mark.parametrize("url", ["//evil.example/x", "https://evil.example/", "javascript:x",
                                 "/\\evil.example", "relative/path", ""])  # fmt: skip
def test_an_address_off_this_site_is_never_followed(owner, url):
    note = tell(owner, url=url)

    response = signed_in(owner).post(reverse("review:notification_open", args=[note.pk]))

    assert response["Location"] == reverse("review:notifications")


def test_someone_elses_notification_is_not_found_and_stays_unread(owner, teammate):
    note = tell(teammate)

    response = signed_in(owner).post(reverse("review:notification_open", args=[note.pk]))

    assert response.status_code == 404
    note.refresh_from_db()
    assert note.read_at is None


def test_opening_takes_a_post_only(owner):
    note = tell(owner)

    assert (
        signed_in(owner).get(reverse("review:notification_open", args=[note.pk])).status_code == 405
    )


def test_mark_all_as_read_reads_mine_only_and_empties_the_bell(owner, teammate):
    tell(owner, "one")
    tell(owner, "two")
    theirs = tell(teammate, "theirs")
    client = signed_in(owner)

    response = client.post(reverse("review:notifications_read"), follow=True)

    assert not Notification.objects.filter(recipient=owner, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None
    html = response.content.decode()
    assert "2 notifications marked as read." in html
    assert "bell-count" not in bell(response)


def test_with_htmx_mark_all_as_read_sends_the_page_on(owner):
    tell(owner, "one")

    response = signed_in(owner).post(reverse("review:notifications_read"), **HX)

    assert response.status_code == 200
    assert reverse("review:notifications") in response["HX-Location"]


# ---- E-mail settings. ---------------------------------------------------------------------


def test_email_settings_tick_every_kind_at_first_and_save_what_is_unticked(owner):
    client = signed_in(owner)
    page = client.get(reverse("review:email_settings")).content.decode()
    assert page.count("checked") == 4

    response = client.post(reverse("review:email_settings"),
                           {"kinds": ["mention", "image_comment"]})  # fmt: skip

    assert response.status_code == 302
    assert sorted(EmailOptOut.objects.filter(user=owner).values_list("kind", flat=True)) == [
        "link_comment", "selection",
    ]  # fmt: skip
    client.post(reverse("review:email_settings"), {"kinds": ["selection", "mention"]})
    assert sorted(EmailOptOut.objects.filter(user=owner).values_list("kind", flat=True)) == [
        "image_comment", "link_comment",
    ]  # fmt: skip


def test_an_unknown_kind_is_refused_and_nothing_changes(owner):
    response = signed_in(owner).post(reverse("review:email_settings"),
                                     {"kinds": ["mention", "spam"]})  # fmt: skip

    assert response.status_code == 400
    assert "spam is not one of the available choices" in response.content.decode()
    assert not EmailOptOut.objects.exists()


def test_email_settings_say_when_there_is_no_address_to_send_to(owner):
    html = signed_in(owner).get(reverse("review:email_settings")).content.decode()

    assert "no e-mail address" in html


# ---- What the recipient may no longer see. ----------------------------------------------


def test_a_mention_on_an_image_made_private_leaves_the_list_the_bell_and_the_digest(
    owner, teammate, media, settings
):
    from django.core import mail

    from flux2web.review import digests
    from tests.collections.factories import make_image

    settings.PUBLIC_URL = "https://flux.example.com"
    teammate.email = "tomas@example.com"
    teammate.save()
    image = make_image(owner)
    image.team_visible = True
    image.save(update_fields=["team_visible"])
    signed_in(owner).post(f"/images/{image.pk}/comments", {"body": "@tomas the secret plan"})
    tell(teammate, "Ana (guest) confirmed 4 picks", kind="selection", key="guest:1")
    image.team_visible = False
    image.save(update_fields=["team_visible"])

    page = signed_in(teammate).get(reverse("review:notifications")).content.decode()
    assert "secret plan" not in page and "Ana (guest) confirmed 4 picks" in page
    shown = bell(signed_in(teammate).get(reverse("review:notifications")))
    assert re.search(r'class="bell-count"[^>]*>1</span>', shown)
    assert digests.send_due() == 1
    assert "secret plan" not in mail.outbox[0].body and "confirmed 4 picks" in mail.outbox[0].body

    # Shown to the team again: it is back, and it goes out in the next digest.
    image.team_visible = True
    image.save(update_fields=["team_visible"])
    from django.utils import timezone

    from flux2web.core.models import ThrottleWindow

    ThrottleWindow.objects.update(ends_at=timezone.now())
    assert (
        "secret plan" in signed_in(teammate).get(reverse("review:notifications")).content.decode()
    )
    assert digests.send_due() == 1 and "secret plan" in mail.outbox[1].body


def test_a_hidden_notification_cannot_be_opened(owner, teammate, media):
    from tests.collections.factories import make_image

    image = make_image(owner)
    image.team_visible = True
    image.save(update_fields=["team_visible"])
    signed_in(owner).post(f"/images/{image.pk}/comments", {"body": "@tomas look"})
    note = Notification.objects.get(recipient=teammate)
    image.team_visible = False
    image.save(update_fields=["team_visible"])
    response = signed_in(teammate).post(reverse("review:notification_open", args=[note.pk]))
    assert response.status_code == 404
