"""What LiangXin takes and what it costs: its part of the catalog."""

from __future__ import annotations

from flux2web.providers.catalog import PRO_PRICES, Capabilities
from flux2web.providers.dialects.kie.capabilities import SCHEDULE
from flux2web.providers.types import Model

# LiangXin maps ratio aliases to dimensions inside 256..1440 without saying which; ours.
RATIO_SIZES: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024),
    "16:9": (1344, 768),
    "9:16": (768, 1344),
    "4:3": (1152, 864),
    "3:4": (864, 1152),
    "3:2": (1216, 832),
    "2:3": (832, 1216),
    "21:9": (1440, 616),
}

MODELS = {
    Model.PRO: Capabilities(
        dialect="liangxin",
        provider_label="LiangXin",
        model=Model.PRO,
        text_model="flux-2-pro",
        image_model="flux-2-pro",
        aspect_ratios=("1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "21:9"),
        resolutions=(),
        size_range=(256, 1440),
        ref_max=4,
        prompt_min=1,
        # LiangXin states no maximum; ours, matching the other dialects.
        prompt_max=5000,
        schedule=SCHEDULE,
        prices={"": PRO_PRICES["1K"]},
        seed=True,
        upsampling=True,
        callbacks=True,
        https_callbacks=True,
        default_ratio=None,
    ),
}
