"""A redirect answered to HTMX becomes HX-Location: htmx fetches the next page and swaps
it in with its address pushed (no full reload, as radiofeed does); to the sign-in page, a
page of its own, it stays a full load; a plain request still gets the 302."""

import json

import pytest

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


def test_an_htmx_poll_after_the_session_ended_loads_the_sign_in_page_whole(client):
    response = client.get("/updates", headers=HX)
    assert response.status_code == 200 and "HX-Location" not in response
    assert response["HX-Redirect"].startswith("/accounts/login/?next=/updates")


def test_after_signing_in_again_the_person_returns_to_the_page_they_were_on(client):
    current = "http://testserver/gallery/?q=heron"
    response = client.get("/updates", headers={**HX, "HX-Current-URL": current})
    assert response["HX-Redirect"] == "/accounts/login/?next=%2Fgallery%2F%3Fq%3Dheron"
    # A page on another site is never where it sends them.
    elsewhere = client.get("/updates", headers={**HX, "HX-Current-URL": "https://evil.test/x"})
    assert elsewhere["HX-Redirect"].startswith("/accounts/login/?next=/updates")


def test_a_plain_request_is_still_redirected(client):
    response = client.get("/updates")
    assert response.status_code == 302 and "HX-Location" not in response


def test_an_htmx_action_that_redirects_keeps_the_cookie_it_set(client, owner, providers):
    client.force_login(owner)
    response = client.post("/settings/theme", {"theme": "dark", "next": "/gallery/"}, headers=HX)
    assert json.loads(response["HX-Location"])["path"] == "/gallery/"
    assert 'class="theme-dark"' in client.get("/gallery/", headers=HX).content.decode()
