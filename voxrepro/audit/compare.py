"""One call from two sets of segments to a MatchTable / Report (no I/O)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from voxrepro.audit.availability import classify_availability
from voxrepro.audit.report import Report, build_report
from voxrepro.audit.table import MatchTable, build_match_table, group_by_reference
from voxrepro.audit.units import ComparisonUnits, harmonise_units
from voxrepro.errors import InvalidInputError
from voxrepro.segment import Segment
from voxrepro.types import ProgressFn


def check_threshold(value: float, name: str) -> float:
    """Thresholds are fractions in (0, 1]; anything else is a usage error."""
    if not 0.0 < value <= 1.0:
        raise InvalidInputError(f"{name} must be in (0, 1], got {value}")
    return float(value)


def match_segments(
    official: Iterable[Segment],
    generated: Iterable[Segment],
    *,
    box_iou_threshold: float = 0.5,
    states: Mapping[str, Any] | None = None,
    pixel_resolution: tuple[int, int] | None = None,
    progress: ProgressFn | None = None,
) -> tuple[MatchTable, ComparisonUnits]:
    """Match two sets of segments video by video.

    Args:
        official: the published segments.
        generated: the rebuilt segments (pipeline output or a re-read metafile tree).
        box_iou_threshold: frame-level hit threshold on box IoU, in (0, 1].
        states: download states by video id (``voxrepro.store.read_video_states``), or None.
        pixel_resolution: (width, height) used to normalise pixel boxes (see ``units``).
        progress: called with 1 per video matched.

    Returns:
        (table, units): the per-segment match table and the box units compared in.
    """
    check_threshold(box_iou_threshold, "box IoU threshold")
    off, gen, units = harmonise_units(list(official), list(generated), pixel_resolution)
    off_groups, gen_groups = group_by_reference(off), group_by_reference(gen)
    availability = classify_availability(off_groups, states, set(gen_groups))
    table = build_match_table(off_groups, gen_groups, availability, box_iou_threshold, progress)
    return table, units


def compare_segments(
    official: Iterable[Segment],
    generated: Iterable[Segment],
    *,
    tiou_threshold: float = 0.5,
    box_iou_threshold: float = 0.5,
    states: Mapping[str, Any] | None = None,
    pixel_resolution: tuple[int, int] | None = None,
    inputs: dict[str, Any] | None = None,
    problems: list[str] | None = None,
    progress: ProgressFn | None = None,
) -> Report:
    """Match two sets of segments and summarise the result into a Report (no clip metrics)."""
    check_threshold(tiou_threshold, "tIoU threshold")
    table, units = match_segments(
        official,
        generated,
        box_iou_threshold=box_iou_threshold,
        states=states,
        pixel_resolution=pixel_resolution,
        progress=progress,
    )
    return build_report(
        table,
        tiou_threshold=tiou_threshold,
        box_iou_threshold=box_iou_threshold,
        box_units=units.value,
        inputs=inputs,
        problems=problems,
    )
