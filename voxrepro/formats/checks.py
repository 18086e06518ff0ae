"""Line-exact checks on parsed frame rows, shared by every reader.

``validate_segment`` (segment.py) is the common end check, but it only knows where a segment
starts. The readers know the line of every row, so frame and box problems are reported here with
that line, and the shared check's messages of the same kinds are dropped to avoid saying it twice.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from voxrepro.segment import BoxUnits, Problem, Segment, validate_segment
from voxrepro.types import BoxArray, FrameArray

#: A normalised box further than this outside [0, 1] (fraction of the frame) is "far outside".
OUTSIDE_MARGIN = 0.5
#: At most this many problems of one kind are listed per file; the rest are counted.
MAX_PER_KIND = 10

# Kinds validate_segment reports that the checks below already report with exact lines.
_COVERED = (
    "duplicate frame",
    "frames not increasing",
    "frame gap",
    "box with non-positive",
    "box with non-finite",
)


def _report_rows(
    rows: np.ndarray,
    describe: Callable[[int], tuple[int, str]],
    kind: str,
    display: str,
    problems: list[Problem],
) -> None:
    """Append one problem per offending row index (capped), described by ``describe(i)``."""
    for index in rows[:MAX_PER_KIND]:
        line, message = describe(int(index))
        problems.append(Problem(display, line, message))
    if rows.size > MAX_PER_KIND:
        problems.append(Problem(display, None, f"{rows.size - MAX_PER_KIND} more {kind}"))


def check_frames(
    frames: FrameArray, row_lines: np.ndarray, display: str, problems: list[Problem]
) -> None:
    """Report duplicate, backwards and missing 25 fps frames at the line of the later row."""
    steps = np.diff(frames)
    if steps.size == 0 or bool(np.all(steps == 1)):
        return
    bad = np.flatnonzero(steps != 1)

    def describe(k: int) -> tuple[int, str]:
        prev, cur, step = int(frames[k]), int(frames[k + 1]), int(steps[k])
        line = int(row_lines[k + 1])
        if step == 0:
            return line, f"duplicate frame {cur:06d} (also on line {int(row_lines[k])})"
        if step < 0:
            return line, f"frames not increasing: {cur:06d} after {prev:06d}"
        return line, f"frame gap: {prev:06d} then {cur:06d} ({step - 1} missing)"

    _report_rows(bad, describe, "frame irregularities", display, problems)


def check_boxes(
    boxes: BoxArray,
    row_lines: np.ndarray,
    units: BoxUnits,
    box_resolution: tuple[int, int] | None,
    display: str,
    problems: list[Problem],
) -> None:
    """Report empty boxes and boxes far outside the frame.

    Normalised boxes are checked against [0, 1] with ``OUTSIDE_MARGIN``; pixel boxes only when
    ``box_resolution`` (width, height in pixels) is known.
    """
    if boxes.size == 0:
        return
    if units is BoxUnits.NORMALISED and _plainly_inside(boxes):
        return  # the common case, settled with three reductions
    empty = np.flatnonzero((boxes[:, 2] <= 0) | (boxes[:, 3] <= 0))
    _report_rows(
        empty,
        lambda i: (int(row_lines[i]), f"box with non-positive width or height {_fmt(boxes[i])}"),
        "empty boxes",
        display,
        problems,
    )
    if units is BoxUnits.NORMALISED:
        scaled = boxes
    elif box_resolution is not None:
        width, height = box_resolution
        scaled = boxes / np.array([width, height, width, height], dtype=np.float64)
    else:
        return
    low, high = -OUTSIDE_MARGIN, 1.0 + OUTSIDE_MARGIN
    outside = np.flatnonzero(
        (scaled[:, 0] < low)
        | (scaled[:, 1] < low)
        | (scaled[:, 0] + scaled[:, 2] > high)
        | (scaled[:, 1] + scaled[:, 3] > high)
    )
    _report_rows(
        outside,
        lambda i: (int(row_lines[i]), f"box far outside the frame {_fmt(boxes[i])}"),
        "boxes far outside the frame",
        display,
        problems,
    )


def _plainly_inside(boxes: BoxArray) -> bool:
    """True when no normalised box is empty or far outside (no per-row search needed)."""
    return bool(
        boxes.min() >= -OUTSIDE_MARGIN
        and boxes[:, 2:].min() > 0
        and (boxes[:, :2] + boxes[:, 2:]).max() <= 1.0 + OUTSIDE_MARGIN
    )


def _fmt(box: np.ndarray) -> str:
    return "(" + ", ".join(f"{float(v):g}" for v in box) + ")"


def add_validation_problems(segment: Segment, problems: list[Problem]) -> None:
    """Run the shared ``validate_segment``, keeping only what the checks above do not cover."""
    for problem in validate_segment(segment):
        if not problem.message.startswith(_COVERED):
            problems.append(problem)
