"""Signing in and out, changing a password, and who may see which page."""

import pytest
from django.urls import reverse

from tests.helpers import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/", "/accounts/password/", "/accounts/password/done/"])
def test_anonymous_visitors_are_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


def test_the_sign_in_page_uses_the_apps_layout(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Sign in</h1>" in html
    assert "css/app.css" in html
    assert "django_htmx/htmx-2.min.js" in html
    assert 'autocomplete="current-password"' in html
    # Anonymous visitors get no account menu.
    assert "Sign out" not in html


def test_signing_in_lands_on_the_studio(client, owner):
    response = client.post(
        "/accounts/login/", {"username": "olivia", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain == [("/", 302)]
    html = response.content.decode()
    assert '<h1 id="compose-title">Studio</h1>' in html
    assert "olivia" in html
    assert "Sign out" in html


def test_signing_in_returns_to_the_page_asked_for(client, owner):
    response = client.post(
        "/accounts/login/?next=/accounts/password/",
        {"username": "olivia", "password": PASSWORD, "next": "/accounts/password/"},
    )
    assert response["Location"] == "/accounts/password/"


def test_it_does_not_redirect_off_site_after_sign_in(client, owner):
    response = client.post(
        "/accounts/login/",
        {"username": "olivia", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response["Location"] == "/"


def test_a_wrong_password_is_refused_with_a_message(client, owner):
    response = client.post("/accounts/login/", {"username": "olivia", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert client.get("/").status_code == 302


def test_an_inactive_user_cannot_sign_in(client, owner):
    owner.is_active = False
    owner.save()
    client.post("/accounts/login/", {"username": "olivia", "password": PASSWORD})
    assert client.get("/").status_code == 302


def test_signing_out_takes_a_post(client, owner):
    client.force_login(owner)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.get("/").status_code == 200

    response = client.post("/accounts/logout/")
    assert response["Location"] == reverse("accounts:login")
    assert client.get("/").status_code == 302


def test_a_signed_in_user_visiting_sign_in_goes_to_the_studio(client, owner):
    client.force_login(owner)
    response = client.get("/accounts/login/")
    assert response.status_code == 302
    assert response["Location"] == "/"


class TestPasswordChange:
    def test_it_changes_the_password(self, client, owner):
        client.force_login(owner)
        response = client.post(
            "/accounts/password/",
            {
                "old_password": PASSWORD,
                "new_password1": "a much newer passphrase",
                "new_password2": "a much newer passphrase",
            },
        )
        assert response["Location"] == "/accounts/password/done/"
        assert client.get("/accounts/password/done/").status_code == 200
        client.post("/accounts/logout/")
        assert client.login(username="olivia", password="a much newer passphrase")
        assert not client.login(username="olivia", password=PASSWORD)

    def test_a_wrong_old_password_changes_nothing(self, client, owner):
        client.force_login(owner)
        response = client.post(
            "/accounts/password/",
            {
                "old_password": "not it",
                "new_password1": "a much newer passphrase",
                "new_password2": "a much newer passphrase",
            },
        )
        assert response.status_code == 200
        assert "Your old password was entered incorrectly" in response.content.decode()
        owner.refresh_from_db()
        assert owner.check_password(PASSWORD)

    def test_a_weak_new_password_is_refused_beside_its_field(self, client, owner):
        client.force_login(owner)
        response = client.post(
            "/accounts/password/",
            {"old_password": PASSWORD, "new_password1": "12345", "new_password2": "12345"},
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert 'class="field has-error"' in html
        assert "This password is too short" in html
        owner.refresh_from_db()
        assert owner.check_password(PASSWORD)


class TestAdmin:
    def test_anonymous_visitors_are_sent_to_sign_in(self, client):
        response = client.get("/admin/")
        assert response.status_code == 302
        assert "login" in response["Location"]

    def test_members_are_kept_out(self, client, owner):
        client.force_login(owner)
        response = client.get("/admin/")
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
        assert client.get("/admin/accounts/user/").status_code == 302

    def test_staff_get_in(self, client, staff):
        client.force_login(staff)
        response = client.get("/admin/")
        assert response.status_code == 200
        assert "Flux2Web administration" in response.content.decode()

    def test_only_staff_see_the_administration_link(self, client, owner, staff):
        client.force_login(owner)
        assert "Administration" not in client.get("/").content.decode()
        client.force_login(staff)
        assert "Administration" in client.get("/").content.decode()
