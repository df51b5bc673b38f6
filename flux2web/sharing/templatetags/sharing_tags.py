"""Template helpers for collections: the aspect-ratio class a tile of the grid takes."""

from django import template

register = template.Library()

# Ratios (width / height) in tenths; static/css/app.css has one class per step. A class
# instead of a style attribute: the Content-Security-Policy forbids inline styles.
RATIO_MIN, RATIO_MAX = 4, 25


@register.filter
def ratio_class(image) -> str:
    """ "ar-15" for a 3:2 image: its share of a justified row's width."""
    if not image.width or not image.height:
        return "ar-10"
    tenths = round(image.width * 10 / image.height)
    return f"ar-{min(RATIO_MAX, max(RATIO_MIN, tenths))}"
