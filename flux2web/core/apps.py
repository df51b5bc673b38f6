from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "flux2web.core"
    label = "core"
    verbose_name = "Operations"
