"""Imports run one way: no circle among the job modules, no two apps importing each other.

Read from the source with `ast`, so an import inside a function (the usual way to dodge a
circle) counts like any other."""

from flux2web.jobs import queue, tasks
from tests.import_helpers import ROOT, app_of, imported_modules, module_name

# Pairs of apps that import each other and are allowed to: none. The whole order, which
# also catches longer circles, is held by tests/test_layers.py.
KNOWN_PAIRS: set[frozenset[str]] = set()


def graph(paths) -> dict[str, set[str]]:
    modules = {module_name(p): p for p in paths}
    return {name: imported_modules(p) & set(modules) - {name} for name, p in modules.items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    seen: set[str] = set()

    def visit(node, trail):
        if node in trail:
            return [*trail[trail.index(node) :], node]
        if node in seen:
            return None
        seen.add(node)
        for nxt in sorted(edges.get(node, ())):
            cycle = visit(nxt, [*trail, node])
            if cycle:
                return cycle
        return None

    for start in sorted(edges):
        cycle = visit(start, [])
        if cycle:
            return cycle
    return None


def test_the_job_modules_import_each_other_in_no_circle():
    jobs = [p for p in (ROOT / "jobs").rglob("*.py") if "migrations" not in p.parts]
    # Importing a package runs its __init__, which imports nothing here; a module's own
    # package is therefore not an edge.
    edges = graph(jobs)
    assert find_cycle(edges) is None, " -> ".join(find_cycle(edges))


def test_no_domain_module_imports_the_tasks():
    allowed = {"flux2web.jobs.apps"}  # connects the worker-start hook
    for path in (ROOT / "jobs").rglob("*.py"):
        name = module_name(path)
        if name not in allowed:
            assert "flux2web.jobs.tasks" not in imported_modules(path), name


def test_the_queue_names_the_tasks_that_exist():
    for name in (queue.SUBMIT, queue.MIRROR, queue.FOLLOW, queue.MAINTENANCE):
        module, function = name.rsplit(".", 1)
        assert module == tasks.__name__ and callable(getattr(tasks, function))


def test_no_two_apps_import_each_other():
    uses: dict[str, set[str]] = {}
    for path in ROOT.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        app = app_of(module_name(path))
        for imported in imported_modules(path):
            other = app_of(imported)
            if app and other and other != app:
                uses.setdefault(app, set()).add(other)
    pairs = {frozenset({a, b}) for a, used in uses.items() for b in used if a in uses.get(b, ())}
    assert pairs - KNOWN_PAIRS == set()


def test_each_job_module_keeps_to_one_concern_of_at_most_350_lines():
    # models.py holds the tables and their QuerySet verbs (who may see an image among
    # them), which are one place on purpose; every other module is one step of a job's life.
    long = {
        path.name: lines
        for path in (ROOT / "jobs").glob("*.py")
        if path.name != "models.py" and (lines := len(path.read_text().splitlines())) > 350
    }
    assert long == {}
