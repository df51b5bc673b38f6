from django.urls import path

from flux2web.collections import views

app_name = "sharing"

urlpatterns = [
    path("collections/", views.collections, name="collections"),
    path("collections/new", views.collection_new, name="collection_new"),
    path("collections/add", views.add, name="add"),
    path("collections/<int:pk>/", views.collection, name="collection"),
    path("collections/<int:pk>/edit", views.collection_edit, name="collection_edit"),
    path("collections/<int:pk>/delete", views.collection_delete, name="collection_delete"),
    path("collections/<int:pk>/remove", views.collection_remove, name="collection_remove"),
    path("collections/<int:pk>/move", views.collection_move, name="collection_move"),
    path("collections/<int:pk>/reorder", views.collection_reorder, name="collection_reorder"),
    path("collections/<int:pk>/cover", views.collection_cover, name="collection_cover"),
    path("collections/<int:pk>/mark", views.collection_mark, name="collection_mark"),
    path("collections/<int:pk>/zip", views.collection_zip, name="collection_zip"),
    path("gallery/team/", views.team_gallery, name="team_gallery"),
    path("images/visibility", views.image_visibility, name="image_visibility"),
    path("settings/images", views.image_settings, name="image_settings"),
    path("team/policy", views.team_policy, name="team_policy"),
]
