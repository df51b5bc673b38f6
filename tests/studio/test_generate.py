"""The generation form: options that follow the provider, validation beside each field,
one job per press, uploads handed over as signed URLs."""

import dataclasses
import io
from datetime import timedelta
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from flux2web.jobs.models import Job
from flux2web.jobs.remix import initial_from_job
from flux2web.providers.types import SHARED_FIELDS, GenerationRequest
from flux2web.studio.models import ReferenceUpload

pytestmark = pytest.mark.django_db


def png(size=(64, 48), name="ref.png"):
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def form_data(**overrides):
    data = {
        "prompt": "a red fox in the snow",
        "model": "pro",
        "provider": "",
        "count": "1",
        "aspect_ratio": "1:1",
        "idempotency_key": "key-1",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_the_studio_offers_every_enabled_provider_and_auto(signed_in, providers):
    html = signed_in.get("/").content.decode()
    assert ">Auto</option>" in html
    for name in providers:
        assert f">{name}</option>" in html
    assert 'name="idempotency_key"' in html


def test_options_follow_the_provider(signed_in, providers):
    kie = providers["KIE.ai"].pk
    html = signed_in.post(
        "/generate/options", {"provider": kie, "model": "flex", "aspect_ratio": "16:9"}
    ).content.decode()
    assert 'value="auto"' in html  # KIE takes "auto"
    # and no seed for Generate (the compare list offers one, for the providers that take it)
    assert 'name="seed"' not in html.split('id="compare-providers"')[0]
    assert 'value="16:9" selected' in html
    assert 'value="flex" selected' in html

    liangxin = providers["LiangXin"].pk
    html = signed_in.post(
        "/generate/options",
        {"provider": liangxin, "model": "flex", "aspect_ratio": "16:9", "seed": "7"},
    ).content.decode()
    assert 'name="width"' in html and 'name="seed"' in html and 'value="7"' in html
    assert 'value="flex"' not in html  # LiangXin offers only pro, so pro is chosen
    assert 'value="16:9" selected' in html  # still applies, so kept
    assert "$0.05" in html


def test_an_unsupported_value_is_dropped_when_the_provider_changes(signed_in, providers):
    apimart = providers["APIMart"].pk
    html = signed_in.post(
        "/generate/options",
        {"provider": apimart, "model": "pro", "aspect_ratio": "auto", "seed": "7"},
    ).content.decode()
    assert 'value="auto"' not in html
    assert 'value="1:1" selected' in html
    assert 'name="seed"' not in html.split('id="compare-providers"')[0]


def test_the_estimate_follows_count_and_resolution(signed_in, providers):
    html = signed_in.post(
        "/generate/options",
        {"provider": providers["Apixo"].pk, "model": "flex", "resolution": "2K", "count": "3"},
    ).content.decode()
    assert "$0.39" in html and "3 × $0.13" in html


def test_generating_queues_one_job_per_image(signed_in, owner):
    response = signed_in.post("/generate", form_data(count="2"))
    assert response.status_code == 302
    jobs = Job.objects.filter(owner=owner)
    assert jobs.count() == 2
    assert {j.prompt for j in jobs} == {"a red fox in the snow"}
    page = signed_in.get("/").content.decode()
    assert page.count('data-job-id="') == 2
    assert "Queued 2 images." in page


def test_a_double_submit_makes_one_job(signed_in, owner):
    signed_in.post("/generate", form_data())
    signed_in.post("/generate", form_data())
    assert Job.objects.filter(owner=owner).count() == 1


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_generate_pressed_again_within_a_second_on_the_new_form_makes_no_second_job(
    signed_in, owner, htmx
):
    headers = {"HX-Request": "true"} if htmx else {}
    signed_in.post("/generate", form_data(count="2"), headers=headers)
    # The form that came back carries a new key; pressed again at once, it is the same press.
    signed_in.post("/generate", form_data(count="2", idempotency_key="key-2"), headers=headers)
    assert Job.objects.filter(owner=owner).count() == 2
    # Anything asked differently is a new request, however soon.
    signed_in.post("/generate", form_data(prompt="a grey wolf", idempotency_key="key-3"))
    assert Job.objects.filter(owner=owner).count() == 3
    # The same again, a deliberate press some seconds later, is another job too.
    Job.objects.update(created_at=timezone.now() - timedelta(seconds=3))
    signed_in.post("/generate", form_data(prompt="a grey wolf", idempotency_key="key-4"))
    assert Job.objects.filter(owner=owner, prompt="a grey wolf").count() == 2


def test_the_htmx_variant_returns_the_form_and_the_new_card(signed_in, owner):
    response = signed_in.post("/generate", form_data(), headers={"HX-Request": "true"})
    html = response.content.decode()
    job = Job.objects.get(owner=owner)
    assert response.status_code == 200
    assert html.count('id="compose"') == 1 and "<html" not in html
    assert 'hx-swap-oob="afterbegin:#job-list"' in html
    assert f'data-job-id="{job.pk}"' in html
    assert 'id="refresher"' in html and "every 2s" in html
    assert "a red fox in the snow" in html.split('id="id_prompt"')[1][:400]  # what was typed stays
    # A second press of the same rendered form shows no second card.
    again = signed_in.post("/generate", form_data(), headers={"HX-Request": "true"})
    assert 'data-job-id="' not in again.content.decode()
    assert Job.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"prompt": ""}, "prompt", "Write a prompt."),
        ({"prompt": "x" * 5001}, "prompt", "at most 5000 characters"),
        ({"count": "9"}, "count", "less than or equal to 4"),
        ({"aspect_ratio": "5:1"}, "aspect_ratio", "&#x27;5:1&#x27; is not offered by LiangXin"),
        ({"reference_urls": "ftp://example.com/a"}, "reference_urls", "not a public http(s) URL"),
        ({"aspect_ratio": "auto", "provider": "KIE.ai"}, "aspect_ratio", "follows the first"),
    ],
)
def test_bad_input_is_explained_beside_its_field_and_queues_nothing(
    signed_in, providers, overrides, field, message
):
    if overrides.get("provider"):
        overrides["provider"] = str(providers[overrides["provider"]].pk)
    response = signed_in.post("/generate", form_data(**overrides))
    html = response.content.decode()
    assert response.status_code == 200
    assert message in html
    block = html.replace("x" * 5001, "").split(f'name="{field}"')[1][:1500]
    assert 'class="field-error"' in block
    assert Job.objects.count() == 0


