"""From a track to its crop windows and 224² crops (spec §7), in either pipeline mode.

* vox2 mode: UP's non-centred reference window (side 2.8·s, face centre 35.7 % from the top)
  shifted to lie inside the frame, never padded (clamped only when larger than the frame).
* centred mode: SEED's centred window, padded with grey 110 where it leaves the frame.

Both start from the zero-padded median filter (kernel 13) of the track's centre and half-size,
kept for parity (spec §13). Crops are resized with OpenCV's default bilinear (spec §7 step 4).
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from voxrepro.crop import (
    cut_window,
    pixels_to_normalised,
    reference_windows,
    seed_centred_windows,
    shift_inside,
    smooth_track,
)
from voxrepro.pipeline.device_frames import DeviceShotFrames, device_track_crops
from voxrepro.pipeline.framestore import ShotFrames
from voxrepro.pipeline.settings import CROP_SCALE, CROP_SIZE, MEDIAN_KERNEL, PAD_VALUE, Mode

IntWindows = npt.NDArray[np.int64]


def track_windows(boxes_xyxy: np.ndarray, mode: Mode, frame_w: int, frame_h: int) -> IntWindows:
    """(N, 4) int windows x1, y1, x2, y2 (pixels, end exclusive) for a track's boxes."""
    cx, cy, s = smooth_track(boxes_xyxy, kernel=MEDIAN_KERNEL)
    if mode == Mode.VOX2:
        return shift_inside(reference_windows(cx, cy, s, CROP_SCALE), frame_w, frame_h)
    return seed_centred_windows(cx, cy, s, CROP_SCALE)


def windows_to_boxes(windows: IntWindows, frame_w: int, frame_h: int) -> np.ndarray:
    """Windows as normalised x, y, w, h (the Vox2 txt box convention, spec §10.3)."""
    xywh = np.column_stack(
        [windows[:, 0], windows[:, 1], windows[:, 2] - windows[:, 0], windows[:, 3] - windows[:, 1]]
    ).astype(np.float64)
    return pixels_to_normalised(xywh, frame_w, frame_h)


def cut_track_crops(
    frames: ShotFrames | DeviceShotFrames,
    shot_start: int,
    track_frames: np.ndarray,
    windows: IntWindows,
    size: int = CROP_SIZE,
) -> npt.NDArray[np.uint8]:
    """(T, size, size, 3) BGR crops of the track's frames (padded with 110 where needed).

    Frames on the device route are cut there (``device_track_crops``) and only the crops
    come back.
    """
    if isinstance(frames, DeviceShotFrames):
        return device_track_crops(frames, shot_start, track_frames, windows, size, PAD_VALUE)
    crops = np.empty((len(track_frames), size, size, 3), dtype=np.uint8)
    for row, (frame_index, window) in enumerate(zip(track_frames, windows, strict=True)):
        patch = cut_window(frames[int(frame_index) - shot_start], window, pad_value=PAD_VALUE)
        crops[row] = cv2.resize(patch, (size, size), interpolation=cv2.INTER_LINEAR)
    return crops
