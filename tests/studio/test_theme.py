"""Dark mode: the system's choice or the person's, applied without JavaScript, and colours
that meet WCAG AA (4.5:1 for text) in both themes, computed from app.css itself."""

import re
from pathlib import Path

import pytest

CSS = (Path(__file__).resolve().parents[2] / "static/css/app.css").read_text()

# (text, background) pairs that carry words on every page.
PAIRS = [
    ("ink", "bg"), ("ink", "card"), ("ink-2", "bg"), ("ink-2", "card"), ("muted", "bg"),
    ("muted", "card"), ("accent", "card"), ("accent", "bg"), ("accent-ink", "accent"),
    ("accent", "accent-soft"), ("danger", "danger-soft"), ("danger", "card"),
    ("warn", "warn-soft"), ("ok", "ok-soft"), ("ink-2", "quiet-soft"), ("star", "star-soft"),
    ("ink", "field"), ("topbar-ink", "topbar"), ("topbar-muted", "topbar"),
]  # fmt: skip


def block(selector: str) -> dict[str, str]:
    body = CSS[CSS.index(selector + " {") :].split("}", 1)[0]
    return dict(re.findall(r"--([a-z0-9-]+):\s*(#[0-9a-fA-F]{6})\s*;", body))


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


LIGHT = block(":root")
DARK = block(":root.theme-dark")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_text_colours_meet_wcag_aa_in_both_themes(theme):
    colours = LIGHT if theme == "light" else {**LIGHT, **DARK}
    weak = {
        f"{fg} on {bg}": round(contrast(colours[fg], colours[bg]), 2)
        for fg, bg in PAIRS
        if contrast(colours[fg], colours[bg]) < 4.5
    }
    assert weak == {}


def test_the_system_dark_theme_is_the_same_as_the_chosen_one():
    media = CSS[CSS.index("@media (prefers-color-scheme: dark)") :]
    assert block(":root:not(.theme-light)") == DARK
    assert media.index(":root:not(.theme-light)") <= 40


@pytest.mark.django_db
def test_the_switch_is_remembered_and_applied_without_javascript(client, owner):
    client.force_login(owner)
    assert '<html lang="en">' in client.get("/").content.decode()  # follows the system
    response = client.post("/settings/theme", {"theme": "dark", "next": "/gallery/"})
    assert response.status_code == 302 and response["Location"] == "/gallery/"
    assert '<html lang="en" class="theme-dark">' in client.get("/gallery/").content.decode()
    client.post("/settings/theme", {"theme": "light"})
    assert '<html lang="en" class="theme-light">' in client.get("/").content.decode()
    client.post("/settings/theme", {"theme": "system"})
    assert '<html lang="en">' in client.get("/").content.decode()


@pytest.mark.django_db
def test_a_bad_theme_or_an_off_site_next_changes_nothing_harmful(client, owner):
    client.force_login(owner)
    response = client.post("/settings/theme", {"theme": "purple"})
    assert response.status_code == 400 and "theme" not in response.cookies
    response = client.post("/settings/theme", {"theme": "dark", "next": "https://evil.example/"})
    assert response["Location"] == "/"