def test_a_value_the_provider_does_not_take_is_dropped_with_a_notice(signed_in, providers):
    # A form still showing another provider's options (no JavaScript, or a stale tab):
    # the value is dropped and said so, rather than failing the Generate.
    html = signed_in.post(
        "/generate", form_data(provider=providers["Apixo"].pk, seed="5"), follow=True
    ).content
    assert b"Apixo takes no seed; seed 5 was dropped." in html
    html = signed_in.post(
        "/generate",
        form_data(provider=providers["LiangXin"].pk, resolution="1K", idempotency_key="k2"),
        follow=True,
    ).content
    assert b"LiangXin has no resolution choice; 1K was dropped." in html
    apixo, liangxin = Job.objects.order_by("pk")
    assert apixo.seed is None and not apixo.seed_random
    assert liangxin.resolution == ""


def test_a_named_seed_provider_draws_a_seed_per_image(signed_in, providers, owner):
    signed_in.post(
        "/generate", form_data(provider=providers["LiangXin"].pk, aspect_ratio="16:9", count="2")
    )
    seeds = list(Job.objects.values_list("seed", "seed_random"))
    assert len(seeds) == 2 and all(random for _, random in seeds)
    assert seeds[0][0] != seeds[1][0]
    signed_in.post(
        "/generate",
        form_data(
            provider=providers["LiangXin"].pk, aspect_ratio="16:9", seed="42", idempotency_key="k2"
        ),
    )
    assert Job.objects.filter(seed=42, seed_random=False).count() == 1


def test_uploaded_references_become_signed_expiring_urls(signed_in, owner, providers, client):
    data = form_data(provider=providers["Apixo"].pk, aspect_ratio="auto", resolution="1K")
    response = signed_in.post("/generate", {**data, "reference_files": [png(), png(name="b.png")]})
    assert response.status_code == 302
    job = Job.objects.get()
    assert len(job.reference_urls) == 2
    assert ReferenceUpload.objects.filter(owner=owner).count() == 2
    url = job.reference_urls[0]
    assert url.startswith("http://testserver/refs/")
    # Providers fetch it without signing in...
    signed_in.logout()
    fetched = client.get(url.removeprefix("http://testserver"))
    assert fetched.status_code == 200 and fetched["Content-Type"] == "image/png"
    # ...but a tampered token is refused.
    assert client.get(url.replace("/refs/", "/refs/x")).status_code == 404


