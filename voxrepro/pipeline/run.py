"""Run the pipeline over many videos: inputs, resume, workers, and ``OUT/run.json``."""

from __future__ import annotations

import importlib.metadata as md
import json
import multiprocessing as mp
import platform
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voxrepro import __version__
from voxrepro.atomic import remove_stale_temps, write_json_atomic
from voxrepro.cpu_budget import threads_per_worker
from voxrepro.errors import InvalidInputError
from voxrepro.executor import run_parallel
from voxrepro.pipeline.process import (
    gpu_sharing_warning,
    gpus_to_spread,
    prepare_process,
    settings_for_workers,
)
from voxrepro.pipeline.settings import PipelineSettings
from voxrepro.pipeline.video import VideoResult, VideoStatus, process_video, result_path
from voxrepro.types import Pathlike, ProgressFn

VIDEO_SUFFIXES = (".mp4", ".mkv", ".webm", ".mov", ".avi", ".m4v")
RUN_FILE = "run.json"


def collect_videos(inputs: Iterable[Pathlike]) -> list[Path]:
    """Video files named directly or found (non-recursively, sorted) in the given folders.

    Raises:
        InvalidInputError: an input does not exist, or a folder holds no video.
    """
    videos: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
            if not found:
                raise InvalidInputError(f"{path}: no video files ({', '.join(VIDEO_SUFFIXES)})")
            videos.extend(found)
        elif path.is_file():
            videos.append(path)
        else:
            raise InvalidInputError(f"{path}: no such file or folder")
    return videos


@dataclass
class RunSummary:
    out_root: Path
    results: list[VideoResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0
    settings: PipelineSettings | None = None  # as run (automatic values resolved)
    run_warnings: list[str] = field(default_factory=list)  # about the run, not one video

    @property
    def failed(self) -> list[VideoResult]:
        return [r for r in self.results if r.status == VideoStatus.FAILED]

    @property
    def gpu_memory_peak_mb(self) -> float | None:
        """The most GPU memory any worker reserved (None when no video used CUDA)."""
        peaks = [r.gpu_memory_peak_mb for r in self.results if r.gpu_memory_peak_mb is not None]
        return max(peaks) if peaks else None


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"voxrepro": __version__, "python": platform.python_version()}
    for lib in ("torch", "numpy", "av", "opencv-python", "scenedetect", "yuface"):
        try:
            out[lib] = md.version(lib)
        except md.PackageNotFoundError:
            out[lib] = None
    return out


def _load_done(path: Path) -> bool:
    try:
        return json.loads(path.read_text()).get("status") == VideoStatus.DONE
    except (OSError, ValueError):
        return False


def _stage_rates(results: list[VideoResult]) -> dict[str, dict[str, float]]:
    seconds: Counter[str] = Counter()
    frames = sum(r.frames for r in results)
    for result in results:
        seconds.update(result.timings)
    return {
        stage: {
            "seconds": round(value, 3),
            "frames_per_second": round(frames / value, 1) if value > 0 else None,
        }
        for stage, value in seconds.items()
    }


def build_run_record(summary: RunSummary, settings: PipelineSettings) -> dict[str, Any]:
    results = summary.results
    warnings = Counter(w for r in results for w in set(r.warnings))
    return {
        "schema_version": 1,
        "settings": settings.to_dict(),
        "detector": next((r.detector for r in results if r.detector), None),
        "versions": _versions(),
        "seconds": round(summary.seconds, 3),
        "counts": {
            "videos": len(results),
            "videos_skipped_done": len(summary.skipped),
            "videos_failed": len(summary.failed),
            "frames": sum(r.frames for r in results),
            "shots": sum(r.shots for r in results),
            "tracks": sum(r.tracks for r in results),
            "segments": sum(len(r.segments) for r in results),
        },
        "warnings": dict(warnings),
        "run_warnings": summary.run_warnings,
        # The largest any worker reserved (PyTorch's count, without the CUDA context).
        "gpu_memory_peak_mb_per_worker": summary.gpu_memory_peak_mb,
        "stages": _stage_rates(results),
        "videos": [
            {
                "reference": r.reference,
                "source": r.source,
                "status": str(r.status),
                "reason": r.reason,
                "frames": r.frames,
                "tracks": r.tracks,
                "segments": len(r.segments),
            }
            for r in results
        ],
    }


def _check_decode_device(settings: PipelineSettings) -> None:
    """Refuse GPU decoding up front on a machine without CUDA (else every video would fail)."""
    if settings.decode_device != "cuda":
        return
    import torch
    from av.codec.hwaccel import hwdevices_available

    if "cuda" not in hwdevices_available():
        raise InvalidInputError("--decode-device cuda: this FFmpeg build has no CUDA decoder")
    if not torch.cuda.is_available():
        raise InvalidInputError("--decode-device cuda needs a CUDA GPU, and none is available")


def _check_frame_device(settings: PipelineSettings) -> None:
    """Refuse ``--frame-device cuda`` up front when the detector cannot take the GPU route."""
    if settings.frame_device != "cuda":
        return
    import torch

    s3fd = settings.detector == "s3fd" or (
        settings.detector == "auto" and settings.s3fd_weights is not None
    )
    if not s3fd or settings.facedet_scale != 0.25:
        raise InvalidInputError(
            "--frame-device cuda needs the S3FD detector (--s3fd-weights) at --facedet-scale 0.25"
        )
    if not torch.cuda.is_available():
        raise InvalidInputError("--frame-device cuda needs a CUDA GPU, and none is available")


def _worker(job: tuple[Path, Path, PipelineSettings]) -> VideoResult:
    return process_video(*job)


def run_pipeline(
    inputs: Iterable[Pathlike],
    out_root: Pathlike,
    settings: PipelineSettings,
    *,
    workers: int = 1,
    force: bool = False,
    progress: ProgressFn | None = None,
) -> RunSummary:
    """Run every input video; skip videos already done unless ``force``; write ``run.json``.

    Raises:
        InvalidInputError: a missing input, or two inputs with the same file stem.
    """
    started = time.perf_counter()
    _check_decode_device(settings)
    _check_frame_device(settings)
    out = Path(out_root)
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(out)
    videos = collect_videos(inputs)
    stems = Counter(v.stem for v in videos)
    clashes = sorted(stem for stem, n in stems.items() if n > 1)
    if clashes:
        raise InvalidInputError(f"two inputs share the reference {clashes[0]!r} (file stem)")
    summary = RunSummary(out)
    settings = settings_for_workers(settings, workers)
    threads = threads_per_worker(workers) if workers > 1 else None
    jobs = []
    for video in videos:
        if not force and _load_done(result_path(out, video.stem)):
            summary.skipped.append(video.stem)
            if progress:
                progress(1)
            continue
        jobs.append((video, out, settings))
    sharing = gpu_sharing_warning(settings, workers) if jobs else None
    if sharing:
        summary.run_warnings.append(sharing)
    gpu_ids = gpus_to_spread(settings, workers)
    counter = mp.get_context("spawn").Value("i", 0) if gpu_ids else None
    init = (settings, threads, counter, gpu_ids)
    results = run_parallel(_worker, jobs, workers, prepare_process, init)
    for result in results:
        summary.results.append(result)
        if progress:
            progress(1)
    summary.results.sort(key=lambda r: r.reference)
    summary.seconds = time.perf_counter() - started
    summary.settings = settings
    write_json_atomic(out / RUN_FILE, build_run_record(summary, settings))
    return summary
