"""What Apixo takes and what it costs: its part of the catalog."""

from __future__ import annotations

from flux2web.providers.catalog import (
    FLEX_PRICES,
    PRO_PRICES,
    REF_MAX_BYTES,
    WEB_IMAGE_TYPES,
    Capabilities,
    Option,
    PollSchedule,
)
from flux2web.providers.types import Model

# Apixo: first poll after 15 s, then every 5 s, give up after 3 minutes.
SCHEDULE = PollSchedule(first_after=15, steps=((float("inf"), 5),), give_up_after=3 * 60)
# Apixo's `provider` field: which upstream it routes to ("auto" is its default, not sent).
ROUTE = Option(
    name="route",
    label="Routing",
    help="which upstream {provider} uses: Auto lets it choose",
    refused="Routing {value!r} is not offered by {who}; leave it on Auto.",
    dropped="{who} has no routing choice; {value} routing was dropped.",
    choices=("value", "official"),
)


def _caps(model: Model, prices) -> Capabilities:
    return Capabilities(
        dialect="apixo",
        provider_label="Apixo",
        model=model,
        text_model=f"{model.value}-text-to-image",
        image_model=f"{model.value}-image-to-image",
        aspect_ratios=("1:1", "9:16", "16:9", "4:3", "3:4", "3:2", "2:3", "auto"),
        resolutions=("1K", "2K"),
        ref_max=8,
        prompt_min=3,
        prompt_max=5000,
        schedule=SCHEDULE,
        prices=prices,
        typical_seconds=25,
        callbacks=True,
        https_callbacks=True,
        options=(ROUTE,),
        ref_formats=WEB_IMAGE_TYPES,
        ref_max_bytes=REF_MAX_BYTES,
    )


MODELS = {Model.PRO: _caps(Model.PRO, PRO_PRICES), Model.FLEX: _caps(Model.FLEX, FLEX_PRICES)}
