"""A dialect is one folder and one registry line: a throw-away one, defined in the tests
folder and registered here only, shows in the catalog, the studio's form and the sandbox."""

import ast
from pathlib import Path

import pytest

import flux2web
from flux2web.credentials.services import register_sandbox
from flux2web.providers import catalog
from flux2web.providers.sandbox import mounts
from flux2web.providers.types import GenerationRequest, Model, TaskState
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
