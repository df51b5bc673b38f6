"""Provider keys are encrypted at rest and only ever shown by their last four characters."""

import pytest
from django.db import connection
from django.test import override_settings

from flux2web.credentials.models import ProviderCredential
from flux2web.credentials.services import add_credential
from flux2web.lib import crypto
from flux2web.lib.crypto import DecryptionError

pytestmark = pytest.mark.django_db
KEY = "kie-live-5f2c9a7e1b3d4c6f8a0b"


@pytest.fixture
def credential():
    return add_credential(
        name="KIE.ai", dialect="kie", base_url="https://api.kie.ai", api_key=KEY,
        hmac_key="whsec-0000-1111",
    )  # fmt: skip


def test_the_stored_row_holds_no_key(credential):
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM credentials_providercredential")
        row = " ".join(str(v) for v in cursor.fetchone())
    assert KEY not in row
    assert "whsec-0000-1111" not in row
    assert credential.api_key_last4 == "8a0b"


def test_the_key_decrypts_back_for_the_client(credential):
    fresh = ProviderCredential.objects.get(pk=credential.pk)
    assert fresh.api_key() == KEY
    assert fresh.hmac_key() == "whsec-0000-1111"
    assert fresh.key_hint == f"…{KEY[-4:]}"
    assert KEY not in repr(fresh) and KEY not in str(fresh)


def test_a_rotated_key_still_opens_old_secrets(credential, settings):
    new = crypto.generate_key()
    with override_settings(ENCRYPTION_KEYS=[new, *settings.ENCRYPTION_KEYS]):
        assert ProviderCredential.objects.get(pk=credential.pk).api_key() == KEY


def test_a_lost_encryption_key_says_so_clearly(credential):
    with (
        override_settings(ENCRYPTION_KEYS=[crypto.generate_key()]),
        pytest.raises(DecryptionError, match="FLUX2WEB_ENCRYPTION_KEY"),
    ):
        ProviderCredential.objects.get(pk=credential.pk).api_key()


class TestAdding:
    def test_every_bad_field_is_named_and_nothing_is_saved(self):
        with pytest.raises(Exception) as caught:
            add_credential(name=" ", dialect="openai", base_url="ftp://x", api_key="a b")
        assert set(caught.value.message_dict) == {"name", "dialect", "base_url", "api_key"}
        assert ProviderCredential.objects.count() == 0

    def test_names_are_unique_whatever_the_case(self, credential):
        with pytest.raises(Exception) as caught:
            add_credential(name="kie.AI", dialect="kie", base_url="https://x.test", api_key="k")
        assert caught.value.message_dict["name"] == ["A provider named 'kie.AI' exists already."]

    def test_the_base_url_loses_a_trailing_slash(self):
        made = add_credential(
            name="A", dialect="apixo", base_url="https://api.apixo.ai/", api_key="k"
        )
        assert made.base_url == "https://api.apixo.ai"
