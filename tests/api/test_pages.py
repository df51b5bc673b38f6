"""The API tokens page: make a token (shown once), see one's tokens, revoke them; admins
see and revoke everyone's, also from a member's Team page; deactivation revokes for good."""

import re

import pytest

from flux2web.accounts import api_tokens
from flux2web.accounts.models import ApiToken

pytestmark = pytest.mark.django_db
TOKEN = re.compile(r"f2w_[A-Za-z0-9_-]{43}")


def created(client, **data):
    return client.post("/api-tokens/new", {"name": "laptop", "days": "", **data})


def test_the_account_menu_leads_to_the_api_tokens_page(client, owner):
    client.force_login(owner)
    html = client.get("/").content.decode()
    assert 'href="/api-tokens/"' in html
    page = client.get("/api-tokens/")
    assert page.status_code == 200
    assert "You have no API tokens yet" in page.content.decode()


def test_a_new_token_is_shown_once_on_the_answer_and_never_again(client, owner):
    client.force_login(owner)
    response = created(client, name="laptop", days="30")
    assert response.status_code == 200  # an answer page, not a redirect carrying it
    html = response.content.decode()
    (raw,) = set(TOKEN.findall(html))
    assert "will not be shown again" in html
    assert "no-store" in response["Cache-Control"]
    token = api_tokens.authenticate(raw)
    assert token.owner == owner and token.name == "laptop"
    assert token.expires_at is not None
    again = client.get("/api-tokens/").content.decode()
    assert raw not in again and not TOKEN.search(again)
    assert "laptop" in again and token.prefix in again


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"name": ""}, "This field is required"),
        ({"name": "x" * 81}, "at most 80"),
        ({"days": "0"}, "greater than or equal to 1"),
        ({"days": "3651"}, "less than or equal to 3650"),
        ({"days": "soon"}, "Enter a whole number"),
    ],
)
def test_bad_input_is_refused_with_a_message(client, owner, data, words):
    client.force_login(owner)
    response = created(client, **data)
    assert response.status_code == 400
    assert words in response.content.decode()
    assert not ApiToken.objects.exists()


def test_a_name_already_in_use_is_refused(client, owner, make_token):
    make_token(owner, "laptop")
    client.force_login(owner)
    response = created(client, name="laptop")
    assert response.status_code == 400
    assert "already have a token named" in response.content.decode()
    assert ApiToken.objects.count() == 1


def test_the_list_shows_created_last_used_expiry_and_status(client, owner, make_token):
    token, raw = make_token(owner, "ci", days=7)
    make_token(owner, "old")
    ApiToken.objects.filter(name="old").revoke()
    api_tokens.authenticate(raw)
    client.force_login(owner)
    html = client.get("/api-tokens/").content.decode()
    row = html[html.index(f'data-token="{token.pk}"') :][:2000]
    assert "active" in row and "just now" in row
    assert token.expires_at.strftime("%Y-%m-%d") in row
    assert "revoked" in html


def test_the_owner_revokes_a_token_at_once(client, owner, make_token):
    token, raw = make_token(owner)
    client.force_login(owner)
    response = client.post(f"/api-tokens/{token.pk}/revoke")
    assert response.status_code == 302 and response["Location"] == "/api-tokens/"
    assert api_tokens.authenticate(raw) is None
    assert "revoked" in client.get("/api-tokens/").content.decode()


def test_nobody_else_may_revoke_or_even_see_it(client, owner, outsider, make_token):
    token, raw = make_token(owner)
    client.force_login(outsider)
    assert client.post(f"/api-tokens/{token.pk}/revoke").status_code == 404
    assert client.get(f"/api-tokens/{token.pk}/revoke").status_code == 405
    assert "my-script-token" not in client.get("/api-tokens/").content.decode()
    assert api_tokens.authenticate(raw) == token


def test_an_admin_sees_and_revokes_everyones_tokens(client, owner, admin, outsider, make_token):
    token, raw = make_token(owner, "owner's script")
    client.force_login(outsider)
    assert client.get("/api-tokens/all/").status_code == 403
    client.force_login(admin)
    html = client.get("/api-tokens/all/").content.decode()
    assert "owner&#x27;s script" in html and owner.username in html
    response = client.post(f"/api-tokens/{token.pk}/revoke", {"next": "/api-tokens/all/"})
    assert response["Location"] == "/api-tokens/all/"
    assert api_tokens.authenticate(raw) is None


def test_an_admin_revokes_a_members_token_from_their_team_page(client, owner, admin, make_token):
    token, raw = make_token(owner, "build server")
    client.force_login(admin)
    page = client.get(f"/team/{owner.pk}/").content.decode()
    assert "build server" in page
    assert f'action="/api-tokens/{token.pk}/revoke"' in page
    response = client.post(f"/api-tokens/{token.pk}/revoke", {"next": f"/team/{owner.pk}/"})
    assert response["Location"] == f"/team/{owner.pk}/"
    assert api_tokens.authenticate(raw) is None


def test_deactivating_a_member_revokes_their_tokens_for_good(client, owner, admin, make_token):
    _, raw = make_token(owner, "a")
    _, raw2 = make_token(owner, "b", days=3)
    client.force_login(admin)
    client.post(f"/team/{owner.pk}/deactivate")
    assert ApiToken.objects.for_user(owner).active().count() == 0
    client.post(f"/team/{owner.pk}/activate")
    owner.refresh_from_db()
    assert owner.is_active
    assert api_tokens.authenticate(raw) is None and api_tokens.authenticate(raw2) is None


def test_switching_a_member_off_in_django_admin_revokes_their_tokens_too(
    client, owner, make_token, django_user_model
):
    _, raw = make_token(owner, "a")
    root = django_user_model.objects.create_superuser("root", password="x-Very-long-1")
    client.force_login(root)
    page = client.get(f"/admin/accounts/user/{owner.pk}/change/")
    form = page.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if isinstance(value, list | tuple):
            data[name] = [str(v) for v in value]
        elif hasattr(value, "strftime"):  # split into date and time, as the admin shows it
            data[f"{name}_0"], data[f"{name}_1"] = f"{value:%Y-%m-%d}", f"{value:%H:%M:%S}"
        elif value is not None and value is not False:
            data[name] = value
    data.pop("is_active", None)  # unticked
    response = client.post(f"/admin/accounts/user/{owner.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    owner.refresh_from_db()
    assert not owner.is_active
    assert ApiToken.objects.for_user(owner).active().count() == 0  # for good: not only
    owner.is_active = True  # refused while they are away, but revoked
    owner.save()
    assert api_tokens.authenticate(raw) is None
