"""The one rule for a form's `next`: a path on this site, or the page's own default."""

import pytest
from django.test import RequestFactory

from flux2web.lib.redirects import redirect_back, safe_next

OFF_SITE = ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"]
NOT_A_PATH = ["home", "gallery:index", "a\x00b", "/ok/\x00", "/ok/\r\nSet-Cookie: x=1"]


def post(next_value):
    return RequestFactory().post("/x", {"next": next_value})


@pytest.mark.parametrize("value", ["/gallery/", "/jobs/3/?tab=events", "/collections/1/#top"])
def test_a_path_on_this_site_is_followed(value):
    assert redirect_back(post(value), "/")["Location"] == value


@pytest.mark.parametrize("value", [*OFF_SITE, *NOT_A_PATH, "/" + "x" * 2001, ""])
def test_anything_else_goes_to_the_default_instead_of_a_500(value):
    assert safe_next(post(value)) == ""
    assert redirect_back(post(value), "gallery:index")["Location"] == "/gallery/"


def test_a_get_reads_next_from_the_query():
    request = RequestFactory().get("/x", {"next": "/links/"})
    assert safe_next(request) == "/links/"
