from django.urls import path

from flux2web.studio import stream, views

app_name = "studio"

urlpatterns = [
    path("", views.home, name="home"),
    path("generate", views.generate, name="generate"),
    path("generate/options", views.options, name="options"),
    path("updates", views.updates, name="updates"),
    path("updates/stream", stream.stream, name="stream"),
    path("jobs/<int:job_id>/", views.job_detail, name="job"),
    path("jobs/<int:job_id>/cancel", views.cancel, name="cancel"),
    path("jobs/<int:job_id>/retry", views.retry, name="retry"),
    path("jobs/<int:job_id>/rerun", views.rerun, name="rerun"),
    path("jobs/<int:job_id>/delete", views.delete, name="delete"),
    path("jobs/<int:job_id>/favourite", views.favourite, name="favourite"),
    path("comparisons/<int:comparison_id>/", views.comparison, name="comparison"),
    path("comparisons/<int:comparison_id>/keep", views.keep, name="keep"),
    path("comparisons/<int:comparison_id>/keep-only", views.keep_only, name="keep_only"),
    path("settings/theme", views.theme, name="theme"),
    path("references/from-image", views.use_as_reference, name="use_as_reference"),
    path("refs/<str:token>/reference.<str:ext>", views.reference, name="reference"),
]
