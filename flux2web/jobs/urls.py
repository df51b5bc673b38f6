from django.urls import path

from flux2web.jobs import views

app_name = "jobs"

urlpatterns = [
    path("callbacks/<int:job_id>/<str:secret>/", views.callback, name="callback"),
]
