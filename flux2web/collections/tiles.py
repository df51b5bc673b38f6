"""One image tile of the justified grids, Mine and Team alike (templates/partials/tile.html):
the same markup, so the same CSS shows every image at its real shape in both. Each tile is
kept rendered under exactly what it shows (lib/kept.py), so the first view of a gallery
after one new image renders one tile, not forty-eight."""

from functools import cache as once

from django.template.loader import get_template
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from flux2web.collections.templatetags.sharing_tags import ratio_of
from flux2web.lib.kept import kept_each


def media_prefix() -> str:
    """Where stored files are served (/media/), as the URLconf says."""
    return reverse("gallery:media", args=["x"])[:-1]


@once
def _review_parts() -> tuple[str, str]:
    """An image's review page (review:image, by URL name: review stands above us), split
    around its id, so a grid of tiles reverses it once."""
    before, after = reverse("review:image", args=[0]).split("/0/")
    return f"{before}/", f"/{after}"


def review_url(image_id: int) -> str:
    before, after = _review_parts()
    return f"{before}{image_id}{after}"


def tile(image: dict, media: str, **shows) -> dict:
    """What one tile shows: `image` holds pk, original, thumbnail, width, height and prompt;
    `shows` what the grid adds (templates/partials/tile.html names them)."""
    width, height = int(image["width"] or 1), int(image["height"] or 1)
    return {
        "pk": int(image["pk"]), "prompt": image["prompt"], "ratio": ratio_of(width, height),
        "full": media + image["original"], "thumb": media + image["thumbnail"],
        "width": width, "height": height, "thumb_width": min(width, 512),
        "review": review_url(int(image["pk"])), **shows,
    }  # fmt: skip


def render_tiles(grid: str, rows: list, to_tile) -> SafeString:
    """The tiles of `rows`, each kept under its row (what it shows, in plain values) and
    the grid's name; `to_tile(row)` makes what partials/tile.html shows, for a tile
    rendered afresh only."""
    rendered = kept_each(grid, rows, lambda row: row, lambda row: _render_tile(to_tile(row)))
    return mark_safe("".join(rendered))  # noqa: S308 - our own rendered template


def _render_tile(shown: dict) -> str:
    return get_template("partials/tile.html").render({"tile": shown}).strip()
