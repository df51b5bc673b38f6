"""A canary key: a provider that echoes the key it refuses ("Invalid API key provided:
<key>") never gets it into the database (outside its encrypted column), a page, a log line or
a task payload. The key goes in through the providers form, jobs go out through the real
submit code over loopback to the sandbox, and the admin presses "Test connection"."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.urls import reverse
from django_q.brokers import get_broker
from django_q.models import OrmQ

from flux2web.collections.services import collection_create
from flux2web.credentials import health
from flux2web.credentials.models import ProviderCredential
from flux2web.jobs import queue as job_queue
from flux2web.jobs import services
from flux2web.jobs.models import Job

pytestmark = pytest.mark.django_db

# Where the key may be, encrypted: nowhere else.
ENCRYPTED = {(ProviderCredential._meta.db_table, "api_key_encrypted")}


@dataclass
class Trail:
    canary: str
    rows: list[str]  # "table.column: value" for every value in the database
    pages: dict[str, str]
    logs: str
    payloads: list[str]


def database_dump() -> list[str]:
    rows = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            columns = [c[0] for c in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if (table, column) not in ENCRYPTED and value is not None:
                        rows.append(f"{table}.{column}: {value}")
    # Sessions are signed and encoded; look inside them too.
    rows += [f"session: {s.get_decoded()}" for s in Session.objects.all()]
    return rows


def signed_in(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def generate(client, prompt, **extra):
    data = {"prompt": prompt, "model": "pro", "provider": "", "aspect_ratio": "1:1",
            "resolution": "1K", "count": 1, "idempotency_key": uuid.uuid4().hex,
            **extra}  # fmt: skip
    assert client.post(reverse("studio:generate"), data).status_code == 302


def submit_until_final(job: Job, credential: ProviderCredential):
    """The real submit code, round after round, the admin switching the provider back on."""
    for _ in range(services.SUBMIT_ROUNDS):
        health.enable(ProviderCredential.objects.get(pk=credential.pk))
        Job.objects.filter(pk=job.pk).update(next_attempt_at=None)
        services.submit_job(job_id=job.pk)
        if Job.objects.get(pk=job.pk).is_final:
            return


@pytest.fixture
def trail(owner, team_admin, sandbox, media, caplog, monkeypatch,
          django_capture_on_commit_callbacks) -> Trail:  # fmt: skip
    canary = f"canary-{uuid.uuid4()}"
    # The sandbox takes the key, then refuses it, echoing it back, on every call.
    monkeypatch.setattr(sandbox.config, "api_keys", sandbox.config.api_keys | {canary})
    sandbox.inject("401_echo", dialect="kie", on="any", times=1000)
    # Tasks left in a shared broker (Redis) by earlier runs would fill the dispatch window,
    # and this test's jobs would never be enqueued: start from an empty queue.
    get_broker().purge_queue()
    payloads = []
    real_async_task = job_queue.async_task

    def spy(*args, **kwargs):
        payloads.append(repr((args, kwargs)))
        return real_async_task(*args, **kwargs)

    monkeypatch.setattr(job_queue, "async_task", spy)
    for name in ("", "httpx", "httpcore", "django-q", "django"):  # quieter ones too
        caplog.set_level(logging.DEBUG, logger=name)

    admin = signed_in(team_admin)
    added = admin.post(reverse("credentials:add"), {
        "name": "KIE.ai", "dialect": "kie", "base_url": sandbox.base_url("kie"),
        "priority": 10, "enabled": "on", "api_key": canary,
    })  # fmt: skip
    assert added.status_code == 302, added.content.decode()[:2000]
    credential = ProviderCredential.objects.get(name="KIE.ai")
    member = signed_in(owner)
    collection = collection_create(owner=owner, title="Canary lights")
    with django_capture_on_commit_callbacks(execute=True):
        generate(member, "a lighthouse for the canary", collection=collection.pk)
        generate(admin, "an owl for the canary")
    for job in Job.objects.order_by("pk"):
        submit_until_final(job, credential)
    tested = admin.post(reverse("credentials:test", args=[credential.pk]), follow=True)

    mine = Job.objects.get(owner=owner)
    theirs = Job.objects.get(owner=team_admin)
    pages = {"test connection answer": tested.content.decode()}
    for label, client, url in [
        ("job page (member)", member, reverse("studio:job", args=[mine.pk])),
        ("studio (member)", member, reverse("studio:home")),
        ("usage (member)", member, reverse("team:usage")),
        ("job page (admin)", admin, reverse("studio:job", args=[theirs.pk])),
        ("providers page", admin, reverse("credentials:index")),
        ("provider's page", admin, reverse("credentials:edit", args=[credential.pk])),
        ("team usage", admin, reverse("team:dashboard")),
        ("member page", admin, reverse("team:member", args=[owner.pk])),
        ("collections (member)", member, reverse("sharing:collections")),
        ("collection (member)", member, reverse("sharing:collection", args=[collection.pk])),
        (
            "sharing panel (member)",
            member,
            reverse("share:collection_sharing", args=[collection.pk]),
        ),
        ("team gallery (member)", member, reverse("sharing:team_gallery")),
        ("image settings (member)", member, reverse("sharing:image_settings")),
        ("share links (member)", member, reverse("share:mine")),
        ("gallery (admin)", admin, reverse("gallery:index")),
        ("team policy", admin, reverse("sharing:team_policy")),
        ("team's share links", admin, reverse("share:team_links")),
    ]:
        response = client.get(url)
        assert response.status_code == 200, label
        pages[label] = response.content.decode()
    payloads += [repr(q.task) for q in OrmQ.objects.all()]
    logs = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    return Trail(canary, database_dump(), pages, logs, payloads)


def test_the_canary_reached_the_provider_and_was_echoed(trail, sandbox):
    # Guards the tests below: without this they could pass by never using the key.
    assert sandbox.snapshot().get("create_requests:kie", 0) >= 2
    assert any(trail.canary[-4:] in row for row in trail.rows)  # its last four, shown on purpose
    assert any("auth" in row for row in trail.rows if "error_class" in row)


def test_an_echoed_key_never_lands_in_the_database(trail):
    leaks = [row[:200] for row in trail.rows if trail.canary in row]
    assert not leaks


def test_an_echoed_key_never_appears_on_a_page(trail):
    assert not [label for label, html in trail.pages.items() if trail.canary in html]


def test_an_echoed_key_never_appears_in_a_log_line(trail):
    assert trail.canary not in trail.logs


def test_an_echoed_key_never_appears_in_a_task_payload(trail):
    assert trail.payloads, "no task was enqueued: the test would prove nothing"
    assert not [p for p in trail.payloads if trail.canary in p]