def test_a_reference_that_is_not_an_image_is_refused(signed_in):
    bad = SimpleUploadedFile("notes.png", b"hello", content_type="image/png")
    html = signed_in.post("/generate", {**form_data(), "reference_files": [bad]}).content.decode()
    assert "notes.png is not an image we can read." in html
    assert Job.objects.count() == 0 and ReferenceUpload.objects.count() == 0


def test_the_upload_field_carries_the_servers_words_for_the_browser_to_check_first(signed_in):
    """The page's script refuses a file too big or not an image before sending it
    (tests/e2e/test_studio.py), saying what the server would."""
    field = unescape(signed_in.get("/").content.decode()).split('id="id_reference_files"')[0]
    field = field[field.rindex("<input") :]
    assert 'data-max-bytes="10485760"' in field
    assert (
        'data-too-big="{name} is {size} MB; KIE.ai and Apixo take reference images up to 10 MB.'
        in field
    )
    assert 'data-unreadable="{name} is not an image we can read."' in field


def test_too_many_references_for_the_provider_are_refused(signed_in, providers):
    data = form_data(provider=providers["LiangXin"].pk, aspect_ratio="1:1")
    files = [png(name=f"{n}.png") for n in range(5)]
    html = signed_in.post("/generate", {**data, "reference_files": files}).content.decode()
    assert "takes at most 4 reference images (there are 5)" in html
    assert Job.objects.count() == 0


def test_no_enabled_provider_says_so(signed_in, providers):
    for credential in providers.values():
        credential.enabled = False
        credential.save()
    assert "No provider is enabled" in signed_in.get("/").content.decode()
    html = signed_in.post("/generate", form_data()).content.decode()
    assert "No provider is enabled" in html
    assert Job.objects.count() == 0


def test_generate_only_accepts_post(signed_in):
    assert signed_in.get("/generate").status_code == 405
    assert signed_in.get("/generate/options").status_code == 405


def test_remix_fills_the_form_with_the_jobs_parameters(signed_in, owner, providers, outsider):
    signed_in.post(
        "/generate",
        form_data(
            provider=providers["KIE.ai"].pk,
            aspect_ratio="16:9",
            resolution="2K",
            prompt="a castle made of glass",
        ),
    )
    job = Job.objects.get()
    html = signed_in.get(f"/?remix={job.pk}").content.decode()
    assert "a castle made of glass</textarea>" in html
    assert 'value="16:9" selected' in html
    assert signed_in.get("/?remix=999999").status_code == 404
    assert signed_in.get("/?remix=abc").status_code == 404
    signed_in.force_login(outsider)
    assert signed_in.get(f"/?remix={job.pk}").status_code == 404


def test_a_disabled_provider_or_unoffered_model_is_refused_not_swapped(signed_in, providers):
    apixo = providers["Apixo"]
    apixo.enabled = False
    apixo.save()
    html = signed_in.post("/generate", form_data(provider=apixo.pk)).content.decode()
    assert "That provider is not available (disabled or removed)" in html
    html = signed_in.post(
        "/generate", form_data(provider=providers["LiangXin"].pk, model="flex")
    ).content.decode()
    assert "This provider does not offer FLUX.2 flex." in html
    assert Job.objects.count() == 0


def test_options_survive_junk(signed_in):
    response = signed_in.post(
        "/generate/options", {"provider": "nope", "model": "huge", "count": "x"}
    )
    html = response.content.decode()
    assert response.status_code == 200 and 'value="pro" selected' in html


def test_reference_links_only_answer_get(client, owner, signed_in):
    signed_in.post("/generate", {**form_data(), "reference_files": [png()]})
    url = Job.objects.get().reference_urls[0].removeprefix("http://testserver")
    assert client.post(url).status_code == 405
    signed_in.logout()
    assert client.head(url).status_code == 405


