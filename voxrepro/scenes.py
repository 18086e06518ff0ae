"""Shot (scene) detection on frames already decoded: PySceneDetect v0.5.1 ContentDetector semantics.

Implements spec §5 (replicate for parity): UP / SEED run ``ContentDetector()`` from
``scenedetect==0.5.1`` with threshold 30, ``min_scene_len`` 15 and the automatic downscale factor.
Here the same rule runs online, one BGR frame at a time, so the pipeline decodes the video once and
feeds each frame to both the face detector and :class:`SceneCutter`.

The v0.5.1 rule, kept exactly:

* downscale by plain slicing ``frame[::N, ::N]``, N from the frame width (``DOWNSCALE_FACTORS``);
* BGR -> HSV with OpenCV (H in 0..179); for each of H, S, V the mean absolute difference to the
  previous frame; ``content_val`` = the average of the three, summed in H, S, V order;
* a cut **at frame f** (f starts the new scene) when ``content_val >= 30`` and either there has been
  no cut yet or ``f - last_cut >= 15``; a rejected frame does not move ``last_cut``;
* scenes are consecutive ``[start, end)`` pairs covering ``[0, n)``; no cut gives one scene.

Known differences from PySceneDetect 0.7.2 (installed), which we do *not* follow:

* 0.7.2's default threshold is 27 and its default ``FlashFilter`` mode is MERGE (a burst of
  close cuts is merged and the cut is emitted late, at the last frame above the threshold);
  v0.5.1 behaves like 0.7.2's SUPPRESS mode.
* 0.7.2 starts its filter at the first frame, so a cut less than ``min_scene_len`` frames after
  frame 0 is dropped; v0.5.1 accepts the first cut anywhere (spec §5).
* 0.7.2's SceneManager downscales with ``cv2.resize`` to a width near 256 px; v0.5.1 slices.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

#: ContentDetector defaults used by UP and SEED (scenedetect 0.5.1).
DEFAULT_THRESHOLD = 30.0
DEFAULT_MIN_SCENE_LEN = 15
#: v0.5.1 ``DEFAULT_DOWNSCALE_FACTORS``: (minimum frame width, factor), widest first.
DOWNSCALE_FACTORS: tuple[tuple[int, int], ...] = (
    (3200, 12),
    (2100, 8),
    (1700, 6),
    (1200, 5),
    (900, 4),
    (600, 3),
    (400, 2),
)

Scene = tuple[int, int]


def compute_downscale_factor(frame_width: int) -> int:
    """v0.5.1's automatic downscale factor for a frame ``frame_width`` pixels wide."""
    for min_width, factor in DOWNSCALE_FACTORS:
        if frame_width >= min_width:
            return factor
    return 1


def content_value(previous_hsv: npt.NDArray[np.uint8], current_hsv: npt.NDArray[np.uint8]) -> float:
    """v0.5.1 ``content_val``: mean over H, S, V of the mean absolute difference between frames.

    Args:
        previous_hsv: H x W x 3 uint8 HSV frame (OpenCV ranges).
        current_hsv: the next frame, same shape.

    Returns:
        The score compared with the threshold (0 = identical frames).
    """
    num_pixels = float(current_hsv.shape[0] * current_hsv.shape[1])
    # |a - b| of uint8 is exact in uint8; OpenCV's per-channel sums are exact integers in a
    # double (below 2**53), and 20x faster than numpy's int32 round trip on a 256x144 frame.
    diff = cv2.absdiff(np.ascontiguousarray(current_hsv), np.ascontiguousarray(previous_hsv))
    per_channel = cv2.sumElems(diff)[:3]
    # Same summation order as v0.5.1 (sum(list) starts at 0), so ties at the threshold agree.
    total = 0.0
    for channel_sum in per_channel:
        total += int(channel_sum) / num_pixels
    return total / 3.0


