"""Share links for tests: made through the real service, with a week to run by default."""

from datetime import timedelta

from django.utils import timezone

from flux2web.links import services as links


def settings_for(title="Spring campaign — round 2", **fields):
    fields.setdefault("expires_at", timezone.now() + timedelta(days=7))
    return links.LinkSettings(title=title, **fields)


def share(owner, *, collection=None, image_ids=None, **fields):
    """A link and its address path (/s/<slug>-<token>/)."""
    link, token = links.link_create(
        owner=owner, settings=settings_for(**fields), collection=collection, image_ids=image_ids
    )
    return link, f"/s/{link.slug}-{token}/" if link.slug else f"/s/{token}/"
