"""VoxCeleb1 utterance metafiles (``vox1_dev_txt.zip``, ``vox1_test_txt.zip``).

Source: https://www.robots.ox.ac.uk/~vgg/data/voxceleb/ (CC BY-SA 4.0 metadata). Same layout as
VoxCeleb2 (``voxrepro.formats.voxtxt``) but boxes are integer **pixels** and FV Conf has no
``(1)``. The resolution those pixels refer to is not stated anywhere in the files: other tools
assume the original download's resolution or a 360-pixel-high frame. The reader does not guess:
``extra["box_resolution"]`` is None unless the caller passes ``box_resolution=(width, height)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from voxrepro.errors import InvalidInputError
from voxrepro.formats.voxtxt import read_txt_tree, resolve_vox_path
from voxrepro.formats.voxtxt_write import format_vox_txt, write_txt_tree
from voxrepro.segment import BoxUnits, Problem, Segment
from voxrepro.types import Pathlike, ProgressFn

NAME = "vox1"


def check_resolution(box_resolution: tuple[int, int] | None) -> tuple[int, int] | None:
    """Validate a (width, height) pixel resolution given by the user."""
    if box_resolution is None:
        return None
    width, height = (int(v) for v in box_resolution)
    if width <= 0 or height <= 0:
        raise InvalidInputError(f"box resolution must be positive, got {width}x{height}")
    return width, height


def read_vox1(
    path: Pathlike,
    problems: list[Problem] | None = None,
    progress: ProgressFn | None = None,
    box_resolution: tuple[int, int] | None = None,
) -> Iterator[Segment]:
    """Stream VoxCeleb1 Segments (pixel boxes) from a tree, a zip or one txt.

    Args:
        path: folder, ``.zip`` or ``.txt``.
        problems: problems are appended here (never raised); logged when None.
        progress: called with 1 after each file.
        box_resolution: (width, height) in pixels the boxes refer to, recorded in
            ``extra["box_resolution"]`` and used to flag boxes far outside the frame; None
            (default) records that it is unknown.

    Raises:
        FormatError: ``path`` is missing or an unreadable zip.
        InvalidInputError: a non-positive ``box_resolution``.
    """
    resolution = check_resolution(box_resolution)
    return read_txt_tree(
        path, NAME, BoxUnits.PIXELS, resolve_vox_path, problems, progress, resolution
    )


def format_vox1(segment: Segment) -> str:
    """The VoxCeleb1 txt of a Segment with pixel boxes (rounded to integers).

    Raises:
        InvalidInputError: normalised boxes, empty or misshapen arrays, or unsafe ids.
    """
    return format_vox_txt(segment, units=BoxUnits.PIXELS, fv_suffix="")


def write_vox1_tree(segments: Iterable[Segment], root: Pathlike) -> Iterator[Path]:
    """Write ``root/<identity>/<reference>/<utterance>.txt`` per Segment (atomic); yield paths."""
    return write_txt_tree(segments, root, format_vox1)
