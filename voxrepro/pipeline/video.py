"""One video through the whole pipeline: a pure function of (source, settings) -> outputs.

decode once -> shots + faces -> tracks (spec §6) -> windows and crops (§7) -> SyncNet (§8) ->
segments (§9) -> clips ``OUT/clips/<ref>/<track>_<segment>.mp4`` and a Vox2 txt tree
``OUT/txt/<identity>/<ref>/<NNNNN>.txt``, plus ``OUT/videos/<ref>.json`` (the per-video record
that also marks the video done for resumed runs). Never raises for a bad video: failures come
back as a record with a reason.
"""

from __future__ import annotations

import enum
import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from voxrepro.atomic import write_json_atomic
from voxrepro.errors import VoxreproError
from voxrepro.formats import write_vox2_tree
from voxrepro.media import ClipWriter, VideoInfo, probe_video, read_audio
from voxrepro.pipeline.clock import StageClock
from voxrepro.pipeline.crops import cut_track_crops, track_windows, windows_to_boxes
from voxrepro.pipeline.device_frames import DeviceShotFrames, resolve_frame_device
from voxrepro.pipeline.framestore import default_spill_dir
from voxrepro.pipeline.models import get_detector, get_syncnet
from voxrepro.pipeline.settings import CROP_SIZE, PipelineSettings
from voxrepro.pipeline.shots import Shot, iter_shots
from voxrepro.pipeline.sync import score_and_split
from voxrepro.safety import safe_join, validate_component
from voxrepro.segment import Segment, make_segment
from voxrepro.track import track_shot
from voxrepro.types import SAMPLES_PER_FRAME

logger = logging.getLogger("voxrepro")


class VideoStatus(enum.StrEnum):
    DONE = "done"
    FAILED = "failed"


class Warning_(enum.StrEnum):
    SYNCNET_SKIPPED = "syncnet_skipped_no_weights"
    NO_AUDIO = "no_audio_track"
    NO_FACE = "no_face_track"
    SHOT_SPILLED = "shot_frames_spilled_to_disk"


@dataclass
class VideoResult:
    """What happened to one video (also written to ``OUT/videos/<reference>.json``)."""

    reference: str
    source: str
    status: VideoStatus
    reason: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    frames: int = 0
    # Where frames were converted and cropped: "host", or the GPU frame route's device.
    frames_on: str = "host"
    shots: int = 0
    tracks: int = 0
    segments: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    detector: dict[str, Any] = field(default_factory=dict)
    gpu_memory_peak_mb: float | None = None  # this worker's peak so far (gpu_memory_peak_mb())

    def to_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "source": self.source,
            "status": str(self.status),
            "reason": self.reason,
            "info": self.info,
            "frames": self.frames,
            "frames_on": self.frames_on,
            "shots": self.shots,
            "tracks": self.tracks,
            "segments": self.segments,
            "warnings": sorted(set(self.warnings)),
            "timings": self.timings,
            "detector": self.detector,
            "gpu_memory_peak_mb": self.gpu_memory_peak_mb,
        }


def result_path(out_root: Path, reference: str) -> Path:
    return safe_join(out_root, "videos", f"{reference}.json")


def _info_dict(info: VideoInfo) -> dict[str, Any]:
    return {
        "width": info.width,
        "height": info.height,
        "fps": float(info.fps) if info.fps else None,
        "duration": info.duration,
        "has_audio": info.has_audio,
    }


def _track_audio(audio: np.ndarray | None, first: int, last: int) -> np.ndarray | None:
    if audio is None:
        return None
    return audio[first * SAMPLES_PER_FRAME : (last + 1) * SAMPLES_PER_FRAME]


