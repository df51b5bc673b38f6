"""Addresses of the public side of share links: /s/<slug-token>/… (included by urls.py,
so both sides share the "share" namespace)."""

from django.urls import path, re_path

from flux2web.links import public

urlpatterns = [
    path("s/<str:key>/", public.page, name="page"),
    path("s/<str:key>/unlock", public.unlock, name="unlock"),
    path("s/<str:key>/all.zip", public.download_all, name="zip"),
    path("s/<str:key>/i/<str:image_id>/<str:size>", public.image, name="image"),
    re_path(r"^s/(?P<rest>.*)$", public.not_found, name="not_found"),
]
