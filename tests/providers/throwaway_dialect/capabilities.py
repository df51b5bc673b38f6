"""What the throwaway dialect takes: FLUX.2 pro only, at two ratios no real vendor pairs."""

from decimal import Decimal

from flux2web.providers.catalog import Capabilities, Option, PollSchedule
from flux2web.providers.types import Model

RATIOS = ("5:4", "4:5")
SIZES = {"5:4": (1280, 1024), "4:5": (1024, 1280)}
# An option only this vendor takes: its definition is all the app needs to offer it.
FINISH = Option(
    name="finish",
    label="Finish",
    help="how {provider} varnishes the print",
    refused="{who} has no finish to choose; leave it on Plain.",
    dropped="{who} has no finish choice; {value} was dropped.",
    choices=("matte", "gloss"),
    default_label="Plain",
)

MODELS = {
    Model.PRO: Capabilities(
        dialect="throwaway",
        provider_label="Throwaway",
        model=Model.PRO,
        text_model="pro",
        image_model="pro",
        aspect_ratios=RATIOS,
        resolutions=(),
        ref_max=0,
        prompt_min=1,
        prompt_max=100,
        schedule=PollSchedule(first_after=0.1, steps=((float("inf"), 0.1),), give_up_after=30),
        prices={"": Decimal("0.01")},
        default_ratio="5:4",
        options=(FINISH,),
    )
}
