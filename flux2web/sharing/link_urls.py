"""Addresses of share links: the owner's and admins' pages, and the public side (/s/…)."""

from django.urls import path

from flux2web.sharing import link_views, public_urls

app_name = "share"

urlpatterns = [
    path("collections/<int:collection_id>/sharing", link_views.collection_sharing,
         name="collection_sharing"),
    path("collections/<int:collection_id>/sharing/revoke-all", link_views.revoke_all,
         name="revoke_all"),
    path("links/", link_views.mine, name="mine"),
    path("links/share", link_views.selection, name="selection"),
    path("links/<int:link_id>/edit", link_views.edit, name="edit"),
    path("links/<int:link_id>/extend", link_views.extend, name="extend"),
    path("links/<int:link_id>/revoke", link_views.revoke, name="revoke"),
    path("links/<int:link_id>/rotate", link_views.rotate, name="rotate"),
    path("team/links/", link_views.team_links, name="team_links"),
    *public_urls.urlpatterns,
]  # fmt: skip
