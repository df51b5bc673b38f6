from django.apps import AppConfig


def _resolve_pending(sender, *, job_id, **kwargs):
    from flux2web.sharing import services

    services.resolve_pending(job_id=job_id)


class SharingConfig(AppConfig):
    name = "flux2web.sharing"
    label = "sharing"
    verbose_name = "Collections and sharing"

    def ready(self):
        # The jobs app announces stored images; it must not import us (imports run one way).
        from flux2web.jobs.signals import job_images_stored

        job_images_stored.connect(_resolve_pending, dispatch_uid="sharing.resolve_pending")
