from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "flux2web.jobs"
    label = "jobs"
    verbose_name = "Generation jobs"

    def ready(self):
        from django_q.signals import post_spawn

        from flux2web.jobs.tasks import on_worker_start

        # The one signal we use: django-q2 offers no other hook for "a worker process has
        # started", which is when a crash's leftovers must be repaired.
        post_spawn.connect(on_worker_start, dispatch_uid="flux2web-reconcile-on-start")
