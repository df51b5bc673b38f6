"""`manage.py generate`: from the shell to stored images, through every seeded provider."""

import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from PIL import Image

from flux2web.billing.models import Quota
from flux2web.jobs.models import Job
from flux2web.studio import references
from tests.helpers import ROOT, subprocess_env

pytestmark = pytest.mark.django_db(transaction=True)


def generate(*args, worker_env):
    return subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "generate", *args],
        env=subprocess_env(**worker_env), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def finish(proc, timeout=90):
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


@pytest.mark.parametrize("with_worker", [False, True], ids=["no worker", "with qcluster"])
def test_generate_wait_stores_images_through_every_seeded_provider(
    owner, providers, worker_env, cluster, image_host, with_worker, live_server
):
    if with_worker:
        # Started and beating first, so the command sees a worker and leaves the jobs to it;
        # the providers that call back do so, to the site (the live server).
        worker = cluster(FLUX2WEB_PUBLIC_URL=live_server.url).ready()
        worker_env = {**worker_env, "FLUX2WEB_QUEUE_NAME": worker.queue_name}
    ref = f"{image_host}/landscape-0.png"
    # The reference images are on loopback: allowed beside the sandbox, as bin/run would.
    allowed = f"{worker_env['FLUX2WEB_ALLOW_PRIVATE_URLS']},{image_host.removeprefix('http://')}"
    worker_env = {**worker_env, "FLUX2WEB_ALLOW_PRIVATE_URLS": allowed}
    runs = {
        "LiangXin": ["--width", "640", "--height", "480", "--seed", "5", "--upsample"],
        "KIE.ai": ["--model", "flex", "--aspect-ratio", "16:9", "--resolution", "1K"],
        "Apikley": ["--aspect-ratio", "auto", "--ref", ref],
        "Apixo": ["--aspect-ratio", "3:2", "--resolution", "1K", "--ref", ref],
        "APIMart": ["--aspect-ratio", "9:16", "--resolution", "1K", "--count", "2"],
    }
    procs = {
        name: generate("--user", "olivia", "--prompt", f"a fox by {name}", "--provider", name,
                       "--wait", "--json", "--timeout", "80", *args, worker_env=worker_env)
        for name, args in runs.items()
    }  # fmt: skip
    sizes = {"LiangXin": (640, 480), "KIE.ai": (1920, 1080), "Apikley": (1664, 1248),
             "Apixo": (1728, 1152), "APIMart": (1080, 1920)}  # fmt: skip
    for name, proc in procs.items():
        code, out, err = finish(proc)
        assert code == 0, (name, out, err)
        lines = [json.loads(line) for line in out.splitlines()]
        assert len(lines) == (2 if name == "APIMart" else 1)
        for line in lines:
            assert set(line) == {"id", "state", "provider", "task_id", "images", "width",
                                 "height", "error"}  # fmt: skip
            assert (line["state"], line["provider"], line["error"]) == ("succeeded", name, None)
            assert line["task_id"]
            assert (line["width"], line["height"]) == sizes[name]
            with Image.open(Path(line["images"][0])) as picture:
                assert picture.size == sizes[name]
        assert ("No worker is running" in err) is not with_worker


def test_a_refused_request_prints_every_reason_and_creates_nothing(owner, providers, worker_env):
    code, _, err = finish(generate(
        "--user", "olivia", "--prompt", "ab", "--provider", "Apixo", "--aspect-ratio", "21:9",
        "--seed", "4", "--count", "1", worker_env=worker_env,
    ))  # fmt: skip
    assert code == 2
    assert "Refused; nothing was queued:" in err
    assert "prompt: The prompt needs at least 3 characters for Apixo" in err
    assert "aspect_ratio: Aspect ratio '21:9' is not offered by Apixo" in err
    assert "seed: Apixo takes no seed" in err
    assert not Job.objects.exists()


def test_prompts_from_a_file_and_a_failure_exit_non_zero(owner, providers, worker_env, tmp_path):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("# a comment\na calm lake\n\na fox [sandbox:content_violation]\n")
    code, out, _ = finish(generate(
        "--user", "olivia", "--from-file", str(prompts), "--provider", "KIE.ai", "--wait",
        "--json", worker_env=worker_env,
    ))  # fmt: skip
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["state"] for line in lines] == ["succeeded", "failed"]
    assert lines[1]["error"].startswith("content_policy:")
    assert code == 1


def test_an_unknown_user_or_provider_is_named(owner, providers, worker_env):
    code, _, err = finish(generate("--user", "nobody", "--prompt", "a fox", worker_env=worker_env))
    assert code != 0 and "No active user named 'nobody'" in err
    code, _, err = finish(generate("--user", "olivia", "--prompt", "a fox", "--provider", "X",
                                   worker_env=worker_env))  # fmt: skip
    assert code != 0 and "No provider named 'X'. Known: LiangXin, KIE.ai" in err


