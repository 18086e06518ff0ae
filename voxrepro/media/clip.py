"""Square clips (H.264 + AAC mp4) written atomically, frame by frame, from windows of frames."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import cv2
import numpy as np
import numpy.typing as npt

from voxrepro.atomic import atomic_path
from voxrepro.crop import PAD_VALUE, cut_window
from voxrepro.media.audio import AudioArray
from voxrepro.media.frames import BgrImage, TimelineFrame
from voxrepro.media.write import CLIP_CRF, CLIP_PRESET, VideoWriter
from voxrepro.types import AUDIO_RATE, TIMELINE_FPS, Pathlike

#: Audio is handed to the encoder once per this many video frames (fewer, larger calls).
_AUDIO_EVERY_FRAMES = 25


def resize_square(image: npt.NDArray[np.uint8], size: int) -> npt.NDArray[np.uint8]:
    """Resize to ``size`` x ``size`` with OpenCV's bilinear filter (``INTER_LINEAR``).

    Bilinear is what UP and SEED use for their 224 x 224 crops (spec §7, ``cv2.resize``
    default), so clips match the reference pipeline's resampling.
    """
    height, width = image.shape[:2]
    if (width, height) == (size, size):
        return image
    return cv2.resize(image, (size, size), interpolation=cv2.INTER_LINEAR)


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
        if self.size < 2 or self.size % 2:
            raise ValueError(f"clip size must be an even number of pixels, got {size}")
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
        self.closed = False  # committed or discarded
        self.committed = False  # renamed to ``dest``

    @property
    def frames_written(self) -> int:
        return self._writer.frames_written

    def add_frame(self, image: BgrImage) -> None:
        """Append one BGR frame (resized to the clip size) and the audio that goes with it."""
        self._writer.write_frame(resize_square(image, self.size))
        self._feed_audio()

    def prepare_window(
        self, item: TimelineFrame, window: Iterable[int], pad_value: int = PAD_VALUE
    ) -> npt.NDArray[np.uint8]:
        """The ``(x1, y1, x2, y2)`` window of a frame as a packed I420 clip frame (no encoding).

        A window inside a yuv420p frame is cropped and resized plane by plane, never converted
        to BGR (what ``ffmpeg -vf crop,scale`` does too); a window leaving the frame is cut from
        the BGR frame with ``pad_value`` grey outside (:func:`voxrepro.crop.cut_window`).
        Thread-safe: it only reads ``item``, so it can run while another thread encodes.
        """
        x1, y1, x2, y2 = (int(v) for v in window)
        inside = x1 >= 0 and y1 >= 0 and x2 <= item.width and y2 <= item.height
        planes = item.crop_planes(x1, y1, x2, y2) if inside else None
        size, half = self.size, self.size // 2
        if planes is None:
            bgr = resize_square(cut_window(item.to_bgr(), (x1, y1, x2, y2), pad_value), size)
            return cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420)
        packed = np.empty((size * 3 // 2, size), dtype=np.uint8)
        packed[:size] = resize_square(planes[0], size)
        chroma = packed[size:].reshape(2, half, half)
        chroma[0] = resize_square(planes[1], half)
        chroma[1] = resize_square(planes[2], half)
        return packed

    def add_prepared(self, packed: npt.NDArray[np.uint8]) -> None:
        """Encode a frame from :meth:`prepare_window` and the audio that goes with it."""
        self._writer.write_yuv(packed)
        self._feed_audio()

    def add_window(
        self, item: TimelineFrame, window: Iterable[int], pad_value: int = PAD_VALUE
    ) -> None:
        """Append a window of a timeline frame (see :meth:`prepare_window`)."""
        self.add_prepared(self.prepare_window(item, window, pad_value))

    def _feed_audio(self) -> None:
        if self._audio is None or self.frames_written % _AUDIO_EVERY_FRAMES:
            return
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
        self.committed = True
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
