from django.urls import path

from flux2web.studio import views

app_name = "studio"

urlpatterns = [
    path("", views.home, name="home"),
]
