"""Two tabs (or a double click) saving the same new thing at the same moment: both checked
before either writes. The second never meets a 500: it saves over the first, or is told
the name is taken."""

import contextlib
import threading

import pytest
from django.db import connections
from django.test import Client

from flux2web.billing.models import Quota
from flux2web.credentials.forms import ProviderForm
from flux2web.credentials.models import ProviderCredential
from tests.helpers import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def together(monkeypatch, model, posts, *, updates=False):
    """Send `posts` (callables) at once, each held just before it inserts its row (or, with
    `updates`, saves it) until all are there; their responses."""
    # On SQLite the first to write holds the database's lock while it waits here, so the
    # other cannot come: the wait ends after 2 s and they go one after the other.
    barrier = threading.Barrier(len(posts), timeout=2)
    save = model.save

    def held_save(self, *args, **kwargs):
        if self.pk is None or updates:
            # One that does not insert (it updates) leaves the other to go on alone.
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait()
        return save(self, *args, **kwargs)

    monkeypatch.setattr(model, "save", held_save)
    answers = [None] * len(posts)

    def run(n, post):
        try:
            answers[n] = post()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n, p)) for n, p in enumerate(posts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return answers


@pytest.fixture
def tabs(django_user_model):
    admin = django_user_model.objects.create_user("ada", password=PASSWORD, is_team_admin=True)
    clients = [Client(raise_request_exception=False) for _ in range(2)]
    for client in clients:
        client.force_login(admin)
    return clients


def test_a_members_own_limits_saved_in_two_tabs_are_one_row(monkeypatch, tabs, owner):
    url = f"/team/{owner.pk}/"
    answers = together(monkeypatch, Quota, [
        lambda c=c, usd=usd: c.post(url, {"monthly_usd": usd})
        for c, usd in zip(tabs, "57", strict=True)
    ])  # fmt: skip
    assert [a.status_code for a in answers] == [302, 302]
    (quota,) = Quota.objects.filter(user=owner)
    assert quota.monthly_usd in (5, 7)


def test_the_teams_default_limits_saved_in_two_tabs_are_one_row(monkeypatch, tabs):
    answers = together(monkeypatch, Quota, [
        lambda c=c, usd=usd: c.post("/team/quota", {"default-monthly_usd": usd})
        for c, usd in zip(tabs, "57", strict=True)
    ])  # fmt: skip
    assert [a.status_code for a in answers] == [302, 302]
    (quota,) = Quota.objects.filter(user=None)
    assert quota.monthly_usd in (5, 7)


def test_inviting_the_same_name_in_two_tabs_invites_one(monkeypatch, tabs, django_user_model):
    answers = together(monkeypatch, django_user_model, [
        lambda c=c: c.post("/team/invite", {"username": "newbie"}) for c in tabs
    ])  # fmt: skip
    pages = sorted(a.content.decode() for a in answers if a.status_code == 200)
    assert len(pages) == 2
    assert sum("Invited newbie." in page for page in pages) == 1
    assert sum("&#x27;newbie&#x27; is taken" in page for page in pages) == 1
    assert django_user_model.objects.filter(username="newbie").count() == 1


def test_adding_the_same_provider_in_two_tabs_adds_one(monkeypatch, tabs, sandbox):
    data = {"name": "Apixo", "dialect": "apixo", "base_url": sandbox.base_url("apixo"),
            "priority": "20", "enabled": "on", "api_key": "sk-test-123456"}  # fmt: skip
    answers = together(monkeypatch, ProviderCredential, [
        lambda c=c: c.post("/providers/add", data) for c in tabs
    ])  # fmt: skip
    assert sorted(a.status_code for a in answers) == [200, 302]
    refused = next(a for a in answers if a.status_code == 200).content.decode()
    assert "A provider named &#x27;Apixo&#x27; exists already." in refused
    assert ProviderCredential.objects.filter(name="Apixo").count() == 1


def edit_data(credential, **changes):
    """The provider's edit form as its page fills it, with `changes`."""
    form = ProviderForm(instance=credential)
    data = {name: form[name].value() for name in form.fields if name != "dialect"}
    data = {k: v for k, v in data.items() if v not in (None, False, "")}
    return {**data, "enabled": "on", **changes}


def test_renaming_two_providers_to_one_name_in_two_tabs_renames_one(monkeypatch, tabs, providers):
    pairs = zip(tabs, (providers["Apixo"], providers["APIMart"]), strict=True)
    answers = together(monkeypatch, ProviderCredential, [
        lambda c=c, p=p: c.post(f"/providers/{p.pk}/", edit_data(p, name="Renamed"))
        for c, p in pairs
    ], updates=True)  # fmt: skip
    assert sorted(a.status_code for a in answers) == [200, 302]
    refused = next(a for a in answers if a.status_code == 200).content.decode()
    assert "A provider named &#x27;Renamed&#x27; exists already." in refused
    assert ProviderCredential.objects.filter(name="Renamed").count() == 1
