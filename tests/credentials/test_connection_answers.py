"""Test connection says what an answer means: a 404 from the address is a wrong base URL,
not a key that works."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["APIMart", "LiangXin", "Apixo", "KIE.ai"])
def test_a_wrong_base_url_is_said_to_be_wrong_not_a_key_accepted(
    admin_client, providers, sandbox, name
):
    credential = providers[name]
    credential.base_url = sandbox.url + "/no-such-api/"
    credential.save()
    page = admin_client.post(f"/providers/{credential.pk}/test", follow=True).content.decode()
    assert "accepted the key" not in page
    assert "base URL" in page and "404" in page
    # The right host, a wrong path under it.
    credential.base_url = sandbox.base_url(credential.dialect if name != "KIE.ai" else "kie")
    credential.base_url = credential.base_url.rstrip("/") + "/v9/"
    credential.save()
    page = admin_client.post(f"/providers/{credential.pk}/test", follow=True).content.decode()
    assert "accepted the key" not in page
    assert "base URL" in page and "404" in page


@pytest.mark.parametrize("name", ["APIMart", "LiangXin", "Apixo", "KIE.ai"])
def test_the_right_base_url_still_says_the_key_was_accepted(admin_client, providers, sandbox, name):
    credential = providers[name]
    page = admin_client.post(f"/providers/{credential.pk}/test", follow=True).content.decode()
    assert f"{name} accepted the key" in page
    assert "HTTP 404" not in page
