from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "flux2web.billing"
    label = "billing"
    verbose_name = "Quotas and spending"
