from django.apps import AppConfig


class GalleryConfig(AppConfig):
    name = "flux2web.gallery"
    label = "gallery"
    verbose_name = "Gallery"
