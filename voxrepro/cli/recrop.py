"""``voxrepro recrop``: cut the published segments out of downloaded source videos."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from voxrepro.atomic import write_json_atomic
from voxrepro.cli.app import app, stdout_console
from voxrepro.cli.common import JsonOpt, QuietOpt, fail, print_json, progress_bar
from voxrepro.cli.inspect import parse_resolution
from voxrepro.formats import AUTO, FORMAT_NAMES, MAVCELEB, VOX1, read_segments, resolve_format
from voxrepro.media import CLIP_CRF, CLIP_PRESET
from voxrepro.recrop import SUMMARY_NAME, count_by_reference, run_recrop
from voxrepro.recrop_plan import CropMode, RecropSettings, describe_box_assumption
from voxrepro.recrop_summary import RecropSummary
from voxrepro.segment import Problem

_MAX_LISTED = 20


def _render(summary: RecropSummary, out: Path) -> None:
    table = Table(title=f"recrop -> {out}", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("segments", justify="right")
    data = summary.to_dict()
    table.add_row("written", f"[green]{data['written']:,}[/]")
    table.add_row("skipped (already there)", f"{data['skipped']:,}")
    table.add_row("failed", f"[{'red' if data['failed'] else 'green'}]{data['failed']:,}[/]")
    for reason, count in data["failed_by_reason"].items():
        table.add_row(f"  {reason}", f"[red]{count:,}[/]")
    table.add_row("source videos", f"{data['sources']:,}")
    table.add_row("frames written", f"{data['frames_written']:,}")
    stdout_console.print(table)
    for failure in summary.failures[:_MAX_LISTED]:
        stdout_console.print(escape(failure["message"] or ""), highlight=False, soft_wrap=True)
    hidden = len(summary.failures) - _MAX_LISTED
    if hidden > 0:
        stdout_console.print(f"... and {hidden:,} more failures (see {out / SUMMARY_NAME})")
    stdout_console.print(f"summary: {out / SUMMARY_NAME}", highlight=False)


@app.command("recrop")
def recrop_cmd(
    metadata: Annotated[
        Path, typer.Option("--metadata", help="Metafile folder tree, .zip archive or file.")
    ],
    videos: Annotated[
        Path, typer.Option("--videos", help="Folder of downloaded <reference>.mp4/.mkv/.webm.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Output root for the clips.")],
    mode: Annotated[
        CropMode,
        typer.Option(
            "--mode",
            help="vox2: the box is the window, kept inside the frame, no padding; centred: "
            "square on the box centre, padded with grey 110. CelebV-HQ uses its own rule.",
        ),
    ] = CropMode.VOX2,
    size: Annotated[
        int | None,
        typer.Option("--size", min=16, max=4096, help="Output side in px [224; CelebV-HQ 512]."),
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="Processes; one source video each.")
    ] = 1,
    fmt: Annotated[
        str, typer.Option("--format", help=f"Metafile format: {', '.join((AUTO, *FORMAT_NAMES))}.")
    ] = AUTO,
    resolution: Annotated[
        str | None,
        typer.Option(
            "--resolution",
            help="WIDTHxHEIGHT that pixel boxes (vox1) refer to [a 360-px-high frame].",
        ),
    ] = None,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Cut every segment of a metafile tree from its source video into a 25 fps H.264+AAC clip.

    Each source is decoded once; clips go to OUT/<identity>/<reference>/<utterance>.mp4
    (CelebV-HQ: OUT/<clip id>.mp4). Finished clips are skipped on a rerun. Exit status: 0 all
    written or skipped, 1 some failed (see OUT/recrop.json), 2 usage error.
    """
    box_resolution = parse_resolution(resolution)
    if size is not None and size % 2:
        raise fail(f"--size must be even (H.264 yuv420p), got {size}")
    if not videos.is_dir():
        raise fail(f"{escape(str(videos))}: no such folder of source videos")
    name = resolve_format(metadata, fmt)
    takes_resolution = box_resolution is not None and name in (VOX1, MAVCELEB)
    options = {"box_resolution": box_resolution} if takes_resolution else {}
    problems: list[Problem] = []
    # Two streaming passes instead of a list: a million segments never sit in memory at once.
    # The first counts segments per source (its problems are reported by the second).
    counts = count_by_reference(read_segments(metadata, name, [], **options))
    segments = read_segments(metadata, name, problems, **options)
    settings = RecropSettings(videos, out, mode, size, box_resolution)
    recorded = {
        "metadata": str(metadata),
        "videos": str(videos),
        "out": str(out),
        "format": name,
        "mode": "celebvhq (the dataset's own rule)" if name == "celebvhq" else mode.value,
        "size": size or ("512 (celebvhq)" if name == "celebvhq" else 224),
        "workers": workers,
        "box_assumption": describe_box_assumption(box_resolution),
        "audio": "16 kHz mono AAC, [first/25, (last+1)/25), not shifted by Offset",
        "resize": "OpenCV bilinear (INTER_LINEAR), as UP and SEED",
        "encode": f"H.264 yuv420p libx264 {CLIP_PRESET} crf {CLIP_CRF}, 25 fps",
    }
    show = not (quiet or json_out)
    with progress_bar("recrop", sum(counts.values()), enabled=show) as advance:
        summary = run_recrop(segments, settings, workers, advance, recorded, counts)
    summary.metafile_problems = [str(p) for p in problems]
    if problems:  # rewrite with the metafile problems included
        write_json_atomic(out / SUMMARY_NAME, summary.to_dict())
    if json_out:
        print_json(summary.to_dict())
    elif not quiet:
        _render(summary, out)
    if summary.failed:
        raise typer.Exit(1)
