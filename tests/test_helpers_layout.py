"""Tests share helpers through factories/helpers modules and fixtures,
never by importing another test module (whose tests would then be collected twice) or a
conftest (which pytest loads itself, as a plugin)."""

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def imported_test_modules(path: Path) -> list[str]:
    return [
        node.module
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom)
        and (node.module or "").startswith("tests.")
        and node.module.rsplit(".", 1)[-1].startswith(("test_", "conftest"))
    ]


def test_no_test_module_imports_another_test_module_or_a_conftest():
    found = {str(p.relative_to(TESTS)): imported_test_modules(p) for p in TESTS.rglob("*.py")}
    assert {path: modules for path, modules in found.items() if modules} == {}
