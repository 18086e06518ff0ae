"""One call that runs a whole audit: read both sides, match, compare clips, write reports.

Shared by ``voxrepro compare`` and ``voxrepro demo``; progress display is injected so that the
library itself never prints.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voxrepro.audit.clips import compare_clips, count_clip_pairs
from voxrepro.audit.compare import check_threshold, match_segments
from voxrepro.audit.loading import count_side_files, find_state_db, load_side, load_states
from voxrepro.audit.report import Report, build_report
from voxrepro.audit.units import parse_resolution
from voxrepro.audit.writers import DEFAULT_FORMATS, write_reports
from voxrepro.errors import InvalidInputError
from voxrepro.segment import Problem
from voxrepro.types import ProgressFn

#: ``progress(description, total)`` -> a context manager yielding ``advance(n)``.
ProgressFactory = Callable[[str, int | None], AbstractContextManager[ProgressFn]]


@contextlib.contextmanager
def no_progress(_description: str, _total: int | None) -> Iterator[ProgressFn]:
    yield lambda _n=1: None


@dataclass(frozen=True)
class CompareOptions:
    """Settings of one audit (see ``voxrepro compare --help`` for each)."""

    formats: tuple[str, ...] = tuple(DEFAULT_FORMATS)
    tiou: float = 0.5
    box_iou: float = 0.5
    clips: Path | None = None
    official_clips: Path | None = None
    state: Path | None = None
    pixel_resolution: str | None = None
    official_format: str = "auto"
    generated_format: str = "auto"


def _check_clip_dirs(clips: Path | None, official_clips: Path | None) -> None:
    if (clips is None) != (official_clips is None):
        raise InvalidInputError("--clips and --official-clips go together (give both or neither)")
    for name, folder in (("--clips", clips), ("--official-clips", official_clips)):
        if folder is not None and not folder.is_dir():
            raise InvalidInputError(f"{name} {folder}: no such folder")


def run_compare(
    generated: Path,
    official: Path,
    out: Path,
    options: CompareOptions = CompareOptions(),
    progress: ProgressFactory = no_progress,
) -> tuple[Report, dict[str, Path]]:
    """Audit ``generated`` against ``official`` and write the reports into ``out``.

    Returns:
        The report and the written files by format.

    Raises:
        InvalidInputError: bad thresholds, paths or clip folders (one line).
    """
    check_threshold(options.tiou, "--tiou")
    check_threshold(options.box_iou, "--box-iou")
    resolution = None
    if options.pixel_resolution:
        resolution = parse_resolution(options.pixel_resolution, "--pixel-resolution")
    clips, official_clips = options.clips, options.official_clips
    _check_clip_dirs(clips, official_clips)
    if out.exists() and not out.is_dir():
        raise InvalidInputError(f"--out {out}: exists and is not a folder")
    problems: list[Problem] = []
    sides = []
    for path, what, fmt in (
        (official, "official", options.official_format),
        (generated, "generated", options.generated_format),
    ):
        with progress(f"reading {what}", count_side_files(path, what)) as advance:
            sides.append(load_side(path, what, problems, fmt, advance))
    off, gen = sides
    db_path = find_state_db(options.state, generated, official)
    states = load_states(db_path)
    videos = len({s.reference for s in off.segments} | {s.reference for s in gen.segments})
    with progress("matching videos", videos) as advance:
        table, units = match_segments(
            off.segments,
            gen.segments,
            box_iou_threshold=options.box_iou,
            states=states,
            pixel_resolution=resolution,
            progress=advance,
        )
    clip_rows: list[dict[str, Any]] = []
    clip_summary: dict[str, Any] | None = None
    if clips is not None and official_clips is not None:
        with progress("comparing clips", count_clip_pairs(table, options.tiou)) as advance:
            clip_rows, clip_summary = compare_clips(
                table, options.tiou, official_clips, clips, advance
            )
    inputs = {
        "official": str(official),
        "official_format": off.fmt,
        "official_kind": off.kind,
        "generated": str(generated),
        "generated_format": gen.fmt,
        "generated_kind": gen.kind,
        "state": str(db_path) if db_path else None,
        "clips": str(clips) if clips else None,
        "official_clips": str(official_clips) if official_clips else None,
        "pixel_resolution": list(resolution) if resolution else None,
    }
    report = build_report(
        table,
        tiou_threshold=options.tiou,
        box_iou_threshold=options.box_iou,
        box_units=units.value,
        inputs=inputs,
        clips=clip_rows,
        clip_summary=clip_summary,
        problems=[str(p) for p in problems],
    )
    try:
        written = write_reports(report, out, options.formats)
    except OSError as error:
        raise InvalidInputError(f"--out {out}: cannot write reports ({error})") from error
    return report, written
