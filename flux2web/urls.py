"""Top-level URL map: one include per app."""

from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Flux2Web administration"
admin.site.site_title = "Flux2Web admin"

urlpatterns = [
    path("", include("flux2web.studio.urls")),
    path("accounts/", include("flux2web.accounts.urls")),
    path("", include("flux2web.core.urls")),
    path("", include("flux2web.jobs.urls")),
    path("", include("flux2web.gallery.urls")),
    path("", include("flux2web.collections.urls")),
    path("", include("flux2web.review.urls")),
    path("", include("flux2web.team.urls")),
    path("", include("flux2web.credentials.urls")),
    path("", include("flux2web.links.urls")),
    path("", include("flux2web.api.urls")),
    path("admin/", admin.site.urls),
]
