from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save

# What the studio page keeps for a few seconds rather than asking on every view; a save in
# this process forgets it at once, other processes' copies expire by themselves.
KEPT = {
    "core.Heartbeat": ["studio:worker-online"],
    # Auto's first choice follows the team's strategy, providers' priorities and prices.
    "accounts.TeamPolicy": ["studio:team-visible-by-default", "studio:auto-first"],
    "credentials.ProviderCredential": ["studio:auto-first"],
}


def _forget(sender, **kwargs):
    from django.core.cache import cache

    cache.delete_many(KEPT[sender._meta.label])


class StudioConfig(AppConfig):
    name = "flux2web.studio"
    label = "studio"
    verbose_name = "Studio"

    def ready(self):
        for model in KEPT:
            for signal in (post_save, post_delete):
                signal.connect(
                    _forget, sender=model, dispatch_uid=f"studio-forget-{model}-{signal}"
                )
