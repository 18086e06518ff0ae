"""All per-video matches concatenated into one columnar table (one entry per segment).

Aggregation, coverage and report rows are computed from this table with vectorised numpy, so
that 36k segments summarise in milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields

import numpy as np

from voxrepro.audit.availability import Availability
from voxrepro.audit.geometry import BoolArray, FloatArray, IntArray
from voxrepro.audit.match import NO_MATCH, VideoMatch, match_video
from voxrepro.segment import Segment


@dataclass(slots=True)
class MatchTable:
    """Columns over every official segment (``off_*``) and every generated one (``gen_*``).

    Segments are grouped by reference in ``references`` order; ``*_video`` index that list and
    ``off_partner`` / ``gen_partner`` index the other side's global arrays (NO_MATCH = none).
    """

    references: list[str]
    availability: dict[str, Availability]
    off_segments: list[Segment]
    gen_segments: list[Segment]
    off_video: IntArray
    off_available: BoolArray
    off_partner: IntArray
    off_partner_shared: BoolArray
    off_best_tiou: FloatArray
    off_match_tiou: FloatArray
    off_start_diff: FloatArray
    off_end_diff: FloatArray
    off_box_iou_mean: FloatArray
    off_box_iou_min: FloatArray
    off_offset_diff: FloatArray
    off_coverage: FloatArray
    off_num_frames: IntArray
    off_frame_hits: IntArray
    gen_video: IntArray
    gen_best_tiou: FloatArray
    gen_match_tiou: FloatArray
    gen_partner: IntArray
    gen_num_frames: IntArray
    gen_frame_hits: IntArray

    def off_matched(self, tiou_threshold: float) -> BoolArray:
        """Official segments with a one-to-one partner at tIoU >= threshold."""
        return (self.off_match_tiou >= tiou_threshold) & (self.off_match_tiou > 0)

    def gen_matched(self, tiou_threshold: float) -> BoolArray:
        """Generated segments with a one-to-one partner at tIoU >= threshold."""
        return (self.gen_match_tiou >= tiou_threshold) & (self.gen_match_tiou > 0)


def group_by_reference(segments: Iterable[Segment]) -> dict[str, list[Segment]]:
    """Segments per source video, in input order within each video."""
    groups: dict[str, list[Segment]] = {}
    for segment in segments:
        groups.setdefault(segment.reference, []).append(segment)
    return groups


def _offset_partner(partner: IntArray, base: int) -> IntArray:
    return np.where(partner == NO_MATCH, NO_MATCH, partner + base)


def build_match_table(
    official: Mapping[str, Sequence[Segment]],
    generated: Mapping[str, Sequence[Segment]],
    availability: Mapping[str, Availability],
    box_iou_threshold: float,
    progress: Callable[[int], None] | None = None,
) -> MatchTable:
    """Match every video and concatenate the results.

    Args:
        official / generated: segments grouped by reference (boxes already in one unit).
        availability: per official reference (``classify_availability``).
        box_iou_threshold: frame-level hit threshold on box IoU.
        progress: called with 1 after each video.
    """
    references = sorted(set(official) | set(generated))
    matches: list[VideoMatch] = []
    off_segments: list[Segment] = []
    gen_segments: list[Segment] = []
    off_video: list[IntArray] = []
    gen_video: list[IntArray] = []
    off_partner: list[IntArray] = []
    gen_partner: list[IntArray] = []
    for index, ref in enumerate(references):
        off, gen = official.get(ref, ()), generated.get(ref, ())
        match = match_video(ref, off, gen, box_iou_threshold)
        off_partner.append(_offset_partner(match.off_partner, len(gen_segments)))
        gen_partner.append(_offset_partner(match.gen_partner, len(off_segments)))
        off_segments.extend(off)
        gen_segments.extend(gen)
        off_video.append(np.full(len(off), index, dtype=np.int64))
        gen_video.append(np.full(len(gen), index, dtype=np.int64))
        matches.append(match)
        if progress is not None:
            progress(1)

    def cat(name: str, dtype: type) -> np.ndarray:
        parts = [getattr(m, name) for m in matches]
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)

    columns = {
        f.name: cat(f.name, bool if f.name == "off_partner_shared" else _dtype_of(f.name))
        for f in fields(VideoMatch)
        if f.name not in {"reference", "off_partner", "gen_partner"}
    }
    video_index = np.concatenate(off_video) if off_video else np.zeros(0, np.int64)
    available_refs = np.array(
        [availability[r].available if r in availability else True for r in references], dtype=bool
    )
    return MatchTable(
        references=references,
        availability=dict(availability),
        off_segments=off_segments,
        gen_segments=gen_segments,
        off_video=video_index,
        off_available=available_refs[video_index] if references else np.zeros(0, bool),
        off_partner=np.concatenate(off_partner) if off_partner else np.zeros(0, np.int64),
        gen_video=np.concatenate(gen_video) if gen_video else np.zeros(0, np.int64),
        gen_partner=np.concatenate(gen_partner) if gen_partner else np.zeros(0, np.int64),
        **columns,
    )


def _dtype_of(name: str) -> type:
    return np.int64 if name.endswith(("num_frames", "frame_hits")) else np.float64
