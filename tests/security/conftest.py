"""The world the security sweeps attack: the owner's job, image and reference upload, their
collections and share links, a provider on the sandbox, and the five roles (anonymous,
outsider, owner, team admin, staff)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from flux2web.accounts.models import TeamPolicy
from flux2web.collections.models import Collection
from flux2web.collections.services import collection_add_images, collection_create
from flux2web.credentials.models import ProviderCredential
from flux2web.credentials.services import add_credential
from flux2web.jobs.models import Image, Job, JobEvent
from flux2web.links import services as links
from flux2web.links.models import ShareLink
from flux2web.studio import references
from flux2web.studio.models import ReferenceUpload
from tests.helpers import PASSWORD
from tests.security.helpers import png_bytes


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
    team_image: Image  # the owner's too, in `team_collection`
    collection: Collection  # the owner's, private, holding `image`
    team_collection: Collection  # the owner's, the team can view it
    link: ShareLink  # to `collection`, originals downloadable
    link_key: str  # what follows /s/ in its address
    locked_link: ShareLink  # to `collection`, with a password
    locked_key: str

    def user(self, role: str):
        return None if role == "anonymous" else getattr(self, role)


@pytest.fixture
def world(owner, outsider, team_admin, staff, django_user_model, sandbox, media) -> World:
    root = django_user_model.objects.create_superuser("root", password=PASSWORD)
    TeamPolicy.current()  # the team's one settings row, made on first use by many pages
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
    image.thumbnail.save("a.jpg", ContentFile(png_bytes(format="JPEG")), save=False)
    image.save()
    team_image = Image(job=job, owner=owner, index=1, provider_url="http://x/2.png",
                       width=64, height=48, status=Image.Status.MIRRORED,
                       content_type="image/png")  # fmt: skip
    team_image.original.save("b.png", ContentFile(png_bytes()), save=False)
    team_image.thumbnail.save("b.jpg", ContentFile(png_bytes(format="JPEG")), save=False)
    team_image.save()
    upload = SimpleUploadedFile("ref.png", png_bytes(), content_type="image/png")
    ref = references.store_upload(owner=owner, upload=upload)
    url = references.public_url(ref, base="http://testserver")
    token = references.TOKEN_IN_URL.search(url)["token"]
    collection = collection_create(owner=owner, title="Lighthouses")
    collection_add_images(collection=collection, user=owner, image_ids=[image.pk])
    team_collection = collection_create(owner=owner, title="For the team",
                                        visibility=Collection.Visibility.TEAM_VIEW)  # fmt: skip
    collection_add_images(collection=team_collection, user=owner, image_ids=[team_image.pk])
    week = timezone.now() + timedelta(days=7)
    link, _ = links.link_create(owner=owner, collection=collection, settings=links.LinkSettings(
        title="Lighthouses", expires_at=week, downloads=ShareLink.Downloads.ORIGINAL))  # fmt: skip
    locked, _ = links.link_create(owner=owner, collection=collection, settings=links.LinkSettings(
        title="Lighthouses", expires_at=week, password="open sesame 123"))  # fmt: skip
    return World(owner, outsider, team_admin, staff, root, credential, job, image, ref, token,
                 team_image, collection, team_collection, link, links.address_key(link), locked,
                 links.address_key(locked))  # fmt: skip
