"""The QR code a donor report prints: the node's public verification page (``/verify``)."""

from __future__ import annotations

import segno
from PIL import Image

__all__ = ["verify_qr"]


def verify_qr(url: str) -> Image.Image:
    """A greyscale image of the QR code of ``url`` (UTF-8, as phones read a URL), 4 pixels a module."""
    matrix = segno.make_qr(url, error="m", mode="byte", encoding="utf-8").matrix
    size = len(matrix)
    pixels = bytes(0 if dark else 255 for row in matrix for dark in row)
    image = Image.frombytes("L", (size, size), pixels)
    return image.resize((size * 4, size * 4), Image.Resampling.NEAREST)
