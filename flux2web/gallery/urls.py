from django.urls import path

from flux2web.gallery import compare, views

app_name = "gallery"

urlpatterns = [
    path("gallery/", views.index, name="index"),
    path("gallery/zip", views.download_zip, name="zip"),
    path("gallery/delete", views.delete_selected, name="delete"),
    path("compare", compare.compare, name="compare"),
    path("compare/chosen", compare.compare_chosen, name="compare_chosen"),
    path("media/<path:name>", views.media, name="media"),
]
