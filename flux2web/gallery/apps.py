from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


def forget_provider_choices(**kwargs):
    from django.core.cache import cache

    from flux2web.gallery.forms import PROVIDER_CHOICES_KEY

    cache.delete(PROVIDER_CHOICES_KEY)


class GalleryConfig(AppConfig):
    name = "flux2web.gallery"
    label = "gallery"
    verbose_name = "Gallery"

    def ready(self):
        # A cache, not logic: whoever saves a credential (admin, CLI, services), the
        # gallery's provider filter must not go on offering the old list.
        for signal in (post_save, post_delete):
            signal.connect(
                forget_provider_choices,
                sender="credentials.ProviderCredential",
                dispatch_uid=f"gallery-forget-providers-{signal}",
            )
