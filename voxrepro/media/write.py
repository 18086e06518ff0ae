"""Writing H.264 (yuv420p) + AAC files frame by frame (sources for tests and demos, clips)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from fractions import Fraction
from types import TracebackType
from typing import Any

import av
import numpy as np
import numpy.typing as npt

from voxrepro.errors import DecodeError
from voxrepro.media.audio import AudioArray
from voxrepro.media.frames import BgrImage
from voxrepro.media.probe import reason_of
from voxrepro.types import AUDIO_RATE, TIMELINE_FPS, Pathlike

#: Default libx264 settings for written clips (the recrop benchmark's baseline uses the same).
CLIP_CRF = 18
CLIP_PRESET = "veryfast"
AUDIO_CODEC = "aac"
#: FFmpeg's "fast" AAC coder: half the CPU of the default two-loop search; plenty for speech.
AUDIO_OPTIONS = {"aac_coder": "fast"}
VIDEO_CODEC = "libx264"


class VideoWriter:
    """Encode BGR frames (H.264 yuv420p) and mono int16 audio (AAC) into a file, in place.

    Use as a context manager. The container follows the suffix (``.mp4``, ``.mkv``, ...).

    Args:
        dest: file to write (callers wanting atomicity pass a temp path, see :class:`ClipWriter`).
        width, height: frame size in pixels (even).
        fps: frame rate (a Fraction keeps 30000/1001 exact).
        audio_rate: audio sample rate, or None for no audio stream.
        crf, preset, gop: libx264 quality, speed and keyframe interval (None: x264's default).
        video_start, audio_start: first timestamp of each stream in seconds.
        threads: encoder threads (0: FFmpeg's automatic choice).
    """

    def __init__(
        self,
        dest: Pathlike,
        *,
        width: int,
        height: int,
        fps: Fraction | int = TIMELINE_FPS,
        audio_rate: int | None = AUDIO_RATE,
        crf: int = CLIP_CRF,
        preset: str = CLIP_PRESET,
        gop: int | None = None,
        video_start: float = 0.0,
        audio_start: float = 0.0,
        threads: int = 0,
    ) -> None:
        self.path = str(dest)
        self.width, self.height = int(width), int(height)
        rate = Fraction(fps)
        try:
            self._container = av.open(self.path, mode="w")
            self._video = self._container.add_stream(
                VIDEO_CODEC, rate=rate, options={"crf": str(crf), "preset": preset}
            )
            self._video.width, self._video.height = self.width, self.height
            self._video.pix_fmt = "yuv420p"
            self._video.time_base = 1 / rate
            self._video.codec_context.thread_count = threads
            if gop is not None:
                self._video.codec_context.gop_size = gop
            self._audio = None
            if audio_rate is not None:
                self._audio = self._container.add_stream(
                    AUDIO_CODEC, rate=audio_rate, options=AUDIO_OPTIONS
                )
                self._audio.layout = "mono"
        except (av.FFmpegError, OSError, ValueError) as error:
            raise DecodeError(f"{self.path}: cannot create output ({reason_of(error)})") from error
        self._next_video_pts = round(video_start * rate)
        self._audio_rate = audio_rate
        self._next_audio_pts = round(audio_start * audio_rate) if audio_rate else 0
        self.frames_written = 0
        self.samples_written = 0

    def write_frame(self, image: BgrImage) -> None:
        """Append one HxWx3 uint8 BGR frame of exactly ``width`` x ``height``."""
        if image.shape[:2] != (self.height, self.width):
            got = f"{image.shape[1]}x{image.shape[0]}"
            raise ValueError(f"frame {got} does not match the writer's {self.width}x{self.height}")
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")
        frame.pts = self._next_video_pts
        self._next_video_pts += 1
        self._mux(self._video.encode(frame))
        self.frames_written += 1

    def write_yuv(self, packed: npt.NDArray[np.uint8]) -> None:
        """Append one frame given as packed I420 (``height * 3 / 2`` rows of ``width``)."""
        if packed.shape != (self.height * 3 // 2, self.width):
            raise ValueError(f"I420 frame of shape {packed.shape} does not match the writer")
        frame = av.VideoFrame.from_ndarray(packed, format="yuv420p")
        frame.pts = self._next_video_pts
        self._next_video_pts += 1
        self._mux(self._video.encode(frame))
        self.frames_written += 1

    def write_audio(self, samples: AudioArray) -> None:
        """Append mono int16 samples (any length; the encoder regroups them into AAC frames)."""
        if self._audio is None or samples.shape[0] == 0:
            return
        block = np.ascontiguousarray(samples, dtype=np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(block, format="s16", layout="mono")
        frame.sample_rate = self._audio_rate
        frame.pts = self._next_audio_pts
        frame.time_base = Fraction(1, self._audio_rate)
        self._next_audio_pts += block.shape[1]
        self._mux(self._audio.encode(frame))
        self.samples_written += block.shape[1]

    def _mux(self, packets: Iterable[Any]) -> None:
        try:
            for packet in packets:
                self._container.mux(packet)
        except (av.FFmpegError, OSError) as error:
            raise DecodeError(f"{self.path}: encoding failed ({reason_of(error)})") from error

    def close(self) -> None:
        """Flush the encoders and finish the file."""
        self._mux(self._video.encode(None))
        if self._audio is not None:
            self._mux(self._audio.encode(None))
        self._container.close()

    def abort(self) -> None:
        """Close without flushing (the file is incomplete; the caller deletes it)."""
        with contextlib.suppress(Exception):
            self._container.close()

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
