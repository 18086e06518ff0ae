"""Write the demo's source video and its reference (ground-truth) Vox2 metafiles."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from voxrepro.atomic import atomic_path
from voxrepro.crop import reference_windows, shift_inside
from voxrepro.demo.compose import (
    DEMO_SHOTS,
    FRAME_H,
    FRAME_W,
    SOURCE_FPS,
    iter_source_frames,
    shot_frame_counts,
    speech_like_audio,
)
from voxrepro.formats import write_vox2_tree
from voxrepro.media import VideoWriter, iter_timeline_frames
from voxrepro.pipeline.crops import windows_to_boxes
from voxrepro.segment import Segment, make_segment
from voxrepro.types import TIMELINE_FPS

#: An 11-character YouTube-shaped id, so the demo goes through the real download path.
DEMO_REFERENCE = "vxrDemo0001"
DEMO_IDENTITY = "id00001"
AUDIO_RATE = 44_100


def write_demo_video(dest: Path) -> Path:
    """Encode the composed 30 fps source (H.264 + 44.1 kHz AAC) to ``dest`` atomically."""
    seconds = sum(spec.seconds for spec in DEMO_SHOTS)
    audio = speech_like_audio(seconds, AUDIO_RATE)
    with (
        atomic_path(dest) as temp,
        VideoWriter(
            temp, width=FRAME_W, height=FRAME_H, fps=SOURCE_FPS, audio_rate=AUDIO_RATE
        ) as writer,
    ):
        for frame, _ in iter_source_frames():
            writer.write_frame(frame)
        writer.write_audio(audio)
    return dest


def _shot_of(pixel: np.ndarray) -> int:
    """Which shot a frame belongs to, from a corner pixel that is background in every shot."""
    backgrounds = np.array([spec.background for spec in DEMO_SHOTS], dtype=np.float64)
    ramp_start = 0.75  # the gradient's value at x = 0 (see compose._background)
    return int(np.argmin(np.abs(backgrounds * ramp_start - pixel).sum(axis=1)))


def timeline_shots(source: Path) -> list[tuple[int, int]]:
    """Each shot's ``[start, end)`` on the decoded 25 fps timeline of the written source.

    Read off the real timeline (ffmpeg's ``-r 25`` frame selection lags 30 fps input by up to
    two frames), so the reference stays true to what every later stage sees.
    """
    labels = [
        _shot_of(frame[-5, 5].astype(np.float64)) for _, frame in iter_timeline_frames(source)
    ]
    bounds: list[tuple[int, int]] = []
    for index, label in enumerate(labels):
        if not bounds or labels[index - 1] != label:
            bounds.append((index, index + 1))
        else:
            bounds[-1] = (bounds[-1][0], index + 1)
    return bounds


def _timeline_faces(source: Path) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Face boxes (x1, y1, x2, y2) per timeline frame and the shots' ``[start, end)``.

    Within a shot, timeline frame ``start + i`` shows source frame ``i * 30 / 25`` of that shot
    to within one source frame; the portrait moves under 1 px per source frame.
    """
    faces = np.array([face for _, face in iter_source_frames()])
    bounds = timeline_shots(source)
    shot_starts = np.cumsum([0, *shot_frame_counts()])  # first source frame of each shot
    picks = np.zeros(bounds[-1][1], dtype=np.int64)
    ratio = float(SOURCE_FPS) / TIMELINE_FPS
    for shot, (start, end) in enumerate(bounds):
        local = np.round(np.arange(end - start) * ratio).astype(np.int64)
        picks[start:end] = np.minimum(shot_starts[shot] + local, shot_starts[shot + 1] - 1)
    return faces[picks], bounds


def iter_reference_segments(source: Path, margin: int = 3) -> Iterator[Segment]:
    """One reference segment per shot: the vox2-mode crop window around the known face.

    ``margin`` frames are left out at each end of a shot (a reference need not hug the cuts).
    """
    faces, bounds = _timeline_faces(source)
    for number, (start, end) in enumerate(bounds, start=1):
        frames = np.arange(start + margin, end - margin)
        box = faces[frames]
        cx, cy = (box[:, 0] + box[:, 2]) / 2, (box[:, 1] + box[:, 3]) / 2
        s = np.maximum(box[:, 2] - box[:, 0], box[:, 3] - box[:, 1]) / 2
        windows = shift_inside(reference_windows(cx, cy, s), FRAME_W, FRAME_H)
        yield make_segment(
            DEMO_IDENTITY,
            DEMO_REFERENCE,
            f"{number:05d}",
            frames,
            windows_to_boxes(windows, FRAME_W, FRAME_H),
            offset=0,
            fv_conf=None,
            asd_conf=None,
            dataset="vox2",
        )


def write_reference_metafiles(source: Path, root: Path) -> list[Path]:
    """The demo's reference Vox2 txt tree for ``source`` under ``root/<identity>/<ref>/``."""
    return list(write_vox2_tree(iter_reference_segments(source), root))
