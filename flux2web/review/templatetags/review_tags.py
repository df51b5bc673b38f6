"""Template helpers for review: a comment's text, escaped, with its @mentions marked."""

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from flux2web.review.comments import MENTION

register = template.Library()


@register.filter
def comment_text(body: str):
    """Plain text only: everything is escaped first (no markup, no clickable address), then
    each @name is wrapped in <mark>, which holds only the escaped name."""
    escaped = str(conditional_escape(body or ""))
    marked = MENTION.sub(lambda m: f'<mark class="mention">{m.group(0)}</mark>', escaped)
    return mark_safe(marked)  # noqa: S308 - escaped above; only our own <mark> added
