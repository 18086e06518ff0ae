"""Decode only the keyframe intervals that hold wanted timeline frames.

The 25 fps timeline depends only on frame timestamps and durations, which the container gives
without decoding. :func:`plan_timeline` demuxes the video packets (no decoding: about 1 % of the
cost of decoding), feeds their timestamps in presentation order to the same
:class:`voxrepro.timeline.CfrSelector` and so learns which source frame lands on every 25 fps
tick. :func:`iter_wanted` then seeks to the keyframe before each run of wanted frames and
decodes from there, skipping the stretches no clip needs (long interviews with a few short
utterances decode a fraction of the video).

Every decoded frame is checked against the plan (same timestamp, same duration); on any
disagreement, or a container that cannot seek, :class:`PlanMismatch` is raised and the caller
falls back to decoding every frame (``voxrepro.media.decode``), which is the reference.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
import numpy as np
import numpy.typing as npt

from voxrepro.media.frames import TimelineFrame
from voxrepro.media.probe import MICROSECONDS, start_offset_us
from voxrepro.timeline import CfrSelector, rescale_near_inf


class PlanMismatch(Exception):
    """The packet-level plan cannot be trusted for this file (internal; triggers a fallback)."""


@dataclass(frozen=True, slots=True)
class TimelinePlan:
    """Which source frame (by absolute timestamp) is shown on each 25 fps frame.

    Attributes:
        source_pts: (K,) int64; ``source_pts[k]`` is the pts (stream time base) of the source
            frame on timeline frame ``k``; K is the length of the timeline.
        durations: pts -> duration (stream time base) the plan assumed for that frame.
        keyframes: sorted pts of the keyframes (where decoding can start).
    """

    source_pts: npt.NDArray[np.int64]
    durations: dict[int, int]
    keyframes: npt.NDArray[np.int64]

    @property
    def length(self) -> int:
        return int(self.source_pts.shape[0])


def plan_timeline(container: Any, stream: Any) -> TimelinePlan:
    """Demux every video packet (no decoding) and place the frames on the 25 fps timeline.

    Raises:
        PlanMismatch: a packet without timestamp, or a packet the demuxer marks as discarded.
    """
    time_base = Fraction(stream.time_base)
    offset = rescale_near_inf(start_offset_us(container), MICROSECONDS, time_base)
    rate = stream.average_rate or stream.guessed_rate or Fraction(25)
    default_duration = max(1, round(1 / (Fraction(rate) * time_base)))
    packets: list[tuple[int, int, bool]] = []  # timestamps only: packet data is not kept
    demuxer = container.demux(stream)
    while True:
        try:
            packet = next(demuxer)
        except StopIteration:
            break
        except (av.FFmpegError, OSError, ValueError) as error:
            raise PlanMismatch(f"demuxing failed: {error}") from error
        if packet.size == 0:
            continue  # the demuxer's end-of-stream marker
        if packet.pts is None or packet.is_discard or packet.is_corrupt:
            raise PlanMismatch("packet without usable timestamp")
        packets.append((int(packet.pts), int(packet.duration or 0), bool(packet.is_keyframe)))
    packets.sort()
    selector = CfrSelector()
    source: list[int] = []
    previous: int | None = None
    durations: dict[int, int] = {}
    for pts, duration, _ in packets:
        duration = duration or default_duration
        durations[pts] = duration
        before, current = selector.push(pts - offset, duration, time_base)
        source += [pts if previous is None else previous] * before + [pts] * current
        previous = pts
    if previous is not None:
        source += [previous] * selector.flush()
    keyframes = np.array([pts for pts, _, key in packets if key], dtype=np.int64)
    if keyframes.size == 0:
        raise PlanMismatch("no keyframes")
    return TimelinePlan(np.array(source, dtype=np.int64), durations, keyframes)


def _runs(plan: TimelinePlan, wanted_pts: npt.NDArray[np.int64]) -> list[tuple[int, int, int]]:
    """Group wanted source pts into (keyframe to seek to, first wanted pts, last wanted pts)."""
    runs: list[tuple[int, int, int]] = []
    for pts in wanted_pts.tolist():
        slot = int(np.searchsorted(plan.keyframes, pts, side="right")) - 1
        keyframe = int(plan.keyframes[max(slot, 0)])
        if runs and keyframe <= runs[-1][2]:
            runs[-1] = (runs[-1][0], runs[-1][1], pts)  # decoding is already past that keyframe
        else:
            runs.append((keyframe, pts, pts))
    return runs


def _decode(container: Any, stream: Any) -> Iterator[Any]:
    # Decoding errors end the sparse attempt; the sequential path reports them properly.
    frames = container.decode(stream)
    while True:
        try:
            yield next(frames)
        except StopIteration:
            return
        except (av.FFmpegError, OSError, ValueError) as error:
            raise PlanMismatch(f"decoding failed: {error}") from error


def iter_wanted(
    container: Any, stream: Any, plan: TimelinePlan, wanted: npt.NDArray[np.int64]
) -> Iterator[TimelineFrame]:
    """Yield the wanted timeline frames (sorted indices below ``plan.length``) in order.

    Raises:
        PlanMismatch: a decoded frame disagrees with the plan, or seeking fails.
    """
    if wanted.size == 0:
        return
    indices_of: dict[int, list[int]] = {}
    for index in wanted.tolist():
        indices_of.setdefault(int(plan.source_pts[index]), []).append(index)
    wanted_pts = np.array(sorted(indices_of), dtype=np.int64)
    rate = stream.average_rate or stream.guessed_rate or Fraction(25)
    default_duration = max(1, round(1 / (Fraction(rate) * Fraction(stream.time_base))))
    cache: TimelineFrame | None = None
    for keyframe, first, last in _runs(plan, wanted_pts):
        try:
            container.seek(keyframe, stream=stream, backward=True, any_frame=False)
        except (av.FFmpegError, OSError) as error:
            raise PlanMismatch(f"seek failed: {error}") from error
        seen = 0
        expected = int(np.count_nonzero((wanted_pts >= first) & (wanted_pts <= last)))
        for frame in _decode(container, stream):
            pts = frame.pts
            if pts is None:
                raise PlanMismatch("decoded frame without timestamp")
            if pts < first:
                continue
            if pts > last:
                break
            if plan.durations.get(pts) != (int(frame.duration or 0) or default_duration):
                raise PlanMismatch(f"frame at pts {pts} differs from the packet plan")
            for index in indices_of.get(pts, ()):
                cache = TimelineFrame(index, frame, cache)
                yield cache
            seen += pts in indices_of
        if seen != expected:
            raise PlanMismatch(f"{expected - seen} wanted frames not decoded after seeking")
