"""Counts and problems of a metafile tree: what ``voxrepro inspect`` reports.

One streaming pass over ``voxrepro.formats.read_segments``: memory grows with the number of
distinct identities and videos (thousands), not with the number of files (up to a million).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from voxrepro.formats import CELEBVHQ, count_source_files, read_segments, resolve_format
from voxrepro.segment import Problem
from voxrepro.types import TIMELINE_FPS, Pathlike, ProgressFn

# Keys of the ``--json`` object (stable: scripts read them).
KEY_FORMAT = "format"
KEY_PATH = "path"
KEY_IDENTITIES = "identities"
KEY_VIDEOS = "videos"
KEY_SEGMENTS = "segments"
KEY_FRAMES = "frames"
KEY_HOURS = "hours"
KEY_BOX_UNITS = "box_units"
KEY_LANGUAGES = "languages"
KEY_PROBLEM_COUNT = "problem_count"
KEY_PROBLEMS = "problems"

SECONDS_PER_HOUR = 3600


@dataclass(slots=True)
class InspectSummary:
    """What a metafile tree holds.

    Attributes:
        path: the inspected folder, zip or file.
        format: the format name it was read as.
        identities: distinct identities.
        videos: distinct references (source videos).
        segments: segments read (files too broken to parse are not counted).
        frames: 25 fps frames over all segments.
        box_units: segments per box unit found ("normalised", "pixels").
        languages: segments per language (MAV-Celeb only; empty otherwise).
        problems: every problem found, in reading order.
    """

    path: str
    format: str
    identities: int = 0
    videos: int = 0
    segments: int = 0
    frames: int = 0
    box_units: dict[str, int] = field(default_factory=dict)
    languages: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def hours(self) -> float:
        """Total duration: frames / 25 / 3600."""
        return self.frames / TIMELINE_FPS / SECONDS_PER_HOUR

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` object."""
        return {
            KEY_FORMAT: self.format,
            KEY_PATH: self.path,
            KEY_IDENTITIES: self.identities,
            KEY_VIDEOS: self.videos,
            KEY_SEGMENTS: self.segments,
            KEY_FRAMES: self.frames,
            KEY_HOURS: round(self.hours, 6),
            KEY_BOX_UNITS: self.box_units,
            KEY_LANGUAGES: self.languages,
            KEY_PROBLEM_COUNT: len(self.problems),
            KEY_PROBLEMS: [problem.to_dict() for problem in self.problems],
        }


def expected_items(path: Pathlike, fmt: str) -> int | None:
    """How many progress ticks ``inspect_metafiles`` will make, when cheap to know.

    Txt formats tick once per file (known for a zip or a single file); CelebV-HQ ticks per clip,
    which is only known after parsing.
    """
    if fmt == CELEBVHQ:
        return None
    return count_source_files(path, (".txt",))


def inspect_metafiles(
    path: Pathlike,
    fmt: str = "auto",
    progress: ProgressFn | None = None,
    box_resolution: tuple[int, int] | None = None,
) -> InspectSummary:
    """Read every segment of ``path`` once and count what it holds.

    Args:
        path: folder tree, ``.zip`` or single metafile.
        fmt: format name or ``"auto"``.
        progress: called with 1 per file (per clip for CelebV-HQ).
        box_resolution: (width, height) pixel boxes refer to (vox1, mavceleb), if known.

    Raises:
        FormatError: missing path, unreadable zip, undetectable format.
        InvalidInputError: unknown format name, or an option the format does not take.
    """
    name = resolve_format(path, fmt)
    summary = InspectSummary(path=str(path), format=name)
    options: dict[str, Any] = {"progress": progress}
    if box_resolution is not None:
        options["box_resolution"] = box_resolution
    identities: set[str] = set()
    videos: set[str] = set()
    units: Counter[str] = Counter()
    languages: Counter[str] = Counter()
    for segment in read_segments(path, name, summary.problems, **options):
        identities.add(segment.identity)
        videos.add(segment.reference)
        summary.segments += 1
        summary.frames += segment.num_frames
        units[segment.box_units.value] += 1
        language = segment.extra.get("language")
        if language is not None:
            languages[str(language)] += 1
    summary.identities = len(identities)
    summary.videos = len(videos)
    summary.box_units = dict(units)
    summary.languages = dict(languages)
    return summary
