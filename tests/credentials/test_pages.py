"""Provider administration in the app: health, add, edit prices and models, test; the
key is write-only and never appears in a page or a log."""

import logging
from decimal import Decimal

import pytest

from flux2web.credentials.models import CredentialError, ProviderCredential
from flux2web.jobs import services
from flux2web.jobs.models import Job
from tests.helpers import PASSWORD
from tests.jobs.factories import make_jobs

pytestmark = pytest.mark.django_db
SECRET = "sk-live-THIS-MUST-NEVER-LEAK-4242"


@pytest.fixture
def admin_client(client, django_user_model):
    admin = django_user_model.objects.create_user("ada", password=PASSWORD, is_team_admin=True)
    client.force_login(admin)
    return client


def add(admin_client, sandbox, **overrides):
    data = {"name": "Reseller", "dialect": "kie", "base_url": sandbox.base_url("kie"),
            "priority": "5", "enabled": "on", "api_key": "sandbox-key"}  # fmt: skip
    data.update(overrides)
    return admin_client.post("/providers/add", data)


def test_adding_a_provider_keeps_the_key_write_only(admin_client, sandbox):
    response = add(admin_client, sandbox, api_key="sandbox-key-9876")
    credential = ProviderCredential.objects.get(name="Reseller")
    assert response.status_code == 302
    assert credential.api_key() == "sandbox-key-9876" and credential.api_key_last4 == "9876"
    page = admin_client.get(f"/providers/{credential.pk}/").content.decode()
    assert "sandbox-key-9876" not in page and "…9876" in page
    assert "sandbox-key-9876" not in admin_client.get("/providers/").content.decode()


def test_bad_provider_input_is_explained_and_adds_nothing(admin_client, sandbox, providers):
    html = add(admin_client, sandbox, name="KIE.ai", base_url="ftp://x", api_key="has space",
               priority="-1").content.decode()  # fmt: skip
    assert "exists already" in html and "must start with http:// or https://" in html
    assert "contains spaces or line breaks" in html
    assert "greater than or equal to 0" in html
    assert not ProviderCredential.objects.filter(name="Reseller").exists()
    html = add(admin_client, sandbox, api_key="").content.decode()
    assert "This field is required." in html


def test_editing_prices_and_models_changes_routing_and_reservations(admin_client, providers, owner):
    apixo = providers["Apixo"]
    data = {"name": "Apixo", "base_url": apixo.base_url, "priority": "1", "enabled": "on",
            "models_offered": ["pro"], "price__pro__1K": "0.04", "price__pro__2K": "0.08",
            "price__flex__1K": "0.09", "price__flex__2K": "0.13"}  # fmt: skip
    assert admin_client.post(f"/providers/{apixo.pk}/", data).status_code == 302
    apixo.refresh_from_db()
    assert apixo.prices == {"pro": {"1K": "0.04"}} and apixo.models_offered == ["pro"]
    assert apixo.api_key() == "sandbox-key"  # an empty key field keeps the key
    (job,) = make_jobs(owner, provider=apixo, resolution="1K", aspect_ratio="1:1")
    assert job.price == Decimal("0.04")
    with pytest.raises(services.JobRefused, match="not offered by Apixo"):
        make_jobs(owner, provider=apixo, model="flex", prompt="flex here")


def test_a_provider_must_offer_a_model(admin_client, providers):
    apixo = providers["Apixo"]
    html = admin_client.post(f"/providers/{apixo.pk}/", {
        "name": "Apixo", "base_url": apixo.base_url, "priority": "1", "enabled": "on",
    }).content.decode()  # fmt: skip
    assert "Offer at least one model" in html


def test_test_connection_reports_the_answer(admin_client, providers, sandbox):
    kie = providers["KIE.ai"]
    ok = admin_client.post(f"/providers/{kie.pk}/test", follow=True).content.decode()
    assert "KIE.ai accepted the key" in ok
    kie.set_api_key("wrong-key")
    kie.save()
    bad = admin_client.post(f"/providers/{kie.pk}/test", follow=True).content.decode()
    assert "KIE.ai refused the key" in bad
    assert admin_client.get(f"/providers/{kie.pk}/test").status_code == 405


