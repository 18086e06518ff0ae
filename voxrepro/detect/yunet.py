"""yuface (libfacedetection's YuNet, weights compiled into the wheel): the default detector.

yuface has wheels only for CPython <= 3.11 on Linux x86_64, so the import is guarded and
``YuNetDetector.is_available()`` says whether it can run here. Frames are downscaled to fit
640x360 (it duplicates boxes above ~960 px), boxes are mapped back to original pixels, scores
(0..100 from yuface) become 0..1, and the same final greedy NMS at IoU 0.1 as S3FD is applied.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from typing import Any

import numpy as np

from voxrepro.detect.base import (
    FINAL_NMS_IOU,
    BgrFrame,
    Detections,
    Detector,
    DetectorName,
    check_frames,
    empty_detections,
    register_detector,
)
from voxrepro.detect.resize import downscale, fit_factor, xywh_to_original
from voxrepro.detect.s3fd_box import final_nms
from voxrepro.errors import ModelError

#: yuface's own default; measured with 0 false positives on 52 face-free frames (deps.md §2).
DEFAULT_CONFIDENCE = 0.5


@register_detector
class YuNetDetector(Detector):
    """yuface on frames downscaled to fit 640x360.

    Args:
        confidence: minimum score in 0..1 (yuface's ``conf``).
        nms_iou: final greedy NMS threshold (spec §4.6 value by default).
    """

    NAME = DetectorName.YUNET.value

    def __init__(self, confidence: float = DEFAULT_CONFIDENCE, nms_iou: float = FINAL_NMS_IOU):
        if not self.is_available():
            raise ModelError(
                "yuface is not installed (wheels exist only for CPython <= 3.11 on Linux "
                "x86_64); use --detector haar or give S3FD weights"
            )
        import yuface

        self._yuface = yuface
        self.confidence = confidence
        self.nms_iou = nms_iou

    @staticmethod
    def is_available() -> bool:
        """True when the yuface package can be imported here."""
        return importlib.util.find_spec("yuface") is not None

    def detect_batch(self, frames: Sequence[BgrFrame]) -> list[Detections]:
        check_frames(frames)
        return [self._detect_one(frame) for frame in frames]

    def _detect_one(self, frame: BgrFrame) -> Detections:
        small, fx, fy = downscale(frame, fit_factor(*frame.shape[:2]))
        confs, boxes, _landmarks = self._yuface.detect(
            np.ascontiguousarray(small), conf=self.confidence
        )
        if len(confs) == 0:
            return empty_detections()
        rows = np.empty((len(confs), 5), dtype=np.float64)
        rows[:, :4] = xywh_to_original(boxes, fx, fy)
        rows[:, 4] = np.asarray(confs, dtype=np.float64) / 100.0
        return final_nms(rows, self.nms_iou)

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.NAME,
            "weights": "compiled into yuface",
            "confidence": self.confidence,
            "final_nms_iou": self.nms_iou,
            "max_input": "fit 640x360",
            "device": "cpu",
        }
