"""What KIE's API takes and what it costs: its part of the catalog."""

from __future__ import annotations

from flux2web.providers.catalog import (
    FLEX_PRICES,
    PRO_PRICES,
    REF_MAX_BYTES,
    SEVEN_RATIOS,
    WEB_IMAGE_TYPES,
    Capabilities,
    Option,
    PollSchedule,
)
from flux2web.providers.types import Model

# KIE: every 2-3 s for the first 30 s, 5-10 s until 2 minutes, then 15-30 s; give up at
# 10-15 minutes. We take the middle of each band and the late end of the give-up.
SCHEDULE = PollSchedule(
    first_after=2.5, steps=((30, 2.5), (120, 7.5), (float("inf"), 20)), give_up_after=15 * 60
)
# "At most 20 new generation requests per 10 seconds per account"; more are refused with
# 429 and not queued (providers.md, beyond the seeds).
CREATE_LIMIT = (20, 10)
# KIE's optional safety check of the result (`input.nsfw_checker`, off by default).
NSFW_CHECKER = Option(
    name="nsfw_checker",
    label="NSFW checker",
    help="a result found unsafe is refused",
    refused="{who} has no NSFW checker to switch on.",
    dropped="{who} has no NSFW checker; it was left off.",
)


def _caps(model: Model, text_model: str, image_model: str, prices) -> Capabilities:
    return Capabilities(
        dialect="kie",
        provider_label="KIE.ai",
        model=model,
        text_model=text_model,
        image_model=image_model,
        aspect_ratios=(*SEVEN_RATIOS, "auto"),
        resolutions=("1K", "2K"),
        ref_max=8,
        prompt_min=3,
        prompt_max=5000,
        schedule=SCHEDULE,
        prices=prices,
        callbacks=True,
        signed_callbacks=True,
        options=(NSFW_CHECKER,),
        ref_formats=WEB_IMAGE_TYPES,
        ref_max_bytes=REF_MAX_BYTES,
    )


MODELS = {
    Model.PRO: _caps(
        Model.PRO, "flux-2/pro-text-to-image", "flux-2/pro-image-to-image", PRO_PRICES
    ),
    Model.FLEX: _caps(
        Model.FLEX, "flux-2/flex-text-to-image", "flux-2/flex-image-to-image", FLEX_PRICES
    ),
}
