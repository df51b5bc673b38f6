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
