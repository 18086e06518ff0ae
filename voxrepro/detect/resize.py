"""Downscaling frames for the light detectors and mapping their boxes back (pure numpy + cv2)."""

from __future__ import annotations

import cv2
import numpy as np

from voxrepro.detect.base import BgrFrame

#: Largest frame handed to yuface / Haar: long side <= 640 and short side <= 360 pixels
#: (yuface returns duplicate boxes on frames above ~960 px, deps.md §2).
MAX_LONG_SIDE = 640
MAX_SHORT_SIDE = 360


def fit_factor(
    height: int, width: int, long_side: int = MAX_LONG_SIDE, short_side: int = MAX_SHORT_SIDE
) -> float:
    """Scale factor (<= 1) so that the frame fits in long_side x short_side in its orientation."""
    return min(1.0, long_side / max(height, width), short_side / min(height, width))


def downscale(frame: BgrFrame, factor: float) -> tuple[np.ndarray, float, float]:
    """Resize by ``factor`` (INTER_AREA: it averages, so small faces keep their shape).

    Returns:
        The resized frame and the exact per-axis factors (x, y) used, because integer output
        sizes make them differ slightly from ``factor``.
    """
    height, width = frame.shape[:2]
    if factor >= 1.0:
        return frame, 1.0, 1.0
    new_w, new_h = max(1, round(width * factor)), max(1, round(height * factor))
    small = cv2.resize(frame, (new_w, new_h), interpolation=cv2.INTER_AREA)
    return small, new_w / width, new_h / height


def xywh_to_original(boxes_xywh: np.ndarray, fx: float, fy: float) -> np.ndarray:
    """(N, 4) x, y, w, h in the downscaled frame -> (N, 4) x1, y1, x2, y2 original pixels."""
    boxes = np.asarray(boxes_xywh, dtype=np.float64).reshape(-1, 4)
    out = np.empty_like(boxes)
    out[:, 0] = boxes[:, 0] / fx
    out[:, 1] = boxes[:, 1] / fy
    out[:, 2] = (boxes[:, 0] + boxes[:, 2]) / fx
    out[:, 3] = (boxes[:, 1] + boxes[:, 3]) / fy
    return out
