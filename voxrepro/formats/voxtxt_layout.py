"""Layout of the VoxCeleb-style utterance txt (VoxCeleb1, VoxCeleb2, MAV-Celeb): names only.

See ``voxrepro.formats.voxtxt`` for the format and the parser, ``voxtxt_write`` for the writer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from voxrepro.types import BoxArray, FrameArray

#: Header labels in file order (lines 1-5).
IDENTITY, REFERENCE, OFFSET, FV_CONF, ASD_CONF = (
    "Identity",
    "Reference",
    "Offset",
    "FV Conf",
    "ASD Conf",
)
HEADER_LABELS = (IDENTITY, REFERENCE, OFFSET, FV_CONF, ASD_CONF)
COLUMN_LINE = "FRAME \tX \tY \tW \tH "
COLUMN_NAMES = ("FRAME", "X", "Y", "W", "H")
#: 1-based line of the first frame row in a well-formed file.
FIRST_ROW_LINE = 8
#: ``Segment.extra`` key holding the header values exactly as written (for byte-exact rewrites).
RAW_HEADER_KEY = "raw_header"

HEADER_PREFIXES = tuple(f"{label:<10}: \t".encode() for label in HEADER_LABELS)
COLUMN_BYTES = COLUMN_LINE.encode()
LABEL_KEYS = {label.casefold(): label for label in HEADER_LABELS}
# The published rows exactly: 6-digit frame, then four numbers, each token followed by a space.
# Number tokens are only loosely matched here; np.fromstring rejects malformed ones.
CANONICAL_ROWS = re.compile(rb"(?:[0-9]{6} \t[-0-9.]+ \t[-0-9.]+ \t[-0-9.]+ \t[-0-9.]+ \n)+")
MAX_ROW_PROBLEMS = 20


@dataclass(frozen=True, slots=True)
class PathFields:
    """What a file's place in the tree says (None where the path says nothing)."""

    identity: str | None
    reference: str | None
    utterance: str
    language: str | None = None


#: (path components below the root, header identity or None, display name) -> PathFields.
PathResolver = Callable[[tuple[str, ...], str | None, str], PathFields]


@dataclass(slots=True)
class ParsedTxt:
    """The content of one txt before it becomes a Segment.

    Attributes:
        header: label -> (raw value text, 1-based line).
        frames: (N,) int64 25 fps frame indices.
        boxes: (N, 4) float64 x, y, w, h as written.
        row_lines: (N,) 1-based line of each row.
        decimal: whether any box value has a decimal point (normalised boxes).
    """

    header: dict[str, tuple[str, int]]
    frames: FrameArray
    boxes: BoxArray
    row_lines: np.ndarray
    decimal: bool


def parse_offset(text: str) -> int | None:
    """Offset header text -> frames (int). Raises ValueError if not an integer."""
    return int(text.split()[0])


def parse_conf(text: str) -> float | None:
    """Confidence header text (first token; "(1)" after it is ignored) -> float, nan -> None."""
    value = float(text.split()[0])
    return None if np.isnan(value) else value
