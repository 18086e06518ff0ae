"""The VoxCeleb2-style detection pipeline (spec §3–§9): any video -> segments + metafiles."""

from __future__ import annotations

from voxrepro.pipeline.run import RunSummary, collect_videos, run_pipeline
from voxrepro.pipeline.settings import Mode, PipelineSettings
from voxrepro.pipeline.video import VideoResult, VideoStatus, process_video

__all__ = [
    "Mode",
    "PipelineSettings",
    "RunSummary",
    "VideoResult",
    "VideoStatus",
    "collect_videos",
    "process_video",
    "run_pipeline",
]
