"""Pure interval and box maths for the audit (numpy only, no I/O).

Conventions:
    * A segment's temporal extent is the inclusive interval ``[first, last]`` of 25 fps frame
      indices, so its length is ``last - first + 1`` frames.
    * Temporal IoU (tIoU) is measured on frame counts::

          inter = max(0, min(last_a, last_b) - max(first_a, first_b) + 1)
          tIoU  = inter / (len_a + len_b - inter)

      Shifting an n-frame segment by k frames (0 <= k <= n) gives (n - k) / (n + k).
    * Boxes are ``x, y, w, h`` rows (top-left corner, width, height), all in the same units
      (normalised or pixels); IoU is scale-invariant, so either works when both sides agree.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def compute_tiou_matrix(
    first_a: IntArray, last_a: IntArray, first_b: IntArray, last_b: IntArray
) -> FloatArray:
    """Temporal IoU of every pair of inclusive frame intervals.

    Args:
        first_a, last_a: (Na,) first and last 25 fps frame of each interval of set A.
        first_b, last_b: (Nb,) the same for set B.

    Returns:
        (Na, Nb) tIoU in [0, 1] on frame counts (see the module docstring).
    """
    first_a = np.asarray(first_a, dtype=np.int64)[:, None]
    last_a = np.asarray(last_a, dtype=np.int64)[:, None]
    first_b = np.asarray(first_b, dtype=np.int64)[None, :]
    last_b = np.asarray(last_b, dtype=np.int64)[None, :]
    inter = np.minimum(last_a, last_b) - np.maximum(first_a, first_b) + 1
    np.maximum(inter, 0, out=inter)
    union = (last_a - first_a + 1) + (last_b - first_b + 1) - inter
    return inter / np.maximum(union, 1)


def compute_box_iou(boxes_a: FloatArray, boxes_b: FloatArray) -> FloatArray:
    """Row-wise IoU of two (N, 4) arrays of ``x, y, w, h`` boxes.

    Boxes with zero or negative area give IoU 0 (never NaN).
    """
    ax1, ay1, aw, ah = boxes_a[:, 0], boxes_a[:, 1], boxes_a[:, 2], boxes_a[:, 3]
    bx1, by1, bw, bh = boxes_b[:, 0], boxes_b[:, 1], boxes_b[:, 2], boxes_b[:, 3]
    iw = np.minimum(ax1 + aw, bx1 + bw) - np.maximum(ax1, bx1)
    ih = np.minimum(ay1 + ah, by1 + bh) - np.maximum(ay1, by1)
    inter = np.clip(iw, 0.0, None) * np.clip(ih, 0.0, None)
    union = np.clip(aw, 0.0, None) * np.clip(ah, 0.0, None)
    union = union + np.clip(bw, 0.0, None) * np.clip(bh, 0.0, None) - inter
    out = np.zeros_like(inter)
    np.divide(inter, union, out=out, where=union > 0)
    return out


def scale_boxes_about_centre(boxes: FloatArray, factor: float) -> FloatArray:
    """Scale ``x, y, w, h`` boxes by ``factor`` about their centres (same units out)."""
    boxes = np.asarray(boxes, dtype=np.float64)
    centre = boxes[:, :2] + boxes[:, 2:] / 2.0
    size = boxes[:, 2:] * factor
    return np.concatenate([centre - size / 2.0, size], axis=1)


def normalise_pixel_boxes(boxes: FloatArray, width: int, height: int) -> FloatArray:
    """Convert pixel ``x, y, w, h`` boxes of a ``width`` x ``height`` frame to fractions."""
    return np.asarray(boxes, dtype=np.float64) / np.array(
        [width, height, width, height], dtype=np.float64
    )


def join_on_frames(frames_a: IntArray, frames_b: IntArray) -> tuple[IntArray, IntArray]:
    """All index pairs (i, j) with ``frames_a[i] == frames_b[j]`` (many-to-many).

    Used to put every official frame row beside every generated row of the same video that
    has a box on the same frame (several generated tracks may overlap).

    Returns:
        (rows_a, rows_b): equal-length int64 index arrays into ``frames_a`` and ``frames_b``.
    """
    order_b = np.argsort(frames_b, kind="stable")
    sorted_b = frames_b[order_b]
    lo = np.searchsorted(sorted_b, frames_a, side="left")
    hi = np.searchsorted(sorted_b, frames_a, side="right")
    counts = hi - lo
    total = int(counts.sum())
    rows_a = np.repeat(np.arange(frames_a.shape[0], dtype=np.int64), counts)
    if total == 0:
        return rows_a, np.zeros(0, dtype=np.int64)
    starts = np.repeat(lo - (np.cumsum(counts) - counts), counts)
    rows_b = order_b[starts + np.arange(total, dtype=np.int64)]
    return rows_a, rows_b.astype(np.int64)
