from django.apps import AppConfig


class TeamConfig(AppConfig):
    name = "flux2web.team"
    label = "team"
    verbose_name = "Team"
