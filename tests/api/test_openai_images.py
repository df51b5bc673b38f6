"""The official `openai` package makes and edits images over loopback against a live server,
a real qcluster and the sandbox, as the issue's "done when" says: our own URLs, charged to the
token's owner, in their gallery; an edit with two reference files; errors as the SDK raises
them; a client that leaves while waiting loses nothing."""

import base64
import io
import time
from decimal import Decimal

import httpx
import openai
import pytest
from django.test import Client
from PIL import Image as PILImage

from flux2web.billing import ledger
from flux2web.billing.models import Quota
from flux2web.jobs.models import Image, Job
from flux2web.studio.models import ReferenceUpload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker(cluster, provider):
    return cluster().ready()


@pytest.fixture
def client_for(live_server):
    def make(key, **options):
        return openai.OpenAI(
            base_url=f"{live_server.url}/v1", api_key=key, max_retries=0, **options
        )

    return make


def png(colour, size=(64, 48)) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def test_generate_returns_our_own_urls_charged_to_the_owner_and_in_their_gallery(
    client_for, live_server, owner, make_token, worker, sandbox
):
    token, raw = make_token(owner, name="n8n flow")
    owner.new_images_visibility = "team"  # their own choice for new images
    owner.save()
    result = client_for(raw).images.generate(
        model="flux-2-pro", prompt="a heron at dawn", size="1536x1024", n=2
    )
    assert len(result.data) == 2
    for item in result.data:
        assert item.url.startswith(live_server.url + "/api/images/")
        assert sandbox.url not in item.url
        # Readable without a session or a token.
        fetched = httpx.get(item.url)
        assert fetched.status_code == 200
        assert fetched.headers["content-type"].startswith("image/")
        assert PILImage.open(io.BytesIO(fetched.content)).size[0] > 0
    jobs = list(Job.objects.filter(owner=owner))
    assert len(jobs) == 2
    assert {(j.state, j.aspect_ratio, j.api_token_id) for j in jobs} == {
        ("succeeded", "3:2", token.pk)
    }
    assert Image.objects.filter(owner=owner, status="mirrored").count() == 2
    assert ledger.usage(owner).spent == Decimal("0.10")
    # The studio's cards and the job page say where it came from.
    browser = Client()
    browser.force_login(owner)
    assert browser.get("/").content.decode().count("via API · n8n flow") == 2
    assert "via API · n8n flow" in browser.get(f"/jobs/{jobs[0].pk}/").content.decode()
    # Visibility follows the owner's own default for new images, as in the studio.
    assert {j.team_visible for j in jobs} == {True}
    # Both are in their gallery, and in the team's (their default for new images).
    for where in ("/gallery/", "/gallery/team/"):
        html = browser.get(where).content.decode()
        for image in Image.objects.filter(owner=owner):
            assert f'data-image-id="{image.pk}"' in html, where


def test_over_the_quota_the_sdk_raises_insufficient_quota_and_nothing_is_made(
    client_for, owner, make_token, worker
):
    Quota.objects.update_or_create(user=owner, defaults={"monthly_images": 1})
    _, raw = make_token(owner)
    with pytest.raises(openai.RateLimitError) as refused:
        client_for(raw).images.generate(model="flux-2-pro", prompt="a heron at dawn", n=2)
    assert refused.value.code == "insufficient_quota"
    assert "monthly limit" in refused.value.message
    assert not Job.objects.exists()
    assert ledger.usage(owner).spent == 0


def test_b64_json_answers_the_image_itself(client_for, owner, make_token, worker):
    _, raw = make_token(owner)
    result = client_for(raw).images.generate(
        model="flux-2-pro", prompt="a heron at dawn", response_format="b64_json"
    )
    picture = PILImage.open(io.BytesIO(base64.b64decode(result.data[0].b64_json)))
    assert picture.size[0] > 0
    assert result.data[0].url is None


def test_an_edit_with_two_reference_files(client_for, owner, make_token, worker):
    _, raw = make_token(owner)
    files = [("red.png", png("red"), "image/png"), ("blue.png", png("blue"), "image/png")]
    result = client_for(raw).images.edit(
        model="flux-2-pro", image=files, prompt="the two of them side by side", size="1024x1024"
    )
    assert len(result.data) == 1
    job = Job.objects.get(owner=owner)
    assert len(job.reference_urls) == 2
    assert ReferenceUpload.objects.filter(owner=owner).count() == 2


def test_an_edit_refuses_a_file_that_is_not_an_image(client_for, owner, make_token, worker):
    _, raw = make_token(owner)
    with pytest.raises(openai.BadRequestError) as refused:
        client_for(raw).images.edit(
            model="flux-2-pro", image=("notes.png", b"not a picture", "image/png"), prompt="x y z"
        )
    assert refused.value.body["param"] == "image"
    assert not Job.objects.exists()


def test_a_provider_failure_is_a_502_and_the_money_comes_back(
    client_for, owner, make_token, worker
):
    _, raw = make_token(owner)
    with pytest.raises(openai.InternalServerError) as failed:
        client_for(raw).images.generate(model="flux-2-pro", prompt="a fox [sandbox:fail]")
    assert failed.value.status_code == 502
    assert Job.objects.get(owner=owner).state == "failed"
    assert ledger.usage(owner).spent == 0


def test_content_rules_are_a_400_content_policy_violation(client_for, owner, make_token, worker):
    _, raw = make_token(owner)
    with pytest.raises(openai.BadRequestError) as refused:
        client_for(raw).images.generate(
            model="flux-2-pro", prompt="a fox [sandbox:content_violation]"
        )
    assert refused.value.code == "content_policy_violation"
    assert ledger.usage(owner).spent == 0


def test_the_same_idempotency_key_from_the_sdk_answers_the_same_images(
    client_for, owner, make_token, worker
):
    _, raw = make_token(owner)
    client = client_for(raw)
    headers = {"Idempotency-Key": "run-42"}
    first = client.images.generate(prompt="a heron at dawn", extra_headers=headers)
    again = client.images.generate(prompt="a heron at dawn", extra_headers=headers)
    assert Job.objects.count() == 1
    assert len(first.data) == len(again.data) == 1
    with pytest.raises(openai.ConflictError):
        client.images.generate(prompt="an owl at dusk", extra_headers=headers)
    assert ledger.usage(owner).spent == Decimal("0.05")


def test_a_client_that_leaves_while_waiting_loses_nothing(
    client_for, owner, make_token, worker, sandbox
):
    sandbox.config.duration = 3
    _, raw = make_token(owner)
    with pytest.raises(openai.APITimeoutError):
        client_for(raw, timeout=0.5).images.generate(prompt="a heron at dawn")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = Job.objects.get(owner=owner)
        if job.state == "succeeded":
            break
        time.sleep(0.2)
    assert job.state == "succeeded"
    assert Image.objects.filter(job=job, status="mirrored").exists()


def test_requests_waiting_at_once_beyond_the_tokens_limit_are_refused(
    client_for, owner, make_token, worker, sandbox, settings
):
    import threading

    settings.API_CONCURRENT_REQUESTS = 2
    sandbox.config.duration = 3
    _, raw = make_token(owner)
    outcomes = []

    def ask(n):
        try:
            client_for(raw).images.generate(prompt=f"a heron at dawn, take {n}")
            outcomes.append("made")
        except openai.RateLimitError as refused:
            outcomes.append(refused.code)

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["made", "made", "rate_limit_exceeded"]
    assert Job.objects.count() == 2
    # Once they have answered, the token may ask again.
    client_for(raw).images.generate(prompt="a heron at dawn, again")
