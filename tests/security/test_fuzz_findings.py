"""What a fuzz of every URL and command found answering 500 or a traceback, each
reproduced first: a junk HX-Current-URL on a signed-out HTMX request, a truncated BMP,
TIFF or GIF reference (Pillow's verify() passes it, the conversion does not), a callback
whose Content-Length is thousands of digits, and commands given a binary file, a port out
of range or an empty username."""

import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from PIL import Image

from flux2web.credentials.models import ProviderCredential
from flux2web.jobs.models import Job
from flux2web.studio.models import ReferenceUpload
from tests.jobs.factories import make_jobs

pytestmark = pytest.mark.django_db
BINARY = bytes(range(256)) * 4


@pytest.mark.parametrize("current", ["http://[", "http://[::1", "http://[zz"])
@pytest.mark.parametrize("url", ["/", "/gallery/", "/collections/"])
def test_a_signed_out_htmx_request_with_a_junk_current_url_is_sent_to_sign_in(url, current):
    client = Client(raise_request_exception=False)
    response = client.get(url, headers={"HX-Request": "true", "HX-Current-URL": current})
    assert response.status_code in (200, 204, 302)
    assert "/accounts/login/" in (
        response.headers.get("HX-Redirect", "") + response.get("Location", "")
    )


def truncated(kind: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (200, 200), (10, 200, 30)).save(out, format=kind)
    return out.getvalue()[:200]


@pytest.mark.parametrize("kind", ["BMP", "TIFF", "GIF"])
@pytest.mark.parametrize("htmx", [False, True])
def test_a_truncated_reference_is_refused_by_name_and_queues_nothing(
    client, owner, providers, media, kind, htmx
):
    client.force_login(owner)
    client.raise_request_exception = False
    upload = SimpleUploadedFile(f"ref.{kind.lower()}", truncated(kind), f"image/{kind.lower()}")
    data = {
        "prompt": "a red fox asleep in snow",
        "model": "pro",
        "count": "1",
        "aspect_ratio": "1:1",
        "idempotency_key": uuid.uuid4().hex,
        "reference_files": upload,
    }
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.post("/generate", data, headers=headers)
    assert response.status_code == 200
    assert (
        f"ref.{kind.lower()} is a damaged {kind} image we cannot read." in response.content.decode()
    )
    assert not Job.objects.exists() and not ReferenceUpload.objects.exists()


@pytest.mark.parametrize("length", ["9" * 5000, "0" * 4301, "9" * 10])
def test_a_callback_with_an_absurd_length_is_refused_not_crashed(owner, providers, length):
    job = make_jobs(owner)[0]
    client = Client(raise_request_exception=False)
    response = client.generic(
        "POST", f"/callbacks/{job.pk}/{job.callback_secret}/", b"{}",
        content_type="application/json", CONTENT_LENGTH=length,
    )  # fmt: skip
    assert response.status_code == 413


def command_error(*args) -> str:
    with pytest.raises(CommandError) as caught:
        call_command(*args, stdout=io.StringIO(), stderr=io.StringIO())
    return str(caught.value)


def test_commands_name_a_binary_file_instead_of_crashing(tmp_path, owner):
    binary = tmp_path / "key.bin"
    binary.write_bytes(BINARY)
    key_file = ("--api-key-file", str(binary))
    said = command_error(
        "providers", "add", "--name", "X", "--dialect", "kie", "--base-url", "https://a.example/",
        *key_file,
    )  # fmt: skip
    assert said == f"{binary} is not a text file; put the api-key alone in one."
    assert not ProviderCredential.objects.filter(name="X").exists()
    said = command_error("generate", "--user", owner.username, "--from-file", str(binary))
    assert said == f"{binary} is not a text file of prompts."


@pytest.mark.parametrize("port", ["99999", "-1"])
def test_the_sandbox_command_names_a_port_it_cannot_take(port):
    assert command_error("sandbox", "--port", port).startswith(f"Cannot listen on 127.0.0.1:{port}")


@pytest.mark.parametrize("username", ["", "a\x00b", "a b", "a" * 151])
def test_ensure_admin_refuses_a_username_django_would_refuse(username, django_user_model):
    assert command_error("ensure_admin", "--username", username).startswith("--username")
    assert not django_user_model.objects.exists()
