"""VoxCeleb2 utterance metafiles (``vox2_dev_txt.zip``, ``vox2_test_txt.zip``).

Source: https://www.robots.ox.ac.uk/~vgg/data/voxceleb/ (CC BY-SA 4.0 metadata). One txt per
utterance at ``txt/<identity>/<reference>/<NNNNN>.txt``; boxes are the crop window normalised by
the source frame's width and height (3 decimals); FV Conf is followed by a tab and ``(1)``.
The layout and the parser are described in ``voxrepro.formats.voxtxt``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from voxrepro.formats.voxtxt import read_txt_tree, resolve_vox_path
from voxrepro.formats.voxtxt_write import VOX2_FV_SUFFIX, format_vox_txt, write_txt_tree
from voxrepro.segment import BoxUnits, Problem, Segment
from voxrepro.types import Pathlike, ProgressFn

NAME = "vox2"


def read_vox2(
    path: Pathlike,
    problems: list[Problem] | None = None,
    progress: ProgressFn | None = None,
) -> Iterator[Segment]:
    """Stream VoxCeleb2 Segments (normalised boxes) from a tree, a zip or one txt.

    Args:
        path: folder, ``.zip`` or ``.txt``.
        problems: problems are appended here (never raised); logged when None.
        progress: called with 1 after each file.

    Raises:
        FormatError: ``path`` is missing or an unreadable zip.
    """
    return read_txt_tree(path, NAME, BoxUnits.NORMALISED, resolve_vox_path, problems, progress)


def format_vox2(segment: Segment) -> str:
    """The VoxCeleb2 txt of a Segment with normalised boxes, byte-identical to the published one.

    Raw header text kept by the reader is reused while it matches the Segment's values; unknown
    values are written as ``0`` (offset) and ``nan`` (confidences).

    Raises:
        InvalidInputError: pixel boxes, empty or misshapen arrays, or unsafe identity/reference.
    """
    return format_vox_txt(segment, units=BoxUnits.NORMALISED, fv_suffix=VOX2_FV_SUFFIX)


def write_vox2_tree(segments: Iterable[Segment], root: Pathlike) -> Iterator[Path]:
    """Write ``root/<identity>/<reference>/<utterance>.txt`` per Segment (atomic); yield paths."""
    return write_txt_tree(segments, root, format_vox2)
