"""Template helpers for collections: the aspect-ratio class a tile of the grid takes."""

from django import template

register = template.Library()

# Ratios (width / height) in twentieths, 0.4 to 2.5; static/css/app.css has one class per
# step. A class, not a style attribute: the Content-Security-Policy forbids inline styles.
STEPS = 20
RATIO_MIN, RATIO_MAX = 8, 50


@register.filter
def ratio_class(image) -> str:
    """The tile's class, e.g. ar-30 for a 3:2 image: its share of a row, and its shape."""
    return ratio_of(image.width, image.height)


def ratio_of(width, height) -> str:
    if not width or not height:
        return f"ar-{STEPS}"
    steps = round(width * STEPS / height)
    return f"ar-{min(RATIO_MAX, max(RATIO_MIN, steps))}"
