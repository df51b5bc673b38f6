"""E-mail digests: one e-mail per person per quarter hour at most, listing text and site
addresses only; opting out by kind, from the settings page or an e-mail's link."""

import json
import os
import subprocess
import sys
import threading
from datetime import timedelta
from html import unescape

import pytest
from django.core import mail, signing
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from flux2web.core.models import ThrottleWindow
from flux2web.review import digests, tasks
from flux2web.review.models import EmailOptOut, Notification
from tests.collections.factories import make_collection, make_image
from tests.links.factories import share
from tests.review.notify_helpers import signed_in, tell

pytestmark = pytest.mark.django_db
SITE = "https://flux.example.com"


@pytest.fixture(autouse=True)
def site(settings):
    settings.PUBLIC_URL = SITE


@pytest.fixture
def ana(django_user_model):
    return django_user_model.objects.create_user("ana", email="ana@example.com")


def a_quarter_hour_passes():
    ThrottleWindow.objects.update(ends_at=timezone.now() - timedelta(seconds=1))


def test_waiting_notifications_go_out_in_one_email_with_site_addresses(ana):
    tell(ana, "Tomas commented on your image", url="/jobs/4/")
    tell(ana, "Olivia mentioned you", kind="mention", url="/collections/2/")

    assert digests.send_due() == 1

    [email] = mail.outbox
    assert email.to == ["ana@example.com"]
    assert email.subject == "Flux2Web: 2 new notifications"
    assert "- Olivia mentioned you\n  https://flux.example.com/collections/2/" in email.body
    assert "- Tomas commented on your image\n  https://flux.example.com/jobs/4/" in email.body
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()
    assert digests.send_due() == 0 and len(mail.outbox) == 1  # nothing sent twice


def test_an_address_off_the_site_is_replaced_by_the_notifications_page(ana):
    tell(ana, "Odd", url="//evil.example/x")

    digests.send_due()

    assert "evil" not in mail.outbox[0].body
    assert f"{SITE}/notifications/" in mail.outbox[0].body


def test_at_most_one_email_a_quarter_hour_the_rest_wait_for_the_next(ana):
    tell(ana, "First")
    digests.send_due()
    for n in range(30):
        tell(ana, f"Later {n}")

    assert digests.send_due() == 0 and digests.send_due() == 0
    assert len(mail.outbox) == 1

    a_quarter_hour_passes()
    assert digests.send_due() == 1
    assert len(mail.outbox) == 2
    assert mail.outbox[1].subject == "Flux2Web: 30 new notifications"
    assert "Later 29" in mail.outbox[1].body and "First" not in mail.outbox[1].body


def test_a_folded_notification_brought_up_to_date_is_sent_again_with_its_new_text(ana):
    tell(ana, "Ana (guest) picked 1", kind="selection", key="guest:3")
    digests.send_due()
    a_quarter_hour_passes()
    tell(ana, "Ana (guest) confirmed 4 picks", kind="selection", key="guest:3")

    digests.send_due()

    assert "Ana (guest) confirmed 4 picks" in mail.outbox[1].body


def test_each_person_gets_their_own(ana, django_user_model):
    ben = django_user_model.objects.create_user("ben", email="ben@example.com")
    tell(ana, "For Ana")
    tell(ben, "For Ben")

    assert digests.send_due() == 2

    bodies = {m.to[0]: m.body for m in mail.outbox}
    assert "For Ana" in bodies["ana@example.com"] and "For Ben" not in bodies["ana@example.com"]
    assert "For Ben" in bodies["ben@example.com"]


def test_no_address_or_a_deactivated_account_gets_nothing_and_nothing_piles_up(
    owner, django_user_model
):
    gone = django_user_model.objects.create_user("gone", email="g@example.com")
    tell(owner, "No address")
    tell(gone, "Deactivated after")
    gone.is_active = False
    gone.save()

    assert digests.send_due() == 0
    assert mail.outbox == []
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()


def test_opted_out_kinds_are_not_sent_but_marked_handled(ana):
    EmailOptOut.objects.create(user=ana, kind="mention")
    tell(ana, "Olivia mentioned you", kind="mention")
    tell(ana, "A comment on your image")

    digests.send_due()

    [email] = mail.outbox
    assert "A comment on your image" in email.body and "mentioned" not in email.body
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()


