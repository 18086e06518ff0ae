"""Opening media files and reading their stream parameters (no decoding)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from voxrepro.errors import DecodeError
from voxrepro.types import TIMELINE_FPS, Pathlike

MICROSECONDS = Fraction(1, 1_000_000)


def reason_of(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text or type(error).__name__


@contextlib.contextmanager
def open_container(path: Pathlike, hwaccel: Any = None) -> Iterator[Any]:
    """Open a media file for reading; any failure becomes a one-line DecodeError naming it.

    ``hwaccel``: an ``av.codec.hwaccel.HWAccel`` to decode on a device (NVDEC for "cuda").
    """
    name = str(path)
    if not Path(name).is_file():
        raise DecodeError(f"{name}: no such file")
    try:
        container = av.open(name, mode="r", hwaccel=hwaccel)
    except (av.FFmpegError, OSError, ValueError) as error:
        what = "open the GPU decoder for" if hwaccel is not None else "open as media"
        raise DecodeError(f"{name}: cannot {what} ({reason_of(error)})") from error
    try:
        yield container
    finally:
        container.close()


@dataclass(frozen=True, slots=True)
class VideoInfo:
    """What :func:`probe_video` learns from the container headers (no decoding).

    Attributes:
        path: the file.
        width, height: frame size in pixels.
        fps: average frame rate of the video stream (frames per second).
        duration: seconds, from the container (or the video stream when the container has none).
        num_frames_25: estimated number of frames on the 25 fps timeline, ``round(duration*25)``
            (the exact count is what :func:`iter_timeline_frames` yields).
        start_time: the file's start time in seconds (timestamps are taken relative to it).
        has_audio: whether there is an audio stream.
        video_codec, audio_codec: decoder names (``audio_codec`` None without audio).
        audio_rate: the audio stream's sample rate, or None.
    """

    path: str
    width: int
    height: int
    fps: Fraction
    duration: float
    num_frames_25: int
    start_time: float
    has_audio: bool
    video_codec: str
    audio_codec: str | None
    audio_rate: int | None


def start_offset_us(container: Any) -> int:
    """The file's start time in microseconds (timestamps are taken relative to it)."""
    return int(container.start_time) if container.start_time is not None else 0


def probe_video(path: Pathlike) -> VideoInfo:
    """Read a video's stream parameters without decoding frames.

    Raises:
        DecodeError: the file is missing, unreadable or has no video stream.
    """
    with open_container(path) as container:
        if not container.streams.video:
            raise DecodeError(f"{path}: no video stream")
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        rate = video.average_rate or video.guessed_rate or video.base_rate
        if container.duration is not None:
            duration = float(container.duration * MICROSECONDS)
        elif video.duration is not None and video.time_base is not None:
            duration = float(video.duration * video.time_base)
        else:
            duration = float(video.frames / rate) if rate and video.frames else 0.0
        return VideoInfo(
            path=str(path),
            width=int(video.codec_context.width),
            height=int(video.codec_context.height),
            fps=Fraction(rate) if rate else Fraction(0),
            duration=duration,
            num_frames_25=round(duration * TIMELINE_FPS),
            start_time=float(start_offset_us(container) * MICROSECONDS),
            has_audio=audio is not None,
            video_codec=video.codec_context.name,
            audio_codec=audio.codec_context.name if audio is not None else None,
            audio_rate=int(audio.codec_context.sample_rate) if audio is not None else None,
        )
