from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "flux2web.api"
    label = "api"
    verbose_name = "API"
