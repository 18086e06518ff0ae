"""``voxrepro compare``: audit generated segments against official ones, write reports."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from voxrepro.audit.metrics import Metric
from voxrepro.audit.report import SCHEMA_VERSION, Report
from voxrepro.audit.report_console import build_summary_table, build_worst_videos_table
from voxrepro.audit.runner import CompareOptions, run_compare
from voxrepro.audit.writers import DEFAULT_FORMATS, parse_formats
from voxrepro.cli.app import app, console
from voxrepro.cli.common import JsonOpt, QuietOpt, fail, print_json, progress_bar
from voxrepro.errors import VoxreproError
from voxrepro.types import ProgressFn

EXIT_BELOW_THRESHOLD = 1
_SHOWN_PROBLEMS = 5


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

    def bars(description: str, total: int | None) -> AbstractContextManager[ProgressFn]:
        return progress_bar(description, total, show)

    try:
        options = CompareOptions(
            formats=tuple(parse_formats(formats)),
            tiou=tiou,
            box_iou=box_iou,
            clips=clips,
            official_clips=official_clips,
            state=state,
            pixel_resolution=pixel_resolution,
            official_format=official_format,
            generated_format=generated_format,
        )
        report, written = run_compare(generated, official, out, options, bars)
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
