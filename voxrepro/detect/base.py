"""The face-detector contract shared by every backend, and the name -> class registry.

Every detector takes BGR uint8 frames (as decoded by ``voxrepro.media``) and returns, per frame,
an ``(K, 5)`` float64 array of ``[x1, y1, x2, y2, score]`` rows in ORIGINAL-frame pixels, sorted
by descending score. Scores are in 0..1 (Haar, which has none, reports 1.0). Boxes are not
clipped to the frame (S3FD parity: spec §4.6), so coordinates may be negative or exceed W/H.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Sequence
from typing import Any, ClassVar, TypeVar

import numpy as np
import numpy.typing as npt

from voxrepro.errors import InvalidInputError

#: One frame's detections: (K, 5) float64 rows of x1, y1, x2, y2 (original pixels), score (0..1).
Detections = npt.NDArray[np.float64]
#: One decoded frame: (H, W, 3) uint8, BGR channel order.
BgrFrame = npt.NDArray[np.uint8]


class DetectorName(enum.StrEnum):
    """Registry names (also the ``--detector`` values of the CLI)."""

    AUTO = "auto"
    S3FD = "s3fd"
    YUNET = "yunet"
    HAAR = "haar"


#: Final greedy NMS applied to every backend's output (spec §4.6: IoU threshold 0.1).
FINAL_NMS_IOU = 0.1


class Detector(abc.ABC):
    """A face detector. Required: ``NAME`` and ``detect_batch``. Optional hooks have defaults."""

    NAME: ClassVar[str]

    # Required -------------------------------------------------------------------------------

    @abc.abstractmethod
    def detect_batch(self, frames: Sequence[BgrFrame]) -> list[Detections]:
        """Detect faces in each frame.

        Args:
            frames: BGR uint8 frames, each (H, W, 3). Frames of different sizes are allowed.

        Returns:
            One (K, 5) float64 array per frame: x1, y1, x2, y2 in original-frame pixels and a
            score in 0..1, sorted by descending score. K may be 0.

        Raises:
            InvalidInputError: a frame is not an (H, W, 3) uint8 array.
        """

    # Optional -------------------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        """What produced the boxes, to be recorded next to them (name, thresholds, weights)."""
        return {"name": self.NAME}

    def close(self) -> None:  # noqa: B027 (optional hook: a no-op by default, on purpose)
        """Release resources (models, threads). Safe to call twice."""

    def prepare(self, frame: BgrFrame) -> object:
        """Per-frame work done ahead of ``detect_prepared``, on any thread (default: none).

        The pipeline calls it on the decoding thread just after each frame is converted, while
        the frame is still in the CPU cache; reading a 720p frame again at batch time, 64
        frames later, costs more than the work itself. Must be thread-safe.
        """
        return frame

    def detect_prepared(self, prepared: Sequence[object]) -> list[Detections]:
        """``detect_batch`` for frames already passed through ``prepare`` (same results)."""
        return self.detect_batch(prepared)  # type: ignore[arg-type]  # default prepare: frames

    def frame_device(self) -> Any:
        """The torch device on which ``detect_prepared`` also takes packed I420 frames already
        there (``voxrepro.media.i420.DeviceFrame``), giving the numbers ``detect_batch`` gives
        on their BGR conversion; None (default) when it takes only ``prepare``'s outputs."""
        return None

    def detect(self, frame: BgrFrame) -> Detections:
        """Convenience: ``detect_batch([frame])[0]``."""
        return self.detect_batch([frame])[0]

    def __enter__(self: _D) -> _D:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


_D = TypeVar("_D", bound=Detector)

#: Registry: name -> detector class. Filled by ``register_detector`` in each backend module.
DETECTORS: dict[str, type[Detector]] = {}


def register_detector(cls: type[_D]) -> type[_D]:
    """Class decorator adding a backend to ``DETECTORS`` under its ``NAME``."""
    DETECTORS[cls.NAME] = cls
    return cls


def empty_detections() -> Detections:
    """A (0, 5) float64 array: the result for a frame without faces."""
    return np.zeros((0, 5), dtype=np.float64)


def check_frames(frames: Sequence[np.ndarray]) -> None:
    """Raise InvalidInputError unless every frame is an (H, W, 3) uint8 array with H, W > 0."""
    for index, frame in enumerate(frames):
        if not isinstance(frame, np.ndarray):
            raise InvalidInputError(f"frame {index}: expected a numpy array, got {type(frame)}")
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            raise InvalidInputError(
                f"frame {index}: expected an (H, W, 3) uint8 BGR image, "
                f"got shape {frame.shape} dtype {frame.dtype}"
            )
        if frame.shape[0] == 0 or frame.shape[1] == 0:
            raise InvalidInputError(f"frame {index}: empty image of shape {frame.shape}")
