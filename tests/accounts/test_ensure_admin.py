"""The first run creates an admin account whose password is printed once."""

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def run() -> str:
    out = StringIO()
    call_command("ensure_admin", stdout=out)
    return out.getvalue()


def test_it_creates_an_admin_whose_printed_password_signs_in(client):
    output = run()

    password = re.search(r"password: (\S+)", output).group(1)
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert client.login(username="admin", password=password)
    assert client.get("/admin/").status_code == 200


def test_it_does_nothing_once_an_admin_exists():
    first = run()
    second = run()
    assert "password:" in first
    assert second == ""
    assert get_user_model().objects.count() == 1


def test_each_install_gets_a_different_password(django_user_model):
    first = re.search(r"password: (\S+)", run()).group(1)
    django_user_model.objects.all().delete()
    second = re.search(r"password: (\S+)", run()).group(1)
    assert first != second
    assert len(first) >= 16
