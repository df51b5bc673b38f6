"""What the notification tests share: notifying someone the real way and signed-in clients
(the bell's browser test is tests/e2e/test_bell.py)."""

from django.test import Client

from flux2web.review.models import Notification
from flux2web.review.notifications import notify


def tell(user, text="Tomas commented on your image", *, kind="image_comment", url="/jobs/1/",
         key="", actor=None) -> Notification:  # fmt: skip
    """Notify `user` through `notify`, and return their newest notification."""
    notify(recipients=[user], kind=kind, text=text, url=url, key=key, actor=actor)
    return Notification.objects.filter(recipient=user).first()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client
