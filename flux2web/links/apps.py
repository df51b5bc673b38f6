from django.apps import AppConfig


class LinksConfig(AppConfig):
    name = "flux2web.links"
    label = "links"
    verbose_name = "Share links"
