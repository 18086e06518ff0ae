"""The one data model: a ``Segment`` is one utterance of one identity in one source video.

Readers turn every published format into Segments, the pipeline produces them, recrop consumes
them and the audit matches two sets of them. Format-specific fields go into ``extra``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from voxrepro.types import BoxArray, FrameArray


class BoxUnits(enum.StrEnum):
    """What the numbers in ``Segment.boxes`` are measured in."""

    NORMALISED = "normalised"  # fractions of the source frame's width and height (Vox2)
    PIXELS = "pixels"  # pixels of a reference resolution (Vox1; see ``extra['box_resolution']``)


@dataclass(frozen=True, slots=True)
class Problem:
    """A problem found in input data, reported as ``file:line: message`` (never raised)."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "message": self.message}


@dataclass(slots=True)
class Segment:
    """One utterance: a run of 25 fps frames with one box per frame.

    Attributes:
        identity: speaker id, e.g. ``id00012`` (``unknown`` when not known).
        reference: source video id (YouTube id for the public datasets).
        utterance: utterance id within (identity, reference), e.g. ``00001``.
        frames: (N,) int64 0-based frame indices on the 25 fps timeline.
        boxes: (N, 4) float64 crop windows x, y, w, h, in ``box_units``.
        box_units: normalised (Vox2, pipeline output) or pixels (Vox1).
        offset: SyncNet audio-to-video offset in frames (positive: audio leads).
        fv_conf: face-verification confidence.
        asd_conf: active-speaker (SyncNet) confidence.
        dataset: ``vox1``, ``vox2``, ``mavceleb``, ``celebvhq`` or ``pipeline``.
        source_file: file the segment was read from (for messages), if any.
        source_line: 1-based line in ``source_file`` where the segment starts, if any.
        extra: format-specific values (language, raw header text, CelebV-HQ seconds, ...).
    """

    identity: str
    reference: str
    utterance: str
    frames: FrameArray
    boxes: BoxArray
    box_units: BoxUnits = BoxUnits.NORMALISED
    offset: int | None = None
    fv_conf: float | None = None
    asd_conf: float | None = None
    dataset: str = "unknown"
    source_file: str | None = None
    source_line: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str]:
        """(identity, reference, utterance): unique within a dataset."""
        return (self.identity, self.reference, self.utterance)

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])

    @property
    def first_frame(self) -> int:
        return int(self.frames[0])

    @property
    def last_frame(self) -> int:
        """Inclusive last frame index."""
        return int(self.frames[-1])

    @property
    def start_seconds(self) -> float:
        return self.first_frame / 25.0

    @property
    def end_seconds(self) -> float:
        """Exclusive end time: (last + 1) / 25."""
        return (self.last_frame + 1) / 25.0

    def where(self) -> str:
        """Location for messages: ``file:line`` when known, else the segment key."""
        if self.source_file:
            if self.source_line:
                return f"{self.source_file}:{self.source_line}"
            return self.source_file
        return "/".join(self.key)


def make_segment(
    identity: str,
    reference: str,
    utterance: str,
    frames: Iterable[int] | np.ndarray,
    boxes: Iterable[Iterable[float]] | np.ndarray,
    **kwargs: Any,
) -> Segment:
    """Build a Segment, converting frames and boxes to the canonical dtypes and shapes."""
    frame_arr = np.asarray(frames, dtype=np.int64).reshape(-1)
    box_arr = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return Segment(identity, reference, utterance, frame_arr, box_arr, **kwargs)


def validate_segment(segment: Segment) -> list[Problem]:
    """Shared checks every producer runs: shapes, ordering, gaps, duplicates, empty boxes."""
    file = segment.source_file or "/".join(segment.key)
    line = segment.source_line
    problems: list[Problem] = []
    frames, boxes = segment.frames, segment.boxes
    if frames.ndim != 1 or boxes.ndim != 2 or boxes.shape[1:] != (4,):
        return [Problem(file, line, f"bad shapes frames={frames.shape} boxes={boxes.shape}")]
    if frames.shape[0] != boxes.shape[0]:
        problems.append(Problem(file, line, f"{frames.shape[0]} frames but {boxes.shape[0]} boxes"))
    if frames.shape[0] == 0:
        problems.append(Problem(file, line, "segment has no frames"))
        return problems
    if frames[0] < 0:
        problems.append(Problem(file, line, f"negative frame index {int(frames[0])}"))
    steps = np.diff(frames)
    if np.any(steps == 0):
        dup = int(frames[1:][steps == 0][0])
        problems.append(Problem(file, line, f"duplicate frame {dup:06d}"))
    if np.any(steps < 0):
        bad = int(frames[1:][steps < 0][0])
        problems.append(Problem(file, line, f"frames not increasing at {bad:06d}"))
    if np.any(steps > 1):
        idx = int(np.argmax(steps > 1))
        problems.append(
            Problem(
                file,
                line,
                f"frame gap after {int(frames[idx]):06d} (next {int(frames[idx + 1]):06d})",
            )
        )
    if np.any(boxes[:, 2:] <= 0):
        problems.append(Problem(file, line, "box with non-positive width or height"))
    if not np.all(np.isfinite(boxes)):
        problems.append(Problem(file, line, "box with non-finite value"))
    return problems


def validate_segments(segments: Iterable[Segment]) -> Iterator[Problem]:
    """Problems of every segment, in order."""
    for segment in segments:
        yield from validate_segment(segment)
