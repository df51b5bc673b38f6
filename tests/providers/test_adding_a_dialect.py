"""A dialect is one folder and one registry line: a throw-away one, defined in the tests
folder and registered here only, shows in the catalog, the studio's form and the sandbox;
an option only it takes is offered, stored, copied and shown from its definition alone."""

import ast
import io
from pathlib import Path

import pytest
from django.core.management import call_command

import flux2web
from flux2web.credentials.services import register_sandbox
from flux2web.jobs import services
from flux2web.jobs.models import Job
from flux2web.providers import catalog
from flux2web.providers.sandbox import mounts
from flux2web.providers.types import GenerationRequest, Model, TaskState
from tests.jobs.factories import finish
from tests.providers import throwaway_dialect
from tests.providers.helpers import follow


@pytest.fixture
def throwaway():
    catalog.register(throwaway_dialect.DIALECT)
    yield throwaway_dialect.DIALECT
    catalog.unregister("throwaway")


def test_a_registered_dialect_is_in_the_catalog(throwaway):
    caps = catalog.capabilities("throwaway", "pro")
    assert caps.aspect_ratios == ("5:4", "4:5")
    request = GenerationRequest(prompt="a fox", model=Model.PRO, aspect_ratio="16:9")
    (problem,) = catalog.validate("throwaway", request)
    assert problem.field == "aspect_ratio" and "5:4, 4:5" in problem.message
    assert catalog.capabilities("throwaway", "flex") is None


@pytest.mark.django_db
def test_the_sandbox_serves_it_and_the_studio_offers_it(throwaway, sandbox, client, owner, media):
    # A fresh install registers one sandbox provider per dialect, the new one included.
    registered = {c.name: c for c in register_sandbox(sandbox.url)}
    credential = registered["Sandbox Throwaway"]
    assert credential.base_url == f"{sandbox.url}/throwaway"

    client.force_login(owner)
    assert ">Sandbox Throwaway</option>" in client.get("/").content.decode()
    html = client.post(
        "/generate/options", {"provider": credential.pk, "model": "pro"}
    ).content.decode()
    assert 'value="5:4"' in html and 'value="4:5"' in html
    assert 'value="16:9"' not in html

    with credential.client() as api:
        submission = api.create(
            GenerationRequest(prompt="a heron", model=Model.PRO, aspect_ratio="4:5")
        )
        status, seen = follow(api, submission.task_id)
    assert status.state is TaskState.SUCCEEDED and seen[-1] == "done"
    task = sandbox.get_task(submission.task_id)
    assert (task.mount, task.width, task.height) == ("throwaway", 1024, 1280)


@pytest.mark.django_db
def test_an_option_only_it_takes_needs_nothing_but_its_definition(
    throwaway, sandbox, client, owner, media
):
    # tests/providers/throwaway_dialect defines "finish" (capabilities.py) and sends it
    # (client.py); no module of the app names it, yet every part that handles a request
    # takes it: the form, the command, the stored job, the wire, remix, retry, the job page.
    credential = register_sandbox(sandbox.url)[-1]
    assert credential.dialect == "throwaway"
    client.force_login(owner)
    form = client.post("/generate/options", {"provider": credential.pk}).content.decode()
    assert "Finish <span" in form and "how Throwaway varnishes the print" in form
    assert '<option value="" selected>Plain</option>' in form
    assert '<option value="gloss">Gloss</option>' in form

    client.post("/generate", {"prompt": "a heron", "model": "pro", "count": "1",
                              "provider": credential.pk, "aspect_ratio": "4:5",
                              "finish": "gloss", "idempotency_key": "k"})  # fmt: skip
    job = Job.objects.get()
    assert job.options == {"finish": "gloss"}
    assert services.submit_job(job_id=job.pk) == "submitted"
    job.refresh_from_db()
    assert sandbox.get_task(job.provider_task_id).body["finish"] == "gloss"

    remix = client.get(f"/?remix={job.pk}").content.decode()
    assert '<option value="gloss" selected>Gloss</option>' in remix
    finish(job, state=Job.State.FAILED, with_image=False)
    client.post(f"/jobs/{job.pk}/retry", {"key": "a"})
    assert Job.objects.exclude(pk=job.pk).get().options == {"finish": "gloss"}
    assert "<dt>Finish</dt><dd>gloss</dd>" in client.get(f"/jobs/{job.pk}/").content.decode()

    flags = ["--provider", credential.name, "--aspect-ratio", "5:4", "--finish", "Matte"]
    call_command("generate", "--user", "olivia", "--prompt", "a fox", *flags, stdout=io.StringIO())
    assert Job.objects.order_by("pk").last().options == {"finish": "matte"}
    # A provider without it says so, in the words of the definition.
    refused = catalog.validate("kie", GenerationRequest(model=Model.PRO, prompt="a fox",
                                                        options={"finish": "gloss"}))  # fmt: skip
    assert [p.message for p in refused] == ["KIE.ai has no finish to choose; leave it on Plain."]


def test_no_module_outside_the_dialect_folders_names_a_dialect():
    # A dialect's name or mount written anywhere else is a second place to change when a
    # dialect is added or changed. The five seeded resellers are a list of vendors, kept.
    root = Path(flux2web.__file__).parent
    names = set(catalog.DIALECTS) | set(mounts())
    found = []
    for path in root.rglob("*.py"):
        if "migrations" in path.parts or (root / "providers" / "dialects") in path.parents:
            continue
        tree = ast.parse(path.read_text())
        kept = {
            id(n)
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign) and _names(node, "SEEDED_PROVIDERS")
            for n in ast.walk(node)
        }
        found += [
            f"{path.relative_to(root)}:{node.lineno} {node.value!r}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and node.value in names and id(node) not in kept
        ]
    assert found == []


def _names(node: ast.Assign, name: str) -> bool:
    return any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
