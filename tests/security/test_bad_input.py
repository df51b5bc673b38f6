"""Bad input to every form and JSON endpoint: oversized strings, wrong types, integers past 64
bits, negative numbers, NUL bytes, deep nesting, 1e20 / Infinity / NaN. Each gets a clear
answer (400 or a field error, never a 500) and writes nothing: no row in any table, no file.

Each case starts from a request that is valid (and, where it should, writes: checked by
test_each_baseline_request_is_valid_and_writes) and spoils one field with each bad value.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from flux2web.accounts import api_tokens
from flux2web.billing.models import Quota
from flux2web.credentials.forms import ProviderForm
from flux2web.jobs.models import Comparison, Job
from tests.security.helpers import png_bytes

pytestmark = pytest.mark.django_db
ON_POSTGRESQL = connection.vendor == "postgresql"

HUGE = "x" * 100_000
NUL = ["\x00", "a\x00b"]
TEXT = [HUGE, *NUL]  # for free text: too long, or a NUL byte
STRINGS = [*TEXT, "<script>alert(1)</script>", "\u202e\ufeff", "😀" * 5000]  # for choices
NUMBERS = [
    "99999999999999999999", str(2**63), "-1", "-99999999999999999999", "1e20", "Infinity",
    "NaN", "0x10", "abc", "1\x00", HUGE,
]  # fmt: skip
MONEY = [*NUMBERS, "0.000001", "1" * 30 + ".5"]
DEEP = "[" * 60_000 + "]" * 60_000
IDS = [*NUMBERS, ",".join(str(n) for n in range(20_000))]
URLS = ["http://\x00/a.png", "javascript:alert(1)", "file:///etc/passwd", "ftp://example.com/a",
        "not a url", HUGE]  # fmt: skip
MALFORMED_IPV6 = ["http://[::1", "http://[zz::1]/a.png"]
NO_VALID_HOST = ["http://" + "a" * 100_000 + ".com/a.png", "http://exa mple.com/a.png"]
PRIVATE_URLS = [
    "http://127.0.0.1/a.png", "http://localhost/a.png", "http://[::1]/a.png",
    "http://10.1.2.3/a.png", "http://169.254.169.254/latest/meta-data/",
]  # fmt: skip
MONTHS = [
    "9999-12", "0-1", "2026-13", "2026-0", "-1-1", "99999999999999999999-1",
    "2026-99999999999999999999", "2026-1-1", "1e3-1", *NUL, HUGE,
]  # fmt: skip
REDIRECTS = [HUGE, "\x00", "//evil.example/", "https://evil.example/", "javascript:alert(1)",
             "/\\evil.example", "\x00//evil.example", "/ok/\x00"]  # fmt: skip
NOT_A_PATH = ["home", "a\x00b", "1\x00"]  # no slash, no dot: Django's redirect() reverses it


@dataclass(frozen=True)
class Endpoint:
    """How to make a valid request as someone; a case spoils one of its fields."""

    role: str
    url: Callable  # world -> url
    data: Callable = field(default=lambda w: {})  # world -> valid POST data, or query for GET
    method: str = "post"
    writes: bool = False  # the valid request writes a row (so the sweep can see one)
    acts: bool = False  # the valid request changes rows itself: only no 500, no off-site
    refused_with: tuple[int, ...] = ()  # if given, the only answers a bad value may get


def generate_data(w):
    return {"prompt": "a red fox asleep in snow", "model": "pro", "provider": "",
            "aspect_ratio": "1:1", "resolution": "1K", "count": "1",
            "idempotency_key": uuid.uuid4().hex}  # fmt: skip


def compare_data(w):
    """Compare providers (the world has one provider: refused with a message, no write)."""
    return {**generate_data(w), "action": "compare", "compare": [str(w.credential.pk)]}


def comparison_url(name):
    def url(w):
        comparison = Comparison.objects.create(owner=w.owner)
        Job.objects.filter(pk=w.job.pk).update(comparison=comparison)
        return reverse(name, args=[comparison.pk])

    return url


def edit_provider_data(w):
    form = ProviderForm(instance=w.credential)
    data = {name: form[name].value() for name in form.fields if name != "dialect"}
    data = {k: v for k, v in data.items() if v not in (None, False)}
    data["enabled"] = "on"
    return {k: v for k, v in data.items() if k not in ("api_key", "hmac_key")}


def job_url(name):
    return lambda w: reverse(name, args=[w.job.pk])


def collection_url(name):
    return lambda w: reverse(name, args=[w.collection.pk])


def link_data(w):
    week = (timezone.localdate() + timedelta(days=7)).isoformat()
    return {"title": "Harbours", "label": "Client A", "readable_address": "on",
            "expires_on": week, "downloads": "web", "allow_preview": "on"}  # fmt: skip


# A picking deadline: a date and a time, as a datetime-local field sends it.
DEADLINES = ["9999-12-31T23:59", "0001-01-01T00:00", "2026-02-30T10:00", "2026-01-01T25:00",
             "99999-01-01T00:00", "1999-01-01T10:00", "T", "2026-01-01T10:00\x00"]  # fmt: skip

# Not 9999-12-31: with no longest expiry set, the team allows that (no 500 either way).
EXPIRIES = [
    *NUMBERS, "0000-01-01", "2026-02-30", "99999-01-01", "1999-01-01",
    "2026-13-01", "\x00", "2026-01-01\x00",
]  # fmt: skip


def api_token_url(w):
    token, _ = api_tokens.token_create(owner=w.owner, name=uuid.uuid4().hex)
    return reverse("api:revoke", args=[token.pk])


ENDPOINTS = {
    "generate": Endpoint("owner", lambda w: reverse("studio:generate"), generate_data,
                         writes=True),
    "options": Endpoint("owner", lambda w: reverse("studio:options"), generate_data),
    "compare providers": Endpoint("owner", lambda w: reverse("studio:generate"),
                                  compare_data),
    "keep": Endpoint("owner", comparison_url("studio:keep"),
                     lambda w: {"job": str(w.job.pk)}, acts=True),
    "keep only": Endpoint("owner", comparison_url("studio:keep_only"),
                          lambda w: {"job": str(w.job.pk)}, acts=True),
    "home": Endpoint("owner", lambda w: reverse("studio:home"), method="get"),
    "updates": Endpoint("owner", lambda w: reverse("studio:updates"), method="get"),
    "gallery": Endpoint("owner", lambda w: reverse("gallery:index"), method="get"),
    "gallery zip": Endpoint("owner", lambda w: reverse("gallery:zip"),
                            lambda w: {"image": [str(w.image.pk)]}),
    "gallery delete": Endpoint("owner", lambda w: reverse("gallery:delete"),
                               lambda w: {"image": [str(w.image.pk)]}, acts=True),
    "gallery delete none": Endpoint("owner", lambda w: reverse("gallery:delete")),
    "compare": Endpoint("owner", lambda w: reverse("gallery:compare"),
                        lambda w: {"image": [str(w.image.pk), str(w.team_image.pk)]},
                        method="get", refused_with=(400,)),
    "compare chosen": Endpoint("owner", lambda w: reverse("gallery:compare_chosen"),
                               lambda w: {"image": [str(w.image.pk), str(w.team_image.pk)]}),
    "gallery zip none": Endpoint("owner", lambda w: reverse("gallery:zip")),
    "cancel": Endpoint("owner", job_url("studio:cancel"), acts=True),
    "favourite": Endpoint("owner", job_url("studio:favourite"), acts=True),
    "delete": Endpoint("owner", job_url("studio:delete"), acts=True),
    "retry": Endpoint("owner", job_url("studio:retry"), acts=True),
    "rerun": Endpoint("owner", job_url("studio:rerun"), acts=True),
    "invite": Endpoint("team_admin", lambda w: reverse("team:invite"),
                       lambda w: {"username": "newbie", "first_name": "New",
                                  "email": "new@example.com"}, writes=True),
    "team quota": Endpoint("team_admin", lambda w: reverse("team:quota"),
                           lambda w: {"default-monthly_usd": "5", "default-monthly_images": "10",
                                      "default-max_in_flight": "3"}, writes=True),
    "member quota": Endpoint("team_admin", lambda w: reverse("team:member", args=[w.owner.pk]),
                             lambda w: {"monthly_usd": "5", "monthly_images": "10",
                                        "max_in_flight": "3"}, writes=True),
    "resolve": Endpoint("team_admin", job_url("team:resolve"), lambda w: {"decision": "charged"}),
    "add provider": Endpoint("team_admin", lambda w: reverse("credentials:add"),
                             lambda w: {"name": "Apixo", "dialect": "apixo",
                                        "base_url": "https://api.apixo.example/",
                                        "priority": "20", "enabled": "on",
                                        "api_key": "sk-test-123456"},
                             writes=True, refused_with=(200,)),
    "edit provider": Endpoint("team_admin",
                              lambda w: reverse("credentials:edit", args=[w.credential.pk]),
                              edit_provider_data, refused_with=(200,)),
    # Signing in may record failed attempts (throttling): only no 500 there.
    "sign in": Endpoint("anonymous", lambda w: reverse("accounts:login"),
                        lambda w: {"username": "olivia", "password": "wrong"}, acts=True),
    "sign in right": Endpoint("anonymous", lambda w: reverse("accounts:login"),
                              lambda w: {"username": "olivia",
                                         "password": "correct horse battery staple"}, acts=True),
    "password change": Endpoint("owner", lambda w: reverse("accounts:password_change"),
                                lambda w: {"old_password": "correct horse battery staple",
                                           "new_password1": "a-New-passw0rd-here",
                                           "new_password2": "a-New-passw0rd-here"}),
    # A month that cannot be shown: the pages fall back to this month and say so; the CSV,
    # a download no one reads a message on, is a 400.
    "my usage": Endpoint("owner", lambda w: reverse("team:usage"), method="get",
                         refused_with=(200,)),
    "team usage": Endpoint("team_admin", lambda w: reverse("team:dashboard"), method="get",
                           refused_with=(200,)),
    "usage csv": Endpoint("team_admin", lambda w: reverse("team:usage_csv"), method="get",
                          refused_with=(400,)),
    # Collections.
    "new collection": Endpoint("owner", lambda w: reverse("sharing:collection_new"),
                               lambda w: {"title": "Harbours", "description": "At dusk",
                                          "visibility": "private"},
                               writes=True, refused_with=(400,)),
    "edit collection": Endpoint("owner", collection_url("sharing:collection_edit"),
                                lambda w: {"edit-title": "Lights", "edit-description": "",
                                           "edit-visibility": "team_view",
                                           "edit-order": "newest"}, refused_with=(400,)),
    "collection page": Endpoint("owner", collection_url("sharing:collection"), method="get"),
    "add to new collection": Endpoint("owner", lambda w: reverse("sharing:add"),
                                      lambda w: {"image": [str(w.image.pk)], "collection": "",
                                                 "new_title": "Harbours"}, writes=True),
    # The image is in the collection already: the valid request adds nothing, then goes back.
    "add to collection": Endpoint("owner", lambda w: reverse("sharing:add"),
                                  lambda w: {"image": [str(w.image.pk)],
                                             "collection": str(w.collection.pk)}),
    "choose a collection": Endpoint("owner", lambda w: reverse("sharing:add"),
                                    lambda w: {"image": [str(w.image.pk)]}, method="get"),
    "remove from collection": Endpoint("owner", collection_url("sharing:collection_remove"),
                                       lambda w: {"image": [str(w.image.pk)]}, acts=True),
    "reorder": Endpoint("owner", collection_url("sharing:collection_reorder"),
                        lambda w: {"image": [str(w.image.pk)]}, acts=True),
    "newest first": Endpoint("owner", collection_url("sharing:collection_reorder"),
                             lambda w: {"order": "newest"}, acts=True),
    "move": Endpoint("owner", collection_url("sharing:collection_move"),
                     lambda w: {"down": str(w.image.pk)}, acts=True),
    "cover": Endpoint("owner", collection_url("sharing:collection_cover"),
                      lambda w: {"image": str(w.image.pk)}, acts=True),
    "image visibility": Endpoint("owner", lambda w: reverse("sharing:image_visibility"),
                                 lambda w: {"image": [str(w.image.pk)], "team": "1"}, acts=True),
    "image settings": Endpoint("owner", lambda w: reverse("sharing:image_settings"),
                               lambda w: {"new_images_visibility": "team"}, acts=True,
                               refused_with=(400,)),
    "team policy": Endpoint("team_admin", lambda w: reverse("sharing:team_policy"),
                            lambda w: {"public_links_allowed": "on", "link_max_days": "30"},
                            acts=True, refused_with=(400,)),
    "team gallery": Endpoint("owner", lambda w: reverse("sharing:team_gallery"), method="get"),
    # Share links.
    "new link": Endpoint("owner",
                         lambda w: reverse("share:collection_sharing", args=[w.collection.pk]),
                         link_data, writes=True, refused_with=(400,)),
    "share a selection": Endpoint("owner", lambda w: reverse("share:selection"),
                                  lambda w: {**link_data(w), "image": [str(w.image.pk)]},
                                  writes=True),
    "edit link": Endpoint("owner", lambda w: reverse("share:edit", args=[w.link.pk]),
                          link_data, refused_with=(400,)),
    "revoke link": Endpoint("owner", lambda w: reverse("share:revoke", args=[w.link.pk]),
                            acts=True),
    "rotate link": Endpoint("owner", lambda w: reverse("share:rotate", args=[w.link.pk]),
                            acts=True),
    # API tokens.
    "new api token": Endpoint("owner", lambda w: reverse("api:create"),
                              lambda w: {"name": "ci", "days": "30"}, writes=True,
                              refused_with=(400,)),
    "revoke api token": Endpoint("owner", lambda w: api_token_url(w), acts=True),
    "team links": Endpoint("team_admin", lambda w: reverse("share:team_links"),
                           lambda w: {"public_links_allowed": "on", "link_max_days": "30"},
                           acts=True, refused_with=(400,)),
    "unlock": Endpoint("anonymous", lambda w: reverse("share:unlock", args=[w.locked_key]),
                       lambda w: {"password": "not it"}),
    "link review": Endpoint("owner", lambda w: reverse("share:review", args=[w.link.pk]),
                            lambda w: {"picked": "1"}, method="get"),
    # Notifications.
    "notifications": Endpoint("owner", lambda w: reverse("review:notifications"), method="get"),
    "read all": Endpoint("owner", lambda w: reverse("review:notifications_read"), acts=True),
    "email settings": Endpoint("owner", lambda w: reverse("review:email_settings"),
                               lambda w: {"kinds": ["mention"]}, writes=True,
                               refused_with=(400,)),
    # Review inside the team: a comment, a like, a mark, a collection's activity.
    "comment": Endpoint("owner", lambda w: reverse("review:comment", args=[w.image.pk]),
                        lambda w: {"body": "warmer, please"}, writes=True, refused_with=(400,)),
    "like": Endpoint("owner", lambda w: reverse("review:like", args=[w.image.pk]),
                     lambda w: {"like": "1"}, writes=True, refused_with=(400,)),
    "mark": Endpoint("owner", collection_url("sharing:collection_mark"),
                     lambda w: {"image": str(w.image.pk), "mark": "approved"}, acts=True),
    "activity": Endpoint("owner", collection_url("review:activity"), method="get"),
}  # fmt: skip

# (endpoint, field) -> bad values; every one is sent alone, on top of the valid request.
SWEEP: dict[tuple[str, str], list] = {
    ("generate", "prompt"): TEXT,
    ("generate", "model"): STRINGS,
    ("generate", "provider"): IDS + STRINGS,
    ("generate", "aspect_ratio"): STRINGS,
    ("generate", "resolution"): STRINGS,
    ("generate", "width"): NUMBERS,
    ("generate", "height"): NUMBERS,
    ("generate", "seed"): NUMBERS,
    ("generate", "count"): [*NUMBERS, "0", "5"],
    ("generate", "reference_urls"): URLS,
    ("generate", "reference_urls (malformed IPv6)"): MALFORMED_IPV6,
    ("generate", "reference_urls (oversized or no valid host)"): NO_VALID_HOST,
    ("generate", "reference_urls (private addresses)"): PRIVATE_URLS,
    ("generate", "idempotency_key"): TEXT,
    ("compare providers", "compare"): IDS + STRINGS,
    ("compare providers", "compare_all"): STRINGS,
    ("compare providers", "seed"): NUMBERS,
    ("compare providers", "prompt"): TEXT,
    ("keep", "job"): IDS + STRINGS,
    ("keep", "next"): REDIRECTS,
    ("keep only", "job"): IDS + STRINGS,
    ("keep only", "next"): REDIRECTS,
    ("options", "provider"): IDS + STRINGS,
    ("options", "model"): STRINGS,
    ("options", "count"): NUMBERS,
    ("home", "remix"): IDS + STRINGS,
    ("home", "before"): IDS + STRINGS,
    ("updates", "cards"): [*IDS, *STRINGS, "1:" + HUGE, ",".join(f"{n}:x" for n in range(5000))],
    ("gallery", "before"): IDS,
    ("gallery", "provider"): IDS,
    ("gallery", "since"): [*STRINGS, "9999-12-31", "0000-01-01", "2026-02-30"],
    ("gallery", "q"): STRINGS,
    ("gallery zip", "image"): IDS,
    ("gallery zip", "next"): REDIRECTS,
    ("gallery delete", "image"): IDS,
    ("gallery delete", "next"): REDIRECTS,
    ("gallery delete none", "next (not a path)"): NOT_A_PATH,
    ("gallery zip none", "next (not a path)"): NOT_A_PATH,
    ("compare", "image"): IDS,
    ("compare", "images"): [*IDS, *STRINGS],
    ("compare chosen", "image"): IDS,
    ("compare chosen", "next"): REDIRECTS,
    ("cancel", "next"): REDIRECTS,
    ("cancel", "next (not a path)"): NOT_A_PATH,
    ("favourite", "next"): REDIRECTS,
    ("favourite", "next (not a path)"): NOT_A_PATH,
    ("delete", "next"): REDIRECTS,
    ("retry", "key"): [HUGE, "<script>", "😀" * 5000, "a:b" * 100],
    ("retry", "key (NUL byte)"): NUL,
    ("rerun", "key"): [HUGE, "<script>", "😀" * 5000, "a:b" * 100],
    ("rerun", "key (NUL byte)"): NUL,
    ("invite", "username"): [*STRINGS, "a" * 151, "has space", "root"],
    ("invite", "first_name"): [HUGE, *NUL],
    ("invite", "email"): [*STRINGS, "a@" + "b" * 300 + ".com"],
    ("team quota", "default-monthly_usd"): MONEY,
    ("team quota", "default-monthly_images"): NUMBERS,
    ("team quota", "default-max_in_flight"): [*NUMBERS, "0"],
    ("member quota", "monthly_usd"): MONEY,
    ("member quota", "monthly_images"): NUMBERS,
    ("member quota", "max_in_flight"): [*NUMBERS, "0"],
    ("resolve", "decision"): STRINGS,
    ("add provider", "name"): [HUGE, *NUL, "a" * 61, " "],
    ("add provider", "dialect"): STRINGS,
    ("add provider", "base_url"): URLS,
    ("add provider", "base_url (malformed IPv6)"): MALFORMED_IPV6,
    ("add provider", "base_url (no valid host)"): NO_VALID_HOST[1:],
    ("add provider", "priority"): NUMBERS,
    ("add provider", "api_key"): [*NUL, " ", "key\nwith newline"],
    ("add provider", "api_key (oversized)"): [HUGE],
    ("add provider", "hmac_key"): [*NUL, "key\nwith newline"],
    ("add provider", "hmac_key (oversized)"): [HUGE],
    ("edit provider", "name"): [HUGE, *NUL, "a" * 61],
    ("edit provider", "base_url"): URLS,
    ("edit provider", "base_url (malformed IPv6)"): MALFORMED_IPV6,
    ("edit provider", "priority"): NUMBERS,
    ("edit provider", "price__pro__1K"): MONEY,
    ("edit provider", "models_offered"): STRINGS,
    ("sign in", "username"): STRINGS,
    ("sign in", "password"): TEXT,
    ("sign in right", "next"): REDIRECTS,
    ("password change", "old_password"): TEXT,
    ("password change", "new_password1"): TEXT,
    ("my usage", "month"): MONTHS,
    ("team usage", "month"): MONTHS,
    ("usage csv", "month"): MONTHS,
    ("new collection", "title"): [HUGE, *NUL, " ", "a" * 121],
    ("new collection", "description"): [HUGE, *NUL, "a" * 2001],
    ("new collection", "visibility"): STRINGS,
    ("edit collection", "edit-title"): [HUGE, *NUL, " ", "a" * 121],
    ("edit collection", "edit-description"): [HUGE, *NUL],
    ("edit collection", "edit-visibility"): STRINGS,
    ("edit collection", "edit-order"): STRINGS,
    ("collection page", "start"): IDS,
    ("add to new collection", "image"): IDS,
    ("add to new collection", "new_title"): [HUGE, *NUL, " "],
    ("add to collection", "collection"): [*IDS, *STRINGS],
    ("add to collection", "next"): REDIRECTS,
    ("add to collection", "next (not a path)"): NOT_A_PATH,
    ("choose a collection", "image"): IDS,
    ("choose a collection", "job"): IDS,
    ("choose a collection", "next"): REDIRECTS,
    ("remove from collection", "image"): IDS,
    ("reorder", "image"): IDS,
    ("newest first", "order"): STRINGS,
    ("move", "down"): IDS,
    ("cover", "image"): [*IDS, *STRINGS],
    ("image visibility", "image"): IDS,
    ("image visibility", "team"): STRINGS,
    ("image visibility", "next"): REDIRECTS,
    ("image visibility", "next (not a path)"): NOT_A_PATH,
    ("image settings", "new_images_visibility"): STRINGS,
    ("team policy", "link_max_days"): NUMBERS,
    ("team gallery", "person"): IDS + STRINGS,
    ("team gallery", "before"): IDS,
    ("new link", "title"): [HUGE, *NUL, "a" * 121],
    ("new link", "label"): [HUGE, *NUL, "a" * 81],
    ("new link", "expires_on"): EXPIRIES,
    ("new link", "password"): [HUGE, *NUL, "a" * 201, "1234"],
    ("new link", "downloads"): STRINGS,
    ("share a selection", "image"): IDS,
    ("share a selection", "expires_on"): EXPIRIES,
    ("share a selection", "password"): [HUGE, *NUL, "1234"],
    ("edit link", "title"): [HUGE, *NUL],
    ("edit link", "expires_on"): EXPIRIES,
    ("edit link", "password"): [HUGE, *NUL, "1234"],
    ("edit link", "downloads"): STRINGS,
    ("new api token", "name"): [HUGE, *NUL, "a" * 81, " ", "a\x07b", "\u202e\ufeff"],
    ("new api token", "days"): NUMBERS,
    ("revoke api token", "next"): REDIRECTS,
    ("revoke api token", "next (not a path)"): NOT_A_PATH,
    ("revoke link", "next"): REDIRECTS,
    ("revoke link", "next (not a path)"): NOT_A_PATH,
    ("rotate link", "next"): REDIRECTS,
    ("rotate link", "next (not a path)"): NOT_A_PATH,
    ("team links", "link_max_days"): NUMBERS,
    ("unlock", "password"): [*TEXT, "😀" * 5000],
    ("new link", "picks_min"): NUMBERS,
    ("new link", "picks_max"): NUMBERS,
    ("new link", "picks_deadline"): [*DEADLINES, *NUMBERS],
    ("edit link", "picks_min"): NUMBERS,
    ("edit link", "picks_deadline"): [*DEADLINES, *NUMBERS],
    ("link review", "reviewer"): IDS + STRINGS,
    ("link review", "start"): IDS,
    ("link review", "picked"): STRINGS,
    ("notifications", "page"): IDS + STRINGS,
    ("read all", "next"): REDIRECTS,
    ("read all", "next (not a path)"): NOT_A_PATH,
    ("email settings", "kinds"): STRINGS,
    ("comment", "body"): TEXT,
    ("like", "like"): STRINGS,
    ("mark", "mark"): STRINGS,
    ("mark", "image"): IDS,
    ("mark", "next"): REDIRECTS,
    ("mark", "next (not a path)"): NOT_A_PATH,
    ("activity", "page"): IDS + STRINGS,
}


# Throttle windows count every try at a secret, refused or not: a bad guess is still a
# guess, and counting it is the point.
COUNTERS = {"core_throttlewindow"}


def row_counts() -> dict[str, int]:
    """Rows in every table of every model but the throttle's counters, in one query."""
    models = apps.get_models(include_auto_created=True)
    tables = sorted({m._meta.db_table for m in models} - COUNTERS)
    quote = connection.ops.quote_name
    sql = " UNION ALL ".join(f"SELECT '{t}', COUNT(*) FROM {quote(t)}" for t in tables)  # noqa: S608 - our own table names
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return dict(cursor.fetchall())


