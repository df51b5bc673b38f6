from django.apps import AppConfig


class SharingConfig(AppConfig):
    name = "flux2web.sharing"
    label = "sharing"
    verbose_name = "Collections and sharing"
