"""Member actions (link, deactivate, reactivate, admin role) never reach an account with
more power than the one acting, nor lock someone out of their own account."""

import re

import pytest

from tests.helpers import PASSWORD

pytestmark = pytest.mark.django_db
ACTIONS = ["link", "deactivate", "activate", "make-admin", "unmake-admin"]


@pytest.fixture
def admin(django_user_model):
    return django_user_model.objects.create_user("ada", password=PASSWORD, is_team_admin=True)


@pytest.fixture
def root(django_user_model):
    return django_user_model.objects.create_superuser("root", password=PASSWORD)


def snapshot(user):
    user.refresh_from_db()
    return (user.is_active, user.is_team_admin, user.is_staff, user.is_superuser, user.password)


@pytest.mark.parametrize("action", ACTIONS)
def test_a_team_admin_cannot_act_on_a_superuser(client, admin, root, action):
    before = snapshot(root)
    client.force_login(admin)
    response = client.post(f"/team/{root.pk}/{action}")
    assert response.status_code == 403
    html = response.content.decode()
    assert "more rights than your own" in html
    assert "/accounts/set-password/" not in html
    assert snapshot(root) == before


@pytest.mark.parametrize("action", ACTIONS)
def test_a_team_admin_cannot_act_on_staff(client, admin, staff, action):
    before = snapshot(staff)
    client.force_login(admin)
    response = client.post(f"/team/{staff.pk}/{action}")
    assert response.status_code == 403
    assert "/accounts/set-password/" not in response.content.decode()
    assert snapshot(staff) == before


def test_a_set_password_link_for_a_superuser_is_never_handed_to_a_team_admin(client, admin, root):
    client.force_login(admin)
    html = client.post(f"/team/{root.pk}/link").content.decode()
    link = re.search(r'value="http://testserver(/accounts/set-password/[^"]+)"', html)
    if link:  # what the takeover did: follow it and choose a password
        form = client.get(link[1], follow=True)
        new = {"new_password1": "taken over 12345", "new_password2": "taken over 12345"}
        client.post(form.redirect_chain[-1][0], new)
    client.logout()
    assert not client.login(username="root", password="taken over 12345")
    assert client.login(username="root", password=PASSWORD)


def test_the_member_page_of_a_superuser_offers_a_team_admin_no_account_actions(client, admin, root):
    client.force_login(admin)
    response = client.get(f"/team/{root.pk}/")
    html = response.content.decode()
    assert response.status_code == 200 and "<h1>root" in html
    for action in ACTIONS:
        assert f'action="/team/{root.pk}/{action}"' not in html
    assert "more rights than your own" in html


def test_a_superuser_may_act_on_staff_and_team_admins(client, root, admin, staff):
    client.force_login(root)
    response = client.post(f"/team/{staff.pk}/link")
    assert response.status_code == 200 and "/accounts/set-password/" in response.content.decode()
    client.post(f"/team/{admin.pk}/deactivate")
    admin.refresh_from_db()
    assert not admin.is_active
    html = client.get(f"/team/{staff.pk}/").content.decode()
    assert f'action="/team/{staff.pk}/deactivate"' in html


def test_a_team_admin_still_runs_ordinary_members(client, admin, owner):
    client.force_login(admin)
    html = client.get(f"/team/{owner.pk}/").content.decode()
    assert f'action="/team/{owner.pk}/deactivate"' in html
    response = client.post(f"/team/{owner.pk}/link")
    assert "/accounts/set-password/" in response.content.decode()


@pytest.mark.parametrize("action", ["deactivate", "unmake-admin"])
def test_nobody_locks_themselves_out(client, root, admin, action):
    for person in (root, admin):
        before = snapshot(person)
        client.force_login(person)
        response = client.post(f"/team/{person.pk}/{action}", follow=True)
        assert "You cannot do that to your own account" in response.content.decode()
        assert snapshot(person) == before


def test_ones_own_member_page_offers_no_lock_out(client, admin):
    client.force_login(admin)
    html = client.get(f"/team/{admin.pk}/").content.decode()
    assert f'action="/team/{admin.pk}/deactivate"' not in html
    assert f'action="/team/{admin.pk}/unmake-admin"' not in html
