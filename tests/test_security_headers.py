"""Every page carries a strict Content-Security-Policy (no inline script or style), the
templates give it nothing to refuse, and stored files are served inert."""

import io
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image as PILImage

from flux2web.studio.references import public_url, store_upload
from tests.helpers import PASSWORD
from tests.jobs.factories import finish, make_jobs

ROOT = Path(__file__).resolve().parent.parent
STORED_FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.fixture
def admin(django_user_model):
    return django_user_model.objects.create_user("ada", password=PASSWORD, is_team_admin=True)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/accounts/login/", "/", "/gallery/", "/usage/", "/team/", "/team/usage/",
            "/providers/", "/no-such-page/"],
)  # fmt: skip
def test_every_page_carries_a_policy_that_refuses_inline_script_and_style(client, admin, url):
    if url != "/accounts/login/":
        client.force_login(admin)
    csp = policy(client.get(url))
    assert csp["default-src"] == ["'self'"]
    # Scripts and styles fall back to default-src: this site's files only.
    for directive in ("script-src", "script-src-elem", "script-src-attr", "style-src"):
        assert "'unsafe-inline'" not in csp.get(directive, [])
        assert "'unsafe-eval'" not in csp.get(directive, [])
    assert csp["img-src"] == ["'self'", "data:", "blob:"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"]
    assert csp["form-action"] == ["'self'"] and csp["base-uri"] == ["'none'"]


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>"), "an inline <script>"),
    (re.compile(r"<style\b"), "a <style> element"),
    (re.compile(r"\sstyle\s*="), "a style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an on... handler"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
]


@pytest.mark.parametrize(
    "template", sorted((ROOT / "templates").rglob("*.html")), ids=lambda p: p.name
)
def test_no_template_has_inline_script_style_or_handlers(template):
    text = template.read_text()
    for pattern, what in INLINE:
        match = pattern.search(text)
        assert match is None, f"{template.relative_to(ROOT)} has {what}: {match[0]!r}"


@pytest.mark.django_db
def test_stored_images_are_served_inert(client, owner, providers, media):
    image = finish(make_jobs(owner, prompt="inert")[0]).images.get()
    client.force_login(owner)
    for name in (image.original.name, image.thumbnail.name):
        response = client.get(f"/media/{name}")
        assert response.status_code == 200
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Security-Policy"] == STORED_FILE_CSP
    again = client.get(f"/media/{image.original.name}", headers={"If-None-Match": '"x"'})
    assert again["Content-Security-Policy"] == STORED_FILE_CSP


@pytest.mark.django_db
def test_reference_links_for_providers_are_served_inert(client, owner, media):
    data = io.BytesIO()
    PILImage.new("RGB", (32, 32), (200, 10, 10)).save(data, format="PNG")
    ref = store_upload(owner=owner, upload=SimpleUploadedFile("r.png", data.getvalue()))
    url = public_url(ref, base="http://testserver").removeprefix("http://testserver")
    response = client.get(url)  # a provider: not signed in
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == STORED_FILE_CSP


@pytest.mark.django_db
def test_with_the_https_redirect_on_only_the_health_check_answers_plain_http(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    response = client.get("/accounts/login/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/accounts/login/"
    assert client.get("/healthz").status_code == 200
    secure = client.get("/accounts/login/", secure=True)
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"].startswith("max-age=31536000")