def slice_every(frame: npt.NDArray[np.uint8], factor: int) -> npt.NDArray[np.uint8]:
    """``frame[::factor, ::factor]`` as a contiguous array (v0.5.1's downscale).

    When ``factor`` divides both sides, OpenCV's nearest-neighbour resize picks exactly the
    same pixels (source index ``factor * i``) five times faster than numpy's strided copy.
    """
    height, width = frame.shape[:2]
    if factor == 1:
        return frame
    if height % factor == 0 and width % factor == 0:
        size = (width // factor, height // factor)
        return cv2.resize(frame, size, interpolation=cv2.INTER_NEAREST)
    return np.ascontiguousarray(frame[::factor, ::factor])


@dataclass(frozen=True)
class SceneSample:
    """One frame as the shot cutter compares it: its full shape and its downscaled HSV."""

    frame_shape: tuple[int, ...]
    hsv: npt.NDArray[np.uint8]


class SceneCutter:
    """Online v0.5.1 ContentDetector: push BGR frames in order, read cuts and scenes.

    Example:
        >>> cutter = SceneCutter()
        >>> for frame in frames:          # doctest: +SKIP
        ...     cutter.push(frame)
        >>> cutter.scenes()               # doctest: +SKIP
        [(0, 120), (120, 300)]
    """

    def __init__(
        self,
        threshold: float = DEFAULT_THRESHOLD,
        min_scene_len: int = DEFAULT_MIN_SCENE_LEN,
        downscale: int | None = None,
    ) -> None:
        """Create a cutter.

        Args:
            threshold: ``content_val`` at or above which a frame starts a new scene.
            min_scene_len: frames that must pass after a cut before the next one is accepted.
            downscale: slice factor; ``None`` picks v0.5.1's factor from the first frame's width.
                For parity feed full-resolution frames of the 25 fps video (UP reads
                ``video.avi``); if frames were already shrunk, pass the factor yourself.
        """
        if min_scene_len < 0:
            raise ValueError(f"min_scene_len must be >= 0, got {min_scene_len}")
        if downscale is not None and downscale < 1:
            raise ValueError(f"downscale must be >= 1, got {downscale}")
        self.threshold = threshold
        self.min_scene_len = min_scene_len
        self._downscale = downscale
        self._frame_shape: tuple[int, ...] | None = None
        self._previous_hsv: npt.NDArray[np.uint8] | None = None
        self._frames_seen = 0
        self._cuts: list[int] = []
        self._last_score: float | None = None

    @property
    def frames_seen(self) -> int:
        """Number of frames pushed so far (the next frame's 0-based index)."""
        return self._frames_seen

    @property
    def cuts(self) -> list[int]:
        """0-based indices of the frames that start a new scene, in order."""
        return list(self._cuts)

    @property
    def last_score(self) -> float | None:
        """``content_val`` of the last pushed frame (``None`` for the first frame)."""
        return self._last_score

    @property
    def downscale(self) -> int | None:
        """The slice factor in use (decided at the first frame when automatic)."""
        return self._downscale

    def sample(self, frame: npt.NDArray[np.uint8]) -> SceneSample:
        """The downscaled HSV frame that ``push_sample`` compares (read-only: any thread).

        Split from ``push`` so that the pipeline can take the sample on its decoding thread,
        while the frame is still in the CPU cache.

        Raises:
            ValueError: not an H x W x 3 uint8 array.
        """
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise ValueError(
                f"frame {self._frames_seen}: expected an HxWx3 uint8 BGR image, "
                f"got shape {frame.shape} dtype {frame.dtype}"
            )
        factor = self._downscale or compute_downscale_factor(frame.shape[1])
        return SceneSample(frame.shape, cv2.cvtColor(slice_every(frame, factor), cv2.COLOR_BGR2HSV))

    def push(self, frame: npt.NDArray[np.uint8]) -> bool:
        """Feed the next frame; return True when this frame starts a new scene.

        Args:
            frame: H x W x 3 uint8 BGR image, full resolution (downscaled here).

        Raises:
            ValueError: not an H x W x 3 uint8 array, or a different size from earlier frames.
        """
        return self.push_sample(self.sample(frame))

    def push_sample(self, sample: SceneSample) -> bool:
        """``push`` for a frame already passed through ``sample`` (frames in order)."""
        if self._frame_shape is None:
            self._frame_shape = sample.frame_shape
            if self._downscale is None:
                self._downscale = compute_downscale_factor(sample.frame_shape[1])
        elif sample.frame_shape != self._frame_shape:
            got, first = sample.frame_shape, self._frame_shape
            raise ValueError(
                f"frame {self._frames_seen}: size {got[1]}x{got[0]} differs from "
                f"the first frame's {first[1]}x{first[0]}"
            )
        index = self._frames_seen
        self._frames_seen += 1
        hsv = sample.hsv
        previous, self._previous_hsv = self._previous_hsv, hsv
        if previous is None:
            self._last_score = None
            return False
        self._last_score = content_value(previous, hsv)
        if self._last_score < self.threshold:
            return False
        if self._cuts and index - self._cuts[-1] < self.min_scene_len:
            return False
        self._cuts.append(index)
        return True

    def scenes(self, total_frames: int | None = None) -> list[Scene]:
        """Scenes as ``[start, end)`` 0-based frame pairs covering ``[0, total_frames)``.

        Args:
            total_frames: video length in frames; defaults to the number of frames pushed.
        """
        total = self._frames_seen if total_frames is None else total_frames
        return scenes_from_cuts(self._cuts, total)


def scenes_from_cuts(cuts: Iterable[int], total_frames: int) -> list[Scene]:
    """Split ``[0, total_frames)`` at each cut (a cut is the first frame of a new scene).

    Raises:
        ValueError: cuts not strictly increasing inside ``(0, total_frames)``.
    """
    if total_frames < 0:
        raise ValueError(f"total_frames must be >= 0, got {total_frames}")
    if total_frames == 0:
        return []
    bounds = [0]
    for cut in cuts:
        if not bounds[-1] < cut < total_frames:
            raise ValueError(f"cut {cut} is not inside ({bounds[-1]}, {total_frames})")
        bounds.append(int(cut))
    bounds.append(total_frames)
    return list(itertools.pairwise(bounds))


def detect_scenes(
    frames: Iterable[npt.NDArray[np.uint8]],
    threshold: float = DEFAULT_THRESHOLD,
    min_scene_len: int = DEFAULT_MIN_SCENE_LEN,
    downscale: int | None = None,
) -> list[Scene]:
    """Run :class:`SceneCutter` over an iterable of BGR frames; return ``[start, end)`` scenes."""
    cutter = SceneCutter(threshold=threshold, min_scene_len=min_scene_len, downscale=downscale)
    for frame in frames:
        cutter.push(frame)
    return cutter.scenes()
