"""OpenCV's frontal-face Haar cascade: the fallback that runs everywhere opencv-python 4.x does.

It has no score, so every box reports 1.0. Runs on a grey, histogram-equalised frame downscaled
to fit 640x360; boxes are mapped back to original pixels and pass the same final NMS at IoU 0.1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
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

CASCADE_FILE = "haarcascade_frontalface_default.xml"
#: detectMultiScale parameters (OpenCV's usual face settings; 5 neighbours keeps false positives
#: off the face-free frames of the tests; 24 px is the cascade's own window size).
SCALE_FACTOR = 1.1
MIN_NEIGHBORS = 5
MIN_SIZE_PX = 24


@register_detector
class HaarDetector(Detector):
    """OpenCV Haar cascade on a downscaled grey frame; every score is 1.0."""

    NAME = DetectorName.HAAR.value

    def __init__(
        self,
        scale_factor: float = SCALE_FACTOR,
        min_neighbors: int = MIN_NEIGHBORS,
        min_size_px: int = MIN_SIZE_PX,
        nms_iou: float = FINAL_NMS_IOU,
    ) -> None:
        path = cv2.data.haarcascades + CASCADE_FILE
        self._cascade = cv2.CascadeClassifier(path)
        if self._cascade.empty():
            raise ModelError(f"{path}: could not load the Haar cascade (needs opencv-python < 5)")
        self.cascade_path = path
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.min_size_px = min_size_px
        self.nms_iou = nms_iou

    def detect_batch(self, frames: Sequence[BgrFrame]) -> list[Detections]:
        check_frames(frames)
        return [self._detect_one(frame) for frame in frames]

    def _detect_one(self, frame: BgrFrame) -> Detections:
        small, fx, fy = downscale(frame, fit_factor(*frame.shape[:2]))
        grey = cv2.equalizeHist(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY))
        found = self._cascade.detectMultiScale(
            grey,
            scaleFactor=self.scale_factor,
            minNeighbors=self.min_neighbors,
            minSize=(self.min_size_px, self.min_size_px),
        )
        if len(found) == 0:
            return empty_detections()
        rows = np.ones((len(found), 5), dtype=np.float64)
        rows[:, :4] = xywh_to_original(np.asarray(found), fx, fy)
        # All scores tie at 1.0 and the NMS takes the later of tied rows first: order by
        # ascending area so the largest box wins, deterministically.
        areas = (rows[:, 2] - rows[:, 0]) * (rows[:, 3] - rows[:, 1])
        rows = rows[np.argsort(areas, kind="stable")]
        return final_nms(rows, self.nms_iou)

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.NAME,
            "weights": self.cascade_path,
            "opencv": cv2.__version__,
            "scale_factor": self.scale_factor,
            "min_neighbors": self.min_neighbors,
            "min_size_px": self.min_size_px,
            "final_nms_iou": self.nms_iou,
            "max_input": "fit 640x360",
            "device": "cpu",
        }
