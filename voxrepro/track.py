"""Greedy IoU face tracker per shot, with interpolation and the min-track / min-face filters.

Implements spec §6 (replicate for parity with UP/SEED ``run_pipeline.py::track_shot``):

* IoU on continuous pixel coordinates, no ``+1`` (:func:`iou_xyxy`).
* One pass builds one track: walk the shot's frames in order; with an empty track the first
  remaining detection is the seed; otherwise a detection joins when its frame is at most
  ``num_failed_det`` (25) frames after the track's **last appended** detection and its IoU with
  that detection is ``> iou_threshold`` (0.5, strict). Once the gap exceeds ``num_failed_det``
  the pass ends. No motion model, no assignment: greedy, first come first served, in the order
  the detector listed the boxes (S3FD: descending score).
* A track is kept if it has ``> min_track`` detections (strict); its x1, y1, x2, y2 are then
  linearly interpolated over every integer frame from its first to its last detection (scipy
  ``interp1d``, as UP) and it is accepted if ``max(mean w, mean h) > min_face_size`` (strict,
  original pixels). Short or small tracks are dropped, their detections consumed; repeat until
  a pass finds nothing.
* :func:`track_video` tracks only scenes with ``end - start >= min_track`` and orders tracks by
  scene, then creation order (this order names the crops ``%05d``).

The UP list-mutation quirk is **replicated**: UP removes a detection from the frame list it is
iterating, so the detection right after a seeded or appended one is skipped in that pass (it
stays in the pool). Conclusion: outcomes differ from the "clean" reading only when two
detections of the same frame overlap with IoU > ``iou_threshold``, because the skipped detection
would only have been compared with a detection of its own frame. That cannot happen after
S3FD's final 0.1 NMS (spec §4.6) but can with detectors whose boxes may nest (Haar). In that
case UP can even put two detections of one frame into a track; we keep that too (they count
towards ``min_track``, and ``interp1d`` resolves the duplicate frame exactly as in UP).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.interpolate import interp1d

from voxrepro.types import BoxArray, FrameArray

#: Spec §6 defaults (SEED; UP uses min_track 100). vox2-compatible mode uses min_face_size 50.
IOU_THRESHOLD = 0.5
NUM_FAILED_DET = 25
MIN_TRACK = 75
MIN_FACE_SIZE = 100.0

Detections = npt.NDArray[np.float64]  # (K, 5): x1, y1, x2, y2, score (pixels)


@dataclass(frozen=True, eq=False)
class Track:
    """One face track inside one shot.

    Attributes:
        frames: (N,) int64 contiguous 25 fps frame indices, first to last detected frame.
        boxes_xyxy: (N, 4) float64 x1, y1, x2, y2 in original-frame pixels, interpolated
            between detections.
        detected: (N,) bool, True where a detection of that frame joined the track.
        num_detections: detections in the track (the number compared with ``min_track``).
        scene: the ``[start, end)`` shot the track came from, when known.
    """

    frames: FrameArray
    boxes_xyxy: BoxArray
    detected: npt.NDArray[np.bool_]
    num_detections: int
    scene: tuple[int, int] | None = None

    @property
    def start(self) -> int:
        """First frame (inclusive)."""
        return int(self.frames[0])

    @property
    def end(self) -> int:
        """One past the last frame (exclusive)."""
        return int(self.frames[-1]) + 1

    def __len__(self) -> int:
        return int(self.frames.shape[0])

    def mean_size(self) -> tuple[float, float]:
        """Mean (width, height) of the interpolated boxes, pixels."""
        widths = self.boxes_xyxy[:, 2] - self.boxes_xyxy[:, 0]
        heights = self.boxes_xyxy[:, 3] - self.boxes_xyxy[:, 1]
        return float(np.mean(widths)), float(np.mean(heights))


def iou_xyxy(a: npt.ArrayLike, b: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Intersection over union of x1, y1, x2, y2 boxes on continuous coordinates (no ``+1``).

    Broadcasts over leading dimensions. Two empty boxes (union 0) give 0.

    Args:
        a: (..., 4) boxes, pixels.
        b: (..., 4) boxes, pixels.

    Returns:
        (...) float64 IoU in [0, 1].
    """
    box_a = np.asarray(a, dtype=np.float64)
    box_b = np.asarray(b, dtype=np.float64)
    inter_w = np.maximum(
        0.0, np.minimum(box_a[..., 2], box_b[..., 2]) - np.maximum(box_a[..., 0], box_b[..., 0])
    )
    inter_h = np.maximum(
        0.0, np.minimum(box_a[..., 3], box_b[..., 3]) - np.maximum(box_a[..., 1], box_b[..., 1])
    )
    inter = inter_w * inter_h
    area_a = (box_a[..., 2] - box_a[..., 0]) * (box_a[..., 3] - box_a[..., 1])
    area_b = (box_b[..., 2] - box_b[..., 0]) * (box_b[..., 3] - box_b[..., 1])
    union = area_a + area_b - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


Box = tuple[float, float, float, float]


