"""QR codes drawn here, as inline SVG: no image service sees the link."""

import segno
from markupsafe import Markup


def svg(text: str, title: str = "QR code of the link") -> Markup:
    """``text`` as a QR code (error correction M), an ``<svg>`` element to inline."""
    code = segno.make(text, error="m", micro=False)
    return Markup(
        code.svg_inline(scale=4, border=4, dark="#000", light="#fff", title=title)
    )
