"""``voxrepro pipeline VIDEO_OR_DIR... --out DIR``: the VoxCeleb2-style detection pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from voxrepro.cli.app import app, console, stdout_console
from voxrepro.cli.common import JsonOpt, QuietOpt, print_json, progress_bar
from voxrepro.pipeline.settings import Mode, PipelineSettings

if TYPE_CHECKING:
    from voxrepro.pipeline.run import RunSummary


def _render(summary: RunSummary, settings: PipelineSettings) -> None:
    table = Table(title=f"pipeline ({settings.mode} mode) -> {summary.out_root}")
    for column in ("video", "status", "frames", "tracks", "segments", "note"):
        table.add_column(column, justify="right" if column in {"frames", "tracks"} else "left")
    for result in summary.results:
        style = "green" if result.status == "done" else "red"
        note = result.reason or ", ".join(sorted(set(result.warnings)))
        table.add_row(
            escape(result.reference),
            f"[{style}]{result.status}[/]",
            str(result.frames),
            str(result.tracks),
            str(len(result.segments)),
            escape(note),
        )
    for reference in summary.skipped:
        table.add_row(escape(reference), "[dim]skipped (done)[/]", "", "", "", "")
    stdout_console.print(table)
    for warning in summary.run_warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
    if settings.syncnet_weights is None:
        console.print(
            "[yellow]warning:[/] no --syncnet-weights: SyncNet skipped, one segment per track, "
            "ASD Conf written as 0.000"
        )
    peak = summary.gpu_memory_peak_mb
    if peak is not None:
        stdout_console.print(
            f"GPU memory: up to {peak / 1024:.2f} GiB reserved by a worker, plus its CUDA "
            f"context (size --workers and the batch sizes by it)"
        )
    from voxrepro.pipeline.run import RUN_FILE  # loaded already: the run has finished

    stdout_console.print(
        f"metafiles: {summary.out_root / 'txt'}  run record: {summary.out_root / RUN_FILE}"
    )


@app.command("pipeline")
def pipeline_cmd(
    inputs: Annotated[list[Path], typer.Argument(help="Video files or folders of videos.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
    mode: Annotated[Mode, typer.Option(help="vox2 (min face 50, kept inside) or centred.")] = (
        Mode.VOX2
    ),
    detector: Annotated[str, typer.Option(help="auto | s3fd | yunet | haar.")] = "auto",
    s3fd_weights: Annotated[Path | None, typer.Option(help="Path to sfd_face.pth.")] = None,
    syncnet_weights: Annotated[
        Path | None, typer.Option(help="Path to syncnet_v2.model (none: SyncNet skipped).")
    ] = None,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda[:N].")] = "auto",
    batch_size: Annotated[int, typer.Option(help="Frames per detector batch.")] = 32,
    syncnet_batch_size: Annotated[int, typer.Option(help="Windows per SyncNet batch.")] = 64,
    detect_every: Annotated[int, typer.Option(help="Detect every N-th frame, hold boxes.")] = 1,
    min_face_size: Annotated[
        float | None, typer.Option(help="Override the mode's min face size (px).")
    ] = None,
    min_track: Annotated[int, typer.Option(help="Detections a track needs (strict >).")] = 75,
    identity: Annotated[str, typer.Option(help="Identity written to the metafiles.")] = "unknown",
    fp16: Annotated[bool, typer.Option(help="float16 S3FD/SyncNet on CUDA.")] = False,
    workers: Annotated[int, typer.Option(help="Videos processed in parallel.")] = 1,
    decode_threads: Annotated[
        int, typer.Option(help="Decoding threads per video (0: the worker's share of the cores).")
    ] = 0,
    decode_device: Annotated[
        str, typer.Option(help="cpu | cuda (decode on the GPU with NVDEC; same frames).")
    ] = "cpu",
    frame_device: Annotated[
        str,
        typer.Option(
            help="Where frames are converted, shrunk and cropped: auto (GPU with S3FD on CUDA) "
            "| cpu | cuda."
        ),
    ] = "auto",
    device_shot_buffer_mb: Annotated[
        int, typer.Option(help="GPU frame route: a shot's frames kept on the GPU (MiB).")
    ] = 1024,
    clips: Annotated[
        bool, typer.Option(help="Encode the segment clips (--no-clips: metafiles only).")
    ] = True,
    cuda_wait: Annotated[
        str, typer.Option(help="How threads wait on the GPU: block (sleep) | spin | yield | auto.")
    ] = "block",
    force: Annotated[bool, typer.Option(help="Redo videos already done.")] = False,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Detect, track, crop, score and split speaking faces; write clips and Vox2 metafiles."""
    settings = PipelineSettings(
        mode=mode,
        detector=detector,
        s3fd_weights=s3fd_weights,
        syncnet_weights=syncnet_weights,
        device=device,
        batch_size=batch_size,
        syncnet_batch_size=syncnet_batch_size,
        detect_every=detect_every,
        min_face_size=min_face_size,
        min_track=min_track,
        identity=identity,
        fp16=fp16,
        decode_threads=decode_threads,
        decode_device=decode_device,
        frame_device=frame_device,
        device_shot_buffer_mb=device_shot_buffer_mb,
        write_clips=clips,
        cuda_wait=cuda_wait,
    )
    # Heavy imports (torch, detectors) only when the command runs.
    from voxrepro.pipeline.run import build_run_record, collect_videos, run_pipeline

    total = len(collect_videos(inputs))
    with progress_bar("videos", total, enabled=not (quiet or json_out)) as advance:
        summary = run_pipeline(
            inputs, out, settings, workers=workers, force=force, progress=advance
        )
    if json_out:
        print_json(build_run_record(summary, summary.settings or settings))
    elif not quiet:
        _render(summary, settings)
    if summary.failed:
        for result in summary.failed:
            console.print(f"[red]failed:[/] {escape(result.reason)}", highlight=False)
        raise typer.Exit(1)
