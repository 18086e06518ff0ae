"""``voxrepro demo``: every job of the tool on an embedded default, offline and without weights.

1. compose a 12 s, 3-shot, 30 fps talking-portrait video with audio (matplotlib's bundled photo)
   and its reference Vox2 metafile tree (the known face position on the real 25 fps timeline);
2. serve it on a loopback HTTP server and fetch it through the real download path (yt-dlp);
3. rebuild: recrop the reference metafiles in vox2 and centred modes;
4. pipeline: run the detection pipeline in both modes (embedded detector, no SyncNet weights)
   and recrop the metafiles it wrote;
5. audit: compare the vox2 pipeline output with the reference, clips included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voxrepro.audit.metrics import Metric
from voxrepro.audit.runner import CompareOptions, ProgressFactory, no_progress, run_compare
from voxrepro.demo.source import (
    DEMO_REFERENCE,
    write_demo_video,
    write_reference_metafiles,
)
from voxrepro.download import download_videos
from voxrepro.download_options import DownloadOptions
from voxrepro.errors import VoxreproError
from voxrepro.formats import read_segments
from voxrepro.loopback import LoopbackServer
from voxrepro.pipeline.run import run_pipeline
from voxrepro.pipeline.settings import Mode, PipelineSettings
from voxrepro.recrop import run_recrop
from voxrepro.recrop_plan import CropMode, RecropSettings


@dataclass
class DemoResult:
    """Where everything went, and the headline numbers of each step."""

    root: Path
    paths: dict[str, Path] = field(default_factory=dict)
    numbers: dict[str, Any] = field(default_factory=dict)


def _recrop(metadata: Path, videos: Path, out: Path, mode: CropMode) -> dict[str, int]:
    summary = run_recrop(read_segments(metadata), RecropSettings(videos=videos, out=out, mode=mode))
    if summary.failed:
        raise VoxreproError(f"demo: recrop into {out} failed for {summary.failed} segment(s)")
    return {"written": summary.counts["written"], "skipped": summary.counts["skipped"]}


def run_demo(root: Path, progress: ProgressFactory = no_progress) -> DemoResult:
    """Run the whole demo under ``root`` (rerunnable: finished steps are skipped or redone).

    Raises:
        VoxreproError: a step failed (the message names it).
    """
    result = DemoResult(root)
    paths = result.paths
    paths["source"] = root / "source" / f"{DEMO_REFERENCE}.mp4"
    paths["reference_metafiles"] = root / "metadata" / "txt"
    paths["videos"] = root / "videos"
    with progress("composing the source video", 1) as step:
        write_demo_video(paths["source"])
        write_reference_metafiles(paths["source"], paths["reference_metafiles"])
        step(1)

    with LoopbackServer(paths["source"].parent) as server, progress("downloading", 1) as step:
        options = DownloadOptions(
            out_dir=paths["videos"], url_template=f"{server.base_url}/{{id}}.mp4", retries=1
        )
        (download,) = download_videos([DEMO_REFERENCE], options, progress=step)
    if download.status != "done":
        raise VoxreproError(f"demo: download failed: {download.state.message}")
    result.numbers["download"] = {"status": str(download.status), "path": download.state.path}

    for mode in (CropMode.VOX2, CropMode.CENTRED):
        out = root / "rebuild" / str(mode)
        with progress(f"recrop ({mode})", 1) as step:
            result.numbers[f"recrop_{mode}"] = _recrop(
                paths["reference_metafiles"], paths["videos"], out, mode
            )
            step(1)
        paths[f"rebuild_{mode}"] = out

    for mode in (Mode.VOX2, Mode.CENTRED):
        out = root / "pipeline" / str(mode)
        with progress(f"pipeline ({mode})", 1) as step:
            summary = run_pipeline(
                [paths["videos"]], out, PipelineSettings(mode=mode), force=True, progress=step
            )
        if summary.failed:
            raise VoxreproError(f"demo: pipeline failed: {summary.failed[0].reason}")
        (video,) = summary.results
        result.numbers[f"pipeline_{mode}"] = {
            "shots": video.shots,
            "tracks": video.tracks,
            "segments": len(video.segments),
        }
        paths[f"pipeline_{mode}"] = out
        crop_mode = CropMode.VOX2 if mode == Mode.VOX2 else CropMode.CENTRED
        with progress(f"recrop pipeline metafiles ({mode})", 1) as step:
            result.numbers[f"pipeline_{mode}_recrop"] = _recrop(
                out / "txt", paths["videos"], out / "recrop", crop_mode
            )
            step(1)

    paths["compare"] = root / "compare"
    options = CompareOptions(clips=paths["pipeline_vox2"], official_clips=paths["rebuild_vox2"])
    report, written = run_compare(
        paths["pipeline_vox2"], paths["reference_metafiles"], paths["compare"], options, progress
    )
    result.numbers["compare"] = {
        key: report.summary.get(key)
        for key in (
            Metric.SEGMENT_RECALL.value,
            Metric.SEGMENT_PRECISION.value,
            Metric.FRAME_RECALL.value,
            Metric.MEAN_BOX_IOU.value,
        )
    }
    paths["report"] = written.get("html", paths["compare"])
    return result
