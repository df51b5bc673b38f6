"""The apps stand in one layer order and each imports only the apps below it.

Read from the source with `ast` (tests/jobs/test_imports.py), so an import inside a
function, the usual way to dodge a circle, counts like any other. docs/architecture.md
says why the order is this one."""

from tests.import_helpers import ROOT, app_of, imported_modules, module_name

# Bottom up. Apps in one layer may not import each other either.
LAYERS: list[set[str]] = [
    {"providers"},  # plain Python: the wire dialects, the transport, the sandbox
    {"lib"},  # small shared helpers (address checks apply the providers' download rule)
    {"accounts"},
    {"credentials"},
    {"core"},  # heartbeats, health, throttle windows, and `manage.py up`
    {"billing", "scores"},  # quotas and the ledger; providers' record; jobs calls both
    {"jobs"},
    {"collections"},
    {"review"},  # comments, likes, guests' picks, notifications; links call it
    {"links"},  # a link shows a collection
    {"studio", "team"},
    {"gallery"},
    {"api"},  # API tokens and the OpenAI-compatible API; reads everything below
]
LEVEL = {app: n for n, layer in enumerate(LAYERS) for app in layer}


def apps_on_disk() -> set[str]:
    return {p.parent.name for p in ROOT.glob("*/apps.py")} | {"lib", "providers"}


def test_every_app_has_a_place_in_the_order():
    assert apps_on_disk() - set(LEVEL) == set()


def test_every_app_imports_only_apps_below_it():
    wrong = []
    for path in sorted(ROOT.rglob("*.py")):
        if "migrations" in path.parts:  # history: they name what was, not what imports
            continue
        name = module_name(path)
        app = app_of(name)
        if app is None:  # settings, urls, wsgi: the project itself, above every app
            continue
        for imported in sorted(imported_modules(path)):
            other = app_of(imported)
            if other and other != app and LEVEL.get(other, 0) >= LEVEL.get(app, 0):
                wrong.append(f"{name} imports {imported} ({app} -> {other})")
    assert not wrong, "\n".join(wrong)
