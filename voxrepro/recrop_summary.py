"""Per-segment recrop results and the run summary written to ``OUT/recrop.json``."""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voxrepro.segment import Segment


class SegmentStatus(enum.StrEnum):
    WRITTEN = "written"  # clip written in this run
    SKIPPED = "skipped"  # clip already there from an earlier run
    FAILED = "failed"


class FailureReason(enum.StrEnum):
    MISSING_SOURCE = "missing_source"  # no VIDEOS/<reference>.<ext>
    CORRUPT_SOURCE = "corrupt_source"  # the source cannot be opened or decoded
    PAST_END = "past_end"  # the segment needs frames beyond the end of the video
    INVALID = "invalid_segment"  # unsafe id, bad frames or a box that gives no window
    WRITE_FAILED = "write_failed"  # the clip could not be encoded or written
    INTERNAL = "internal_error"  # unexpected exception (logged with its traceback)


@dataclass(frozen=True, slots=True)
class SegmentResult:
    """What happened to one segment.

    Attributes:
        key: (identity, reference, utterance).
        where: the segment's metafile location, for messages.
        status: written, skipped or failed.
        dest: the clip's path (when it could be built).
        reason: why it failed (None unless failed).
        message: one-line explanation naming the file / id (None unless failed).
        frames: number of 25 fps frames in the segment.
        notes: remarks on a written clip (e.g. no audio track in the source).
    """

    key: tuple[str, str, str]
    where: str
    status: SegmentStatus
    dest: str | None
    reason: FailureReason | None
    message: str | None
    frames: int
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "identity": self.key[0],
            "reference": self.key[1],
            "utterance": self.key[2],
            "where": self.where,
            "status": self.status.value,
            "dest": self.dest,
            "reason": self.reason.value if self.reason else None,
            "message": self.message,
            "frames": self.frames,
            "notes": self.notes,
        }


@dataclass(slots=True)
class RecropSummary:
    """Counts over a run, plus every failure and note (``OUT/recrop.json``)."""

    settings: dict[str, Any]
    counts: Counter[str] = field(default_factory=Counter)
    failed_by_reason: Counter[str] = field(default_factory=Counter)
    frames_written: int = 0
    sources: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    metafile_problems: list[str] = field(default_factory=list)
    elapsed_seconds: float = 0.0

    def add(self, result: SegmentResult) -> None:
        self.counts[result.status.value] += 1
        if result.status == SegmentStatus.FAILED:
            reason = result.reason.value if result.reason else FailureReason.INTERNAL.value
            self.failed_by_reason[reason] += 1
            self.failures.append(result.to_dict())
        elif result.status == SegmentStatus.WRITTEN:
            self.frames_written += result.frames
        if result.notes:
            self.notes.append({"dest": result.dest, "notes": result.notes})

    @property
    def failed(self) -> int:
        return self.counts[SegmentStatus.FAILED.value]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "settings": self.settings,
            "segments": self.total,
            "sources": self.sources,
            "written": self.counts[SegmentStatus.WRITTEN.value],
            "skipped": self.counts[SegmentStatus.SKIPPED.value],
            "failed": self.failed,
            "failed_by_reason": dict(sorted(self.failed_by_reason.items())),
            "frames_written": self.frames_written,
            "elapsed_seconds": round(self.elapsed_seconds, 3),
            "metafile_problems": self.metafile_problems,
            "failures": self.failures,
            "notes": self.notes,
        }


def make_result(
    segment: Segment,
    status: SegmentStatus,
    dest: Path | None = None,
    reason: FailureReason | None = None,
    message: str | None = None,
) -> SegmentResult:
    """A result record for ``segment`` (``message`` should name the file or id)."""
    return SegmentResult(
        key=segment.key,
        where=segment.where(),
        status=status,
        dest=str(dest) if dest else None,
        reason=reason,
        message=message,
        frames=segment.num_frames,
    )


def fail_all(
    todo: list[tuple[Segment, Path | None]], reason: FailureReason, message: str
) -> list[SegmentResult]:
    """The same failure for every ``(segment, destination)`` pair."""
    return [make_result(s, SegmentStatus.FAILED, d, reason, message) for s, d in todo]