def test_the_shared_fields_are_defined_once_for_the_form_and_the_command():
    # Each shared field of the request, as SHARED_FIELDS defines it, is the form's field
    # and the command's flag of the request's own name: neither spells one out by hand.
    from flux2web.studio.forms import GenerateForm, SharedFields, resolve_options
    from flux2web.studio.management.commands.generate import Command

    request_fields = {f.name for f in dataclasses.fields(GenerationRequest)}
    parser = Command().create_parser("manage.py", "generate")
    flags = {flag: action for action in parser._actions for flag in action.option_strings}
    for spec in SHARED_FIELDS:
        assert spec.name in request_fields
        field = GenerateForm.base_fields[spec.name]
        assert field is SharedFields.base_fields[spec.name]
        assert field.label == spec.label
        assert flags[spec.flag].dest == spec.name
    names = [spec.name for spec in SHARED_FIELDS]
    shown = list(GenerateForm(options=resolve_options(None, None)).fields)
    assert shown[: 3 + len(names)] == ["prompt", "model", "provider", *names]
    assert shown[3 + len(names) : 3 + len(names) + 2] == ["reference_urls", "reference_files"]


# One post per provider, between them every shared field (the test below checks that).
ROUND_TRIPS = {
    "LiangXin": {"width": "640", "height": "480", "seed": "5", "prompt_upsampling": "on"},
    "KIE.ai": {"aspect_ratio": "16:9", "resolution": "2K"},
}


@pytest.mark.parametrize("provider", ROUND_TRIPS)
def test_a_shared_field_keeps_its_value_from_the_form_to_a_remix(
    signed_in, owner, providers, provider
):
    # Posted through the form, kept by the job (Job.stored_request), read back for a remix.
    asked = ROUND_TRIPS[provider]
    data = form_data(provider=providers[provider].pk, **{"aspect_ratio": "", **asked})
    assert signed_in.post("/generate", data).status_code == 302
    initial = initial_from_job(Job.objects.get(owner=owner))
    assert {name: str(initial[name]) for name in asked} == asked


def test_the_round_trips_cover_every_shared_field():
    covered = {name for asked in ROUND_TRIPS.values() for name in asked}
    assert covered == {spec.name for spec in SHARED_FIELDS}


def test_which_providers_take_a_shared_field_and_how_a_job_shows_it_come_from_its_spec(
    providers, monkeypatch
):
    # A shared field's spec alone says which providers show it, what survives a change of
    # provider, the notice where the new one lacks it, the job page's line and the card's
    # words for it: the form, the job page and the card name no shared field by hand.
    from django.http import QueryDict

    from flux2web.jobs import models
    from flux2web.providers.types import Shared
    from flux2web.studio import forms

    finish = Shared(
        "finish",
        "Finish",
        "--finish",
        "switch",
        taken_by="seed",  # taken where a seed is
        dropped="{who} has no finish; it was left off.",
        fact="Finish",
        shown=lambda job: "matte" if job.seed else "gloss",
        note=lambda job: "asked",
        card=lambda job: "matte finish",
    )
    monkeypatch.setattr(forms, "SHARED_FIELDS", (*SHARED_FIELDS, finish))
    monkeypatch.setattr(models, "SHARED_FIELDS", (*SHARED_FIELDS, finish))
    data = QueryDict(mutable=True)
    data.update({"prompt": "a fox", "model": "pro", "seed": "5", "finish": "on"})

    liangxin = forms.resolve_options(str(providers["LiangXin"].pk), "pro")
    apixo = forms.resolve_options(str(providers["Apixo"].pk), "pro")
    shown = forms.GenerateForm(options=liangxin).shown_fields
    assert {"finish", "seed", "width"} <= shown
    assert not {"finish", "seed"} & forms.GenerateForm(options=apixo).shown_fields
    assert forms.GenerateForm.carried_over(data, liangxin)["finish"] is True
    assert "finish" not in forms.GenerateForm.carried_over(data, apixo)
    kept, notes = forms.drop_unsupported(data, apixo)
    assert "finish" not in kept and "seed" not in kept
    assert "Apixo has no finish; it was left off." in notes
    assert "Apixo takes no seed; seed 5 was dropped." in notes

    job = Job(model="pro", aspect_ratio="1:1", resolution="2K", seed=5, seed_random=True)
    job.options = {"route": "official"}  # the vendor options after the shared fields
    assert job.facts == [
        ("Size", "1:1 · 2K", ""),
        ("Seed", "5", "random"),
        ("Prompt upsampling", "off", ""),
        ("Finish", "matte", "asked"),
        ("Routing", "official", ""),
    ]
    assert job.card_facts == ["1:1 · 2K", "seed 5", "matte finish"]
