"""The roles the sweeping tests act as, and a small real image."""

import io

from PIL import Image as PILImage

ROLES = ("anonymous", "outsider", "owner", "team_admin", "staff")


def png_bytes(size=(64, 48), format="PNG") -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, (200, 80, 40)).save(out, format=format)
    return out.getvalue()
