"""In Django admin the key is write-only: typed in, never shown again."""

import pytest

from flux2web.credentials.models import ProviderCredential
from flux2web.credentials.services import add_credential

pytestmark = pytest.mark.django_db
KEY = "admin-typed-key-4321"


def test_staff_add_a_credential_and_the_key_never_comes_back(client, staff, settings):
    staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    response = client.post(
        "/admin/credentials/providercredential/add/",
        {"name": "Apixo", "dialect": "apixo", "base_url": "https://api.apixo.ai",
         "priority": "10", "enabled": "on", "api_key": KEY, "hmac_key": ""},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    credential = ProviderCredential.objects.get(name="Apixo")
    assert credential.api_key() == KEY

    change = client.get(f"/admin/credentials/providercredential/{credential.pk}/change/")
    listing = client.get("/admin/credentials/providercredential/")
    for page in (change, listing):
        html = page.content.decode()
        assert KEY not in html
        assert "…4321" in html


def test_saving_without_a_new_key_keeps_the_old_one(client, staff):
    staff.is_superuser = True
    staff.save()
    credential = add_credential(name="K", dialect="kie", base_url="https://api.kie.ai", api_key=KEY)
    client.force_login(staff)
    client.post(
        f"/admin/credentials/providercredential/{credential.pk}/change/",
        {"name": "K", "dialect": "kie", "base_url": "https://api.kie.ai", "priority": "3",
         "api_key": "", "hmac_key": ""},
    )  # fmt: skip
    credential.refresh_from_db()
    assert credential.priority == 3
    assert credential.api_key() == KEY


def test_switching_a_provider_back_on_in_admin_forgets_why_it_was_switched_off(client, staff):
    # The admin, the provider page and the command line share one write path: switched
    # on anywhere, the health policy's reason and cooldown go, as "Switch on" does.
    staff.is_superuser = True
    staff.save()
    credential = add_credential(name="K", dialect="kie", base_url="https://api.kie.ai", api_key=KEY)
    switched_off = ProviderCredential.objects.filter(pk=credential.pk)
    switched_off.update(enabled=False, disabled_reason="credits")
    client.force_login(staff)
    client.post(
        f"/admin/credentials/providercredential/{credential.pk}/change/",
        {"name": "K", "dialect": "kie", "base_url": "https://api.kie.ai", "priority": "3",
         "enabled": "on", "api_key": "", "hmac_key": ""},
    )  # fmt: skip
    credential.refresh_from_db()
    assert credential.enabled and credential.disabled_reason == ""
    assert credential.api_key() == KEY
