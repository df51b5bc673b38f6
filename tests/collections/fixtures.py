"""Fixtures of the collection and link tests: images with real files (and tell-tale
metadata), a collection of them, and users' signed-in clients. Both folders' conftest.py
take them from here, as a share link shows a collection."""

import pytest
from django.test import Client

from tests.collections.factories import make_collection, make_image


@pytest.fixture
def images(owner, media):
    return [make_image(owner, size=(96 + n, 64)) for n in range(3)]


@pytest.fixture
def collection(owner, images):
    return make_collection(owner, images)


@pytest.fixture
def as_owner(client, owner, media):
    client.force_login(owner)
    return client


@pytest.fixture
def as_teammate(teammate, media):
    client = Client()
    client.force_login(teammate)
    return client


@pytest.fixture
def as_outsider(outsider, media):
    client = Client()
    client.force_login(outsider)
    return client


@pytest.fixture(autouse=True)
def _providers(providers):
    """Jobs are made through the real service, which wants an enabled provider."""
    return providers
