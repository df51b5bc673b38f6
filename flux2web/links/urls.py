"""Addresses of share links: the owner's and admins' pages, and the public side (/s/…)."""

from django.urls import path

from flux2web.links import public_urls, views

app_name = "share"

urlpatterns = [
    path("collections/<int:collection_id>/sharing", views.collection_sharing,
         name="collection_sharing"),
    path("collections/<int:collection_id>/sharing/revoke-all", views.revoke_all,
         name="revoke_all"),
    path("links/", views.mine, name="mine"),
    path("links/share", views.selection, name="selection"),
    path("links/<int:link_id>/edit", views.edit, name="edit"),
    path("links/<int:link_id>/extend", views.extend, name="extend"),
    path("links/<int:link_id>/revoke", views.revoke, name="revoke"),
    path("links/<int:link_id>/rotate", views.rotate, name="rotate"),
    path("links/<int:link_id>/review", views.review, name="review"),
    path("links/<int:link_id>/review/collect", views.picks_collect, name="picks_collect"),
    path("links/<int:link_id>/picks.txt", views.picks_list, name="picks_list"),
    path("links/<int:link_id>/picks.csv", views.picks_csv, name="picks_csv"),
    path("team/links/", views.team_links, name="team_links"),
    *public_urls.urlpatterns,
]  # fmt: skip