def test_with_every_waiting_kind_opted_out_no_email_goes(ana):
    EmailOptOut.objects.create(user=ana, kind="mention")
    tell(ana, "Olivia mentioned you", kind="mention")

    assert digests.send_due() == 0
    assert mail.outbox == []
    tell(ana, "A comment")  # and the quarter hour was not spent on nothing
    assert digests.send_due() == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_one_email(ana):
    for n in range(20):
        tell(ana, f"Note {n}")
    start = threading.Barrier(2)
    sent = []

    def worker():
        start.wait()
        try:
            sent.append(digests.send_due())
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(sent) == [0, 1]
    assert len(mail.outbox) == 1 and mail.outbox[0].body.count("- Note ") == 20


def test_nothing_secret_reaches_the_email(ana):
    image = make_image(ana, prompt="a confidential prompt about Project Nightjar")
    collection = make_collection(ana, [image], title="Spring campaign")
    link, address = share(ana, collection=collection, password="hunter2 sesame")
    token = address.rstrip("/").rsplit("/", 1)[-1][-43:]  # the token may hold "-" itself
    tell(ana, "Ana (guest) commented on “Spring campaign”", kind="link_comment",
         url=reverse("sharing:collection", args=[collection.pk]))  # fmt: skip
    Notification.objects.update(image=image)

    digests.send_due()

    email = mail.outbox[0]
    whole = email.message().as_string()
    assert "Spring campaign" in whole
    for secret in (token, link.slug and address, "hunter2", "Nightjar", "confidential",
                   image.original.name, "/s/"):  # fmt: skip
        assert secret and secret not in whole, secret
    assert email.attachments == []


def test_when_sending_fails_nothing_is_marked_and_the_password_is_not_logged(ana, settings, caplog):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens there
    settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = "mailer", "pw-Zq9-never-logged"
    settings.EMAIL_TIMEOUT = 2
    tell(ana, "A comment")

    assert digests.send_due() == 0

    assert Notification.objects.filter(emailed_at__isnull=True).count() == 1
    assert "not sent" in caplog.text and "pw-Zq9-never-logged" not in caplog.text
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert digests.send_due() == 1  # tried again at once: the quarter hour was given back


# ---- Unsubscribing. -------------------------------------------------------------------------


def links_in(body):
    return {
        line.split(": ", 1)[0]: line.split(": ", 1)[1]
        for line in body.splitlines()
        if line.startswith("Stop e-mails about ")
    }


def test_each_kind_in_an_email_has_its_own_link_and_the_header_stops_all(ana, client):
    tell(ana, "Olivia mentioned you", kind="mention")
    tell(ana, "A comment")
    digests.send_due()
    email = mail.outbox[0]

    links = links_in(email.body)
    assert set(links) == {"Stop e-mails about mentions of you",
                          "Stop e-mails about comments on your images"}  # fmt: skip
    mention = links["Stop e-mails about mentions of you"].removeprefix(SITE)
    page = client.get(mention)
    assert page.status_code == 200 and "Stop e-mails about mentions of you?" in (
        page.content.decode()
    )
    assert not EmailOptOut.objects.exists()  # asking is not doing

    done = client.post(mention)

    assert done.status_code == 200 and "no more e-mails about" in done.content.decode()
    assert list(EmailOptOut.objects.values_list("user__username", "kind")) == [("ana", "mention")]
    header = email.extra_headers["List-Unsubscribe"]
    assert header.startswith(f"<{SITE}/notifications/unsubscribe/") and header.endswith(">")
    client.post(header[1:-1].removeprefix(SITE))
    assert EmailOptOut.objects.filter(user=ana).count() == 4


def test_unsubscribing_twice_is_fine(ana, client):
    token = digests.unsubscribe_token(user_id=ana.pk, kind="mention")
    url = reverse("review:unsubscribe", args=[token])
    assert client.post(url).status_code == 200 and client.post(url).status_code == 200
    assert EmailOptOut.objects.count() == 1


@pytest.mark.parametrize(
    "token",
    [
        "forged",
        signing.dumps([1, "mention"], salt="another purpose"),
        signing.dumps(["1", "mention"], salt=digests.SALT),
        signing.dumps([1, "spam"], salt=digests.SALT),
        signing.dumps({"user": 1}, salt=digests.SALT),
        signing.dumps([999_999, "mention"], salt=digests.SALT),
        "x" * 5000,
        "a\x00b",
    ],
    ids=[
        "garbage",
        "other salt",
        "id as text",
        "no such kind",
        "not a pair",
        "no such person",
        "long",
        "NUL",
    ],
)
def test_a_forged_or_stale_link_is_refused_with_a_message(ana, client, token):
    url = reverse("review:unsubscribe", args=[token])

    for response in (client.get(url), client.post(url)):
        assert response.status_code == 400
        assert "This unsubscribe link is not valid" in response.content.decode()
    assert not EmailOptOut.objects.exists()