def files_under(root) -> set[str]:
    root = Path(root)
    return (
        {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
        if root.exists()
        else set()
    )


def signed_in(world, role) -> Client:
    client = Client(raise_request_exception=False)
    if role != "anonymous":
        client.force_login(world.user(role))
    return client


def send(client, endpoint: Endpoint, url, data, **extra):
    if endpoint.method == "get":
        return client.get(url, data, **extra)
    return client.post(url, data, **extra)


def attempt(world, media, request, *, rows_may_change=False) -> list[str]:
    """Send one request that must be refused; what went wrong, if anything."""
    files, rows = files_under(media), row_counts()
    with transaction.atomic():
        response = request()
        try:
            with transaction.atomic():
                written = {k: v - rows[k] for k, v in row_counts().items() if v != rows[k]}
        except DatabaseError as exc:  # the request broke the transaction (and said 500)
            written = {"(cannot count)": str(exc)[:80]}
        transaction.set_rollback(True)
    problems = []
    if response.status_code >= 500:
        problems.append(f"answered {response.status_code}")
    if written and not rows_may_change:
        problems.append(f"wrote rows {written}")
    if new_files := files_under(media) - files:
        problems.append(f"wrote files {sorted(new_files)[:3]}")
    location = response.get("Location", "") if response.status_code in (301, 302, 303) else "/"
    if not location.startswith("/") or location.startswith(("//", "/\\")):
        problems.append(f"redirected off-site to {location[:80]!r}")
    return problems


def shown(value) -> str:
    text = repr(value)
    return text if len(text) < 60 else text[:40] + f"...({len(text)} chars)"


def sweep_cases():
    for (name, field_name), values in SWEEP.items():
        yield pytest.param(name, field_name, values, id=f"{name}-{field_name}")


@pytest.mark.parametrize(("name", "field_name", "values"), list(sweep_cases()))
def test_bad_values_get_a_clear_answer_and_write_nothing(world, media, name, field_name, values):
    endpoint = ENDPOINTS[name]
    client = signed_in(world, endpoint.role)
    url = endpoint.url(world)
    key = field_name.split(" (")[0]
    failures = []
    answered = []
    for value in values:
        data = {**endpoint.data(world), key: value}

        def request(d=data):
            answered.append(send(client, endpoint, url, d))
            return answered[-1]

        problems = attempt(world, media, request, rows_may_change=endpoint.acts)
        status = answered[-1].status_code
        if endpoint.refused_with and status not in endpoint.refused_with:
            problems.append(f"answered {status}, not {endpoint.refused_with}")
        failures += [f"{key}={shown(value)}: {p}" for p in problems]
    assert not failures, f"{name}: " + "; ".join(failures[:12])


@pytest.mark.parametrize("name", [n for n, e in ENDPOINTS.items() if e.writes])
def test_each_baseline_request_is_valid_and_writes(world, media, name):
    # Without this, a sweep case could pass because its valid request never wrote anyway.
    endpoint = ENDPOINTS[name]
    client = signed_in(world, endpoint.role)
    before = row_counts()
    response = send(client, endpoint, endpoint.url(world), endpoint.data(world))
    assert response.status_code < 500
    assert row_counts() != before, f"{name}: the valid request wrote nothing"


def test_valid_baseline_edit_of_a_provider_saves(world):
    client = signed_in(world, "team_admin")
    data = {**edit_provider_data(world), "priority": "77"}
    response = client.post(reverse("credentials:edit", args=[world.credential.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    world.credential.refresh_from_db()
    assert world.credential.priority == 77


def test_a_file_where_text_is_expected_is_refused(world, media):
    client = signed_in(world, "owner")
    upload = SimpleUploadedFile("prompt.png", png_bytes(), content_type="image/png")
    data = {**generate_data(world), "prompt": upload}
    assert not attempt(world, media, lambda: client.post(reverse("studio:generate"), data))


def test_an_unknown_member_action_is_refused(world, media):
    client = signed_in(world, "team_admin")
    failures = []
    for action in [*STRINGS, "link%2F..%2Fdeactivate", "Deactivate", "deactivate "]:
        url = f"/team/{world.owner.pk}/{quote(action, safe='%')}"
        failures += [
            f"{shown(action)}: {p}" for p in attempt(world, media, lambda u=url: client.post(u))
        ]
    world.owner.refresh_from_db()
    assert world.owner.is_active and not failures


# ---- Ids in the URL path past 64 bits, for every URL that takes one. -----------------

HUGE_IDS = [str(2**63), "99999999999999999999", "9" * 100]
ID_URLS = [
    ("owner", "post", "/jobs/{}/cancel"), ("owner", "post", "/jobs/{}/retry"),
    ("owner", "post", "/jobs/{}/rerun"), ("owner", "post", "/jobs/{}/delete"),
    ("owner", "post", "/jobs/{}/favourite"), ("owner", "get", "/jobs/{}/"),
    ("team_admin", "get", "/team/{}/"), ("team_admin", "post", "/team/{}/link"),
    ("team_admin", "post", "/team/{}/deactivate"), ("team_admin", "post", "/team/uncertain/{}"),
    ("team_admin", "get", "/providers/{}/"), ("team_admin", "post", "/providers/{}/test"),
    ("team_admin", "post", "/providers/{}/on"), ("team_admin", "post", "/providers/{}/off"),
    ("anonymous", "post", "/callbacks/{}/secret/"),
    ("owner", "post", "/notifications/{}/open"),
    ("owner", "get", "/images/{}/review"), ("owner", "post", "/images/{}/comments"),
    ("owner", "post", "/images/{}/like"), ("owner", "post", "/comments/{}/delete"),
    ("owner", "get", "/collections/{}/activity"),
    ("owner", "get", "/links/{}/review"), ("owner", "post", "/links/{}/review/collect"),
    ("owner", "get", "/links/{}/picks.txt"), ("owner", "get", "/links/{}/picks.csv"),
    ("owner", "post", "/api-tokens/{}/revoke"),
]  # fmt: skip


@pytest.mark.parametrize(("role", "method", "pattern"), ID_URLS, ids=[p for _, _, p in ID_URLS])
def test_an_id_past_64_bits_in_the_path_is_not_found(world, media, role, method, pattern):
    client = signed_in(world, role)
    failures = []
    for value in HUGE_IDS:
        url = pattern.format(value)
        data = {"decision": "charged"} if "uncertain" in url else {}
        response = None

        def request(url=url, data=data):
            nonlocal response
            response = getattr(client, method)(url, data)
            return response

        problems = attempt(world, media, request)
        # Resolving an uncertain job that is not one says so (with a redirect), as for any.
        expected = 302 if "uncertain" in url else 404
        if response.status_code != expected:
            problems.append(f"answered {response.status_code}, not {expected}")
        failures += [f"{url[:60]}: {p}" for p in problems]
    assert not failures


# ---- Provider callbacks: public JSON. -------------------------------------------------


def kie_body(w, **data):
    return {"code": 200, "msg": "success",
            "data": {"taskId": w.job.provider_task_id, "state": "success",
                     "resultJson": json.dumps({"resultUrls": ["http://127.0.0.1:9/a.png"]}),
                     **data}}  # fmt: skip


def raw(text: str) -> Callable:
    return lambda w: text.encode() if isinstance(text, str) else text


def body(**data) -> Callable:
    return lambda w: json.dumps(kie_body(w, **data)).encode()


# What a provider (or anyone who knows a job's callback URL) might send: each a 400.
CALLBACKS = {
    "nested 60,000 deep": raw(DEEP),
    "an object nested 60,000 deep": raw('{"a":' * 60_000 + "1" + "}" * 60_000),
    "data nested 60,000 deep": lambda w: b'{"code":200,"data":' + DEEP.encode() + b"}",
    "completeTime 1e20": body(completeTime=1e20),
    "completeTime Infinity": lambda w: json.dumps(kie_body(w, completeTime=float("inf"))).encode(),
    "completeTime past 64 bits": body(completeTime=2**70),
    "resultJson nested deep": body(resultJson=DEEP),
    "not JSON": raw("not json"),
    "invalid UTF-8": raw(b"\xff\xfe{"),
    "a NUL byte": raw('{"code":200,"data":{"taskId":"\x00"}}'),
    "empty": raw(""),
    "null": raw("null"),
    "a list": raw("[1,2]"),
    "a number past 64 bits": raw("9" * 4000),
    "data a list": raw('{"code":200,"data":[1]}'),
    "data a string": raw('{"code":200,"data":"x"}'),
    "taskId an object": raw('{"code":200,"data":{"taskId":{"a":1}}}'),
    "taskId past 64 bits": raw('{"code":200,"data":{"taskId":' + "9" * 30 + "}}"),
    "another task": body(taskId="task_someone_else"),
    "a huge task id": body(taskId="t" * 200_000),
}
# Odd but readable: a callback is only a hint (the job is then polled with our key), so
# these may be taken like a good one; they must not be a 500.
HINTS = {
    "completeTime NaN": lambda w: json.dumps(kie_body(w, completeTime=float("nan"))).encode(),
    "completeTime -1e20": body(completeTime=-1e20),
    "completeTime a string": body(completeTime="soon"),
    "resultJson a list nested 900 deep": body(resultJson="[" * 900 + "]" * 900),
    "state a list": body(state=["success"]),
    "an unknown state": body(state="thinking"),
    "a state of NUL bytes": body(state="\x00" * 10),
}


@pytest.mark.parametrize("label", list(HINTS))
def test_an_odd_callback_body_is_at_most_a_hint(world, media, running_job, label):
    client = Client(raise_request_exception=False)
    url = reverse("jobs:callback", args=[running_job.pk, running_job.callback_secret])
    payload = HINTS[label](world)
    problems = attempt(world, media, lambda: client.post(url, payload,
                       content_type="application/json"), rows_may_change=True)  # fmt: skip
    assert not problems


@pytest.fixture
def running_job(world):
    Job.objects.filter(pk=world.job.pk).update(state=Job.State.RUNNING, finished_at=None)
    return world.job


@pytest.mark.parametrize("label", list(CALLBACKS))
def test_a_bad_callback_body_is_refused_and_writes_nothing(world, media, running_job, label):
    client = Client(raise_request_exception=False)
    url = reverse("jobs:callback", args=[running_job.pk, running_job.callback_secret])
    payload = CALLBACKS[label](world)
    response = None

    def request():
        nonlocal response
        response = client.post(url, payload, content_type="application/json")
        return response

    problems = attempt(world, media, request)
    if response.status_code not in (400, 413):  # 413: past the size a callback may have
        problems.append(f"answered {response.status_code}, not 400")
    assert not problems, f"{label}: {problems}"


def test_a_good_callback_is_heard(world, media, running_job):
    # The baseline of the callback sweep: the same URL and shape, readable, is taken.
    client = Client(raise_request_exception=False)
    url = reverse("jobs:callback", args=[running_job.pk, running_job.callback_secret])
    before = row_counts()
    response = client.post(url, body(completeTime=1_764_000_000_000)(world),
                           content_type="application/json")  # fmt: skip
    assert response.status_code == 200
    assert row_counts() != before


# ---- A refused request stores nothing, uploads included. ------------------------------


@pytest.fixture
def upload():
    return lambda: SimpleUploadedFile("ref.png", png_bytes(), content_type="image/png")


def test_an_upload_over_quota_is_not_stored(world, media, upload):
    Quota.objects.create(user=world.owner, monthly_usd="0.01")
    client = signed_in(world, "owner")
    data = {**generate_data(world), "reference_files": upload()}
    assert not attempt(world, media, lambda: client.post(reverse("studio:generate"), data))


def test_an_upload_on_a_double_submit_is_not_stored_twice(world, media, upload):
    client = signed_in(world, "owner")
    data = generate_data(world)
    assert client.post(reverse("studio:generate"), {**data, "reference_files": upload()})
    again = {**data, "reference_files": upload()}
    assert not attempt(world, media, lambda: client.post(reverse("studio:generate"), again))


def test_an_upload_with_a_bad_field_is_not_stored(world, media, upload):
    client = signed_in(world, "owner")
    for bad in ({"count": "99999999999999999999"}, {"prompt": "\x00"}, {"seed": "NaN"}):
        data = {**generate_data(world), **bad, "reference_files": upload()}
        assert not attempt(world, media, lambda d=data: client.post(reverse("studio:generate"), d))


def test_a_broken_upload_is_refused(world, media):
    client = signed_in(world, "owner")
    for content in (b"", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, b"GIF89a" + b"\x00" * 50):
        bad = SimpleUploadedFile("ref.png", content, content_type="image/png")
        data = {**generate_data(world), "reference_files": bad}
        assert not attempt(world, media, lambda d=data: client.post(reverse("studio:generate"), d))


# ---- The API: whatever arrives in the Authorization header is a 401, never a 500. --------

ODD_AUTHORIZATIONS = [
    "Bearer", "Bearer ", "Bearer " + HUGE, "Bearer \x00", "Bearer f2w_" + "\u00e9" * 43,
    "Bearer f2w_" + "A" * 43 + "\x00", "bearer  f2w_", "Token abc", "Basic !!!", "\u202e",
    "Bearer " + "f2w_" + "A" * 10_000,
]  # fmt: skip


@pytest.mark.parametrize("path", ["/v1/models", "/v1/images/generations", "/v1/" + "x" * 5000])
def test_an_odd_authorization_header_is_a_401(world, media, path):
    client = Client(raise_request_exception=False)
    failures = []
    for value in ODD_AUTHORIZATIONS:
        for method in ("get", "post"):
            response = None

            def request(value=value, method=method):
                nonlocal response
                body = {"data": DEEP, "content_type": "application/json"}
                body = body if method == "post" else {}
                response = getattr(client, method)(path, HTTP_AUTHORIZATION=value, **body)
                return response

            problems = attempt(world, media, request)
            if response.status_code != 401:
                problems.append(f"answered {response.status_code}")
            elif set(json.loads(response.content)["error"]) != {"message", "type", "param", "code"}:
                problems.append("not OpenAI's error shape")
            failures += [f"{method} {shown(value)}: {p}" for p in problems]
    assert not failures, "; ".join(failures[:12])
