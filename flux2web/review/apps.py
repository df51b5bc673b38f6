from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "flux2web.review"
    label = "review"
    verbose_name = "Review"
