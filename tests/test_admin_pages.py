"""Every Django admin page a superuser opens renders: the list, the add form and the
change form of each registered model (widgets the admin alone has must render too, with
the project's form renderer)."""

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.collections.factories import make_collection, make_image
from tests.helpers import PASSWORD

pytestmark = pytest.mark.django_db


def test_every_admin_page_renders_for_a_superuser(
    client, django_user_model, owner, providers, media
):
    root = django_user_model.objects.create_superuser("root", password=PASSWORD)
    make_collection(owner, [make_image(owner)])
    client.force_login(root)
    failures = []
    for model, _ in admin.site._registry.items():
        meta = model._meta
        urls = [reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")]
        urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
        if (row := model._default_manager.first()) is not None:
            urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[row.pk]))
        for url in urls:
            status = client.get(url).status_code
            if status not in (200, 403):  # 403: a model whose rows the admin may not add
                failures.append(f"{url}: {status}")
    assert failures == []
