"""Every page may answer HTMX with a part of itself, so every answer says it varies on
HX-Request (set once, in middleware), or a shared cache could hand a partial to a browser."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/usage/", "/gallery/", "/collections/", "/nowhere/"])
def test_every_answer_varies_on_hx_request(client, owner, path):
    client.force_login(owner)
    response = client.get(path)
    assert "HX-Request" in response["Vary"], (path, response.status_code)


def test_a_sign_in_redirect_varies_on_hx_request_too(client):
    response = client.get("/gallery/")
    assert response.status_code == 302 and "HX-Request" in response["Vary"]
