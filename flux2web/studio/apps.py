from django.apps import AppConfig


class StudioConfig(AppConfig):
    name = "flux2web.studio"
    label = "studio"
    verbose_name = "Studio"
