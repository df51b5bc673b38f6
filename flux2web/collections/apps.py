from django.apps import AppConfig


def _resolve_pending(sender, *, job_id, **kwargs):
    from flux2web.collections import services

    services.resolve_pending(job_id=job_id)


class CollectionsConfig(AppConfig):
    name = "flux2web.collections"
    # The label it had when collections and links were one app: its tables, migrations
    # and URL namespace ("sharing") keep their names, so existing databases carry over.
    label = "sharing"
    verbose_name = "Collections"

    def ready(self):
        # The jobs app announces stored images; it must not import us (imports run one way).
        from flux2web.jobs.signals import job_images_stored

        job_images_stored.connect(_resolve_pending, dispatch_uid="sharing.resolve_pending")
