"""POST /v1/images/edits as clients send it, and as they get it wrong: every malformed body
is a 400 in OpenAI's shape before anything is stored or spent, never a 500."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image as PILImage

from flux2web.jobs.models import Job
from flux2web.studio.models import ReferenceUpload

pytestmark = pytest.mark.django_db

URL = "/v1/images/edits"


def png() -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (32, 32), "red").save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def auth(owner, make_token, provider, settings):
    settings.API_WAIT_SECONDS = 0.2
    return {"Authorization": f"Bearer {make_token(owner)[1]}"}


def post_raw(client, auth, body: bytes, content_type: str):
    return client.generic("POST", URL, body, content_type=content_type, headers=auth)


def test_an_edit_stores_its_files_as_references_and_waits(client, auth, owner):
    files = [SimpleUploadedFile(f"{n}.png", png(), "image/png") for n in range(2)]
    response = client.post(URL, {"prompt": "the two side by side", "image[]": files,
                                 "n": "1", "size": "1024x1024"}, headers=auth)  # fmt: skip
    assert response.status_code == 504  # no worker here
    job = Job.objects.get()
    assert len(job.reference_urls) == 2
    assert ReferenceUpload.objects.filter(owner=owner).count() == 2


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"--x\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\na fox\r\n--x--\r\n",
         "multipart/form-data"),  # no boundary
        (b"--x\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\na fox\r\n--x--\r\n",
         "multipart/form-data; boundary="),
        (b"--x\r\nContent-Disposition: form-data; name=\"image\"; filename=\"" + b"a" * 5000
         + b".png\"\r\n\r\nxx\r\n--x--\r\n", "multipart/form-data; boundary=x"),
        (b"--x\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n"
         b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n--x--\r\n",
         "multipart/form-data; boundary=x"),
    ],
    ids=["no boundary", "empty boundary", "a 5000-character file name", "bad base64"],
)  # fmt: skip
def test_a_broken_multipart_body_is_a_400(client, auth, body, content_type):
    response = post_raw(client, auth, body, content_type)
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert not Job.objects.exists()


def test_too_many_files_is_a_400(client, auth):
    files = [SimpleUploadedFile(f"{n}.png", b"x", "image/png") for n in range(101)]
    response = client.post(URL, {"prompt": "a fox", "image": files}, headers=auth)
    assert response.status_code == 400
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    ("data", "param"),
    [({"prompt": "a fox in snow"}, "image"),
     ({"prompt": "a fox in snow", "image": "nope", "mask": "m"}, "mask"),
     ({"prompt": "a fox in snow", "image": "not a picture"}, "image"),
     ({"prompt": "a fox in snow", "image": "png", "n": "two"}, "n"),
     ({"prompt": "a fox in\x00 snow", "image": "png"}, "prompt"),
     ({"prompt": "a fox in snow", "image": "png", "colour_file": "png"}, "colour_file"),
     ({"image": "png", "prompt": "png"}, "prompt")],
    ids=["no image", "a mask", "not an image", "n not a number", "a NUL in the prompt",
         "a file under a name no edit takes", "the prompt sent as a file"],
)  # fmt: skip
def test_what_an_edit_cannot_take_is_a_400_naming_it(client, auth, data, param):
    data = dict(data)
    for name, value in data.items():
        if value == "png":
            data[name] = SimpleUploadedFile("a.png", png(), "image/png")
    if isinstance(data.get("image"), str):
        data["image"] = SimpleUploadedFile("a.png", data["image"].encode(), "image/png")
    response = client.post(URL, data, headers=auth)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param
    if isinstance(data.get(param), SimpleUploadedFile) and param != "image":
        said = response.json()["error"]["message"]
        known = param == "prompt"
        assert ("as a text field" in said) == known, said
    assert not Job.objects.exists()
    assert not ReferenceUpload.objects.exists()


def test_json_is_refused_with_how_to_send_an_edit(client, auth):
    response = client.post(URL, {"prompt": "a fox"}, content_type="application/json",
                           headers=auth)  # fmt: skip
    assert response.status_code == 400
    assert "multipart/form-data" in response.json()["error"]["message"]
