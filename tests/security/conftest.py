"""The world the security sweeps attack: the owner's job, image and reference upload, a
provider on the sandbox, and the five roles (anonymous, outsider, owner, team admin, staff)."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image as PILImage

from flux2web.credentials.models import ProviderCredential
from flux2web.credentials.services import add_credential
from flux2web.jobs.models import Image, Job, JobEvent
from flux2web.studio import references
from flux2web.studio.models import ReferenceUpload
from tests.conftest import PASSWORD

ROLES = ("anonymous", "outsider", "owner", "team_admin", "staff")


def png_bytes(size=(64, 48)) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, (200, 80, 40)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def team_admin(django_user_model):
    return django_user_model.objects.create_user("ada", password=PASSWORD, is_team_admin=True)


@dataclass
class World:
    owner: object
    outsider: object
    team_admin: object
    staff: object
    root: object
    credential: ProviderCredential
    job: Job
    image: Image
    ref: ReferenceUpload
    ref_token: str

    def user(self, role: str):
        return None if role == "anonymous" else getattr(self, role)


@pytest.fixture
def world(owner, outsider, team_admin, staff, django_user_model, sandbox, media) -> World:
    root = django_user_model.objects.create_superuser("root", password=PASSWORD)
    credential = add_credential(name="KIE.ai", dialect="kie", base_url=sandbox.base_url("kie"),
                                api_key="sandbox-key", priority=10)  # fmt: skip
    job = Job.objects.create(
        owner=owner, idempotency_key="world:0", model="pro", prompt="the owner's lighthouse",
        provider=credential, requested_provider=credential, provider_task_id="task_world_1",
        price="0.0500", state=Job.State.SUCCEEDED, finished_at=timezone.now(), seed=7,
    )  # fmt: skip
    JobEvent.objects.create(job=job, kind=JobEvent.Kind.STATE, to_state=Job.State.SUCCEEDED)
    image = Image(job=job, owner=owner, index=0, provider_url="http://x/1.png", width=64,
                  height=48, status=Image.Status.MIRRORED, content_type="image/png")  # fmt: skip
    image.original.save("a.png", ContentFile(png_bytes()), save=False)
    image.thumbnail.save("a.jpg", ContentFile(b"jpg-bytes"), save=False)
    image.save()
    upload = SimpleUploadedFile("ref.png", png_bytes(), content_type="image/png")
    ref = references.store_upload(owner=owner, upload=upload)
    url = references.public_url(ref, base="http://testserver")
    token = references.TOKEN_IN_URL.search(url)["token"]
    return World(owner, outsider, team_admin, staff, root, credential, job, image, ref, token)
