import pytest


@pytest.fixture
def signed_in(client, owner, providers, media):
    """The owner, signed in, with the five seeded providers on the sandbox."""
    client.force_login(owner)
    return client