def test_a_token_for_one_person_names_no_one_else(ana, django_user_model):
    ben = django_user_model.objects.create_user("ben", email="ben@example.com")
    token = digests.unsubscribe_token(user_id=ana.pk, kind="mention")

    signed_in(ben).post(reverse("review:unsubscribe", args=[token]))

    assert list(EmailOptOut.objects.values_list("user__username", flat=True)) == ["ana"]


def test_the_settings_page_ticks_again_what_a_link_unsubscribed(ana):
    digests.opt_out(user_id=ana.pk, kind="mention")

    html = signed_in(ana).get(reverse("review:email_settings")).content.decode()

    assert 'value="mention"' in html and 'value="mention" checked' not in html
    assert html.count("checked") == 3


# ---- The task, its schedule, and the settings. ----------------------------------------------


def test_the_task_sends_what_is_due_and_a_schedule_runs_it_every_few_minutes(ana):
    tell(ana, "A comment")

    assert tasks.send_digests() == "1 sent"
    schedule = Schedule.objects.get(func=tasks.SEND_DIGESTS)
    assert schedule.schedule_type == Schedule.MINUTES and schedule.minutes <= 5
    assert schedule.repeats == -1


def email_settings_seen_with(tmp_path, **env) -> dict:
    code = (
        "import json; from django.conf import settings as s; print(json.dumps({"
        "'backend': s.EMAIL_BACKEND, 'host': s.EMAIL_HOST, 'port': s.EMAIL_PORT, "
        "'user': s.EMAIL_HOST_USER, 'password': s.EMAIL_HOST_PASSWORD, 'tls': s.EMAIL_USE_TLS, "
        "'ssl': s.EMAIL_USE_SSL, 'from': s.DEFAULT_FROM_EMAIL}))"
    )
    clean = {"PATH": os.environ["PATH"], "FLUX2WEB_DATA_DIR": str(tmp_path), **env}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        env=clean, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_email_is_printed_by_default_and_sent_by_smtp_when_a_server_is_named(tmp_path):
    plain = email_settings_seen_with(tmp_path)
    assert plain["backend"] == "django.core.mail.backends.console.EmailBackend"

    smtp = email_settings_seen_with(
        tmp_path, FLUX2WEB_EMAIL_HOST="smtp.example.com", FLUX2WEB_EMAIL_PORT="465",
        FLUX2WEB_EMAIL_USER="mailer", FLUX2WEB_EMAIL_PASSWORD="pw",
        FLUX2WEB_EMAIL_FROM="Studio <studio@example.com>",
    )  # fmt: skip
    assert smtp == {
        "backend": "django.core.mail.backends.smtp.EmailBackend", "host": "smtp.example.com",
        "port": 465, "user": "mailer", "password": "pw", "tls": False, "ssl": True,
        "from": "Studio <studio@example.com>",
    }  # fmt: skip
    starttls = email_settings_seen_with(tmp_path, FLUX2WEB_EMAIL_HOST="smtp.example.com")
    assert (starttls["port"], starttls["tls"], starttls["ssl"]) == (587, True, False)


@pytest.mark.parametrize(
    "kind, words",
    [
        ("mention", "mentions of you"),
        ("image_comment", "comments on your images"),
        ("selection", "clients' confirmed selections"),
        ("link_comment", "comments on your share links"),
    ],
)
def test_each_kind_reads_as_a_sentence_in_the_email_and_on_the_pages(ana, client, kind, words):
    tell(ana, "Something", kind=kind)
    digests.send_due()
    assert f"Stop e-mails about {words}: {SITE}/" in mail.outbox[0].body
    path = reverse(
        "review:unsubscribe", args=[digests.unsubscribe_token(user_id=ana.pk, kind=kind)]
    )
    assert f"Stop e-mails about {words}?" in unescape(client.get(path).content.decode())
    assert f"no more e-mails about {words}." in unescape(client.post(path).content.decode())
    settings_page = unescape(signed_in(ana).get(reverse("review:email_settings")).content.decode())
    assert f"> {words[0].upper()}{words[1:]}</label>" in settings_page
