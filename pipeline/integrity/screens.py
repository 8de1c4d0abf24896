"""``image_screen``: a screen capture uploaded as the invoice.

A page shown on a screen - an order confirmation in a browser, a PDF in a viewer - can be edited
before it is captured (a browser's developer tools change any text), and a capture is not the
paper or the PDF the shop issued. The signal is a reason for a person to look (review,
``INVOICE_SCREEN_CAPTURE``), never a rejection: many honest buyers send a screenshot.

Two kinds of evidence, as data (``[screens]`` of ``integrity.toml``):

- the image's metadata names a capture: an EXIF or XMP UserComment "Screenshot" (what iOS and
  macOS write), a PNG's Software, Comment or Description, or EXIF Software naming a capture tool;
- its pixels are a screen's: exactly one of the listed screen sizes (either way round), no camera
  in its EXIF (Make, Model), and at least ``flat_share`` of its pixels one exact colour (a page's
  white or a viewer's grey; sensor noise leaves no photo or scan that flat).

Not caught: a capture cropped to the page and stripped of its metadata (then it is an image like a
PDF exported to PNG), and a phone photo of a screen (moire is no reliable sign on a JPEG).

>>> import numpy as np
>>> flat_share(np.full((40, 60, 3), 255, np.uint8))
1.0
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..decision import Check, Evidence
from .knowledge import ScreenKnowledge, default_integrity

__all__ = ["flat_share", "screen_findings", "image_screen_check"]

_XMP_VALUE = re.compile(r"(?:UserComment|CreatorTool)(?:=\"([^\"]*)\"|[^>]*>(?:\s*<[^>]+>)*\s*([^<]*)<)",
                        re.IGNORECASE)
"""An XMP property (UserComment, CreatorTool) as an attribute or an element, inside an rdf:Alt or not."""
_USER_COMMENT = 0x9286
_EXIF_IFD = 0x8769
_SOFTWARE = 0x0131
_MAKE, _MODEL = 0x010F, 0x0110


def flat_share(pixels: np.ndarray, step: int = 4) -> float:
    """The share of pixels (every ``step``-th row and column) in the commonest exact colour."""
    a = np.ascontiguousarray(pixels[::step, ::step])
    if a.ndim == 3:
        a = a[..., :3].astype(np.uint32)
        a = (a[..., 0] << 16) | (a[..., 1] << 8) | a[..., 2]
    counts = np.unique(a.ravel(), return_counts=True)[1]
    return float(counts.max() / counts.sum()) if counts.size else 0.0


def _user_comment(value) -> str:
    """EXIF UserComment as text: an 8-byte character code ("ASCII", "UNICODE") then the comment.

    >>> _user_comment(b"ASCII\\0\\0\\0Screenshot"), _user_comment("Screenshot")
    ('Screenshot', 'Screenshot')
    """
    if not isinstance(value, bytes):
        return str(value)
    code, text = value[:8].rstrip(b"\0 "), value[8:]
    if code == b"UNICODE":
        return text.decode("utf-16", "replace").strip("\0")
    if code in (b"ASCII", b"JIS", b""):
        return text.decode("utf-8", "replace").strip("\0")
    return value.decode("utf-8", "replace").strip("\0")


def _texts(im) -> list[str]:
    """What the image's metadata says about how it was made: EXIF Software and UserComment, XMP,
    PNG text chunks."""
    out = []
    exif = im.getexif()
    if exif.get(_SOFTWARE):
        out.append(str(exif.get(_SOFTWARE)))
    comment = exif.get_ifd(_EXIF_IFD).get(_USER_COMMENT)
    if comment:
        out.append(_user_comment(comment))
    xmp = im.info.get("xmp") or im.info.get("XML:com.adobe.xmp") or b""
    if isinstance(xmp, bytes):
        xmp = xmp.decode("utf-8", "replace")
    if xmp:
        out += [(m.group(1) or m.group(2) or "").strip() for m in _XMP_VALUE.finditer(str(xmp))]
    for key in ("Software", "Comment", "Description", "Title", "comment"):
        if im.info.get(key):
            out.append(str(im.info[key]))
    return out


def screen_findings(path: Path, *, knowledge: ScreenKnowledge | None = None, max_pixels: int = 60_000_000
                    ) -> list[str]:
    """Why the image at ``path`` looks like a screen capture (empty: it does not). Decodes the
    pixels only when the image has a screen's size and no camera."""
    from PIL import Image

    kb = knowledge or default_integrity().screens
    out = []
    with Image.open(path) as im:
        for text in _texts(im):
            if (tool := kb.tool(text)) is not None:
                out.append(f"its metadata says {text.strip()[:80]!r} ({tool})")
                break
        exif = im.getexif()
        camera = exif.get(_MAKE) or exif.get(_MODEL)
        width, height = im.size
        if not camera and kb.is_screen_size(width, height) and width * height <= max_pixels:
            share = flat_share(np.asarray(im.convert("RGB")))
            if share >= kb.flat_share:
                out.append(f"{width} x {height} pixels, a screen's size, no camera in its metadata, "
                           f"{100 * share:.0f} % of its pixels one flat colour")
    return out


def image_screen_check(name: str, path: Path, *, knowledge: ScreenKnowledge | None = None) -> Check:
    """``image_screen`` for one uploaded invoice image."""
    from PIL import Image, UnidentifiedImageError

    try:
        found = screen_findings(path, knowledge=knowledge)
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as exc:
        return Check(name="image_screen", product=None, status="skipped", score=0,
                     detail=f"the image cannot be examined: {exc}")
    if found:
        return Check(name="image_screen", product=None, status="uncertain", score=40,
                     expected="a photo or scan of the invoice, or its PDF", found="a screen capture",
                     evidence=Evidence(name, 1), reason="INVOICE_SCREEN_CAPTURE", detail="; ".join(found))
    return Check(name="image_screen", product=None, status="pass", score=100,
                 expected="a photo or scan of the invoice, or its PDF")
