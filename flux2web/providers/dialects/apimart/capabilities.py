"""What APIMart-style gateways take and what they cost: their part of the catalog."""

from __future__ import annotations

from flux2web.providers.catalog import (
    FLEX_PRICES,
    PRO_PRICES,
    SEVEN_RATIOS,
    Capabilities,
    PollSchedule,
)
from flux2web.providers.types import Model

# APIMart documents none; ours: KIE's cadence with a 10-minute give-up.
SCHEDULE = PollSchedule(
    first_after=2.5, steps=((30, 2.5), (120, 7.5), (float("inf"), 20)), give_up_after=10 * 60
)


def _caps(model: Model, prices) -> Capabilities:
    return Capabilities(
        dialect="apimart",
        provider_label="APIMart",
        model=model,
        text_model=f"flux-2-{model.value}",
        image_model=f"flux-2-{model.value}",
        aspect_ratios=SEVEN_RATIOS,
        resolutions=("1K", "2K"),
        ref_max=8,
        # APIMart states no prompt bounds; ours, matching the other dialects' maximum.
        prompt_min=1,
        prompt_max=5000,
        schedule=SCHEDULE,
        prices=prices,
        callbacks=False,  # none documented: jobs are polled
    )


MODELS = {Model.PRO: _caps(Model.PRO, PRO_PRICES), Model.FLEX: _caps(Model.FLEX, FLEX_PRICES)}
