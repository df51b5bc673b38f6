import pytest
from django.test import Client

from flux2web.jobs.models import Image
from tests.jobs.conftest import make_jobs
from tests.studio.test_cards import finish

HX = {"HX-Request": "true"}


def made(user, prompt="a lighthouse at dusk", *, team=False, size=(64, 64)) -> Image:
    """A finished job of `user` with one stored image; team-visible if `team`."""
    job = finish(make_jobs(user, prompt=prompt)[0])
    image = job.images.get()
    Image.objects.filter(pk=image.pk).update(team_visible=team, width=size[0], height=size[1])
    image.refresh_from_db()
    return image


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
