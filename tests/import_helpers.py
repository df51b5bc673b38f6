"""Reading flux2web's imports from the source with `ast`, so an import inside a function
(the usual way to dodge a circle) counts like any other: for the import guards."""

import ast
from pathlib import Path

import flux2web

ROOT = Path(flux2web.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every flux2web module `path` imports, at the top or inside a function."""
    found = set()
    package = module_name(path).rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    [*package.split(".")[: len(package.split(".")) - node.level + 1], base]
                )
            found.add(base)
            # `from flux2web.jobs import tasks` imports the module flux2web.jobs.tasks.
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith("flux2web")}


def app_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and (ROOT / parts[1]).is_dir() else None
