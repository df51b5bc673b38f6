"""Client proofing for tests: a share link with its proofing switches set on the model (the
owner's form has its own tests), and a visitor who reads the page's form token and posts as
a browser would."""

from __future__ import annotations

import re

from django.test import Client

from flux2web.links.models import ShareLink
from tests.links.factories import share

TOKEN = re.compile(r'name="proof_token" value="([^"]+)"')
PROOFING = {"allow_picks": True, "allow_comments": True}


def proof_link(owner, *, collection=None, image_ids=None, password="", **switches):
    """A link with proofing on (picks and comments, unless `switches` say otherwise) and its
    address path (/s/<key>/)."""
    extra = {"password": password} if password else {}
    link, path = share(owner, collection=collection, image_ids=image_ids, **extra)
    fields = {**PROOFING, **switches}
    ShareLink.objects.filter(pk=link.pk).update(**fields)
    link.refresh_from_db()
    return link, path


class Visitor:
    """A browser on one link's page: its cookies, and the form token the page gave it."""

    def __init__(self, path: str, client: Client | None = None):
        self.path = path
        self.client = client or Client(raise_request_exception=False)
        self.token: str | None = None  # read from the page at the first post

    def open(self, path: str | None = None):
        response = self.client.get(path or self.path)
        found = TOKEN.search(response.content.decode())
        if found:
            self.token = found[1]
        return response

    def post(self, suffix: str, data=None, **extra):
        if self.token is None:
            self.open()
        data = {"proof_token": self.token or "", **(data or {})}
        return self.client.post(self.path + suffix, data, **extra)

    def join(self, name="Ana"):
        response = self.post("reviewer", {"name": name})
        self.open()  # the forms' token names the reviewer too: the page gives the new one
        return response

    def pick(self, image, data=None, **extra):
        return self.post(f"p/{getattr(image, 'pk', image)}/pick", data, **extra)

    def comment(self, body, image=None):
        where = f"p/{getattr(image, 'pk', image)}/comment" if image is not None else "comment"
        return self.post(where, {"body": body})

    def confirm(self):
        return self.post("confirm")
