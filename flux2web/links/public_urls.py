"""Addresses of the public side of share links: /s/<slug-token>/… (included by urls.py,
so both sides share the "share" namespace)."""

from django.urls import path, re_path

from flux2web.links import proofing, public

urlpatterns = [
    path("s/<str:key>/", public.page, name="page"),
    path("s/<str:key>/unlock", public.unlock, name="unlock"),
    path("s/<str:key>/all.zip", public.download_all, name="zip"),
    path("s/<str:key>/i/<str:image_id>/<str:size>", public.image, name="image"),
    # Client proofing (links/proofing.py): only while the link's switches are on.
    path("s/<str:key>/reviewer", proofing.join, name="proof_join"),
    path("s/<str:key>/confirm", proofing.confirm, name="proof_confirm"),
    path("s/<str:key>/comment", proofing.comment_set, name="proof_comment_set"),
    path(
        "s/<str:key>/comments/<str:comment_id>/delete", proofing.uncomment, name="proof_uncomment"
    ),
    path("s/<str:key>/p/<str:image_id>", proofing.proof, name="proof"),
    path("s/<str:key>/p/<str:image_id>/pick", proofing.pick, name="proof_pick"),
    path("s/<str:key>/p/<str:image_id>/comment", proofing.comment_image, name="proof_comment"),
    re_path(r"^s/(?P<rest>.*)$", public.not_found, name="not_found"),
]
