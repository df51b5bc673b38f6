"""The README is the operator's manual: it must name every variable settings.py reads."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_environment_variable_is_documented():
    settings = (ROOT / "flux2web" / "settings.py").read_text()
    readme = (ROOT / "README.md").read_text()
    names = set(re.findall(r'env\.\w+\(\s*"([A-Z0-9_]+)"', settings))

    assert {"DATABASE_URL", "REDIS_URL", "FLUX2WEB_DATA_DIR", "FLUX2WEB_SECRET_KEY"} <= names
    assert sorted(n for n in names if f"`{n}`" not in readme) == []


def test_the_quick_start_gives_exactly_two_commands_and_both_exist():
    readme = (ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("##", 1)[0]
    block = re.search(r"```sh\n(.*?)```", quick_start, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]

    assert commands == ["./bin/run", "./bin/test"]
    for command in commands:
        assert (ROOT / command).stat().st_mode & 0o111, f"{command} is not executable"


def test_nothing_points_at_an_issue_number_a_reader_cannot_look_up():
    # "Before issue 12's work" means nothing to someone with only the code: say what changed.
    said = re.compile(r"\b(?:issue|Issue)s? ?#?\d+")
    files = [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]
    for folder, patterns in (
        ("flux2web", ["*.py", "*.html"]),
        ("templates", ["*.html", "*.txt"]),
        ("static", ["*.css", "*.js"]),
        ("tests", ["*.py"]),
        ("bin", ["*"]),
    ):
        files += [p for pattern in patterns for p in (ROOT / folder).rglob(pattern)]
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in files
        if path.is_file() and "vendor" not in path.parts and "artifacts" not in path.parts
        for n, line in enumerate(path.read_text(errors="ignore").splitlines(), 1)
        if said.search(line) and path != Path(__file__)
    ]
    assert found == []
