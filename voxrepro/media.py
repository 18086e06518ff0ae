"""All media I/O of the project (PyAV): probe, decode to the 25 fps timeline, 16 kHz audio, write.

**Video timeline.** Frame ``k`` is the ``k``-th frame ``ffmpeg -i SRC -r 25`` produces. Frames are
decoded once, in memory, with threaded decoding; :class:`voxrepro.timeline.CfrSelector` decides
how often each decoded frame appears on the 25 fps timeline (drops, duplicates, the start time,
the end), exactly as the ffmpeg command line does. Timestamps are taken relative to the file's
start time (the earliest first timestamp over all streams), as ffmpeg does without ``-copyts``.

**Audio timeline.** 16 kHz mono int16 (``av.AudioResampler(format="s16", layout="mono",
rate=16000)`` with a final flush). Sample ``s`` belongs to time ``s / 16000`` on the same origin
as the video, so frame ``k`` covers samples ``[640 k, 640 (k + 1))``. Like the spec's
``ffmpeg ... -async 1`` step (aresample ``first_pts=0``), only the *start* is aligned: audio that
starts after the file start is preceded by silence, audio that starts before it is trimmed;
later gaps are not corrected.

**Colour.** 8-bit limited-range yuv420p (nearly all web video) is converted to BGR with OpenCV's
BT.601 I420 conversion, which is also what the spec's JPEG-dump pipeline ends up with; other
pixel formats go through swscale. Windows can be converted without converting the whole frame.

Every PyAV failure becomes a one-line :class:`voxrepro.errors.DecodeError` naming the file.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any

import av
import cv2
import numpy as np
import numpy.typing as npt

from voxrepro.atomic import atomic_path
from voxrepro.errors import DecodeError
from voxrepro.timeline import CfrSelector, rescale_near_inf
from voxrepro.types import AUDIO_RATE, TIMELINE_FPS, Pathlike

log = logging.getLogger("voxrepro")

BgrImage = npt.NDArray[np.uint8]
AudioArray = npt.NDArray[np.int16]
_MICROSECONDS = Fraction(1, 1_000_000)
#: Default libx264 settings for written clips (the recrop benchmark's baseline uses the same).
CLIP_CRF = 18
CLIP_PRESET = "veryfast"
AUDIO_CODEC = "aac"
VIDEO_CODEC = "libx264"


def _reason(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text or type(error).__name__


@contextlib.contextmanager
def open_container(path: Pathlike) -> Iterator[Any]:
    """Open a media file for reading; any failure becomes a one-line DecodeError naming it."""
    name = str(path)
    if not Path(name).is_file():
        raise DecodeError(f"{name}: no such file")
    try:
        container = av.open(name, mode="r")
    except (av.FFmpegError, OSError, ValueError) as error:
        raise DecodeError(f"{name}: cannot open as media ({_reason(error)})") from error
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


def _start_offset_us(container: Any) -> int:
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
            duration = float(container.duration * _MICROSECONDS)
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
            start_time=float(_start_offset_us(container) * _MICROSECONDS),
            has_audio=audio is not None,
            video_codec=video.codec_context.name,
            audio_codec=audio.codec_context.name if audio is not None else None,
            audio_rate=int(audio.codec_context.sample_rate) if audio is not None else None,
        )


class TimelineFrame:
    """One decoded frame placed on the 25 fps timeline; converted to BGR only when asked.

    Attributes:
        index: 0-based frame index on the 25 fps timeline.
        width, height: frame size in pixels.
    """

    __slots__ = ("_bgr", "_frame", "_yuv", "height", "index", "width")

    def __init__(self, index: int, frame: Any, cache: TimelineFrame | None = None) -> None:
        self.index = index
        self._frame = frame
        self.width = int(frame.width)
        self.height = int(frame.height)
        # Duplicated frames share the previous conversion.
        same = cache is not None and cache._frame is frame
        self._bgr: BgrImage | None = cache._bgr if same and cache else None
        self._yuv: npt.NDArray[np.uint8] | None = cache._yuv if same and cache else None

    def _fast_yuv(self) -> npt.NDArray[np.uint8] | None:
        frame = self._frame
        if frame.format.name != "yuv420p" or frame.color_range == 2:  # 2 = full (JPEG) range
            return None
        if self._yuv is None:
            self._yuv = frame.to_ndarray(format="yuv420p")
        return self._yuv

    def to_grey(self) -> npt.NDArray[np.uint8]:
        """The luma plane Y (HxW uint8, unconverted) for yuv420p frames, else grey from BGR."""
        if self._frame.format.name in ("yuv420p", "yuvj420p"):
            yuv = self._yuv if self._yuv is not None else self._frame.to_ndarray(format="yuv420p")
            return yuv[: self.height]
        return cv2.cvtColor(self.to_bgr(), cv2.COLOR_BGR2GRAY)

    def to_bgr(self) -> BgrImage:
        """The whole frame as an HxWx3 uint8 BGR array (cached; do not modify it)."""
        if self._bgr is None:
            yuv = self._fast_yuv()
            if yuv is not None and self.width % 2 == 0 and self.height % 2 == 0:
                self._bgr = cv2.cvtColor(yuv, cv2.COLOR_YUV2BGR_I420)
            else:
                self._bgr = self._frame.to_ndarray(format="bgr24")
        return self._bgr

    def crop_bgr(self, x1: int, y1: int, x2: int, y2: int) -> BgrImage:
        """The pixels ``[y1:y2, x1:x2]`` (pixels, end exclusive, inside the frame) as BGR.

        Converts only the window (rounded out to even coordinates for the 2x2 chroma blocks),
        which gives exactly the pixels of ``to_bgr()[y1:y2, x1:x2]`` at a fraction of the cost.
        """
        if not (0 <= x1 < x2 <= self.width and 0 <= y1 < y2 <= self.height):
            raise ValueError(f"window {(x1, y1, x2, y2)} not inside {self.width}x{self.height}")
        yuv = None if self._bgr is not None else self._fast_yuv()
        if yuv is None or self.width % 2 or self.height % 2:
            return self.to_bgr()[y1:y2, x1:x2]
        ex1, ey1 = x1 & ~1, y1 & ~1
        ex2, ey2 = min(x2 + (x2 & 1), self.width), min(y2 + (y2 & 1), self.height)
        h, w = self.height, self.width
        cw, ch = ex2 - ex1, ey2 - ey1
        luma = yuv[ey1:ey2, ex1:ex2]
        chroma = yuv[h:].reshape(2, h // 2, w // 2)[:, ey1 // 2 : ey2 // 2, ex1 // 2 : ex2 // 2]
        packed = np.empty((ch * 3 // 2, cw), dtype=np.uint8)
        packed[:ch] = luma
        packed[ch:].reshape(2, ch // 2, cw // 2)[:] = chroma
        bgr = cv2.cvtColor(packed, cv2.COLOR_YUV2BGR_I420)
        return bgr[y1 - ey1 : y2 - ey1, x1 - ex1 : x2 - ex1]


def iter_timeline(
    path: Pathlike, start: int = 0, stop: int | None = None, threads: bool = True
) -> Iterator[TimelineFrame]:
    """Decode ``path`` once and yield its 25 fps timeline frames ``start <= k < stop`` in order.

    Frames before ``start`` are decoded (the timeline depends on them) but not converted;
    decoding stops as soon as ``stop`` is reached.

    Args:
        path: source video.
        start: first 25 fps frame index to yield.
        stop: index to stop before (None: to the end of the video).
        threads: use FFmpeg's frame/slice threading for decoding.

    Raises:
        DecodeError: the file cannot be opened or decoding fails.
    """
    if stop is not None and stop <= start:
        return
    with open_container(path) as container:
        if not container.streams.video:
            raise DecodeError(f"{path}: no video stream")
        stream = container.streams.video[0]
        if threads:
            stream.thread_type = "AUTO"
        time_base = Fraction(stream.time_base)
        offset = rescale_near_inf(_start_offset_us(container), _MICROSECONDS, time_base)
        rate = stream.average_rate or stream.guessed_rate or Fraction(TIMELINE_FPS)
        default_duration = max(1, round(1 / (Fraction(rate) * time_base)))
        selector = CfrSelector()
        previous: Any = None
        previous_item: TimelineFrame | None = None
        next_pts: int | None = None
        decoded = _decode_checked(container, stream, path)
        for frame in decoded:
            pts = frame.pts if frame.pts is not None else next_pts
            if pts is None:
                pts = offset
            duration = int(frame.duration or 0) or default_duration
            next_pts = pts + duration
            repeat_previous, repeat_current = selector.push(pts - offset, duration, time_base)
            first_index = selector.next_index - repeat_previous - repeat_current
            copies = [previous if previous is not None else frame] * repeat_previous
            copies += [frame] * repeat_current
            for offset_index, source in enumerate(copies):
                index = first_index + offset_index
                if stop is not None and index >= stop:
                    return
                if index >= start:
                    previous_item = TimelineFrame(index, source, previous_item)
                    yield previous_item
            previous = frame
        if previous is not None:
            first_index = selector.next_index
            for index in range(first_index, first_index + selector.flush()):
                if index >= start and (stop is None or index < stop):
                    previous_item = TimelineFrame(index, previous, previous_item)
                    yield previous_item


def _decode_checked(container: Any, stream: Any, path: Pathlike) -> Iterator[Any]:
    # Wrap PyAV's generator so that a decoding failure surfaces as one DecodeError line.
    iterator = container.decode(stream)
    count = 0
    while True:
        try:
            frame = next(iterator)
        except StopIteration:
            return
        except (av.FFmpegError, OSError, ValueError) as error:
            message = f"{path}: decoding failed after {count} frames ({_reason(error)})"
            raise DecodeError(message) from error
        count += 1
        yield frame


def iter_timeline_frames(
    path: Pathlike, start: int = 0, stop: int | None = None
) -> Iterator[tuple[int, BgrImage]]:
    """Yield ``(k, frame)`` for 25 fps timeline frames ``start <= k < stop``, decoding once.

    ``frame`` is an HxWx3 uint8 BGR array. Stop iterating (or pass ``stop``) to end early; the
    file is closed when the generator is. Duplicated timeline frames share one array.

    Raises:
        DecodeError: the file cannot be opened or decoding fails (one line, naming the file).
    """
    for item in iter_timeline(path, start, stop):
        yield item.index, item.to_bgr()


# --- audio ------------------------------------------------------------------------------------


def iter_audio_chunks(path: Pathlike, rate: int = AUDIO_RATE) -> Iterator[tuple[int, AudioArray]]:
    """Yield ``(first_sample, samples)`` of the file's first audio stream, mono int16 at ``rate``.

    ``first_sample`` counts from the file's start time (see the module notes: the start is
    aligned like ``-async 1``, so the first chunk may be leading silence or begin mid-frame).
    Yields nothing for a file without audio.

    Raises:
        DecodeError: the file cannot be opened or the audio cannot be decoded.
    """
    with open_container(path) as container:
        if not container.streams.audio:
            return
        stream = container.streams.audio[0]
        origin = Fraction(_start_offset_us(container)) * _MICROSECONDS
        resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
        position: int | None = None  # next output sample index on the timeline
        try:
            for frame in container.decode(stream):
                if position is None:
                    start = Fraction(0)
                    if frame.pts is not None and frame.time_base is not None:
                        start = frame.pts * Fraction(frame.time_base) - origin
                    position = round(start * rate)
                    if position > 0:
                        yield 0, np.zeros(position, dtype=np.int16)
                for out in resampler.resample(frame):
                    position = yield from _emit(out, position)
            for out in resampler.resample(None):
                position = yield from _emit(out, position or 0)
        except (av.FFmpegError, OSError, ValueError) as error:
            raise DecodeError(f"{path}: audio decoding failed ({_reason(error)})") from error


def _emit(frame: Any, position: int) -> Iterator[tuple[int, AudioArray]]:
    samples = frame.to_ndarray().reshape(-1).astype(np.int16, copy=False)
    if position < 0:  # audio starting before the file start: trim, as first_pts=0 does
        skip = min(-position, samples.shape[0])
        samples, position = samples[skip:], position + skip
    if samples.shape[0]:
        yield position, samples
    return position + samples.shape[0]


def read_audio(path: Pathlike, rate: int = AUDIO_RATE) -> AudioArray:
    """The whole audio track as mono int16 at ``rate``; sample ``s`` is at time ``s / rate``.

    Returns an empty array for a file without audio (check :attr:`VideoInfo.has_audio` to
    tell that apart from silence).

    Raises:
        DecodeError: the file cannot be opened or the audio cannot be decoded.
    """
    chunks = [samples for _, samples in iter_audio_chunks(path, rate)]
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)


def read_audio_spans(
    path: Pathlike, spans: Iterable[tuple[int, int]], rate: int = AUDIO_RATE
) -> tuple[list[AudioArray], bool]:
    """Cut several ``[start, stop)`` sample spans in one decoding pass, keeping only those.

    Memory stays proportional to the spans, not to the file. A span reaching past the end of
    the audio is returned shorter.

    Returns:
        One int16 array per span (in the given order) and whether the file has audio at all.
    """
    wanted = list(spans)
    pieces: list[list[AudioArray]] = [[] for _ in wanted]
    has_audio = False
    for first, samples in iter_audio_chunks(path, rate):
        has_audio = True
        last = first + samples.shape[0]
        for slot, (start, stop) in enumerate(wanted):
            lo, hi = max(start, first), min(stop, last)
            if lo < hi:
                pieces[slot].append(samples[lo - first : hi - first])
    out = [np.concatenate(p) if p else np.zeros(0, dtype=np.int16) for p in pieces]
    return out, has_audio


# --- writing ----------------------------------------------------------------------------------


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
                self._audio = self._container.add_stream(AUDIO_CODEC, rate=audio_rate)
                self._audio.layout = "mono"
        except (av.FFmpegError, OSError, ValueError) as error:
            raise DecodeError(f"{self.path}: cannot create output ({_reason(error)})") from error
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
            raise DecodeError(f"{self.path}: encoding failed ({_reason(error)})") from error

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


def resize_square(image: BgrImage, size: int) -> BgrImage:
    """Resize to ``size`` x ``size``: INTER_AREA when shrinking (no aliasing), else INTER_LINEAR."""
    height, width = image.shape[:2]
    if (width, height) == (size, size):
        return image
    shrinking = width > size or height > size
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(image, (size, size), interpolation=interpolation)


class ClipWriter:
    """Stream one square clip (H.264 yuv420p + AAC mp4) to ``dest``, atomically.

    The file is written under a temporary name in the destination folder (keeping the ``.mp4``
    suffix) and renamed on :meth:`commit`; :meth:`discard` (or leaving the ``with`` block on an
    exception) deletes it, so a killed run never leaves a half-written clip under ``dest``.
    Frames of any size are resized to ``size`` x ``size`` (see :func:`resize_square`). Audio is
    given up front and interleaved with the frames (``rate / fps`` samples per frame).

    Args:
        dest: final path of the clip.
        size: output side in pixels.
        audio: mono int16 samples for the whole clip at ``audio_rate``, or None for no audio track.
        fps: frame rate of the clip.
        audio_rate: sample rate of ``audio``.
        crf, preset: libx264 settings.
        threads: encoder threads (1 keeps many simultaneous writers from oversubscribing).
    """

    def __init__(
        self,
        dest: Pathlike,
        size: int,
        audio: AudioArray | None = None,
        *,
        fps: int = TIMELINE_FPS,
        audio_rate: int = AUDIO_RATE,
        crf: int = CLIP_CRF,
        preset: str = CLIP_PRESET,
        threads: int = 0,
    ) -> None:
        self.dest = Path(dest)
        self.size = int(size)
        self._audio = audio
        self._samples_per_frame = Fraction(audio_rate, fps)
        self._stack = contextlib.ExitStack()
        temp = self._stack.enter_context(atomic_path(self.dest))
        try:
            self._writer = VideoWriter(
                temp,
                width=self.size,
                height=self.size,
                fps=fps,
                audio_rate=audio_rate if audio is not None else None,
                crf=crf,
                preset=preset,
                threads=threads,
            )
        except BaseException as error:
            self._stack.__exit__(type(error), error, error.__traceback__)
            raise
        self._audio_done = 0
        self.closed = False

    @property
    def frames_written(self) -> int:
        return self._writer.frames_written

    def add_frame(self, image: BgrImage) -> None:
        """Append one BGR frame (resized to the clip size) and the audio that goes with it."""
        self._writer.write_frame(resize_square(image, self.size))
        if self._audio is not None:
            upto = min(int(self.frames_written * self._samples_per_frame), self._audio.shape[0])
            self._writer.write_audio(self._audio[self._audio_done : upto])
            self._audio_done = max(self._audio_done, upto)

    def commit(self) -> Path:
        """Write the remaining audio, finish the file and rename it to ``dest``."""
        try:
            if self._audio is not None:
                self._writer.write_audio(self._audio[self._audio_done :])
            self._writer.close()
        except BaseException as error:
            self.closed = True
            self._writer.abort()
            self._stack.__exit__(type(error), error, error.__traceback__)
            raise
        self.closed = True
        self._stack.close()
        return self.dest

    def discard(self) -> None:
        """Abandon the clip: close the encoder and delete the temporary file."""
        if self.closed:
            return
        self.closed = True
        self._writer.abort()
        error = RuntimeError("clip discarded")
        with contextlib.suppress(RuntimeError):
            self._stack.__exit__(RuntimeError, error, None)

    def __enter__(self) -> ClipWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None and not self.closed:
            self.commit()
        elif not self.closed:
            self.discard()


def write_clip(
    dest: Pathlike,
    frames: Iterable[BgrImage],
    audio: AudioArray | None,
    size: int,
    fps: int = TIMELINE_FPS,
    audio_rate: int = AUDIO_RATE,
) -> Path:
    """Write BGR ``frames`` (resized to ``size`` x ``size``) and mono int16 ``audio`` atomically.

    H.264 yuv420p + AAC in mp4; see :class:`ClipWriter`. Returns ``dest``.
    """
    with ClipWriter(dest, size, audio, fps=fps, audio_rate=audio_rate) as writer:
        for image in frames:
            writer.add_frame(image)
    return Path(dest)
