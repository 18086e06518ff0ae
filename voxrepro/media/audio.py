"""16 kHz mono int16 audio aligned to the file start (the video timeline's origin)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from fractions import Fraction
from typing import Any

import av
import numpy as np
import numpy.typing as npt

from voxrepro.errors import DecodeError
from voxrepro.media.probe import MICROSECONDS, open_container, reason_of, start_offset_us
from voxrepro.types import AUDIO_RATE, Pathlike

AudioArray = npt.NDArray[np.int16]


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
        origin = Fraction(start_offset_us(container)) * MICROSECONDS
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
            raise DecodeError(f"{path}: audio decoding failed ({reason_of(error)})") from error


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
