"""The demo's source video, composed from a real face photo that ships inside matplotlib.

Three shots (different backgrounds, positions and face sizes) of Grace Hopper's portrait
(matplotlib's ``sample_data/grace_hopper.jpg``, public domain), sliding slowly, at 30 fps so
that the 25 fps timeline's frame selection is exercised. Everything here is pure geometry and
pixels: the known face position in every frame gives the demo's reference metafile.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from voxrepro.errors import VoxreproError

SOURCE_FPS = Fraction(30)
FRAME_W, FRAME_H = 640, 360
#: Face box (x, y, w, h, pixels) in grace_hopper.jpg (512x600), found by yuface 2023.5.1 on the
#: shipped image; the demo's ground truth is this box carried through the known paste geometry.
PHOTO_FACE_XYWH = (182.0, 121.0, 171.0, 211.0)


@dataclass(frozen=True)
class ShotSpec:
    """One shot: duration, background colour (BGR), photo height and its motion (pixels)."""

    seconds: float
    background: tuple[int, int, int]
    photo_height: int
    start_xy: tuple[float, float]
    velocity_xy: tuple[float, float]  # pixels per source frame


DEMO_SHOTS: tuple[ShotSpec, ...] = (
    ShotSpec(4.0, (40, 90, 160), 330, (40.0, 15.0), (0.6, 0.0)),
    ShotSpec(4.0, (150, 60, 30), 360, (330.0, 0.0), (-0.5, 0.0)),
    ShotSpec(4.0, (60, 140, 60), 320, (170.0, 30.0), (0.3, -0.2)),
)


def photo_path() -> Path:
    """Path of matplotlib's bundled portrait (raises a one-line error if it is missing)."""
    import matplotlib

    path = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    if not path.is_file():
        raise VoxreproError(f"{path}: sample portrait missing; reinstall matplotlib")
    return path


def load_photo() -> npt.NDArray[np.uint8]:
    image = cv2.imread(str(photo_path()), cv2.IMREAD_COLOR)
    if image is None:
        raise VoxreproError(f"{photo_path()}: cannot read the sample portrait")
    return image


def shot_frame_counts(shots: tuple[ShotSpec, ...] = DEMO_SHOTS) -> list[int]:
    return [round(spec.seconds * SOURCE_FPS) for spec in shots]


def _background(spec: ShotSpec) -> npt.NDArray[np.uint8]:
    # A gentle gradient so that the background is not a flat colour (closer to real footage).
    ramp = np.linspace(0.75, 1.15, FRAME_W, dtype=np.float32)[None, :, None]
    base = np.asarray(spec.background, dtype=np.float32)[None, None, :]
    return np.clip(base * ramp * np.ones((FRAME_H, 1, 1), np.float32), 0, 255).astype(np.uint8)


def _paste(canvas: npt.NDArray[np.uint8], photo: npt.NDArray[np.uint8], x: int, y: int) -> None:
    h, w = photo.shape[:2]
    x1, y1, x2, y2 = max(x, 0), max(y, 0), min(x + w, FRAME_W), min(y + h, FRAME_H)
    if x1 < x2 and y1 < y2:
        canvas[y1:y2, x1:x2] = photo[y1 - y : y2 - y, x1 - x : x2 - x]


def iter_source_frames(
    shots: tuple[ShotSpec, ...] = DEMO_SHOTS,
) -> Iterator[tuple[npt.NDArray[np.uint8], npt.NDArray[np.float64]]]:
    """Yield (BGR frame, face box x1, y1, x2, y2 in pixels) for every source frame (30 fps)."""
    photo = load_photo()
    fx, fy, fw, fh = PHOTO_FACE_XYWH
    for spec, count in zip(shots, shot_frame_counts(shots), strict=True):
        scale = spec.photo_height / photo.shape[0]
        scaled = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        background = _background(spec)
        for t in range(count):
            x = round(spec.start_xy[0] + spec.velocity_xy[0] * t)
            y = round(spec.start_xy[1] + spec.velocity_xy[1] * t)
            frame = background.copy()
            _paste(frame, scaled, x, y)
            face = np.array(
                [x + fx * scale, y + fy * scale, x + (fx + fw) * scale, y + (fy + fh) * scale]
            )
            yield frame, face


def speech_like_audio(seconds: float, rate: int = 44_100) -> npt.NDArray[np.int16]:
    """A voiced, syllable-modulated signal (harmonics of a gliding 120-180 Hz pitch at ~4 Hz
    syllables), so that the clips carry audible, structured audio."""
    t = np.arange(round(seconds * rate)) / rate
    pitch = 150 + 30 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    voice = sum(np.sin(k * phase) / k for k in range(1, 8))
    syllables = np.clip(np.sin(2 * np.pi * 4.0 * t), 0, None) ** 0.6
    signal = 0.25 * voice * syllables / np.max(np.abs(voice))
    return (signal * 32767).astype(np.int16)