def _iou_scalar(a: Box, b: Box) -> float:
    # Plain floats in UP's operation order: fast in the tracker's inner loop, same rounding.
    inter_w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    inter = inter_w * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _frame_pool(detections: Sequence[npt.ArrayLike], first_frame: int) -> list[list[Box]]:
    pool: list[list[Box]] = []
    for offset, frame_dets in enumerate(detections):
        rows = np.asarray(frame_dets, dtype=np.float64)
        if rows.size == 0:
            pool.append([])
            continue
        if rows.ndim != 2 or rows.shape[1] < 4:
            raise ValueError(
                f"frame {first_frame + offset}: detections must have shape (K, 5) "
                f"x1, y1, x2, y2, score; got {rows.shape}"
            )
        if not np.isfinite(rows[:, :4]).all():
            raise ValueError(f"frame {first_frame + offset}: detection box is not finite")
        pool.append([(row[0], row[1], row[2], row[3]) for row in rows[:, :4].tolist()])
    return pool


def _build_one_track(
    pool: list[list[Box]],
    seed_offset: int,
    first_frame: int,
    iou_threshold: float,
    num_failed_det: int,
) -> list[tuple[int, Box]]:
    members: list[tuple[int, Box]] = []
    for offset in range(seed_offset, len(pool)):
        faces = pool[offset]
        frame = first_frame + offset
        if members and frame - members[-1][0] > num_failed_det:
            break  # every later frame is even further away: UP's per-frame `break`
        index = 0
        while index < len(faces):
            face = faces[index]
            joins = not members or _iou_scalar(face, members[-1][1]) > iou_threshold
            if joins:
                members.append((frame, face))
                del faces[index]
            # UP iterates the list it removes from, so after a removal the next face is skipped.
            index += 1
    return members


def _interpolate(members: list[tuple[int, Box]]) -> tuple[FrameArray, BoxArray, np.ndarray]:
    frame_numbers = np.array([frame for frame, _ in members], dtype=np.int64)
    boxes = np.array([box for _, box in members], dtype=np.float64)
    frames = np.arange(frame_numbers[0], frame_numbers[-1] + 1, dtype=np.int64)
    if frame_numbers[0] == frame_numbers[-1]:
        interpolated = np.repeat(boxes[:1], len(frames), axis=0)
    else:
        interpolated = np.stack(
            [interp1d(frame_numbers, boxes[:, j])(frames) for j in range(4)], axis=1
        ).astype(np.float64)
    detected = np.isin(frames, frame_numbers)
    return frames, interpolated, detected


def track_shot(
    detections: Sequence[npt.ArrayLike],
    first_frame: int = 0,
    *,
    iou_threshold: float = IOU_THRESHOLD,
    num_failed_det: int = NUM_FAILED_DET,
    min_track: int = MIN_TRACK,
    min_face_size: float = MIN_FACE_SIZE,
    scene: tuple[int, int] | None = None,
) -> list[Track]:
    """Track faces inside one shot (spec §6).

    Args:
        detections: one entry per frame of the shot, in order: a (K, 5) array of x1, y1, x2, y2,
            score in original-frame pixels (K may be 0), in detector order. Frames whose boxes
            were held from an earlier frame (detect-every-N) are just ordinary entries.
        first_frame: 25 fps index of ``detections[0]`` in the video.
        iou_threshold: a detection joins when IoU with the last appended one is strictly above.
        num_failed_det: largest frame gap bridged between two detections of a track.
        min_track: a track needs strictly more detections than this.
        min_face_size: ``max(mean w, mean h)`` must be strictly above this, pixels.
        scene: recorded on each track (``track_video`` sets it).

    Returns:
        Accepted tracks in creation order.

    Raises:
        ValueError: a frame's detections are not a (K, 4+) finite array.
    """
    pool = _frame_pool(detections, first_frame)
    tracks: list[Track] = []
    seed_offset = 0
    while True:
        # Every frame before the first non-empty one stays empty, so later passes skip them.
        while seed_offset < len(pool) and not pool[seed_offset]:
            seed_offset += 1
        members = _build_one_track(pool, seed_offset, first_frame, iou_threshold, num_failed_det)
        if not members:
            return tracks
        if len(members) <= min_track:
            continue  # too short: its detections are consumed
        frames, boxes, detected = _interpolate(members)
        track = Track(frames, boxes, detected, len(members), scene)
        if max(track.mean_size()) > min_face_size:
            tracks.append(track)


def track_video(
    detections: Sequence[npt.ArrayLike],
    scenes: Sequence[tuple[int, int]],
    *,
    iou_threshold: float = IOU_THRESHOLD,
    num_failed_det: int = NUM_FAILED_DET,
    min_track: int = MIN_TRACK,
    min_face_size: float = MIN_FACE_SIZE,
) -> list[Track]:
    """Track every shot of a video; tracks ordered by scene, then creation order.

    Args:
        detections: per-frame detections for the whole video (index = 25 fps frame); entries
            past the video's end are ignored, missing ones count as frames without faces.
        scenes: ``[start, end)`` shots (``voxrepro.scenes``); only those with
            ``end - start >= min_track`` are tracked (spec §5 "Use").
        iou_threshold: see :func:`track_shot`.
        num_failed_det: see :func:`track_shot`.
        min_track: see :func:`track_shot`; also the minimum scene length.
        min_face_size: see :func:`track_shot`.

    Returns:
        All accepted tracks.
    """
    tracks: list[Track] = []
    for start, end in scenes:
        if end - start < min_track:
            continue
        tracks.extend(
            track_shot(
                detections[start:end],
                start,
                iou_threshold=iou_threshold,
                num_failed_det=num_failed_det,
                min_track=min_track,
                min_face_size=min_face_size,
                scene=(int(start), int(end)),
            )
        )
    return tracks
