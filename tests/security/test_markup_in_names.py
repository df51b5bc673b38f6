"""Names people type are text wherever they show: a team admin's provider name carrying
markup reaches every member's studio, so it must never reach it as markup."""

import pytest
from django.test import Client

from flux2web.credentials.models import ProviderCredential
from tests.helpers import PASSWORD

pytestmark = pytest.mark.django_db

MARKUP = '<meta http-equiv=refresh content="0;url=//ev.il">'


def test_a_provider_named_with_markup_shows_as_its_words(providers, owner, django_user_model):
    kie = providers["KIE.ai"]
    ProviderCredential.objects.filter(pk=kie.pk).update(name="K" + MARKUP)
    member = Client()
    member.force_login(owner)
    admin = Client()
    admin.force_login(
        django_user_model.objects.create_user("adam", password=PASSWORD, is_team_admin=True)
    )
    pages = {
        # Picking it: the provider's help names it ("Only … : if it refuses …").
        "options": member.post("/generate/options", {"provider": kie.pk, "model": "pro"}),
        "studio, a form sent back": member.post(
            "/generate", {"provider": kie.pk, "model": "pro", "prompt": ""}
        ),
        "studio": member.get("/"),
        "scoreboard": member.get("/scoreboard/"),
        "providers": admin.get("/providers/"),
        "provider": admin.get(f"/providers/{kie.pk}/"),
    }
    for name, response in pages.items():
        html = response.content.decode()
        assert response.status_code == 200, name
        assert "<meta http-equiv" not in html, name
    picked = pages["options"].content.decode()
    assert "Only K&lt;meta http-equiv=refresh" in picked