def test_the_list_shows_health(admin_client, providers, owner, sandbox):
    sandbox.inject("500", dialect="liangxin")
    (job,) = make_jobs(owner, aspect_ratio="1:1")
    services.submit_job(job_id=job.pk)
    html = admin_client.get("/providers/").content.decode()
    block = html.split('data-provider="LiangXin"')[1].split("</article>")[0]
    assert "provider_error × 1" in block
    kie_block = html.split('data-provider="KIE.ai"')[1].split("</article>")[0]
    assert "Jobs in flight</dt><dd>1" in kie_block
    assert CredentialError.objects.count() == 1


def test_switching_a_provider_off_and_on(admin_client, providers):
    kie = providers["KIE.ai"]
    admin_client.post(f"/providers/{kie.pk}/off")
    kie.refresh_from_db()
    assert not kie.enabled
    admin_client.post(f"/providers/{kie.pk}/on")
    kie.refresh_from_db()
    assert kie.enabled
    assert admin_client.post("/providers/99999/on").status_code == 404


def test_no_key_in_any_page_or_log(client, admin_client, owner, sandbox, caplog, media):
    """Add a provider through the page with a distinctive key, use it, break it, and look
    everywhere a person or an operator would."""
    caplog.set_level(logging.DEBUG)
    sandbox.inject("401", dialect="kie")
    add(admin_client, sandbox, api_key=SECRET)
    credential = ProviderCredential.objects.get(name="Reseller")
    (job,) = make_jobs(owner, provider=credential, aspect_ratio="1:1")
    services.submit_job(job_id=job.pk)
    admin_client.post(f"/providers/{credential.pk}/test")
    pages = ["/", "/providers/", f"/providers/{credential.pk}/", "/team/", "/team/usage/",
             "/usage/", "/team/usage.csv", f"/jobs/{job.pk}/"]  # fmt: skip
    seen = "".join(admin_client.get(url).content.decode() for url in pages[:-1])
    client.force_login(owner)
    seen += client.get(pages[-1]).content.decode() + client.get("/").content.decode()
    seen += "".join(e.message for e in Job.objects.get().events.all())
    assert SECRET not in seen and SECRET[-12:] not in seen
    assert SECRET not in caplog.text and "4242" in seen  # only the last four, as the hint


def test_switching_on_in_the_edit_form_clears_the_health_policys_marks(admin_client, providers):
    apixo = providers["Apixo"]
    ProviderCredential.objects.filter(pk=apixo.pk).update(enabled=False, disabled_reason="credits")
    data = {"name": "Apixo", "base_url": apixo.base_url, "priority": "1", "enabled": "on",
            "models_offered": ["pro", "flex"], "price__pro__1K": "0.05", "price__pro__2K": "0.08",
            "price__flex__1K": "0.09", "price__flex__2K": "0.13"}  # fmt: skip
    assert admin_client.post(f"/providers/{apixo.pk}/", data).status_code == 302
    apixo.refresh_from_db()
    assert (apixo.enabled, apixo.disabled_reason) == (True, "")


@pytest.mark.parametrize("priority", ["99999999999999999999", "-5", "1e3", "2147483648"])
def test_an_out_of_range_priority_is_a_field_error_and_adds_nothing(
    admin_client, sandbox, priority
):
    response = add(admin_client, sandbox, priority=priority)
    assert response.status_code == 200
    assert 'id="id_priority"' in response.content.decode()
    assert "Ensure this value is" in response.content.decode() or "whole number" in (
        response.content.decode()
    )
    assert not ProviderCredential.objects.filter(name="Reseller").exists()


def test_an_out_of_range_priority_on_the_edit_form_changes_nothing(admin_client, providers):
    apixo = providers["Apixo"]
    before = apixo.priority
    response = admin_client.post(f"/providers/{apixo.pk}/", {
        "name": "Apixo", "base_url": apixo.base_url, "priority": "99999999999999999999",
        "enabled": "on", "models_offered": ["pro", "flex"], "price__pro__1K": "0.04",
        "price__pro__2K": "0.08", "price__flex__1K": "0.09", "price__flex__2K": "0.13",
    })  # fmt: skip
    assert response.status_code == 200
    assert "Ensure this value is less than or equal to" in response.content.decode()
    apixo.refresh_from_db()
    assert apixo.priority == before
