"""The people the API's tests act as, and a way to make a token for one of them."""

import pytest

from flux2web.accounts import api_tokens
from tests.helpers import PASSWORD


@pytest.fixture
def admin(django_user_model):
    return django_user_model.objects.create_user("ada", password=PASSWORD, is_team_admin=True)


@pytest.fixture
def make_token():
    def make(user, name="my-script-token", days=None):
        return api_tokens.token_create(owner=user, name=name, days=days)

    return make


@pytest.fixture
def provider(sandbox):
    """One enabled provider (KIE's dialect, on the sandbox) offering both models."""
    from flux2web.credentials.services import add_credential

    return add_credential(
        name="KIE.ai", dialect="kie", base_url=sandbox.base_url("kie"), api_key="sandbox-key"
    )
