"""MAV-Celeb (multilingual audio-visual celebrities) utterance metafiles.

Source: https://mavceleb.github.io/ (English-Urdu, English-Hindi, English-German). Published as
VoxCeleb-style txt per utterance (``voxrepro.formats.voxtxt``) with a language level in the tree:
``<identity>/<language>/<reference>/<utt>.txt``. That layout is *unverified* (no real sample
yet), so the reader is tolerant:

- language level: with four or more path components, the one above the reference is the
  language unless it equals the header identity (then the tree has no language level, and the
  component above it counts as the language only if it is a known language name);
- box units are detected per file: any decimal point in the rows means normalised (as in
  VoxCeleb2), integers only mean pixels (as in VoxCeleb1); the Segment's ``box_units`` says
  which was found and ``extra["language"]`` holds the language.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from voxrepro.formats.vox1 import check_resolution
from voxrepro.formats.voxtxt import read_txt_tree, resolve_vox_path, utterance_of
from voxrepro.formats.voxtxt_layout import PathFields
from voxrepro.formats.voxtxt_write import VOX2_FV_SUFFIX, format_vox_txt, write_txt_tree
from voxrepro.segment import BoxUnits, Problem, Segment
from voxrepro.types import Pathlike, ProgressFn

NAME = "mavceleb"
#: Languages of the published MAV-Celeb splits (folder names compared case-insensitively).
KNOWN_LANGUAGES = frozenset({"english", "urdu", "hindi", "german"})


def resolve_mavceleb_path(
    parts: tuple[str, ...], header_identity: str | None, display: str
) -> PathFields:
    """Identity, language and reference from a MAV-Celeb path (see the module docstring)."""
    if len(parts) < 4:
        return resolve_vox_path(parts, header_identity, display)
    upper, middle, reference = parts[-4], parts[-3], parts[-2]
    utterance = utterance_of(parts, display)
    if header_identity is not None and middle == header_identity:
        language = upper if upper.casefold() in KNOWN_LANGUAGES else None
        return PathFields(middle, reference, utterance, language)
    return PathFields(upper, reference, utterance, middle)


def has_language_level(parts: tuple[str, ...], header_identity: str | None) -> bool:
    """Whether a txt's path shows the MAV-Celeb language level (used by format detection)."""
    if len(parts) < 4:
        return False
    upper, middle = parts[-4], parts[-3]
    if middle.casefold() in KNOWN_LANGUAGES or upper.casefold() in KNOWN_LANGUAGES:
        return True
    return header_identity is not None and upper == header_identity != middle


def read_mavceleb(
    path: Pathlike,
    problems: list[Problem] | None = None,
    progress: ProgressFn | None = None,
    box_resolution: tuple[int, int] | None = None,
) -> Iterator[Segment]:
    """Stream MAV-Celeb Segments from a tree, a zip or one txt.

    Args:
        path: folder, ``.zip`` or ``.txt``.
        problems: problems are appended here (never raised); logged when None.
        progress: called with 1 after each file.
        box_resolution: (width, height) pixel boxes refer to, for files with pixel boxes.
    """
    resolution = check_resolution(box_resolution)
    return read_txt_tree(path, NAME, None, resolve_mavceleb_path, problems, progress, resolution)


def format_mavceleb(segment: Segment) -> str:
    """The txt of a MAV-Celeb Segment, in the style its box units imply.

    Normalised boxes are written like VoxCeleb2 (3 decimals, ``(1)`` after a freshly formatted
    FV Conf), pixel boxes like VoxCeleb1; raw header text from the reader is kept.
    """
    if segment.box_units is BoxUnits.NORMALISED:
        return format_vox_txt(segment, units=BoxUnits.NORMALISED, fv_suffix=VOX2_FV_SUFFIX)
    return format_vox_txt(segment, units=BoxUnits.PIXELS, fv_suffix="")


def write_mavceleb_tree(segments: Iterable[Segment], root: Pathlike) -> Iterator[Path]:
    """Write ``root/<identity>/<language>/<reference>/<utt>.txt`` per Segment; yield paths.

    Raises:
        InvalidInputError: a Segment without ``extra["language"]`` or with unsafe ids.
    """
    return write_txt_tree(segments, root, format_mavceleb, with_language=True)