def test_without_wait_it_queues_and_says_so(owner, providers, worker_env):
    code, out, _ = finish(generate("--user", "olivia", "--prompt", "a fox", "--count", "2",
                                   worker_env=worker_env))  # fmt: skip
    assert code == 0
    assert out.count("queued") == 4  # two "queued" lines, then two summaries
    assert Job.objects.filter(state="queued").count() == 2


def test_a_quota_refusal_prints_the_reason_exits_2_and_creates_nothing(owner, providers,
                                                                       worker_env):  # fmt: skip
    Quota.objects.create(user=owner, monthly_images=1)
    code, _, err = finish(generate("--user", "olivia", "--prompt", "a fox", "--count", "2",
                                     worker_env=worker_env))  # fmt: skip
    assert code == 2, err
    assert "Traceback" not in err
    assert "Refused; nothing was queued:" in err
    assert "Over your monthly limit: this would make 2 images and you have 1 of 1 left" in err
    assert not Job.objects.exists()


def test_a_prompt_file_over_the_quota_queues_none_of_it(owner, providers, worker_env, tmp_path):
    Quota.objects.create(user=owner, monthly_images=2)
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("a calm lake\na fox in snow\na heron at dawn\n")
    code, _, err = finish(generate("--user", "olivia", "--from-file", str(prompts),
                                   worker_env=worker_env))  # fmt: skip
    assert code == 2, err
    assert "Traceback" not in err
    assert "this would make 3 images and you have 2 of 2 left" in err
    assert not Job.objects.exists()
    # Within the limit, the whole file is queued.
    prompts.write_text("a calm lake\na fox in snow\n")
    code, _, err = finish(generate("--user", "olivia", "--from-file", str(prompts),
                                     worker_env=worker_env))  # fmt: skip
    assert code == 0, err
    assert Job.objects.count() == 2


@pytest.mark.parametrize(
    "ref", ["http://127.0.0.1:9/a.png", "http://169.254.169.254/latest", "http://[::1]/a.png",
            "http://10.0.0.7/a.png", "http://0x7f.0.0.1/a.png",
            # Unreadable ones too: brackets left open, a space in the host, far too long.
            "http://[::1/a.png", "http://exa mple.com/a.png", "http://" + "a" * 3000 + ".com/"],
)  # fmt: skip
def test_a_private_ref_is_refused_before_anything_is_queued(owner, providers, worker_env, ref):
    code, _, err = finish(generate("--user", "olivia", "--prompt", "a fox", "--ref", ref,
                                   worker_env=worker_env))  # fmt: skip
    assert code == 2, err
    assert "Refused; nothing was queued:" in err and "reference_urls: Reference image 1" in err
    assert not Job.objects.exists()


def test_an_upload_link_of_ours_is_taken_and_only_its_owner_gets_it_renewed(
    owner, outsider, providers, settings, media, monkeypatch
):
    settings.PUBLIC_URL = "http://127.0.0.1:8000"
    settings.ALLOW_PRIVATE_URLS, settings.ALLOWED_PRIVATE_HOSTS = False, frozenset()
    out = io.BytesIO()
    Image.new("RGB", (64, 48)).save(out, format="PNG")
    ref = references.store_upload(owner=owner, upload=SimpleUploadedFile("a.png", out.getvalue()))
    past = time.time() - 3 * 24 * 3600
    with monkeypatch.context() as m:
        m.setattr(signing.time, "time", lambda: past)
        expired = references.public_url(ref, base=settings.PUBLIC_URL)
    call_command("generate", "--user", "olivia", "--prompt", "a fox", "--ref", expired,
                 stdout=io.StringIO())  # fmt: skip
    (url,) = Job.objects.get().reference_urls
    assert url.startswith("http://127.0.0.1:8000/refs/") and url != expired
    with pytest.raises(CommandError, match="expired link to an image someone else") as caught:
        call_command("generate", "--user", "oscar", "--prompt", "a fox", "--ref", expired)
    assert caught.value.returncode == 2
    assert Job.objects.count() == 1


@pytest.mark.parametrize(("typed", "kept"), [("Official", "official"), ("auto", ""), ("", "")])
def test_apixos_routing_from_the_command_line(owner, providers, typed, kept):
    call_command("generate", "--user", "olivia", "--prompt", "a fox", "--provider", "Apixo",
                 "--route", typed, stdout=io.StringIO())  # fmt: skip
    assert Job.objects.get().option("route") == kept
