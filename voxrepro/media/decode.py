"""Decoding a video once onto the 25 fps timeline (frame k = k-th frame of ``ffmpeg -r 25``)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import av
import numpy as np
import numpy.typing as npt

from voxrepro.errors import DecodeError
from voxrepro.media.frames import BgrImage, TimelineFrame
from voxrepro.media.probe import MICROSECONDS, open_container, reason_of, start_offset_us
from voxrepro.media.sparse import PlanMismatch, iter_wanted, plan_timeline
from voxrepro.timeline import CfrSelector, rescale_near_inf
from voxrepro.types import TIMELINE_FPS, Pathlike

log = logging.getLogger("voxrepro")


def iter_timeline(
    path: Pathlike,
    start: int = 0,
    stop: int | None = None,
    threads: bool | int = True,
    wanted: npt.ArrayLike | None = None,
    gpu: int | None = None,
) -> Iterator[TimelineFrame]:
    """Decode ``path`` once and yield its 25 fps timeline frames ``start <= k < stop`` in order.

    Frames before ``start`` are decoded (the timeline depends on them) but not converted;
    decoding stops as soon as ``stop`` is reached.

    Args:
        path: source video.
        start: first 25 fps frame index to yield.
        stop: index to stop before (None: to the end of the video).
        threads: FFmpeg frame/slice threading for decoding: True picks the thread count
            automatically (one per core), an int N >= 1 uses N threads (several worker
            processes on one host decode faster with a few threads each), False none.
        wanted: if given, yield only these timeline indices (any order, duplicates ignored) and
            skip decoding the keyframe intervals that hold none of them
            (:mod:`voxrepro.media.sparse`); indices past the end are simply not yielded.
        gpu: decode on this CUDA device with NVDEC (FFmpeg's "cuda" hwaccel; frames come back
            to host memory as NV12, falling back to the CPU decoder for streams NVDEC cannot
            take). H.264 decoding is bit-exact by the standard, so the frames are the same.
            Sequential decoding only (not with ``wanted``).

    Raises:
        DecodeError: the file cannot be opened or decoding fails.
    """
    if stop is not None and stop <= start:
        return
    if wanted is not None and gpu is not None:
        raise ValueError("GPU decoding is sequential: pass either wanted or gpu")
    if wanted is None:
        yield from _iter_sequential(path, start, stop, threads, gpu)
        return
    chosen = np.unique(np.asarray(wanted, dtype=np.int64).reshape(-1))
    chosen = chosen[(chosen >= start) & ((chosen < stop) if stop is not None else True)]
    if chosen.size == 0:
        return
    last = -1
    with open_container(path) as container:
        if not container.streams.video:
            raise DecodeError(f"{path}: no video stream")
        stream = container.streams.video[0]
        _set_threads(stream, threads)
        try:
            plan = plan_timeline(container, stream)
            for item in iter_wanted(container, stream, plan, chosen[chosen < plan.length]):
                last = item.index
                yield item
            return
        except PlanMismatch as why:
            log.debug("%s: decoding every frame (%s)", path, why)
    remaining = set(chosen[chosen > last].tolist())
    if remaining:
        first = min(remaining)
        for item in _iter_sequential(path, first, int(chosen[-1]) + 1, threads):
            if item.index in remaining:
                yield item


def timeline_length(path: Pathlike) -> int:
    """Exact number of frames on the 25 fps timeline (from packet timestamps when possible).

    Raises:
        DecodeError: the file cannot be opened or decoded.
    """
    with open_container(path) as container:
        if not container.streams.video:
            raise DecodeError(f"{path}: no video stream")
        try:
            return plan_timeline(container, container.streams.video[0]).length
        except PlanMismatch:
            pass
    return sum(1 for _ in _iter_sequential(path, 0, None, True))


def _set_threads(stream: object, threads: bool | int) -> None:
    if threads is False or threads == 0:
        return
    stream.thread_type = "AUTO"  # type: ignore[attr-defined]
    if threads is not True:
        stream.codec_context.thread_count = int(threads)  # type: ignore[attr-defined]


def _hwaccel(gpu: int | None) -> Any:
    if gpu is None:
        return None
    from av.codec.hwaccel import HWAccel

    # primary_ctx: share the device's primary context with PyTorch (one context per process,
    # and the wait policy set by voxrepro.cuda_wait applies to the decoder's copies too).
    return HWAccel(
        "cuda", device=str(gpu), allow_software_fallback=True, options={"primary_ctx": "1"}
    )


def _iter_sequential(
    path: Pathlike, start: int, stop: int | None, threads: bool | int, gpu: int | None = None
) -> Iterator[TimelineFrame]:
    # Every frame is decoded and pushed through the CFR selector: the reference path.
    with open_container(path, _hwaccel(gpu)) as container:
        if not container.streams.video:
            raise DecodeError(f"{path}: no video stream")
        stream = container.streams.video[0]
        if gpu is None:  # NVDEC does the work; CPU frame threads would only add latency
            _set_threads(stream, threads)
        time_base = Fraction(stream.time_base)
        offset = rescale_near_inf(start_offset_us(container), MICROSECONDS, time_base)
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
            message = f"{path}: decoding failed after {count} frames ({reason_of(error)})"
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
