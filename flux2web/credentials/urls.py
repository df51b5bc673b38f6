from django.urls import path

from flux2web.credentials import views

app_name = "credentials"

urlpatterns = [
    path("providers/", views.index, name="index"),
    path("providers/add", views.add, name="add"),
    path("providers/routing", views.routing, name="routing"),
    path("providers/<int:credential_id>/", views.edit, name="edit"),
    path("providers/<int:credential_id>/test", views.test, name="test"),
    path("providers/<int:credential_id>/on", views.switch, {"on": True}, name="on"),
    path("providers/<int:credential_id>/off", views.switch, {"on": False}, name="off"),
]
