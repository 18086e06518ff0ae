"""``voxrepro compare``: audit generated segments against official ones, write reports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from voxrepro.audit.clips import compare_clips, count_clip_pairs
from voxrepro.audit.compare import check_threshold, match_segments
from voxrepro.audit.loading import count_side_files, find_state_db, load_side, load_states
from voxrepro.audit.metrics import Metric
from voxrepro.audit.report import SCHEMA_VERSION, Report, build_report
from voxrepro.audit.report_console import build_summary_table, build_worst_videos_table
from voxrepro.audit.units import parse_resolution
from voxrepro.audit.writers import DEFAULT_FORMATS, parse_formats, write_reports
from voxrepro.cli.app import app, console
from voxrepro.cli.common import JsonOpt, QuietOpt, fail, print_json, progress_bar
from voxrepro.errors import InvalidInputError, VoxreproError
from voxrepro.segment import Problem

EXIT_BELOW_THRESHOLD = 1
_SHOWN_PROBLEMS = 5

PathOpt = Annotated[Path, typer.Option(show_default=False)]


def _read(path: Path, what: str, fmt: str, problems: list[Problem], show: bool) -> Any:
    total = count_side_files(path, what) if show else None
    with progress_bar(f"reading {what}", total, show) as advance:
        return load_side(path, what, problems, fmt, advance)


def _check_clip_dirs(clips: Path | None, official_clips: Path | None) -> None:
    if (clips is None) != (official_clips is None):
        raise InvalidInputError("--clips and --official-clips go together (give both or neither)")
    for name, folder in (("--clips", clips), ("--official-clips", official_clips)):
        if folder is not None and not folder.is_dir():
            raise InvalidInputError(f"{name} {folder}: no such folder")


def _run(
    generated: Path,
    official: Path,
    out: Path,
    formats: list[str],
    tiou: float,
    box_iou: float,
    clips: Path | None,
    official_clips: Path | None,
    state: Path | None,
    pixel_resolution: str | None,
    official_format: str,
    generated_format: str,
    show: bool,
) -> tuple[Report, dict[str, Path]]:
    check_threshold(tiou, "--tiou")
    check_threshold(box_iou, "--box-iou")
    resolution = None
    if pixel_resolution:
        resolution = parse_resolution(pixel_resolution, "--pixel-resolution")
    _check_clip_dirs(clips, official_clips)
    if out.exists() and not out.is_dir():
        raise InvalidInputError(f"--out {out}: exists and is not a folder")
    problems: list[Problem] = []
    off = _read(official, "official", official_format, problems, show)
    gen = _read(generated, "generated", generated_format, problems, show)
    db_path = find_state_db(state, generated, official)
    states = load_states(db_path)
    videos = len({s.reference for s in off.segments} | {s.reference for s in gen.segments})
    with progress_bar("matching videos", videos, show) as advance:
        table, units = match_segments(
            off.segments,
            gen.segments,
            box_iou_threshold=box_iou,
            states=states,
            pixel_resolution=resolution,
            progress=advance,
        )
    clip_rows: list[dict[str, Any]] = []
    clip_summary: dict[str, Any] | None = None
    if clips is not None and official_clips is not None:
        with progress_bar("comparing clips", count_clip_pairs(table, tiou), show) as advance:
            clip_rows, clip_summary = compare_clips(table, tiou, official_clips, clips, advance)
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
        tiou_threshold=tiou,
        box_iou_threshold=box_iou,
        box_units=units.value,
        inputs=inputs,
        clips=clip_rows,
        clip_summary=clip_summary,
        problems=[str(p) for p in problems],
    )
    try:
        with console.status("writing reports", spinner="dots") if show else _nothing():
            written = write_reports(report, out, formats)
    except OSError as error:
        raise InvalidInputError(f"--out {out}: cannot write reports ({error})") from error
    return report, written


class _nothing:  # a do-nothing stand-in for console.status when quiet
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


def _render(report: Report, written: dict[str, Path]) -> None:
    console.print(build_summary_table(report))
    console.print(build_worst_videos_table(report, 10))
    if report.problems:
        console.print(f"[yellow]{len(report.problems)} input problem(s)[/], first ones:")
        for line in report.problems[:_SHOWN_PROBLEMS]:
            console.print(f"  {escape(line)}", highlight=False)
    for fmt, path in written.items():
        console.print(f"wrote {fmt}: {escape(str(path))}", highlight=False)


@app.command()
def compare(
    generated: Annotated[
        Path, typer.Option("--generated", help="Rebuilt segments: metafiles or a pipeline folder.")
    ],
    official: Annotated[
        Path, typer.Option("--official", help="Official metafiles (tree, zip or file).")
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder for the reports.")],
    formats: Annotated[
        str, typer.Option("--formats", help="Comma-separated: html, md, json, csv (or null).")
    ] = ",".join(DEFAULT_FORMATS),
    tiou: Annotated[
        float, typer.Option("--tiou", help="Temporal IoU for a segment match, in (0, 1].")
    ] = 0.5,
    box_iou: Annotated[
        float, typer.Option("--box-iou", help="Box IoU for a frame hit, in (0, 1].")
    ] = 0.5,
    clips: Annotated[
        Path | None, typer.Option("--clips", help="Rebuilt clips (<identity>/<ref>/<utt>.mp4).")
    ] = None,
    official_clips: Annotated[
        Path | None, typer.Option("--official-clips", help="Official clips, same layout.")
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option("--state", help="Download state DB (default: found next to the inputs)."),
    ] = None,
    fail_under: Annotated[
        float | None,
        typer.Option("--fail-under", help="Exit 1 when segment recall is below this."),
    ] = None,
    pixel_resolution: Annotated[
        str | None,
        typer.Option("--pixel-resolution", help="WIDTHxHEIGHT that pixel boxes refer to."),
    ] = None,
    official_format: Annotated[
        str, typer.Option("--official-format", help="Format of --official (default: detect).")
    ] = "auto",
    generated_format: Annotated[
        str, typer.Option("--generated-format", help="Format of --generated (default: detect).")
    ] = "auto",
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Match generated segments to official ones per video and write HTML/MD/JSON/CSV reports.

    Exit status: 0 done; 1 segment recall below --fail-under; 2 bad input.
    """
    show = not (quiet or json_out)
    try:
        report, written = _run(
            generated, official, out, parse_formats(formats), tiou, box_iou, clips,
            official_clips, state, pixel_resolution, official_format, generated_format, show,
        )
    except VoxreproError as error:
        raise fail(escape(str(error)), 2) from None
    recall = report.summary[Metric.SEGMENT_RECALL.value]
    below = fail_under is not None and recall < fail_under
    if json_out:
        print_json(
            {
                "schema_version": SCHEMA_VERSION,
                "summary": report.summary,
                "reports": {fmt: str(path) for fmt, path in written.items()},
                "problems": len(report.problems),
                "fail_under": fail_under,
                "passed": None if fail_under is None else not below,
            }
        )
    elif show:
        _render(report, written)
    if below:
        if not json_out:
            console.print(
                f"[bold red]segment recall {recall:.4f} is below --fail-under {fail_under}[/]"
            )
        raise typer.Exit(EXIT_BELOW_THRESHOLD)
