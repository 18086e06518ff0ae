"""The VoxCeleb2-style detection pipeline (spec §3–§9): any video -> segments + metafiles.

Attributes are imported lazily so that ``voxrepro.pipeline.settings`` (used by the CLI to parse
options) does not pull in torch and the detectors.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Mode": "voxrepro.pipeline.settings",
    "PipelineSettings": "voxrepro.pipeline.settings",
    "RunSummary": "voxrepro.pipeline.run",
    "collect_videos": "voxrepro.pipeline.run",
    "run_pipeline": "voxrepro.pipeline.run",
    "VideoResult": "voxrepro.pipeline.video",
    "VideoStatus": "voxrepro.pipeline.video",
    "process_video": "voxrepro.pipeline.video",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'voxrepro.pipeline' has no attribute {name!r}")


__all__ = sorted(_EXPORTS)