class _VideoRun:
    """State of one video's run (kept small: one shot of frames at a time)."""

    def __init__(self, source: Path, out_root: Path, reference: str, settings: PipelineSettings):
        self.source, self.out_root, self.reference, self.settings = (
            source,
            out_root,
            reference,
            settings,
        )
        self.clock = StageClock()
        self.result = VideoResult(reference, str(source), VideoStatus.DONE)
        self.segments: list[Segment] = []

    def run(self) -> VideoResult:
        settings = self.settings
        with self.clock("probe"):
            info = probe_video(self.source)
        self.result.info = _info_dict(info)
        audio: np.ndarray | None = None
        if info.has_audio:
            with self.clock("audio"):
                audio = read_audio(self.source)
        else:
            self.result.warnings.append(Warning_.NO_AUDIO)
        detector = get_detector(settings)
        self.result.detector = detector.describe()
        syncnet = get_syncnet(settings)
        if syncnet is None:
            self.result.warnings.append(Warning_.SYNCNET_SKIPPED)
        shots = iter_shots(
            self.source,
            detector,
            batch_size=settings.batch_size,
            detect_every=settings.detect_every,
            clock=self.clock,
            shot_buffer_bytes=settings.shot_buffer_mb * 2**20,
            spill_dir=default_spill_dir(self.out_root),
            decode_threads=settings.decode_threads,
            decode_gpu=settings.decode_gpu,
            frame_device=resolve_frame_device(settings.frame_device, detector),
            device_buffer_bytes=settings.device_shot_buffer_mb * 2**20,
        )
        for shot in shots:
            self.result.shots += 1
            self.result.frames = shot.end
            if isinstance(shot.frames, DeviceShotFrames):
                self.result.frames_on = str(shot.frames.device)
            if shot.frames.spilled:
                self.result.warnings.append(Warning_.SHOT_SPILLED)
            self._process_shot(shot, info, audio, syncnet)
        if self.result.tracks == 0:
            self.result.warnings.append(Warning_.NO_FACE)
        with self.clock("write"):
            list(write_vox2_tree(self.segments, self.out_root / "txt"))
        return self.result

    def _process_shot(
        self, shot: Shot, info: VideoInfo, audio: np.ndarray | None, syncnet: object | None
    ) -> None:
        settings = self.settings
        if len(shot) < settings.min_track:  # spec §5: scenes shorter than min_track are skipped
            return
        with self.clock("track"):
            tracks = track_shot(
                shot.complete_detections(),
                shot.start,
                min_track=settings.min_track,
                min_face_size=settings.effective_min_face,
                scene=(shot.start, shot.end),
            )
        for track in tracks:
            track_id = self.result.tracks  # 0-based, in scene then creation order
            self.result.tracks += 1
            with self.clock("crop"):
                windows = track_windows(track.boxes_xyxy, settings.mode, info.width, info.height)
                # Crops feed SyncNet and the clips; with neither, the windows are all we need.
                needed = syncnet is not None or settings.write_clips
                crops = (
                    cut_track_crops(shot.frames, shot.start, track.frames, windows)
                    if needed
                    else None
                )
            first, last = int(track.frames[0]), int(track.frames[-1])
            with self.clock("syncnet"):
                spans, track_sync = score_and_split(
                    track.frames,
                    crops,
                    _track_audio(audio, first, last),
                    syncnet,
                    batch_size=settings.syncnet_batch_size,
                    fp16=settings.fp16,
                )
            boxes = windows_to_boxes(windows, info.width, info.height)
            for seg_id, span in enumerate(spans):
                rows = slice(span.first - first, span.last - first + 1)
                utterance = f"{len(self.segments) + 1:05d}"
                clip: Path | None = None
                if settings.write_clips and crops is not None:
                    clip = safe_join(
                        self.out_root, "clips", self.reference, f"{track_id:05d}_{seg_id:03d}.mp4"
                    )
                    with self.clock("write"):
                        _write_clip(clip, crops[rows], _track_audio(audio, span.first, span.last))
                segment = make_segment(
                    settings.identity,
                    self.reference,
                    utterance,
                    np.arange(span.first, span.last + 1),
                    boxes[rows],
                    offset=span.offset,
                    fv_conf=None,
                    asd_conf=round(span.confidence, 3),
                    dataset="pipeline",
                )
                self.segments.append(segment)
                self.result.segments.append(
                    {
                        "utterance": utterance,
                        "clip": str(clip.relative_to(self.out_root)) if clip else None,
                        "track": track_id,
                        "segment": seg_id,
                        "first_frame": span.first,
                        "last_frame": span.last,
                        "frames": span.last - span.first + 1,
                        "offset": span.offset,
                        "asd_conf": round(span.confidence, 3),
                        "min_dist": span.min_dist,
                        "track_sync": track_sync,
                    }
                )


def _write_clip(clip: Path, crops: np.ndarray, audio: np.ndarray | None) -> None:
    # One encoder thread: at 224² x264's threads cost more than they save.
    with ClipWriter(clip, CROP_SIZE, audio, threads=1) as writer:
        for crop in crops:
            writer.add_frame(crop)


def _failure_reason(source: Path, error: BaseException) -> str:
    """One line naming the file; CUDA out-of-memory gets what to change instead of torch's
    page-long allocator report (and the cache is freed so that the next video can run)."""
    if type(error).__name__ == "OutOfMemoryError":
        import torch

        torch.cuda.empty_cache()
        first = str(error).split(". GPU", 1)[0].split("\n", 1)[0]
        return (
            f"{source}: {first} - lower --batch-size / --syncnet-batch-size, or run fewer "
            f"--workers per GPU"
        )
    return f"{source}: {type(error).__name__}: {error}".split("\n", 1)[0]


def gpu_memory_peak_mb() -> float | None:
    """The most GPU memory PyTorch has reserved in this process so far, in MiB (None: no CUDA).

    Each worker process reserves its own; this is what sizes ``--workers`` on a GPU. The CUDA
    context of each process comes on top and is not counted here.
    """
    torch = sys.modules.get("torch")  # never imported just to say that CUDA was not used
    if torch is None or not torch.cuda.is_initialized():
        return None
    return round(torch.cuda.max_memory_reserved() / 2**20, 1)


def reference_for(source: Path) -> str:
    """The reference (source video id) of a file: its stem, validated as a path component."""
    return validate_component(source.stem, "video name", str(source))


def process_video(source: Path, out_root: Path, settings: PipelineSettings) -> VideoResult:
    """Run the pipeline on one video; never raises for a bad video (see ``VideoResult``)."""
    started = time.perf_counter()
    try:
        reference = reference_for(source)
    except VoxreproError as error:
        return VideoResult(source.stem, str(source), VideoStatus.FAILED, reason=str(error))
    run = _VideoRun(source, out_root, reference, settings)
    try:
        result = run.run()
    except VoxreproError as error:
        result = run.result
        result.status, result.reason = VideoStatus.FAILED, str(error)
    except (OSError, ValueError, RuntimeError) as error:
        # Unexpected per-video failure: record it with its type so the batch goes on.
        logger.debug("pipeline failed on %s", source, exc_info=True)
        result = run.result
        result.status = VideoStatus.FAILED
        result.reason = _failure_reason(source, error)
    run.clock.add("total", time.perf_counter() - started)
    result.timings = run.clock.as_dict()
    result.gpu_memory_peak_mb = gpu_memory_peak_mb()
    write_json_atomic(result_path(out_root, result.reference), result.to_dict())
    return result
