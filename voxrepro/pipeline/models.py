"""Models built once per process and reused across videos (process-pool friendly)."""

from __future__ import annotations

import logging
from typing import Any

from voxrepro.detect import Detector, make_detector
from voxrepro.pipeline.settings import PipelineSettings

logger = logging.getLogger("voxrepro")

_DETECTORS: dict[tuple[Any, ...], Detector] = {}
_SYNCNETS: dict[tuple[Any, ...], Any] = {}


def get_detector(settings: PipelineSettings) -> Detector:
    key = (
        settings.detector,
        settings.s3fd_weights,
        settings.device,
        settings.batch_size,
        settings.facedet_scale,
    )
    if key not in _DETECTORS:
        _DETECTORS[key] = make_detector(
            settings.detector,
            s3fd_weights=settings.s3fd_weights,
            device=settings.device,
            batch_size=settings.batch_size,
            scale=settings.facedet_scale,
        )
    return _DETECTORS[key]


def get_syncnet(settings: PipelineSettings) -> Any | None:
    """The SyncNet v2 model, or None when no weights were given (the stage is skipped)."""
    if settings.syncnet_weights is None:
        return None
    key = (settings.syncnet_weights, settings.device)
    if key not in _SYNCNETS:
        from voxrepro.detect.s3fd import resolve_device
        from voxrepro.syncnet import load_syncnet

        _SYNCNETS[key] = load_syncnet(settings.syncnet_weights, resolve_device(settings.device))
    return _SYNCNETS[key]
