"""The API tokens pages, and the OpenAI-compatible API under /v1/."""

from django.urls import path, re_path

from flux2web.api import results, v1, views

app_name = "api"

urlpatterns = [
    path("api-tokens/", views.tokens, name="tokens"),
    path("api-tokens/new", views.token_create, name="create"),
    path("api-tokens/<int:token_id>/revoke", views.token_revoke, name="revoke"),
    path("api-tokens/all/", views.all_tokens, name="all"),
    path("v1/models", v1.models, name="models"),
    path("v1/images/generations", v1.generations, name="generations"),
    path("v1/images/edits", v1.edits, name="edits"),
    # The images the API answers with: signed, dated, readable without a session.
    path("api/images/<str:token>.<str:ext>", results.result, name="result"),
    # Last: any other /v1/ address is OpenAI's 404, after the token is checked.
    re_path(r"^v1/(?P<rest>.*)$", v1.not_found, name="not_found"),
]
