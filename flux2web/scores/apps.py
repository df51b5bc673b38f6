from django.apps import AppConfig


class ScoresConfig(AppConfig):
    name = "flux2web.scores"
    label = "scores"
    verbose_name = "Providers' record"
