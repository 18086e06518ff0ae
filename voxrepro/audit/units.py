"""Bring both sides' boxes into one unit system before any box IoU is computed.

Rule (documented in the README):

* every segment on both sides normalised -> compare normalised boxes;
* every segment on both sides in pixels, no resolution override and not every segment
  carrying its resolution -> compare in pixels (IoU is scale-invariant, so this is exact
  when both sides refer to the same resolution);
* otherwise each pixel segment is normalised by its resolution: the ``--pixel-resolution``
  override if given, else ``segment.extra['box_resolution']`` (``(width, height)`` or
  ``"WxH"``). A pixel segment without either is refused with a one-line error naming it.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Sequence

from voxrepro.audit.geometry import normalise_pixel_boxes
from voxrepro.errors import InvalidInputError
from voxrepro.segment import BoxUnits, Segment

RESOLUTION_KEY = "box_resolution"
_RESOLUTION_RE = re.compile(r"^\s*(\d+)\s*[xX×]\s*(\d+)\s*$")


class ComparisonUnits(enum.StrEnum):
    NORMALISED = "normalised"
    PIXELS = "pixels"


def parse_resolution(value: object, where: str = "") -> tuple[int, int]:
    """``"1280x720"`` or ``(1280, 720)`` -> (width, height) in pixels, both > 0."""
    width = height = 0
    if isinstance(value, str):
        found = _RESOLUTION_RE.match(value)
        if found:
            width, height = int(found.group(1)), int(found.group(2))
    elif isinstance(value, Sequence) and len(value) == 2:
        try:
            width, height = int(value[0]), int(value[1])
        except (TypeError, ValueError):
            width = height = 0
    if width <= 0 or height <= 0:
        prefix = f"{where}: " if where else ""
        raise InvalidInputError(f"{prefix}bad resolution {value!r} (expected WIDTHxHEIGHT)")
    return width, height


def _normalised(segment: Segment, override: tuple[int, int] | None, side: str) -> Segment:
    if segment.box_units == BoxUnits.NORMALISED:
        return segment
    raw = override if override is not None else segment.extra.get(RESOLUTION_KEY)
    if raw is None:
        raise InvalidInputError(
            f"{segment.where()}: {side} boxes are in pixels, the other side's are normalised, "
            "and the pixel resolution is unknown; pass --pixel-resolution WIDTHxHEIGHT"
        )
    width, height = parse_resolution(raw, segment.where())
    return dataclasses.replace(
        segment,
        boxes=normalise_pixel_boxes(segment.boxes, width, height),
        box_units=BoxUnits.NORMALISED,
    )


def harmonise_units(
    official: Sequence[Segment],
    generated: Sequence[Segment],
    pixel_resolution: tuple[int, int] | None = None,
) -> tuple[list[Segment], list[Segment], ComparisonUnits]:
    """Return both sides with boxes in one unit system, and which one it is.

    Raises:
        InvalidInputError: a pixel segment must be normalised but its resolution is unknown.
    """
    everything = [*official, *generated]
    all_pixels = bool(everything) and all(s.box_units == BoxUnits.PIXELS for s in everything)
    all_known = all(s.extra.get(RESOLUTION_KEY) is not None for s in everything)
    if all_pixels and pixel_resolution is None and not all_known:
        return list(official), list(generated), ComparisonUnits.PIXELS
    off = [_normalised(s, pixel_resolution, "official") for s in official]
    gen = [_normalised(s, pixel_resolution, "generated") for s in generated]
    return off, gen, ComparisonUnits.NORMALISED
