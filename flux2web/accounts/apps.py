from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "flux2web.accounts"
    label = "accounts"
    verbose_name = "Accounts"
