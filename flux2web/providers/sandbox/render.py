"""The sandbox's pictures: a gradient chosen by the seed, with the prompt's first words."""

from __future__ import annotations

import io
import random
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw, ImageFont

from flux2web.providers.catalog import OUTPUT_SIZES, SEVEN_RATIOS
from flux2web.providers.sandbox.faults import FAULT_TAG

if TYPE_CHECKING:
    from flux2web.providers.sandbox.server import Task


def fit_auto(size: tuple[int, int]) -> tuple[int, int]:
    """The 1K output size whose ratio is nearest the reference image's."""
    ratio = size[0] / size[1] if size[1] else 1.0
    best = min(SEVEN_RATIOS, key=lambda r: abs(_ratio(r) - ratio))
    return OUTPUT_SIZES[(best, "1K")]


def _ratio(name: str) -> float:
    w, h = name.split(":")
    return int(w) / int(h)


def render_png(task: Task) -> bytes:
    """A gradient in colours chosen by the seed, with the prompt's first words on it."""
    rng = random.Random(task.seed)  # noqa: S311 - colours, not secrets: same seed, same image
    start = tuple(rng.randrange(40, 220) for _ in range(3))
    end = tuple(rng.randrange(40, 220) for _ in range(3))
    w, h = task.width, task.height
    vertical = Image.linear_gradient("L")
    horizontal = vertical.rotate(90)
    # Square 90-degree turns and blends of them: no empty corners, unlike a 45-degree turn.
    masks = (
        vertical,
        horizontal,
        Image.blend(vertical, horizontal, 0.5),
        Image.blend(vertical, horizontal.transpose(Image.Transpose.FLIP_LEFT_RIGHT), 0.5),
    )
    mask = rng.choice(masks).resize((w, h))
    image = Image.composite(Image.new("RGB", (w, h), end), Image.new("RGB", (w, h), start), mask)
    draw = ImageDraw.Draw(image)
    words = " ".join(FAULT_TAG.sub("", task.prompt).split()[:6]) or "FLUX.2 sandbox"
    font_size = max(16, min(w, h) // 14)
    font = ImageFont.load_default(size=font_size)
    draw.text((w * 0.06, h * 0.42), words, fill=(255, 255, 255), font=font)
    small = ImageFont.load_default(size=max(12, font_size // 3))
    caption = f"sandbox {task.mount} · {task.model} · {w}x{h} · seed {task.seed}"
    draw.text((w * 0.06, h * 0.42 + font_size * 1.4), caption, fill=(240, 240, 240), font=small)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()
