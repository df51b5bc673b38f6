"""The official `openai` package, over loopback against a live server, as scripts call it."""

import openai
import pytest

from flux2web.accounts.models import ApiToken


@pytest.fixture
def client_for(live_server):
    def make(key):
        return openai.OpenAI(base_url=f"{live_server.url}/v1", api_key=key, max_retries=0)

    return make


@pytest.mark.django_db(transaction=True)
def test_the_sdk_lists_the_models_with_a_token(client_for, owner, make_token, provider):
    token, raw = make_token(owner)
    ids = [model.id for model in client_for(raw).models.list()]
    assert ids == ["flux-2-pro", "flux-2-flex"]
    token.refresh_from_db()
    assert token.last_used_at is not None


@pytest.mark.django_db(transaction=True)
def test_the_sdk_is_refused_at_once_when_the_token_is_revoked(client_for, owner, make_token):
    _, raw = make_token(owner)
    ApiToken.objects.revoke()
    with pytest.raises(openai.AuthenticationError) as refused:
        client_for(raw).models.list()
    assert refused.value.status_code == 401
    assert refused.value.code == "invalid_api_key"
    assert raw not in str(refused.value)
