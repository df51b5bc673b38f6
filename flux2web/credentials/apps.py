from django.apps import AppConfig


class CredentialsConfig(AppConfig):
    name = "flux2web.credentials"
    label = "credentials"
    verbose_name = "Provider credentials"
